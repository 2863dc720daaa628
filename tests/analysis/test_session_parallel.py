"""A long session analysed in parts on two processes equals the whole-session analysis.

The parts are cut at still moments (``analysis.session.cut_points``) and overlap by a
margin; this checks the joined results against ``workers=1`` on a simulated 2-hour day
cut into four parts: identical activity labels, episodes and steps, tilt within
hundredths of a degree.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from analysis import session
from analysis.pipeline import workers as parallel
from analysis.session import SessionParams, analyze_recording, auto_workers, cut_points
from analysis.tilt import pelvic_tilt_deg
from simulator import simulate
from simulator.presets import mixed_day

pytestmark = pytest.mark.slow


#: Two processes, parts of half an hour.
HALF_HOURS = SessionParams(workers=2, part_s=1800.0)


@pytest.fixture(scope="module")
def day():
    sim = simulate(
        mixed_day(2 * 3600.0, seed=3), rate_hz=100, mount=Rotation.random(random_state=3), seed=3
    )
    return sim.recording


@pytest.fixture(scope="module")
def results(day):
    whole = analyze_recording(day, workers=1)
    parts = analyze_recording(
        day,
        params=HALF_HOURS,
        on_tilt=_EVENTS.append,
        progress=lambda f, stage: _EVENTS.append(stage),
    )
    return whole, parts


_EVENTS: list = []  # what the parts analysis reported, in order


def test_the_tilt_preview_comes_before_activity_and_is_final(results) -> None:
    _, parts = results
    previews = [e for e in _EVENTS if isinstance(e, session.TiltPreview)]
    assert len(previews) == 1
    at = _EVENTS.index(previews[0])
    assert "orientation" in _EVENTS[:at] and "activity" in _EVENTS[at:]
    p = previews[0]
    np.testing.assert_array_equal(p.anterior_tilt_deg, parts.anterior_tilt_deg)
    np.testing.assert_array_equal(p.lateral_tilt_deg, parts.lateral_tilt_deg)
    assert p.calibration == parts.calibration and np.isfinite(p.lateral_tilt_deg).all()


def test_cut_points_are_still_frame_aligned(day) -> None:
    bounds = cut_points(day.acc_mps2, day.gyr_rps, day.rate_hz, 4)
    assert bounds[0] == 0 and bounds[-1] == day.n_samples
    assert len(bounds) == 5 and np.all(np.diff(bounds) > 0)
    for c in bounds[1:-1]:
        assert c % 25 == 0
        rate = np.linalg.norm(day.gyr_rps[c - 500 : c + 500], axis=1)
        assert np.median(rate) < 0.2  # still (rad/s), not walking


def test_auto_workers() -> None:
    assert auto_workers(600.0) == 1
    assert auto_workers(8 * 3600.0, SessionParams(workers=1)) == 1
    assert auto_workers(8 * 3600.0, SessionParams(workers=3)) == 3


def test_parts_match_whole_session(results, day) -> None:
    whole, parts = results
    assert parts.calibration is not None and whole.calibration is not None
    np.testing.assert_allclose(
        parts.calibration.sensor_to_pelvis_quat_wxyz,
        whole.calibration.sensor_to_pelvis_quat_wxyz,
        atol=1e-9,
    )
    # Tilt: RMS and worst difference, away from the cuts and everywhere.
    bounds = cut_points(day.acc_mps2, day.gyr_rps, day.rate_hz, 4)
    near = np.zeros(day.n_samples, bool)
    for c in bounds[1:-1]:
        near[max(0, c - 3000) : c + 3000] = True
    for name in ("anterior_tilt_deg", "lateral_tilt_deg"):
        d = getattr(parts, name) - getattr(whole, name)
        assert np.sqrt(np.mean(d[~near] ** 2)) < 0.01, name
        assert np.max(np.abs(d)) < 0.1, name
    np.testing.assert_array_equal(parts.activity, whole.activity)
    assert parts.segments == whole.segments
    assert len(parts.transitions) == len(whole.transitions)
    assert abs(len(parts.steps) - len(whole.steps)) <= 3
    assert [(s["side"]) for s in parts.steps] == [s["side"] for s in whole.steps]
    np.testing.assert_allclose(
        [s["time_s"] for s in parts.steps], [s["time_s"] for s in whole.steps], atol=0.011
    )
    assert len(parts.episodes) == len(whole.episodes) > 0
    for a, b in zip(parts.episodes, whole.episodes, strict=True):
        assert (a["side"], a["kind"], a["activity"]) == (b["side"], b["kind"], b["activity"])
        assert a["start_s"] == pytest.approx(b["start_s"], abs=0.02)
        assert a["end_s"] == pytest.approx(b["end_s"], abs=0.02)
        assert a["peak_deg"] == pytest.approx(b["peak_deg"], abs=0.05)
    np.testing.assert_array_equal(parts.hip_hike, whole.hip_hike)
    assert parts.notes == whole.notes


def _logged_call(log: str, i: int, seconds: float) -> tuple[int, int]:
    time.sleep(seconds)
    with open(log, "a") as fh:
        fh.write(f"{i}\n")
    return i, os.getpid()


def _dies_in_worker(i: int) -> int:
    if multiprocessing.parent_process() is not None:
        os._exit(3)
    return i


def test_share_work_runs_every_call_once_on_both_processes(tmp_path) -> None:
    log = str(tmp_path / "calls.log")
    calls = [(log, i, 0.1) for i in range(12)]  # long enough for a loaded machine
    with ProcessPoolExecutor(1, mp_context=parallel.mp_context()) as pool:
        pool.submit(time.sleep, 0).result()  # started (else this process may do all)
        results = parallel.share_work(pool, str(tmp_path), _logged_call, calls)
    assert [r[0] for r in results] == list(range(12))
    assert sorted(int(v) for v in Path(log).read_text().split()) == list(range(12))
    pids = [r[1] for r in results]
    assert pids[0] == os.getpid() != pids[-1]  # this process from the start, the pool from the end
    assert pids == sorted(pids, key=lambda p: p != os.getpid())  # and they meet once


def test_share_work_runs_here_what_a_broken_pool_cannot(tmp_path) -> None:
    with ProcessPoolExecutor(1, mp_context=parallel.mp_context()) as pool:
        results = parallel.share_work(
            pool, str(tmp_path), _dies_in_worker, [(i,) for i in range(6)]
        )
    assert results == list(range(6))


def test_parts_are_calibrated_from_the_first_part_as_the_whole_session(results, day) -> None:
    whole, parts = results
    # the first of the four parts is longer than the 30 min calibrate_auto searches first
    assert cut_points(day.acc_mps2, day.gyr_rps, day.rate_hz, 4)[1] > 1800 * day.rate_hz
    assert parts.calibration.method == whole.calibration.method == "standing+walking"
    np.testing.assert_allclose(  # the orientations of the first part differ in the last bits
        parts.calibration.sensor_to_pelvis_quat_wxyz,
        whole.calibration.sensor_to_pelvis_quat_wxyz,
        atol=1e-12,
    )
    # every part's tilt, computed with its orientation or after it, is the tilt formula's
    ant, lat = pelvic_tilt_deg(parts.quat_wxyz, parts.calibration)
    np.testing.assert_array_equal(parts.anterior_tilt_deg, ant)
    np.testing.assert_array_equal(parts.lateral_tilt_deg, lat)


def test_parts_with_a_given_calibration_and_standing_tilt(day, results, monkeypatch) -> None:
    whole, _ = results
    cal = whole.calibration
    r = analyze_recording(day, params=HALF_HOURS, calibration=cal, standing_tilt_deg=12.0)
    assert r.calibration.standing_tilt_deg == 12.0
    ant, lat = pelvic_tilt_deg(r.quat_wxyz, r.calibration)
    np.testing.assert_array_equal(r.anterior_tilt_deg, ant)
    np.testing.assert_allclose(r.anterior_tilt_deg, whole.anterior_tilt_deg + 12.0, atol=0.05)
    np.testing.assert_array_equal(r.lateral_tilt_deg, lat)


def test_long_recordings_are_read_into_shared_memory(day, tmp_path) -> None:
    from recordings import read_recording, write_recording

    path = tmp_path / "day.psrec"
    write_recording(path, day)
    plain = read_recording(path)
    with session.loaded(path) as rec:
        for name in ("time_s", "acc_mps2", "gyr_rps"):
            # workers open these files instead of getting a copy
            assert parallel.npy_file(getattr(rec, name)) is not None
            np.testing.assert_array_equal(getattr(rec, name), getattr(plain, name))
        shared_dir = os.path.dirname(parallel.npy_file(rec.time_s))
    assert not os.path.exists(shared_dir)  # removed on leaving the block ...
    np.testing.assert_array_equal(rec.acc_mps2, plain.acc_mps2)  # ... the arrays stay valid
    assert parallel.npy_file(plain.time_s) is None


@pytest.mark.skipif(not os.access("/dev/shm", os.W_OK), reason="no /dev/shm")
def test_shared_memory_is_used_only_with_room_and_orphans_are_removed() -> None:
    import subprocess
    import sys

    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    orphan = Path("/dev/shm") / f"pelviscope-{dead}-test"
    orphan.mkdir()
    (orphan / "x.npy").write_bytes(b"0" * 1000)
    small = parallel.SharedArrays(1000)
    try:
        assert small.in_ram and small.dir.startswith("/dev/shm/")
        assert not orphan.exists()  # its process is gone
        assert Path(small.dir).exists()  # ours is kept
    finally:
        small.close()
    free = os.statvfs("/dev/shm")
    huge = parallel.SharedArrays(2 * free.f_bavail * free.f_frsize)
    try:
        assert not huge.in_ram and not huge.dir.startswith("/dev/shm/")
    finally:
        huge.close()


def test_parts_without_worker_processes(day, results, monkeypatch) -> None:
    """Where no process can be started (e.g. no semaphores), this process does every part."""

    def no_pool(*args, **kwargs):
        raise OSError(38, "Function not implemented")

    _, parts = results
    monkeypatch.setattr(parallel, "ProcessPoolExecutor", no_pool)
    alone = analyze_recording(day, params=HALF_HOURS)
    np.testing.assert_array_equal(alone.lateral_tilt_deg, parts.lateral_tilt_deg)
    np.testing.assert_array_equal(alone.activity, parts.activity)
    assert alone.episodes == parts.episodes
