"""Synthetic checks of analysis.gait: contacts, sides, bouts, input validation, strides."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.gait import GaitParams, detect_gait, pelvis_stride_metrics

RATE_HZ = 100.0
G = 9.81


def synthetic_walk(
    step_s: float = 0.55, n_steps: int = 20, pad_s: float = 3.0, first_left: bool = True
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """Acc/gyr in P with impacts at known contacts, ML sway towards the landing foot."""
    dur = 2 * pad_s + n_steps * step_s
    t = np.arange(0, dur, 1 / RATE_HZ)
    ic = pad_s + step_s * np.arange(n_steps)
    sides = ["left" if (i % 2 == 0) == first_left else "right" for i in range(n_steps)]
    acc = np.zeros((t.size, 3))
    gyr = np.zeros((t.size, 3))
    acc[:, 2] = G
    walking = (t >= ic[0] - 0.2) & (t <= ic[-1] + 0.2)
    for tc in ic:
        # vertical impact just after contact, forward braking
        acc[:, 2] += 3.0 * np.exp(-0.5 * ((t - tc - 0.05) / 0.04) ** 2)
        acc[:, 0] -= 1.5 * np.exp(-0.5 * ((t - tc - 0.05) / 0.05) ** 2)
    # ML velocity +(left) at left contacts: v = A sin(pi (t - t0) / step), acc = derivative
    sgn = 1.0 if first_left else -1.0
    phase = np.pi * (t - ic[0]) / step_s + np.pi / 2
    acc[:, 1] += walking * sgn * 1.0 * np.cos(phase) * np.pi / step_s * 0.1
    gyr[:, 2] += walking * -sgn * 0.3 * np.sin(phase)
    rng = np.random.default_rng(0)
    acc += rng.normal(0, 0.05, acc.shape)
    return acc, gyr, ic, sides


def test_contacts_sides_and_bout_on_synthetic_walk() -> None:
    acc, gyr, ic, sides = synthetic_walk()
    res = detect_gait(acc, gyr, rate_hz=RATE_HZ)
    assert res.n_steps == ic.size
    assert np.max(np.abs(res.ic_time_s - ic)) <= 0.05
    assert list(res.ic_side) == sides
    assert np.all(res.ic_confidence > 0.9)
    assert len(res.bouts) == 1
    assert res.bouts[0].cadence_spm == pytest.approx(60 / 0.55, rel=0.02)
    assert res.bouts[0].stride_time_cv_pct < 2
    assert res.side_source == "ml_velocity+yaw_rate"


def test_right_first_walk_flips_sides() -> None:
    acc, gyr, _, sides = synthetic_walk(first_left=False)
    res = detect_gait(acc, gyr, rate_hz=RATE_HZ)
    assert list(res.ic_side) == sides


def test_acc_only_warns_and_still_assigns_sides() -> None:
    acc, _, ic, sides = synthetic_walk()
    res = detect_gait(acc, None, rate_hz=RATE_HZ)
    assert res.n_steps == ic.size
    assert list(res.ic_side) == sides
    assert res.side_source == "ml_velocity"
    assert any("no gyroscope" in w for w in res.warnings)


def test_quiet_standing_has_no_steps() -> None:
    rng = np.random.default_rng(1)
    acc = np.tile([0.0, 0.0, G], (3000, 1)) + rng.normal(0, 0.05, (3000, 3))
    res = detect_gait(acc, None, rate_hz=RATE_HZ)
    assert res.n_steps == 0
    assert res.bouts == ()
    assert np.isnan(res.cadence_spm)


def test_time_shift_moves_contacts() -> None:
    acc, gyr, _, _ = synthetic_walk()
    shift = 137
    a = detect_gait(acc, gyr, rate_hz=RATE_HZ)
    b = detect_gait(np.roll(acc, shift, axis=0), np.roll(gyr, shift, axis=0), rate_hz=RATE_HZ)
    np.testing.assert_allclose(b.ic_time_s, a.ic_time_s + shift / RATE_HZ, atol=0.011)
    assert list(a.ic_side) == list(b.ic_side)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"acc_p_mps2": np.zeros((100, 2))}, "shape"),
        ({"gyr_p_rps": np.zeros((99, 3))}, "samples"),
        ({"rate_hz": 0.0}, "rate_hz"),
        ({"acc_p_mps2": np.full((100, 3), np.nan)}, "NaN"),
    ],
)
def test_bad_inputs_raise_readable_errors(kwargs: dict, match: str) -> None:
    args = {"acc_p_mps2": np.zeros((100, 3)), "gyr_p_rps": None, "rate_hz": RATE_HZ}
    args.update(kwargs)
    acc, gyr, rate = args.pop("acc_p_mps2"), args.pop("gyr_p_rps"), args.pop("rate_hz")
    with pytest.raises(ValueError, match=match):
        detect_gait(acc, gyr, rate_hz=rate)


def test_params_are_validated() -> None:
    with pytest.raises(ValueError, match="min_step_s"):
        GaitParams(min_step_s=2.0, max_step_s=1.5)


def test_stride_metrics_swing_side_drop() -> None:
    step_s, n = 0.5, 12
    ic = 1.0 + step_s * np.arange(n)
    sides = np.array(["left" if i % 2 == 0 else "right" for i in range(n)], dtype=object)
    t = np.arange(0, 8, 0.01)
    # left side drops (obliquity < 0) during left swing: left swing ends at left contacts
    # (phase pi/2 at mid left swing) -> obliquity = -3 sin(pi (t - t_left_ic) / step) ...
    obliquity = 2.0 + 3.0 * np.sin(np.pi * (t - ic[0]) / step_s)
    tilt = 10 + 1.5 * np.sin(2 * np.pi * (t - ic[0]) / step_s)
    m = pelvis_stride_metrics(t, tilt, obliquity, ic, sides)
    assert m.start_s.size == n - 2
    np.testing.assert_allclose(m.obliquity_mean_deg, 2.0, atol=0.2)
    np.testing.assert_allclose(m.obliquity_rom_deg, 6.0, atol=0.1)
    np.testing.assert_allclose(m.anterior_tilt_rom_deg, 3.0, atol=0.1)
    # during left swing (between right IC and left IC) sin < 0 -> left lower -> negative
    assert np.all(m.left_swing_obliquity_deg < -1.5)
    # during right swing sin > 0: left higher = right lower -> negative for the right too
    assert np.all(m.right_swing_obliquity_deg < -1.5)


def test_stride_metrics_skips_non_alternating_and_validates() -> None:
    ic = np.array([1.0, 1.5, 2.0, 2.5])
    sides = np.array(["left", "left", "right", "left"], dtype=object)
    t = np.arange(0, 4, 0.01)
    m = pelvis_stride_metrics(t, np.zeros_like(t), np.zeros_like(t), ic, sides)
    assert m.start_s.size == 1
    with pytest.raises(ValueError, match="equal length"):
        pelvis_stride_metrics(t, np.zeros(3), np.zeros_like(t), ic, sides)
