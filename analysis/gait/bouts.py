"""Walking bouts from initial contacts, and per-bout temporal gait measures."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analysis.gait._signal import FloatArray, IntArray


@dataclass(frozen=True)
class GaitBout:
    """One walking bout: consecutive steps with physiological step times.

    Attributes
    ----------
    start_s, end_s : float
        Times of the first and last initial contact, s.
    n_steps : int
        Number of initial contacts in the bout.
    cadence_spm : float
        60 / mean step time, steps per minute; pauses (intervals > ``max_step_s``) excluded.
    stride_time_s : float
        Mean stride time (IC to the next IC of the same foot), s.
    stride_time_cv_pct : float
        Coefficient of variation of the stride times, %, NaN with fewer than 3 strides.
    step_asymmetry_pct : float
        ``100 * |mean left step time - mean right step time| / mean of both``, %, where a
        left step ends with a left contact; NaN when sides are unknown.
    """

    start_s: float
    end_s: float
    n_steps: int
    cadence_spm: float
    stride_time_s: float
    stride_time_cv_pct: float
    step_asymmetry_pct: float


def split_bouts(ic_time_s: FloatArray, *, max_step_s: float, min_steps: int) -> IntArray:
    """Bout number of each contact (-1 when its run of steps is too short).

    Parameters
    ----------
    ic_time_s : ndarray, shape (K,)
        Contact times, s, increasing.
    max_step_s : float
        Longer intervals end a bout.
    min_steps : int
        Minimum contacts per bout.

    Returns
    -------
    ndarray of int, shape (K,)
        0, 1, ... in time order, or -1.
    """
    if ic_time_s.size == 0:
        return np.zeros(0, dtype=np.intp)
    run = np.concatenate([[0], np.cumsum(np.diff(ic_time_s) > max_step_s)])
    counts = np.bincount(run)
    keep = counts >= min_steps
    new_id = np.cumsum(keep) - 1
    return np.asarray(np.where(keep[run], new_id[run], -1), dtype=np.intp)


def bout_measures(ic_time_s: FloatArray, ic_side: np.ndarray, *, max_step_s: float) -> GaitBout:
    """Temporal measures of one bout.

    Parameters
    ----------
    ic_time_s : ndarray, shape (K,)
        Contact times of the bout, s, K >= 2.
    ic_side : ndarray of str, shape (K,)
        "left", "right" or "unknown".
    max_step_s : float
        Intervals longer than this are pauses: not steps for cadence and stride times.

    Returns
    -------
    GaitBout
    """
    t = np.asarray(ic_time_s, dtype=np.float64)
    n = t.size
    if n < 2:
        raise ValueError(f"a bout needs at least 2 initial contacts; got {n}.")
    step = np.diff(t)
    valid = step <= max_step_s
    stride_ok = valid[1:] & valid[:-1]
    stride = (step[1:] + step[:-1])[stride_ok]
    stride_mean = float(stride.mean()) if stride.size else float("nan")
    cv = float(100 * stride.std(ddof=1) / stride_mean) if stride.size >= 3 else float("nan")
    end_side = np.asarray(ic_side)[1:]
    left = step[valid & (end_side == "left")]
    right = step[valid & (end_side == "right")]
    if left.size and right.size:
        ml, mr = left.mean(), right.mean()
        asym = float(100 * abs(ml - mr) / (0.5 * (ml + mr)))
    else:
        asym = float("nan")
    cadence = float(60 / step[valid].mean()) if valid.any() else float("nan")
    return GaitBout(
        start_s=float(t[0]),
        end_s=float(t[-1]),
        n_steps=int(n),
        cadence_spm=cadence,
        stride_time_s=stride_mean,
        stride_time_cv_pct=cv,
        step_asymmetry_pct=asym,
    )
