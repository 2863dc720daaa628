"""Mount-change detection (analysis.mount) on simulated slips and normal sessions."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from analysis.calibration import Calibration, mount_preset
from analysis.mount import MountResult, detect_mount_changes, implausibility_deg
from analysis.session import analyze, analyze_recording
from recordings import load
from simulator import Scenario, Sit, Stand, Turn, Walk, simulate
from simulator.presets import clinic_protocol
from simulator.session import SimulatedSession
from simulator.slip import Slip, sit_down_times_s
from tests.conftest import require_data


def _scenario() -> Scenario:
    return Scenario(
        [
            Stand(8),
            Walk(20),
            Stand(5),
            Walk(12),
            Sit(50),
            Stand(6),
            Walk(25, turns=(Turn(at_s=8, angle_deg=180),)),
            Sit(40),
            Stand(5),
            Walk(20),
            Stand(5),
            Sit(20),
        ]
    )


def _run(s: SimulatedSession) -> tuple[MountResult, np.ndarray, np.ndarray]:
    r = analyze_recording(s.recording, source="sim")
    assert r.calibration is not None
    m = detect_mount_changes(
        r.quat_wxyz,
        s.recording.acc_mps2,
        s.recording.gyr_rps,
        r.time_s,
        r.rate_hz,
        None,
        r.calibration,
    )
    anterior, lateral = m.tilt_deg(r.quat_wxyz)
    return m, anterior, lateral


def _rmse(s: SimulatedSession, anterior: np.ndarray, lateral: np.ndarray) -> dict[str, float]:
    out = {}
    for act in ("standing", "walking", "sitting", "transition"):
        sel = s.truth.activity == act
        out[act] = max(
            float(np.sqrt(np.nanmean((anterior[sel] - s.truth.anterior_tilt_deg[sel]) ** 2))),
            float(np.sqrt(np.nanmean((lateral[sel] - s.truth.lateral_tilt_deg[sel]) ** 2))),
        )
    return out


def _next_walk_end(s: SimulatedSession, t: float) -> float:
    return min(
        g["end_s"] for g in s.truth.segments if g["activity"] == "walking" and g["start_s"] > t
    )


@pytest.mark.parametrize(
    ("seed", "sit", "angle", "axis"),
    [(1, 0, 25.0, "x"), (2, 1, -22.0, "y"), (3, 0, 28.0, (0.7, 0.7, 0.2)), (4, 1, 20.0, "x")],
)
def test_a_belt_slip_is_found_and_corrected_back_to_its_moment(seed, sit, angle, axis):
    sc = _scenario()
    slip = Slip(at_s=sit_down_times_s(sc)[sit], rotation_deg=angle, axis=axis)
    s = simulate(sc, mount=Rotation.random(random_state=seed), seed=seed, slips=[slip])
    m, anterior, lateral = _run(s)
    (change,) = m.changes
    assert slip.at_s - 1.5 <= change.time_s <= _next_walk_end(s, slip.at_s)
    assert abs(change.time_s - slip.at_s) < 1.5  # placed at the sit-down itself
    assert change.angle_deg == pytest.approx(abs(angle), abs=3.0)
    assert [seg.uncertain for seg in m.segments] == [False, False]
    rmse = _rmse(s, anterior, lateral)
    assert max(rmse.values()) <= 2.0, rmse


def test_normal_sessions_report_no_change():
    for seed in range(3):
        s = simulate(clinic_protocol(), mount=Rotation.random(random_state=50 + seed), seed=seed)
        m, anterior, lateral = _run(s)
        assert m.changes == [] and len(m.segments) == 1
        assert max(_rmse(s, anterior, lateral).values()) <= 1.5


def test_a_slip_in_the_last_sit_marks_the_rest_uncertain():
    sc = Scenario([Stand(8), Walk(20), Stand(5), Walk(12), Sit(60)])
    slip = Slip(at_s=sit_down_times_s(sc)[0], rotation_deg=30.0, axis="x")
    s = simulate(sc, mount=Rotation.random(random_state=9), seed=9, slips=[slip])
    m, anterior, lateral = _run(s)
    (change,) = m.changes
    assert change.angle_deg is None and change.to_dict()["angle_deg"] is None
    assert abs(change.time_s - slip.at_s) < 2.0
    assert m.segments[-1].uncertain and "not known" in m.segments[-1].note
    uncertain = m.uncertain_mask(anterior.size)
    assert np.isnan(lateral[uncertain]).all() and not np.isnan(lateral[~uncertain]).any()


def test_implausible_postures():
    assert implausibility_deg(0.0, 2.0) == 0.0  # standing
    assert implausibility_deg(-20.0, 0.0) == 0.0  # sitting
    assert implausibility_deg(-15.0, 25.0) == pytest.approx(15.0)  # leaning 25 deg sideways
    assert implausibility_deg(-90.0, 0.0) == 0.0  # lying: not judged


def test_calibration_frontal_offset_round_trip_and_old_files():
    cal = mount_preset("sacral-mm+").with_frontal_offset(5.0, "walking")
    doc = cal.to_dict()
    assert doc["level_reference"] == "walking" and doc["frontal_offset_deg"] == 5.0
    back = Calibration.from_dict(doc)
    np.testing.assert_allclose(back.sensor_to_pelvis_quat_wxyz, cal.sensor_to_pelvis_quat_wxyz)
    assert back.frontal_offset_deg == 5.0
    del doc["level_reference"], doc["frontal_offset_deg"]  # a file from before
    old = Calibration.from_dict(doc)
    assert old.level_reference == "standing" and old.frontal_offset_deg == 0.0
    # Replacing the offset turns from the original, not on top of the earlier one.
    again = cal.with_frontal_offset(0.0, "standing")
    np.testing.assert_allclose(
        np.abs(again.sensor_to_pelvis_quat_wxyz),
        np.abs(mount_preset("sacral-mm+").sensor_to_pelvis_quat_wxyz),
        atol=1e-12,
    )
    assert cal.with_standing_tilt(3.0).frontal_offset_deg == 5.0


@pytest.mark.parametrize("name", ["hapt_exp03_user02", "hapt_exp12_user06", "hapt_exp27_user13"])
def test_real_sessions_with_stairs_and_lying_report_no_change(name):
    path = require_data("hapt") / f"{name}.csv"
    r = analyze(path)
    rec = load(path)
    assert r.calibration is not None
    m = detect_mount_changes(
        r.quat_wxyz, rec.acc_mps2, rec.gyr_rps, r.time_s, r.rate_hz, None, r.calibration
    )
    assert m.changes == [], m.to_json()
