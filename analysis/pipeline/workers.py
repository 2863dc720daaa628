"""Worker processes for analysing a long session in parts (no analysis maths here).

Arrays are shared as memory-mapped ``.npy`` files in RAM (``/dev/shm``), so nothing large
is pickled; calls are shared between this process and a pool by atomic claims
(:func:`share_work`). Light to import: an app can start the workers' server
(:func:`prepare_workers`) before importing anything heavy.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import shutil
import sys
import tempfile
import threading
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

import numpy as np
from numpy.typing import NDArray
from threadpoolctl import threadpool_limits

FloatArray = NDArray[np.float64]


_SHM = "/dev/shm"


class SharedArrays:
    """Arrays in memory-mapped ``.npy`` files, RAM-backed (``/dev/shm``) where it has room.

    Worker processes open them by path (:func:`open_shared`): nothing large is pickled.

    Parameters
    ----------
    need_bytes : int
        About how much will be stored: ``/dev/shm`` is used only with that much free
        (a full tmpfs would kill the process with SIGBUS), else the temp folder.
    """

    def __init__(self, need_bytes: int) -> None:
        self.in_ram = _shm_has_room(need_bytes)
        # The pid in the name lets a later run remove what a killed process left behind.
        self.dir = tempfile.mkdtemp(
            prefix=f"pelviscope-{os.getpid()}-", dir=_SHM if self.in_ram else None
        )
        self.paths: dict[str, str] = {}

    def put(self, name: str, values: FloatArray) -> None:
        """Share ``values``: by reference when it is a whole shared file already."""
        path = npy_file(values)
        if path is not None:
            self.paths[name] = path
            return
        out = self.empty(name, values.shape)
        out[...] = values
        out.flush()

    def empty(self, name: str, shape: tuple[int, ...]) -> np.memmap[Any, np.dtype[np.float64]]:
        """A new shared array ``name`` (its content undefined)."""
        path = os.path.join(self.dir, f"{name}.npy")
        self.paths[name] = path
        return np.lib.format.open_memmap(path, mode="w+", dtype=np.float64, shape=shape)

    def close(self) -> None:
        """Remove the files (arrays mapped from them stay valid)."""
        shutil.rmtree(self.dir, ignore_errors=True)


def _shm_has_room(need_bytes: int) -> bool:
    if not (os.path.isdir(_SHM) and os.access(_SHM, os.W_OK)):
        return False
    _remove_orphans(_SHM)
    st = os.statvfs(_SHM)
    return st.f_bavail * st.f_frsize >= 1.25 * need_bytes + 64e6


def _remove_orphans(folder: str) -> None:
    """Remove ``pelviscope-<pid>-*`` folders whose process is gone (killed mid-analysis)."""
    for entry in os.scandir(folder):
        parts = entry.name.split("-")
        if len(parts) < 3 or parts[0] != "pelviscope" or not parts[1].isdigit():
            continue
        try:
            os.kill(int(parts[1]), 0)
        except ProcessLookupError:
            shutil.rmtree(entry.path, ignore_errors=True)
        except OSError:  # alive (another user's: permission denied)
            pass


def npy_file(values: FloatArray) -> str | None:
    """The ``.npy`` file that ``values`` maps as a whole, if any (workers can open it)."""
    base: Any = values
    while isinstance(base, np.ndarray) and not isinstance(base, np.memmap):
        base = base.base
    if not isinstance(base, np.memmap) or not isinstance(base.filename, str):
        return None
    whole = (
        base.filename.endswith(".npy")
        and base.shape == values.shape
        and base.dtype == values.dtype
        and values.flags.c_contiguous
        and base.ctypes.data == values.ctypes.data
    )
    return base.filename if whole and os.path.exists(base.filename) else None


def open_shared(paths: dict[str, str], name: str) -> FloatArray:
    """A shared array, read-only."""
    return np.asarray(np.load(paths[name], mmap_mode="r"))


def open_shared_writable(paths: dict[str, str], name: str) -> np.memmap[Any, Any]:
    """A shared array to write a part's results into (``flush()`` when done)."""
    mm: np.memmap[Any, Any] = np.load(paths[name], mmap_mode="r+")
    return mm


def worker_init() -> None:
    """Workers use one BLAS thread (see ``analysis.pipeline.offline``)."""
    threadpool_limits(1, user_api="blas")


