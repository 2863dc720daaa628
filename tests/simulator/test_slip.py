"""Simulated sensor slips: the signals follow the new mounting, the truth records it."""

from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation

from simulator import Scenario, Sit, Stand, Walk, simulate
from simulator.slip import Slip, sit_down_times_s


def _scenario() -> Scenario:
    return Scenario([Stand(6), Walk(10), Sit(20), Stand(6)])


def test_sit_down_times_fall_in_the_transition():
    sc = _scenario()
    (t,) = sit_down_times_s(sc)
    s = simulate(sc, seed=1)
    i = int(np.searchsorted(s.truth.time_s, t))
    assert s.truth.activity[i] == "transition"


def test_slip_turns_the_gravity_reading_and_is_in_the_truth():
    sc = _scenario()
    mount = Rotation.random(random_state=4)
    slip = Slip(at_s=sit_down_times_s(sc)[0], rotation_deg=25.0, axis="x")
    s = simulate(sc, mount=mount, seed=2, slips=[slip])
    plain = simulate(sc, mount=mount, seed=2)
    (change,) = s.truth.mount_changes
    assert change["time_s"] == slip.at_s and change["angle_deg"] == 25.0
    t = s.truth.time_s
    first, last = t < 5, t > t[-1] - 4  # quiet standing before and after
    g = s.recording.acc_mps2
    before = g[first].mean(axis=0)
    after = g[last].mean(axis=0)
    turn = np.degrees(np.arccos(before @ after / np.linalg.norm(before) / np.linalg.norm(after)))
    assert 23 < turn < 27  # standing is the same posture: the sensor turned by the slip
    np.testing.assert_allclose(g[first], plain.recording.acc_mps2[first])  # nothing before
    # The truth's sensor orientation carries the new mount: its up matches the reading.
    q = s.truth.quat_wxyz_sensor[last]
    up_s = Rotation.from_quat(np.roll(q, -1, axis=1)).inv().apply([0, 0, 1]).mean(axis=0)
    assert np.degrees(np.arccos(up_s @ after / np.linalg.norm(after))) < 1.0
    # The gyroscope sees the slip: integrating it over the slip gives about its angle.
    sel = (t > slip.at_s - 0.5) & (t < slip.at_s + 0.5)
    w_rel = s.recording.gyr_rps[sel] - plain.recording.gyr_rps[sel]
    assert abs(np.degrees(np.linalg.norm(w_rel.sum(axis=0)) / 100.0) - 25.0) < 2.5
    assert s.truth.to_json()["mount_changes"][0]["angle_deg"] == 25.0
