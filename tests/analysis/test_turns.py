"""Turns from the lower-back yaw rate (``analysis.gait.turns``): synthetic, simulated, real."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from analysis.gait.turns import TurnParams, detect_turns, yaw_rate_dps
from analysis.session import analyze_recording
from simulator import Scenario, Stand, Turn, Walk, simulate
from tests.conftest import require_data

RATE_HZ = 100.0


def _walk_with_turn(
    angle_deg: float, duration_s: float, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """20 s of walking yaw (the pelvis's +-20 deg/s step oscillation at 0.9 Hz, noise) with a
    raised-sine turn of ``angle_deg`` over ``duration_s`` starting at 8 s."""
    t = np.arange(0, 20, 1 / RATE_HZ)
    rng = np.random.default_rng(seed)
    w = 20 * np.sin(2 * np.pi * 0.9 * t) + rng.normal(0, 2, t.size)
    inside = (t >= 8) & (t < 8 + duration_s)
    w[inside] += angle_deg * np.pi / (2 * duration_s) * np.sin(np.pi * (t[inside] - 8) / duration_s)
    return t, w


@pytest.mark.parametrize("angle_deg", [90.0, -90.0])
def test_a_90_deg_turn_in_2_s_is_found_with_its_angle_and_sign(angle_deg: float) -> None:
    t, w = _walk_with_turn(angle_deg, 2.0)
    turns = detect_turns(t, w, rate_hz=RATE_HZ)
    assert len(turns) == 1, turns
    (turn,) = turns
    assert turn["angle_deg"] == pytest.approx(angle_deg, abs=5.0)
    assert 7.5 <= turn["start_s"] <= 8.5
    assert 9.5 <= turn["end_s"] <= 10.5


def test_walking_straight_and_small_turns_are_no_turns() -> None:
    t, w = _walk_with_turn(0.0, 2.0)
    assert detect_turns(t, w, rate_hz=RATE_HZ) == []
    t, w = _walk_with_turn(30.0, 2.0)
    assert detect_turns(t, w, rate_hz=RATE_HZ) == []  # < 45 deg
    # a slow drift (a gentle curve: 40 deg over 10 s, 4 deg/s) is below the peak rate
    t = np.arange(0, 20, 1 / RATE_HZ)
    assert detect_turns(t, np.full(t.size, 4.0), rate_hz=RATE_HZ) == []


def test_a_left_turn_straight_into_a_right_turn_is_two_turns() -> None:
    """Opposite directions are never merged, however close (INDIP reports them apart)."""
    t, w = _walk_with_turn(90.0, 2.0)
    inside = (t >= 10) & (t < 12)
    w[inside] -= 120 * np.pi / 4 * np.sin(np.pi * (t[inside] - 10) / 2)
    turns = detect_turns(t, w, rate_hz=RATE_HZ, params=TurnParams(merge_gap_s=5.0))
    assert [x["angle_deg"] for x in turns] == [
        pytest.approx(90, abs=10),
        pytest.approx(-120, abs=10),
    ]
    assert turns[0]["end_s"] <= turns[1]["start_s"]


def test_yaw_rate_is_the_vertical_rotation_whatever_the_sensor_tilt() -> None:
    # a sensor pitched 30 deg and rolled 20 deg, turning left at 50 deg/s about the vertical
    r = Rotation.from_euler("xy", [20, 30], degrees=True)  # sensor -> earth
    up_sensor = r.inv().apply([0.0, 0.0, 1.0])
    gyr_sensor = r.inv().apply([0.0, 0.0, np.deg2rad(50.0)])
    yaw = yaw_rate_dps(np.tile(up_sensor, (5, 1)), np.tile(gyr_sensor, (5, 1)))
    np.testing.assert_allclose(yaw, 50.0, atol=1e-9)


def test_short_and_degenerate_inputs() -> None:
    assert detect_turns(np.array([0.0]), np.array([100.0]), rate_hz=RATE_HZ) == []
    t, w = _walk_with_turn(90.0, 2.0)
    w[100:120] = np.nan  # counted as no rotation
    assert len(detect_turns(t, w, rate_hz=RATE_HZ)) == 1
    with pytest.raises(ValueError, match="same shape"):
        detect_turns(t, w[:-1], rate_hz=RATE_HZ)


def test_simulated_walk_with_turns_through_the_session() -> None:
    """The simulator's turns (random sensor mount; left 90, right 180, left 135 deg while
    walking) come back through ``analyze_recording`` with their direction and angle."""
    walk = Walk(
        50,
        turns=(
            Turn(at_s=8, angle_deg=90),
            Turn(at_s=22, angle_deg=-180, duration_s=2.0),
            Turn(at_s=38, angle_deg=135, duration_s=3.5),
        ),
    )
    for seed in (3, 4):
        session = simulate(Scenario([Stand(10), walk, Stand(5)]), rate_hz=RATE_HZ, seed=seed)
        result = analyze_recording(session.recording, workers=1)
        found = result.turns
        assert len(found) == 3, found
        for turn, truth in zip(found, walk.turns, strict=True):
            start_s = 10 + truth.at_s
            assert turn["angle_deg"] == pytest.approx(truth.angle_deg, abs=10.0)
            assert (
                start_s - 0.5 <= turn["start_s"]
                and turn["end_s"] <= start_s + truth.duration_s + 0.5
            )
        doc = result.to_json()
        assert doc["turns"] == found
        json.dumps(doc, allow_nan=False)


def test_no_gyroscope_no_turns() -> None:
    session = simulate(
        Scenario([Stand(10), Walk(20, turns=(Turn(at_s=8, angle_deg=90),))]),
        rate_hz=RATE_HZ,
        seed=1,
    )
    result = analyze_recording(replace(session.recording, gyr_rps=None), workers=1)
    assert result.turns == []


@pytest.mark.data
def test_mobgap_lab_turns_against_indip() -> None:
    """Ratchet on the INDIP turns of mobgap_lab (``bench/eval_turns.py``; the figures of the
    literature defaults, which leave-one-person-out tuning did not beat on both people).

    INDIP's turn angles disagree with this very sensor's yaw integral over INDIP's own turn
    spans (median 42 deg on MS_001, 70 deg and 5 of 7 signs on HA_001's short turns), so the
    floors are what is reached, not a target: MS_001 11 of 11 found with their direction,
    HA_001 2 of 7 (its two long turns)."""
    from bench.eval_turns import load_trials, run

    trials = load_trials(require_data("mobgap_lab").parent)
    d = TurnParams()
    ms = run([t for t in trials if t["person"] == "MS_001"], d)
    ha = run([t for t in trials if t["person"] == "HA_001"], d)
    assert ms["ref"] == 11 and ha["ref"] == 7
    assert ms["found"] >= 11 and ms["wrong_direction"] == 0 and ms["false"] <= 7
    assert np.median(np.abs(ms["angle_err"])) <= 33.0
    assert np.median(np.abs(ms["start_err"])) <= 0.1 and np.median(np.abs(ms["end_err"])) <= 0.1
    assert ha["found"] >= 2 and ha["false"] <= 7
    assert max(np.abs(ha["angle_err"])) <= 30.0
    for t in trials:  # analyze's turns are the replay's
        assert len(t["analyzed"]) == len(
            detect_turns(t["time_s"], t["yaw_dps"], rate_hz=t["rate_hz"])
        )
