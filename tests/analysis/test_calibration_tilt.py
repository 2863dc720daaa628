"""Calibration and pelvic tilt against the simulator's ground truth (random mounts)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from analysis import quaternion as quat
from analysis.calibration import (
    Calibration,
    CalibrationError,
    CalibrationParams,
    anterior_from_bend,
    calibrate_auto,
    mount_preset,
)
from analysis.orientation import estimate_quat_wxyz
from analysis.tilt import TiltTracker, pelvic_tilt_deg
from simulator import (
    SACRAL_MOUNT_QUAT_WXYZ,
    ImuErrors,
    Scenario,
    Sit,
    Stand,
    Turn,
    Walk,
    simulate,
)

PROTOCOL = Scenario(
    [
        Stand(8),
        Walk(15, cadence_spm=105),
        Sit(25, tilt_deg=-14),
        Stand(12, tilt_deg=4, lateral_deg=3),
        Walk(30, cadence_spm=115, turns=(Turn(at_s=10, angle_deg=180),)),
        Sit(15, lateral_deg=-4),
    ]
)
SEEDS = range(20)


def _quiet(truth, activity: str) -> np.ndarray:
    """Samples of an activity at least 2 s away from any change of phase."""
    t = truth.time_s
    sel = truth.activity == activity
    for seg in truth.segments:
        sel &= np.abs(t - seg["start_s"]) > 2.0
    return sel


def _heading_error_deg(cal: Calibration, mount: Rotation) -> float:
    est = quat.to_matrix(cal.sensor_to_pelvis_quat_wxyz)[0]
    true = mount.as_matrix()[0]
    return float(np.degrees(np.arccos(np.clip(est @ true, -1, 1))))


def _run(seed: int, offline: bool):
    mount = Rotation.random(random_state=seed)
    errors = ImuErrors(gyr_bias_rps=np.radians(1.0), rate_error_ppm=50)
    s = simulate(PROTOCOL, rate_hz=100, mount=mount, errors=errors, seed=seed)
    rec = s.recording
    q = estimate_quat_wxyz(rec.acc_mps2, rec.gyr_rps, rec.rate_hz, offline=offline)
    cal = calibrate_auto(rec.acc_mps2, rec.gyr_rps, q, rec.rate_hz, time_s=rec.time_s)
    anterior, lateral = pelvic_tilt_deg(q, cal)
    return s, mount, cal, anterior, lateral


@pytest.fixture(scope="module")
def offline_runs():
    return [_run(seed, offline=True) for seed in SEEDS]


def _rmse(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.sqrt(np.mean((a - b) ** 2)))


def test_auto_calibration_recovers_the_mount(offline_runs):
    errs = [_heading_error_deg(cal, mount) for _, mount, cal, _, _ in offline_runs]
    assert max(errs) <= 5.0, errs
    for _s, _, cal, _, _ in offline_runs:
        assert cal.method == "standing+walking"
        assert cal.standing_span_s[0] < 1.0 and 6.0 < cal.standing_span_s[1] <= 8.5
        assert cal.quality.direction_confidence > 0.8


@pytest.mark.parametrize(
    "activity, limit_deg", [("standing", 1.0), ("sitting", 1.0), ("walking", 1.5)]
)
def test_tilt_rmse_after_auto_calibration(offline_runs, activity, limit_deg):
    worst_ant, worst_lat = 0.0, 0.0
    for s, _, _, anterior, lateral in offline_runs:
        sel = _quiet(s.truth, activity)
        worst_ant = max(worst_ant, _rmse(anterior[sel], s.truth.anterior_tilt_deg[sel]))
        worst_lat = max(worst_lat, _rmse(lateral[sel], s.truth.lateral_tilt_deg[sel]))
    assert worst_ant <= limit_deg, worst_ant
    assert worst_lat <= limit_deg, worst_lat


@pytest.mark.parametrize("seed", [0, 7, 13])
def test_live_tilt_matches_batch_and_truth(seed):
    s, _mount, cal, _, _ = _run(seed, offline=True)
    rec = s.recording
    tracker = TiltTracker(rec.rate_hz, cal)
    parts = [
        tracker.update(rec.acc_mps2[i : i + 37], rec.gyr_rps[i : i + 37])
        for i in range(0, rec.n_samples, 37)
    ]
    anterior = np.concatenate([p[1] for p in parts])
    lateral = np.concatenate([p[2] for p in parts])
    q_online = estimate_quat_wxyz(rec.acc_mps2, rec.gyr_rps, rec.rate_hz, offline=False)
    a_ref, l_ref = pelvic_tilt_deg(q_online, cal)
    np.testing.assert_allclose(anterior, a_ref, atol=1e-9)
    np.testing.assert_allclose(lateral, l_ref, atol=1e-9)
    for activity, limit in (("standing", 1.0), ("sitting", 1.0), ("walking", 2.0)):
        sel = _quiet(s.truth, activity)
        assert _rmse(anterior[sel], s.truth.anterior_tilt_deg[sel]) <= limit
        assert _rmse(lateral[sel], s.truth.lateral_tilt_deg[sel]) <= limit


def test_signs_follow_design():
    # Sacral mount, no noise: sitting tilts back (negative), a left hike is positive.
    sc = Scenario([Stand(8), Walk(12), Sit(10), Stand(8, lateral_deg=6, tilt_deg=5)])
    s = simulate(sc, rate_hz=100, errors=ImuErrors.ideal(), seed=1)
    rec = s.recording
    q = estimate_quat_wxyz(rec.acc_mps2, rec.gyr_rps, rec.rate_hz, offline=True)
    cal = calibrate_auto(rec.acc_mps2, rec.gyr_rps, q, rec.rate_hz)
    anterior, lateral = pelvic_tilt_deg(q, cal)
    sit = _quiet(s.truth, "sitting")
    assert anterior[sit].mean() == pytest.approx(-15, abs=0.5)
    last = s.truth.time_s > s.truth.time_s[-1] - 4
    assert lateral[last].mean() == pytest.approx(6, abs=0.5)
    assert anterior[last].mean() == pytest.approx(5, abs=0.5)
    # The standing-tilt offset shifts anterior tilt only.
    a2, l2 = pelvic_tilt_deg(q, cal.with_standing_tilt(12.0))
    np.testing.assert_allclose(a2 - anterior, 12.0)
    np.testing.assert_allclose(l2, lateral)


def test_no_walking_is_a_clear_error():
    s = simulate(Scenario([Stand(10), Sit(20)]), rate_hz=100, seed=2)
    rec = s.recording
    q = estimate_quat_wxyz(rec.acc_mps2, rec.gyr_rps, rec.rate_hz, offline=True)
    with pytest.raises(CalibrationError, match=r"no walking found.*mount preset"):
        calibrate_auto(rec.acc_mps2, rec.gyr_rps, q, rec.rate_hz)


def test_no_standing_falls_back_to_walking_and_says_so():
    mount = Rotation.random(random_state=4)
    s = simulate(Scenario([Walk(20), Sit(10)]), rate_hz=100, mount=mount, seed=4)
    rec = s.recording
    q = estimate_quat_wxyz(rec.acc_mps2, rec.gyr_rps, rec.rate_hz, offline=True)
    cal = calibrate_auto(rec.acc_mps2, rec.gyr_rps, q, rec.rate_hz)
    assert cal.method == "walking_only"
    assert any("no quiet standing" in n for n in cal.quality.notes)
    assert _heading_error_deg(cal, mount) < 5


def test_ambiguous_direction_is_refused():
    s = simulate(Scenario([Stand(6), Walk(12)]), rate_hz=100, seed=5)
    rec = s.recording
    q = estimate_quat_wxyz(rec.acc_mps2, rec.gyr_rps, rec.rate_hz, offline=True)
    strict = CalibrationParams(min_direction_confidence=1.01)
    with pytest.raises(CalibrationError, match="ambiguous walking direction"):
        calibrate_auto(rec.acc_mps2, rec.gyr_rps, q, rec.rate_hz, params=strict)


def test_presets_saved_calibrations_and_bend():
    cal = mount_preset("sacral-mm+")
    np.testing.assert_allclose(
        np.abs(cal.sensor_to_pelvis_quat_wxyz), np.abs(SACRAL_MOUNT_QUAT_WXYZ), atol=1e-12
    )
    assert mount_preset("up=+x,anterior=+z").method == "preset:up=+x,anterior=+z"
    with pytest.raises(CalibrationError, match="unknown mount"):
        mount_preset("upside-down")
    with pytest.raises(CalibrationError, match="two different axes"):
        mount_preset("up=+x,anterior=-x")
    saved = Calibration.from_dict(cal.with_standing_tilt(10).to_dict())
    assert saved.method == "saved" and saved.standing_tilt_deg == 10
    np.testing.assert_allclose(saved.sensor_to_pelvis_quat_wxyz, cal.sensor_to_pelvis_quat_wxyz)
    with pytest.raises(CalibrationError, match="not a pelviscope calibration"):
        Calibration.from_dict({"format": "other"})
    # Bending forward by 30 deg about the pelvis' left axis moves "up" posteriorly.
    up = np.array([0.0, 0.0, 1.0])
    bent = Rotation.from_euler("y", -30, degrees=True).apply(up)
    np.testing.assert_allclose(anterior_from_bend(up, bent)[[0, 1]], [1 * np.sign(1), 0], atol=0.3)
    with pytest.raises(CalibrationError, match="too small"):
        anterior_from_bend(up, Rotation.from_euler("y", -5, degrees=True).apply(up))
