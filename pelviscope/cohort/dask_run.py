"""Run a batch's units as ``dask.distributed`` tasks, on a given cluster or a local one.

Tasks are pure (a unit in, a result out; nothing written by the worker), so a task that
Dask runs again after its worker died cannot write anything twice: the client takes
one result per task and writes the outputs itself. A unit whose workers keep dying
(``distributed.scheduler.allowed-failures``, default 3) is reported as lost, the batch
goes on.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import logging
import os
import sys
import uuid
from collections.abc import Callable, Sequence
from typing import Any

#: Environment variable naming the scheduler when ``--scheduler`` is not given.
SCHEDULER_ENV = "PELVISCOPE_SCHEDULER"
#: ``--scheduler`` value that starts a cluster on this machine.
LOCAL = "local"
#: Seconds to wait for a scheduler (Dask retries the connection meanwhile).
CONNECT_TIMEOUT_S = 20.0


#: glibc ``mallopt`` parameters and the values its dynamic tuning reaches by itself.
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_MMAP_THRESHOLD_BYTES = 32 * 1024 * 1024
_tuned: list[bool] = []


def restore_malloc() -> None:
    """Undo what Dask's ``MALLOC_TRIM_THRESHOLD_`` does to glibc, once per worker process.

    Dask's nanny starts workers with ``MALLOC_TRIM_THRESHOLD_`` set, and setting it turns
    off glibc's dynamic mmap threshold: every array over 128 KiB is then a fresh
    ``mmap`` whose pages fault in on first touch. The analysis makes many whole-session
    temporaries; measured on a 1 h file, a task took 2.6-3.3 s of CPU on a worker
    against 1.7-2.0 s in a plain process, and 1.7-2.0 s again with the thresholds that
    the dynamic tuning reaches by itself (32 MiB, trim at twice that) set here.
    """
    if _tuned or "MALLOC_TRIM_THRESHOLD_" not in os.environ or not sys.platform.startswith("linux"):
        return
    _tuned.append(True)
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD_BYTES)
        libc.mallopt(_M_TRIM_THRESHOLD, 2 * _MMAP_THRESHOLD_BYTES)
    except (OSError, AttributeError):
        pass  # not glibc: nothing to undo


def run_task(task: Callable[[Any], Any], unit: Any) -> Any:
    """``task(unit)`` on a worker, with the allocator as in a plain process."""
    restore_malloc()
    return task(unit)


class SchedulerError(RuntimeError):
    """The scheduler cannot be reached (a usage problem, exit status 2)."""


def scheduler_from(option: str | None) -> str | None:
    """The scheduler to use: the option, else ``$PELVISCOPE_SCHEDULER``, else None."""
    value = option if option is not None else os.environ.get(SCHEDULER_ENV)
    return value.strip() or None if value is not None else None


def run_on_dask(
    task: Callable[[Any], Any],
    units: Sequence[Any],
    scheduler: str,
    *,
    workers: int,
    on_result: Callable[[int, Any], None],
    on_lost: Callable[[int, str], None],
    timeout_s: float | None = None,
) -> None:
    """Run ``task(unit)`` for every unit on Dask; report each result once, as it arrives.

    Parameters
    ----------
    task : callable
        A module-level function (the workers import it), never raising for bad input.
    units : sequence
        The work, one task each (in this order of submission).
    scheduler : str
        ``tcp://host:port`` of a running scheduler, or ``"local"``: a
        ``LocalCluster`` of ``workers`` single-threaded processes on 127.0.0.1,
        dashboard off.
    workers : int
        Worker processes of a local cluster.
    on_result : callable
        ``on_result(index, result)`` in the client, once per unit.
    on_lost : callable
        ``on_lost(index, reason)`` for a unit Dask gave up on (its workers died).
    timeout_s : float, optional
        How long to wait for the scheduler (default :data:`CONNECT_TIMEOUT_S`).

    Raises
    ------
    SchedulerError
        The scheduler cannot be reached.
    """
    from distributed import Client, LocalCluster, as_completed
    from distributed.scheduler import KilledWorker

    with contextlib.ExitStack() as stack:
        if scheduler == LOCAL:
            import dask

            # The workers' stack sampler costs CPU on every task and nobody looks at it.
            stack.enter_context(dask.config.set({"distributed.worker.profile.enabled": False}))
            cluster = stack.enter_context(
                LocalCluster(
                    n_workers=workers,
                    threads_per_worker=1,
                    processes=True,
                    host="127.0.0.1",
                    dashboard_address=None,
                    # The scheduler's HTTP (health) server: this machine, any free port.
                    scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
                    silence_logs=logging.ERROR,
                )
            )
            client = stack.enter_context(Client(cluster))
        else:
            try:
                wait_s = CONNECT_TIMEOUT_S if timeout_s is None else timeout_s
                client = stack.enter_context(Client(scheduler, timeout=f"{wait_s}s"))
            except (OSError, TimeoutError, ValueError) as exc:
                raise SchedulerError(
                    f"--scheduler {scheduler}: cannot reach the Dask scheduler ({exc})"
                ) from None
        batch = uuid.uuid4().hex[:8]
        futures = {
            client.submit(run_task, task, unit, key=f"pelviscope-{batch}-{i}", pure=False): i
            for i, unit in enumerate(units)
        }
        for future in as_completed(futures):
            i = futures[future]
            try:
                result = future.result()
            except KilledWorker:
                on_lost(i, "the worker processes analysing it kept dying (out of memory?)")
                continue
            except Exception as exc:  # the task itself never raises: a cluster failure
                on_lost(i, f"the Dask task failed ({type(exc).__name__}: {exc})")
                continue
            on_result(i, result)
            future.release()
