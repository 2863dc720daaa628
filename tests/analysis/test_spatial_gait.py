"""Spatial gait from the pelvis's vertical excursion: the model on synthetic motion, the
inputs' rules, and walking speed / stride length against INDIP (held out)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from analysis.gait.spatial import (
    DEFAULT_HEIGHT_M,
    LEG_LENGTH_RATIO,
    MIN_STEP_LENGTH_M,
    SpatialParams,
    leg_length_m,
    spatial_gait,
    step_lengths,
    stride_spatial,
    vertical_acc_mps2,
    vertical_displacement_m,
)
from tests.conftest import require_data

RATE_HZ = 100.0


def _walk(amplitude_m: float = 0.02, step_s: float = 0.55, duration_s: float = 30.0):
    """Vertical pelvis motion ``A cos(2 pi t / step)``: lowest at each contact."""
    t = np.arange(0.0, duration_s, 1.0 / RATE_HZ)
    w = 2 * np.pi / step_s
    acc = amplitude_m * w * w * np.cos(w * t)  # d'' of -A cos(wt)
    ic_t = np.arange(2.0, duration_s - 2.0, step_s)
    ic_side = np.where(np.arange(ic_t.size) % 2 == 0, "left", "right")
    return t, acc, ic_t, ic_side


def test_excursion_and_length_follow_the_pendulum_model():
    t, acc, ic_t, ic_side = _walk(amplitude_m=0.02)
    disp = vertical_displacement_m(acc, RATE_HZ)
    p = SpatialParams(step_length_factor=1.0, step_length_offset_m=0.0)
    steps = step_lengths(t, disp, ic_t, ic_side, 0.9, p)
    h = steps.excursion_m[2:-2]
    assert h == pytest.approx(0.04, rel=0.03)  # peak to peak 2 A
    want = 2 * np.sqrt(2 * 0.9 * h - h * h)
    np.testing.assert_allclose(steps.length_m[2:-2], want, rtol=1e-12)
    strides = stride_spatial(steps)
    assert strides["speed_mps"][3] == pytest.approx(strides["length_m"][3] / (2 * 0.55), rel=1e-9)
    # Defaults: the affine correction, never below the floor.
    d = step_lengths(t, disp, ic_t, ic_side, 0.9).length_m
    q = SpatialParams()
    np.testing.assert_allclose(
        d[2:-2], q.step_length_factor * want - q.step_length_offset_m, rtol=1e-12
    )
    tiny = step_lengths(t, disp * 0.001, ic_t, ic_side, 0.9).length_m
    assert np.all(tiny[np.isfinite(tiny)] == MIN_STEP_LENGTH_M)


def test_unusable_steps_get_no_length():
    t, acc, ic_t, ic_side = _walk()
    disp = vertical_displacement_m(acc, RATE_HZ)
    ic_side = ic_side.copy()
    ic_side[5] = "unknown"
    ic_t = ic_t.copy()
    ic_t[10:] += 3.0  # a pause: a 3.55 s step
    steps = step_lengths(t, disp, ic_t[ic_t < 27], ic_side[ic_t < 27], 0.9)
    assert np.isnan(steps.length_m[4]) and np.isnan(steps.length_m[9])
    assert np.isfinite(steps.length_m[[0, 1, 2, 3, 6, 7, 8, 10]]).all()
    empty = step_lengths(t, disp, ic_t[:1], ic_side[:1], 0.9)
    assert empty.length_m.size == 0


def test_leg_length_rules():
    assert leg_length_m(0.92) == 0.92
    assert leg_length_m(None, 1.80) == pytest.approx(LEG_LENGTH_RATIO * 1.80)
    assert leg_length_m() == pytest.approx(LEG_LENGTH_RATIO * DEFAULT_HEIGHT_M)
    with pytest.raises(ValueError, match="leg length"):
        leg_length_m(2.0)
    with pytest.raises(ValueError, match="height"):
        leg_length_m(None, 18.0)
    with pytest.raises(ValueError, match="step_length_factor"):
        SpatialParams(step_length_factor=0)


def test_vertical_acceleration_does_not_depend_on_the_mount():
    from scipy.spatial.transform import Rotation

    rng = np.random.default_rng(1)
    a_earth = np.column_stack(
        [rng.normal(size=50), rng.normal(size=50), 9.80665 + rng.normal(size=50)]
    )
    rot = Rotation.random(50, random_state=2)  # sensor -> earth
    a_sensor = rot.inv().apply(a_earth)
    q_xyzw = rot.as_quat()
    q_wxyz = np.column_stack([q_xyzw[:, 3], q_xyzw[:, :3]])
    np.testing.assert_allclose(
        vertical_acc_mps2(a_sensor, q_wxyz), a_earth[:, 2] - 9.80665, atol=1e-12
    )


def test_whole_chain_and_bouts_json():
    t, acc, ic_t, ic_side = _walk(amplitude_m=0.025, step_s=0.5)
    acc3 = np.column_stack([0 * t, 0 * t, acc + 9.80665])
    q = np.tile([1.0, 0.0, 0.0, 0.0], (t.size, 1))
    _, bouts = spatial_gait(
        t, acc3, q, RATE_HZ, ic_t, ic_side, [(2.0, 27.0), (28.0, 29.0)], height_m=1.75
    )
    assert bouts[1] == {
        "start_s": 28.0,
        "end_s": 29.0,
        "n_steps": 0,
        "walking_speed_mps": None,
        "stride_length_m": None,
    }
    b = bouts[0]
    assert b["n_steps"] == ic_t[ic_t <= 27.0].size - 1
    leg = LEG_LENGTH_RATIO * 1.75
    h = 0.05
    p = SpatialParams()
    step = p.step_length_factor * 2 * math.sqrt(2 * leg * h - h * h) - p.step_length_offset_m
    assert b["stride_length_m"] == pytest.approx(2 * step, rel=0.03)
    assert b["walking_speed_mps"] == pytest.approx(step / 0.5, rel=0.03)
    json.dumps(bouts, allow_nan=False)


@pytest.mark.data
def test_walking_speed_and_stride_length_against_indip_held_out():
    """mobgap_lab, K and c chosen on the other person (bench/eval_spatial.py). Measured
    when written: HA_001 held out speed MAE 0.049 m/s bias -0.004, stride MAE 0.073 m;
    MS_001 0.077 m/s, +0.030, 0.096 m (targets: MAE <= 0.10 m/s, |bias| <= 0.05 m/s,
    stride MAE <= 0.10 m)."""
    from bench.eval_spatial import load_trials, lopo

    held = lopo(load_trials(require_data("mobgap_lab")))
    print(
        "\nSPATIAL held out", {k: {m: round(v, 3) for m, v in s.items()} for k, s in held.items()}
    )
    ha, ms = held["HA_001"], held["MS_001"]
    assert ha["found"] >= 7 and ms["found"] == 8
    assert ha["speed_mae"] <= 0.06 and abs(ha["speed_bias"]) <= 0.02
    assert ms["speed_mae"] <= 0.09 and abs(ms["speed_bias"]) <= 0.045
    assert ha["stride_mae"] <= 0.085 and ms["stride_mae"] <= 0.10
