"""Crash safety: a writer process killed with SIGKILL loses at most the last second."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from recordings import read_recording

ROOT = Path(__file__).resolve().parents[2]
RATE_HZ = 200.0

CHILD = r"""
import sys, time
import numpy as np
from recordings import RecordingWriter

path, rate_hz = sys.argv[1], float(sys.argv[2])
t0 = time.time()
print(f"start {t0!r}", flush=True)
w = RecordingWriter(path, {"subject_id": "crash"}, rate_hz=rate_hz)  # default 0.5 s flushes
k = 0
while True:
    now_s = time.time() - t0
    n_due = int(now_s * rate_hz) + 1 - k
    if n_due > 0:
        idx = np.arange(k, k + n_due)
        time_s = idx / rate_hz
        # within any accelerometer's range (the reader drops impossible values)
        acc = np.column_stack([idx % 256, -(idx % 256), idx % 256 * 0.5]).astype(float)
        w.append(time_s, acc, np.zeros((n_due, 3)), seq=k)
        k += n_due
        print(f"appended {float(time_s[-1])!r}", flush=True)
    time.sleep(0.02)
"""


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_sigkill_loses_at_most_one_second(tmp_path):
    path = tmp_path / "crash.psrec"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(path), str(RATE_HZ)],
        stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT,
    )  # fmt: skip
    try:
        assert child.stdout is not None
        t0 = float(child.stdout.readline().split()[1])
        last_appended_s = -1.0
        run_s = 2.5 + np.random.default_rng().uniform(0, 0.5)
        while time.time() - t0 < run_s:
            line = child.stdout.readline()
            assert line, "writer child died early"
            last_appended_s = float(line.split()[1])
        os.kill(child.pid, signal.SIGKILL)
        kill_s = time.time() - t0
    finally:
        child.kill()
        child.wait(timeout=10)
        if child.stdout is not None:
            child.stdout.close()
    assert child.returncode == -signal.SIGKILL
    assert last_appended_s > kill_s - 0.5, "child was starved; the test cannot judge"
    rec = read_recording(path)
    assert rec.n_samples > 0
    kept_s = float(rec.time_s[-1])
    assert kept_s >= kill_s - 1.0, (kept_s, kill_s)
    # everything kept is intact and contiguous from the start
    idx = np.arange(rec.n_samples)
    np.testing.assert_allclose(rec.time_s, idx / RATE_HZ)
    np.testing.assert_array_equal(rec.acc_mps2[:, 0], idx % 256)
    np.testing.assert_array_equal(rec.acc_mps2[:, 1], -(idx % 256))
    assert rec.meta["subject_id"] == "crash"
    assert len(rec.warnings) == 1
    assert "not closed cleanly" in rec.warnings[0] or "ends inside" in rec.warnings[0]