def mp_context() -> multiprocessing.context.BaseContext:
    """How worker processes start.

    ``fork`` (instant: nothing to import) only on Linux in a single-threaded process
    without Qt loaded; otherwise ``forkserver`` (POSIX: workers fork from a clean server
    that imported the analysis once) or ``spawn``. The review window analyses from a
    worker thread with Qt loaded, where forking the process itself is unsafe.
    """
    qt = any(m.split(".")[0] in ("PySide6", "PyQt6", "PyQt5", "PySide2") for m in sys.modules)
    if sys.platform == "linux" and threading.active_count() == 1 and not qt:
        return multiprocessing.get_context("fork")
    return _server_context()


def _server_context() -> multiprocessing.context.BaseContext:
    if "forkserver" in multiprocessing.get_all_start_methods() and sys.platform != "darwin":
        ctx = multiprocessing.get_context("forkserver")
        # The server imports these once; without "__main__" every worker would import
        # the main script again.
        ctx.set_forkserver_preload(["__main__", "analysis.session", "analysis.pipeline.tasks"])
        return ctx
    return multiprocessing.get_context("spawn")


def prepare_workers() -> None:
    """Start the workers' server now, in the background (returns at once).

    For apps that will load Qt and analyse long sessions (the review window): call it
    first thing, so that the server's imports (~2 s) overlap the app's own start-up
    instead of delaying the first worker. Without a server (``spawn``) nothing happens.
    """
    if _server_context().get_start_method() == "forkserver":
        from multiprocessing import forkserver

        # Best effort: if it cannot start now, the pool reports that when it is used.
        with contextlib.suppress(OSError, RuntimeError, ValueError):
            forkserver.ensure_running()


def _claim(path: str) -> bool:
    """Claim a call for this process by creating ``path`` (atomic: one process wins)."""
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        return False
    return True


def _call_if_claimed(claim: str, fn: Callable[..., Any], args: tuple[Any, ...]) -> Any:
    return fn(*args) if _claim(claim) else None


def make_pool(workers: int) -> tuple[ProcessPoolExecutor | None, bool]:
    """A pool of ``workers`` processes and whether they are forked.

    ``(None, False)`` when processes cannot be made here (e.g. no semaphores): the
    caller then works alone (:func:`share_work` accepts no pool).
    """
    ctx = mp_context()
    try:
        pool = ProcessPoolExecutor(workers, mp_context=ctx, initializer=worker_init)
    except (OSError, ImportError, NotImplementedError):
        return None, False
    return pool, ctx.get_start_method() == "fork"


def share_work(
    pool: ProcessPoolExecutor | None,
    claim_dir: str,
    fn: Callable[..., Any],
    calls: Sequence[tuple[Any, ...]],
    *,
    submit_in_thread: bool = False,
    first: Callable[[], None] | None = None,
    after: Callable[[int], None] | None = None,
) -> list[Any]:
    """``[fn(*args) for args in calls]`` shared between this process and ``pool``.

    Every call is queued in the pool, last first, and this process works from the first;
    whoever starts a call first claims it (a file in ``claim_dir``), so each runs once and
    nobody idles while calls are left, whatever the pool's start-up time. The claims need
    no message from this process, which may hold the GIL for long in a C extension
    (vqf). A call the pool could not run (it broke, e.g. a worker could not start) runs
    here. ``first()``, if given, runs here once the pool has its calls, before this
    process takes any; ``after(i)`` here after each call ``i`` this process ran.
    """
    n = len(calls)
    tag = os.path.join(claim_dir, f"claim-{uuid.uuid4().hex}")
    futures: dict[int, Future[Any]] = {}

    def submit_all() -> None:
        if pool is None:
            return
        try:
            for i in reversed(range(n)):
                futures[i] = pool.submit(_call_if_claimed, f"{tag}-{i}", fn, calls[i])
        except (BrokenProcessPool, RuntimeError):  # broken or shut down: the rest runs here
            pass

    # Submitting starts the workers. Not forked directly, that can block for seconds (a
    # forkserver still importing): then a thread submits and this process starts on its
    # share meanwhile (forking from a second thread is avoided).
    submitter = threading.Thread(target=submit_all, name="pelviscope-submit", daemon=True)
    if submit_in_thread:
        submitter.start()
    else:
        submit_all()
    if first is not None:
        first()
    results: list[Any] = [None] * n
    done_here = [False] * n
    for i in range(n):
        if pool is not None and not _claim(f"{tag}-{i}"):
            break  # the pool has started this call, and so every later one
        results[i], done_here[i] = fn(*calls[i]), True
        if after is not None:
            after(i)
    if submit_in_thread:
        submitter.join()
    for i in range(n):
        if done_here[i]:
            continue
        try:
            if i not in futures:
                raise BrokenProcessPool
            results[i] = futures[i].result()
        except BrokenProcessPool:
            results[i] = fn(*calls[i])
    return results
