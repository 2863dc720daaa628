"""Guided (live) calibration on simulated wearers: success, quality and clear failures."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from analysis import quaternion as quat
from analysis.guided_calibration import GuidedCalibration, GuidedParams
from analysis.orientation import OrientationTracker
from simulator import Scenario, Sit, Stand, Walk, simulate


def _feed(scenario: Scenario, seed: int, mode: str = "walk", chunk: int = 25, params=None):
    mount = Rotation.random(random_state=seed)
    s = simulate(scenario, rate_hz=100, mount=mount, seed=seed)
    rec = s.recording
    tracker = OrientationTracker(rec.rate_hz)
    guided = GuidedCalibration(rec.rate_hz, mode=mode, params=params)
    phases = []
    for i in range(0, rec.n_samples, chunk):
        acc, gyr = rec.acc_mps2[i : i + chunk], rec.gyr_rps[i : i + chunk]
        status = guided.update(acc, gyr, tracker.update(acc, gyr))
        phases.append(status.phase)
    return status, mount, phases


def _heading_error_deg(status, mount) -> float:
    est = quat.to_matrix(status.calibration.sensor_to_pelvis_quat_wxyz)[0]
    return float(np.degrees(np.arccos(np.clip(est @ mount.as_matrix()[0], -1, 1))))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_stand_then_walk_calibrates(seed):
    status, mount, phases = _feed(Scenario([Stand(7), Walk(12), Stand(3)]), seed)
    assert status.phase == "done", status.message
    assert "walk" in phases
    assert _heading_error_deg(status, mount) < 5
    assert status.quality > 0.7
    assert status.calibration.method == "standing+walking"


def test_moving_during_the_still_phase_restarts_then_fails():
    status, _, _ = _feed(Scenario([Walk(40)]), seed=3)
    assert status.phase == "failed"
    assert "moved during the still phase" in status.message


def test_too_few_steps_is_reported():
    status, _, phases = _feed(Scenario([Stand(6), Sit(40)]), seed=4)
    assert "walk" in phases
    assert status.phase == "failed" and "too few steps" in status.message


def test_forward_bend_calibrates():
    # A deep forward lean (60 deg) held briefly, simulated as a standing posture change.
    sc = Scenario([Stand(6), Stand(3, tilt_deg=40), Stand(4)])
    status, mount, _ = _feed(sc, seed=5, mode="bend")
    assert status.phase == "done", status.message
    assert status.calibration.method == "standing+bend"
    assert _heading_error_deg(status, mount) < 5


def test_a_shallow_bend_times_out_with_a_reason():
    sc = Scenario([Stand(6), Stand(3, tilt_deg=10), Stand(20)])
    status, _, phases = _feed(sc, seed=6, mode="bend", params=GuidedParams(timeout_s=15))
    assert "bend" in phases
    assert status.phase == "failed"
    assert "no forward bend of 25 deg" in status.message
