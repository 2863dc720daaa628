"""Batches on a real dask.distributed cluster (scheduler and 2 worker processes on 127.0.0.1).

A worker killed in the middle of the batch: the batch completes and nothing is counted
twice. A file that fails: one line, the batch goes on, exit status as the local batch's.
"""

from __future__ import annotations

import io
import json
import os
import signal
import threading
import time
from pathlib import Path

import pandas as pd
import pytest

from pelviscope.cli import main
from pelviscope.cohort.dask_run import SCHEDULER_ENV
from tests.pelviscope.test_cohort import simulated

distributed = pytest.importorskip("distributed")

N_GOOD = 4


@pytest.fixture(scope="module")
def cluster():
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},  # HTTP server: any port
            silence_logs=50,
        ) as c,
        distributed.Client(c) as client,
    ):
        yield c, client


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("dask_batch")
    for i in range(N_GOOD):
        simulated(folder / f"p{i}.psrec", 10 + i, duration_s=120.0, subject=f"S{i % 3}")
    (folder / "broken.csv").write_text("time_s,acc_x\n0,1\n")  # one column, one row
    return folder


def _kill_a_busy_worker(
    client: distributed.Client, done: threading.Event, killed: list[int]
) -> None:
    """SIGKILL the process of a worker while it runs one of the batch's tasks."""
    pids = client.run(os.getpid)
    deadline = time.monotonic() + 60
    while not done.is_set() and time.monotonic() < deadline:
        busy = [w for w, keys in client.processing().items()
                if any(str(k).startswith("pelviscope-") for k in keys)]  # fmt: skip
        if busy and busy[0] in pids:
            time.sleep(0.3)  # inside the analysis, not at its very start
            os.kill(pids[busy[0]], signal.SIGKILL)
            killed.append(pids[busy[0]])
            return
        time.sleep(0.05)


def test_batch_survives_a_killed_worker(cluster, batch, tmp_path, capsys, monkeypatch):
    c, client = cluster
    monkeypatch.setenv(SCHEDULER_ENV, c.scheduler_address)  # the documented variable
    out, pq = tmp_path / "out", tmp_path / "pq"
    done, killed = threading.Event(), []
    killer = threading.Thread(target=_kill_a_busy_worker, args=(client, done, killed))
    killer.start()
    try:
        rc = main(["analyze", str(batch), "--out-dir", str(out), "--parquet", str(pq),
                   "--summary-csv", str(tmp_path / "t.csv"), "-q"])  # fmt: skip
    finally:
        done.set()
        killer.join()
    err = [x for x in capsys.readouterr().err.strip().splitlines() if x.startswith("pelviscope")
           or " of " in x]  # fmt: skip
    assert killed, "no worker was killed mid-batch"
    assert rc == 2  # one bad input
    assert err[-1] == f"{N_GOOD} of {N_GOOD + 1} files analysed"
    bad = [x for x in err if "error:" in x]
    assert len(bad) == 1 and "broken.csv" in bad[0]
    table = pd.read_csv(tmp_path / "t.csv", keep_default_na=False)
    assert len(table) == N_GOOD + 1 and table["file"].is_unique
    sessions = pd.read_parquet(pq / "sessions")
    assert len(sessions) == N_GOOD and sessions["name"].is_unique  # nothing counted twice
    steps = pd.read_parquet(pq / "steps")
    for name in sessions["name"]:
        doc = json.loads((out / f"{name}.json").read_text())
        assert (steps["name"] == name).sum() == len(doc["steps"])
    assert sorted(p.name for p in out.iterdir()) == sorted(
        f"p{i}.{ext}" for i in range(N_GOOD) for ext in ("json", "html")
    )


def test_unreachable_scheduler_is_one_line(batch, capsys, monkeypatch):
    monkeypatch.setattr("pelviscope.cohort.dask_run.CONNECT_TIMEOUT_S", 2.0)
    rc = main(["analyze", str(batch / "p0.psrec"), str(batch / "p1.psrec"),
               "--scheduler", "tcp://127.0.0.1:9", "-q"])  # fmt: skip
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and "cannot reach the Dask scheduler" in err[0]


@pytest.mark.slow  # starts its own cluster: ~7 s idle, 15+ s on a loaded machine
def test_local_cluster_option(batch, capsys):
    rc = main(["analyze", str(batch / "p0.psrec"), str(batch / "broken.csv"),
               "--scheduler", "local", "--jobs", "2"])  # fmt: skip
    captured = capsys.readouterr()
    assert rc == 2, captured.err
    assert captured.err.strip().splitlines()[-1] == "1 of 2 files analysed"
    table = pd.read_csv(io.StringIO(captured.out), keep_default_na=False)
    assert list(table["error"] == "") == [True, False]
