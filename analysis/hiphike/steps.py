"""Per-step swing measures of the lateral tilt (the gait detector's input)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from analysis.hiphike.params import HipHikeParams
from analysis.hiphike.results import SIDES, FloatArray, StepObliquity


def step_obliquity(
    time_s: FloatArray,
    lateral_tilt_deg: FloatArray,
    gait_activity: NDArray[np.bool_],
    t0_s: float,
    side0: str,
    t1_s: float,
    side1: str,
    params: HipHikeParams,
) -> StepObliquity:
    """Swing elevation and tilt statistics of the step from contact ``t0_s`` to ``t1_s``.

    Alone, the step has no stride to compare with: its elevation and asymmetry are NaN
    (:func:`step_obliquities` uses the step before).

    Parameters
    ----------
    time_s, lateral_tilt_deg : ndarray, shape (N,)
        Samples covering the step (s, deg; + = left side higher). NaN tilts are skipped.
    gait_activity : ndarray of bool, shape (N,)
        Whether each sample is labelled with one of ``params.gait_activities``.
    t0_s, t1_s : float
        Consecutive initial contacts, s.
    side0, side1 : str
        Their sides; the swing side is ``side1`` (the leg that lands at ``t1_s``).
    params : HipHikeParams
        Step limits and swing window.

    Returns
    -------
    StepObliquity
    """
    return step_obliquities(
        time_s,
        lateral_tilt_deg,
        gait_activity,
        np.array([t0_s, t1_s]),
        np.array([side0, side1]),
        params,
    )[0]


def step_obliquities(
    time_s: FloatArray,
    lateral_tilt_deg: FloatArray,
    gait_activity: NDArray[np.bool_],
    ic_time_s: FloatArray,
    ic_side: NDArray[np.str_],
    params: HipHikeParams,
) -> list[StepObliquity]:
    """:func:`step_obliquity` for every pair of consecutive contacts, vectorised.

    Each step's stride is the step and the one before it when that one is valid too.

    Parameters
    ----------
    time_s, lateral_tilt_deg, gait_activity : ndarray, shape (N,)
        As for :func:`step_obliquity`.
    ic_time_s : ndarray, shape (K,)
        Initial contacts in time order, s.
    ic_side : ndarray of str, shape (K,)
        Their sides.
    params : HipHikeParams
        Step limits and swing window.

    Returns
    -------
    list of StepObliquity
        ``K - 1`` steps (contact k to contact k + 1).
    """
    ic_t = np.asarray(ic_time_s, dtype=float)
    sides = np.asarray(ic_side).astype(str)
    if ic_t.size < 2:
        return []
    t0, t1 = ic_t[:-1], ic_t[1:]
    side0, side1 = sides[:-1], sides[1:]
    dur = t1 - t0
    i0, i1 = np.searchsorted(time_s, t0), np.searchsorted(time_s, t1)
    finite = np.isfinite(lateral_tilt_deg)
    lat0 = np.where(finite, lateral_tilt_deg, 0.0)
    c_sum = _cumsum0(lat0, np.float64)
    c_n = _cumsum0(finite, np.int64)
    c_walk = _cumsum0(gait_activity, np.int64)
    total = c_sum[i1] - c_sum[i0]
    count = c_n[i1] - c_n[i0]
    # Extremes per step: consecutive steps tile the time axis, so reduceat over the
    # interleaved boundaries works (a sentinel makes the last boundary a valid index).
    bounds = np.empty(2 * t0.size, dtype=np.intp)
    bounds[0::2], bounds[1::2] = i0, i1
    hi_src = _padded(lateral_tilt_deg, ~finite, -np.inf)
    lo_src = _padded(lateral_tilt_deg, ~finite, np.inf)
    hi = np.maximum.reduceat(hi_src, bounds)[0::2]
    lo = np.minimum.reduceat(lo_src, bounds)[0::2]
    empty = count == 0
    hi[empty], lo[empty] = -np.inf, np.inf
    span = np.maximum(i1 - i0, 1)
    walk_frac = (c_walk[i1] - c_walk[i0]) / span
    known = np.isin(side0, SIDES) & np.isin(side1, SIDES)
    valid = (
        known
        & (side0 != side1)
        & (dur >= params.min_step_s)
        & (dur <= params.max_step_s)
        & (i1 > i0)
        & (walk_frac >= params.gait_min_activity_fraction)
    )
    a = np.searchsorted(time_s, t0 + params.swing_start_fraction * dur)
    b = np.searchsorted(time_s, t0 + params.swing_end_fraction * dur)
    mid_n = c_n[b] - c_n[a]
    with np.errstate(invalid="ignore", divide="ignore"):
        mid_mean = (c_sum[b] - c_sum[a]) / mid_n
    valid &= mid_n > 0
    sign = np.where(side1 == "left", 1.0, -1.0)
    # The stride: this step and the one before, when that one is valid and adjacent.
    paired = np.zeros(t0.size, dtype=bool)
    paired[1:] = valid[:-1] & valid[1:] & (t1[:-1] == t0[1:])
    prev_total = np.concatenate(([0.0], total[:-1]))
    prev_count = np.concatenate(([0], count[:-1]))
    prev_mid = np.concatenate(([math.nan], mid_mean[:-1]))
    with np.errstate(invalid="ignore", divide="ignore"):
        own_mean = total / count
        stride_mean = np.where(
            paired, (total + prev_total) / np.maximum(count + prev_count, 1), own_mean
        )
        asym = np.where(paired, sign * (mid_mean + prev_mid - 2.0 * stride_mean), math.nan)
    # A step without the one before has no stride to compare with (a half stride's own
    # mean is not level: the obliquity swings at the stride frequency).
    elevation = np.where(paired, sign * (mid_mean - stride_mean), math.nan)
    level_elev = np.where(valid, sign * mid_mean, math.nan)
    offset = np.where(paired, sign * stride_mean, math.nan)
    return [
        StepObliquity(
            float(t0[k]),
            float(t1[k]),
            str(side1[k]) if valid[k] else "",
            bool(valid[k]),
            float(elevation[k]),
            float(total[k]),
            int(count[k]),
            float(hi[k]),
            float(lo[k]),
            float(asym[k]),
            float(level_elev[k]),
            float(offset[k]),
        )
        for k in range(t0.size)
    ]


def _cumsum0(x: NDArray[Any], dtype: type[np.generic]) -> NDArray[Any]:
    """``concatenate(([0], cumsum(x)))`` without the copy (whole-session arrays)."""
    out = np.empty(x.size + 1, dtype=dtype)
    out[0] = 0
    np.cumsum(x, out=out[1:])
    return out


def _padded(x: FloatArray, bad: NDArray[np.bool_], fill: float) -> FloatArray:
    """``append(where(bad, fill, x), fill)`` without the copy (whole-session arrays)."""
    out = np.empty(x.size + 1)
    out[:-1] = x
    out[:-1][bad] = fill
    out[-1] = fill
    return out
