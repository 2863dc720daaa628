"""The simulator's physics: the oracle must be right before anything is tested against it."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from simulator import (
    ImuErrors,
    Lie,
    Scenario,
    Sit,
    Stand,
    Turn,
    Walk,
    simulate,
)
from simulator.trajectory import GRAVITY_MPS2

FULL = Scenario(
    [
        Stand(6, sway_deg=0.0),
        Walk(25, cadence_spm=110, turns=(Turn(at_s=10, angle_deg=180),)),
        Sit(8),
        Stand(8, lateral_deg=-6),
        Walk(15, hike_side="left", hike_deg=5),
        Lie(6),
        Stand(4, sway_deg=0.0),
    ]
)


def _rot(q_wxyz: np.ndarray) -> Rotation:
    return Rotation.from_quat(np.roll(q_wxyz, -1, axis=-1))


@pytest.fixture(scope="module")
def ideal_1khz():
    mount = Rotation.from_euler("xyz", [37, -120, 71], degrees=True)
    return simulate(FULL, rate_hz=1000, mount=mount, errors=ImuErrors.ideal(), seed=3)


def test_specific_force_at_rest_is_plus_g_along_up(ideal_1khz):
    rec, truth = ideal_1khz.recording, ideal_1khz.truth
    rest = truth.time_s < 5.0  # sway-free standing
    up_sensor = _rot(truth.quat_wxyz_sensor[rest]).inv().apply([0, 0, 1])
    np.testing.assert_allclose(rec.acc_mps2[rest], GRAVITY_MPS2 * up_sensor, atol=1e-6)
    np.testing.assert_allclose(rec.gyr_rps[rest], 0.0, atol=1e-9)


def test_integrating_the_gyro_reproduces_the_orientation(ideal_1khz):
    rec, truth = ideal_1khz.recording, ideal_1khz.truth
    dt = np.diff(truth.time_s)
    # Midpoint rule on body rates: q_{k+1} = q_k * exp(w_mid dt).
    w_mid = 0.5 * (rec.gyr_rps[1:] + rec.gyr_rps[:-1])
    steps = Rotation.from_rotvec(w_mid * dt[:, None])
    q = _rot(truth.quat_wxyz_sensor[0])
    err = []
    for k in range(steps.shape[0]):
        q = q * steps[k]
        if k % 500 == 0:
            err.append((q.inv() * _rot(truth.quat_wxyz_sensor[k + 1])).magnitude())
    assert np.degrees(max(err)) < 0.05


def test_double_integrated_acceleration_returns_to_rest(ideal_1khz):
    rec, truth = ideal_1khz.recording, ideal_1khz.truth
    acc_earth = _rot(truth.quat_wxyz_sensor).apply(rec.acc_mps2) - [0, 0, GRAVITY_MPS2]
    vel = np.cumsum(acc_earth, axis=0) * 1e-3
    walking = truth.activity == "walking"
    assert np.linalg.norm(vel[walking], axis=1).max() > 0.8  # it really walked
    # Quiet standing at the end: velocity back to zero, height back to standing.
    assert np.linalg.norm(vel[-1]) < 0.01


def test_mount_and_tilt_follow_design_conventions(ideal_1khz):
    truth = ideal_1khz.truth
    mount = _rot(truth.quat_wxyz_pelvis).inv() * _rot(truth.quat_wxyz_sensor)
    expected = Rotation.from_euler("xyz", [37, -120, 71], degrees=True)
    assert np.degrees((mount * expected.inv()).magnitude()).max() < 1e-6
    u = _rot(truth.quat_wxyz_pelvis).inv().apply([0, 0, 1])  # up in the pelvis frame
    np.testing.assert_allclose(
        truth.anterior_tilt_deg, np.degrees(np.arctan2(-u[:, 0], u[:, 2])), atol=1e-9
    )
    np.testing.assert_allclose(truth.lateral_tilt_deg, np.degrees(np.arcsin(u[:, 1])), atol=1e-9)
    # Sitting tilts the pelvis back, lying supine is -90, a right hike is negative.
    act = truth.activity
    assert truth.anterior_tilt_deg[act == "sitting"].mean() == pytest.approx(-15, abs=0.5)
    assert truth.anterior_tilt_deg[act == "lying"].mean() == pytest.approx(-90, abs=0.5)
    static = truth.episodes[0]
    assert (static.side, static.kind, static.activity) == ("right", "static", "standing")
    assert static.mean_deg > 5


def test_gait_is_phase_locked_to_alternating_contacts(ideal_1khz):
    truth, rec = ideal_1khz.truth, ideal_1khz.recording
    sides = truth.initial_contact_side
    assert np.all(sides[1:] != sides[:-1])
    first_walk = (truth.initial_contact_s > 6) & (truth.initial_contact_s < 31)
    step_s = np.diff(truth.initial_contact_s[first_walk])
    assert 60 / np.median(step_s) == pytest.approx(110, rel=0.03)
    # Normal gait: the swing side drops. Left swing lies between a right and a left contact.
    ics, lat = truth.initial_contact_s, truth.lateral_tilt_deg
    t = truth.time_s
    left_swing, right_swing = [], []
    for a, b, side in zip(ics[:-1], ics[1:], sides[1:], strict=True):
        if not 8 < a < 29:
            continue
        mid = (t > a + 0.2 * (b - a)) & (t < b - 0.2 * (b - a))
        (left_swing if side == "left" else right_swing).append(lat[mid].mean())
    assert np.mean(left_swing) < -1.5  # left side low while left leg swings
    assert np.mean(right_swing) > 1.5  # right side low (obliquity positive) on right swing
    # Vertical acceleration peaks just after each contact (COM lowest in double support).
    acc_up = np.einsum(
        "ni,ni->n", rec.acc_mps2, _rot(truth.quat_wxyz_sensor).inv().apply([0, 0, 1])
    )
    for ic in ics[first_walk][3:10]:
        win = (t > ic - 0.15) & (t < ic + 0.25)
        t_peak = t[win][np.argmax(acc_up[win])]
        assert -0.02 < t_peak - ic < 0.15


def test_gait_hip_hike_raises_the_swing_side():
    sc = Scenario([Stand(3), Walk(20, hike_side="right", hike_deg=5)])
    s = simulate(sc, rate_hz=100, errors=ImuErrors.ideal(), seed=1)
    t, lat = s.truth.time_s, s.truth.lateral_tilt_deg
    ics, sides = s.truth.initial_contact_s, s.truth.initial_contact_side
    right_swing = []
    for a, b, side in zip(ics[:-1], ics[1:], sides[1:], strict=True):
        if side == "right" and 6 < a < 20:
            mid = (t > a + 0.55 * (b - a)) & (t < a + 0.65 * (b - a))  # mid-swing, s = 0.8
            right_swing.append(-lat[mid].mean())  # positive = right side raised
    assert np.mean(right_swing) == pytest.approx(5.0, abs=0.7)
    ep = s.truth.episodes[0]
    assert (ep.side, ep.kind, ep.activity) == ("right", "gait", "walking")


def test_clock_error_and_packet_loss_are_explicit():
    errors = ImuErrors(rate_error_ppm=500.0, packet_loss=0.05, packet_samples=8)
    s = simulate(Scenario([Stand(60)]), rate_hz=200, errors=errors, seed=5)
    rec, truth = s.recording, s.truth
    lost = sum(g.lost_samples for g in rec.gaps)
    expected_total = int(60 * 200 * (1 + 500e-6))
    assert rec.n_samples + lost == expected_total
    assert 0.02 < lost / expected_total < 0.08
    for g in rec.gaps:
        inside = (rec.time_s > g.start_s) & (rec.time_s < g.end_s)
        assert not inside.any()
        assert round((g.end_s - g.start_s) * 200) - 1 == g.lost_samples
    # Device clock runs fast: device time ahead of true time by 500 ppm.
    drift = rec.time_s[-1] - truth.time_s[-1]
    assert drift == pytest.approx(truth.time_s[-1] * 500e-6, rel=0.01)


def test_default_errors_are_realistic():
    s = simulate(Scenario([Stand(20)]), rate_hz=100, seed=2)
    gyr = s.recording.gyr_rps
    bias = np.asarray(s.truth.sensor_biases["gyr_bias_rps"])
    assert np.abs(gyr.mean(axis=0) - bias).max() < 2e-3  # a standing person barely rotates
    assert 0.001 < gyr.std(axis=0).min() < 0.01
    assert s.recording.meta["profile"] == "simulated"


def test_bad_scenarios_are_rejected_clearly():
    with pytest.raises(ValueError, match="at least one phase"):
        Scenario([])
    with pytest.raises(ValueError, match="turn must start"):
        Scenario([Walk(5, turns=(Turn(at_s=0.5, angle_deg=90),))])
    with pytest.raises(ValueError, match="cadence"):
        Scenario([Walk(10, cadence_spm=400)])
