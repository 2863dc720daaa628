"""Per-stride pelvis angles: tilt and obliquity ranges, swing-side obliquity.

A stride runs from an initial contact to the next contact of the same foot (two steps
later). Strides start at every contact, so consecutive strides overlap by one step and
alternate their starting foot. In a stride starting with foot A at ``t0``, the other foot B
lands at ``t1`` and A again at ``t2``:

- B swings from B's toe-off (about ``toe_off_fraction`` of the stride after ``t0``) to ``t1``;
- A swings from A's toe-off (about ``toe_off_fraction`` after ``t1``) to ``t2``.

The swing-side obliquity is the mean lateral tilt over the middle ``middle_fraction`` of a
swing interval, minus the stride mean, signed so that positive = the swing side is higher.
In typical gait the pelvis drops on the swing side by a few degrees (negative values); a
hip hike raises it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analysis.gait._signal import FloatArray


@dataclass(frozen=True)
class StrideMetrics:
    """Per-stride pelvis measures, arrays of shape (S,).

    Attributes
    ----------
    start_s, end_s : ndarray
        Stride start and end (contacts of the same foot), s.
    start_side : ndarray of str
        Foot whose contact starts the stride.
    anterior_tilt_rom_deg, obliquity_rom_deg : ndarray
        Range (max - min) within the stride, degrees.
    obliquity_mean_deg : ndarray
        Mean lateral tilt over the stride, degrees (+ = left side higher).
    left_swing_obliquity_deg, right_swing_obliquity_deg : ndarray
        Mean lateral tilt in the middle of that foot's swing relative to the stride mean,
        degrees, positive = the swing side raised. NaN if the interval holds no sample.
    """

    start_s: FloatArray
    end_s: FloatArray
    start_side: np.ndarray
    anterior_tilt_rom_deg: FloatArray
    obliquity_rom_deg: FloatArray
    obliquity_mean_deg: FloatArray
    left_swing_obliquity_deg: FloatArray
    right_swing_obliquity_deg: FloatArray


def pelvis_stride_metrics(
    time_s: FloatArray,
    anterior_tilt_deg: FloatArray,
    lateral_tilt_deg: FloatArray,
    ic_time_s: FloatArray,
    ic_side: np.ndarray,
    *,
    ic_bout: np.ndarray | None = None,
    max_stride_s: float = 3.0,
    toe_off_fraction: float = 0.1,
    middle_fraction: float = 0.5,
) -> StrideMetrics:
    """Per-stride anterior-tilt ROM, obliquity ROM, mean and swing-side obliquity.

    Parameters
    ----------
    time_s : ndarray, shape (N,)
        Sample times, s, increasing.
    anterior_tilt_deg, lateral_tilt_deg : ndarray, shape (N,)
        Pelvic angles of DESIGN section 2, degrees (lateral: + = left side higher).
    ic_time_s : ndarray, shape (K,)
        Initial contacts, s, increasing (e.g. ``GaitResult.ic_time_s``).
    ic_side : ndarray of str, shape (K,)
        "left" / "right"; strides whose three contacts do not alternate L-R-L or R-L-R
        (or contain "unknown") are skipped.
    ic_bout : ndarray of int, shape (K,), optional
        Bout of each contact; strides never span two bouts.
    max_stride_s : float
        Longer strides are skipped (a pause), s.
    toe_off_fraction : float
        Toe-off of a foot after the other foot's contact, as a fraction of the stride
        (about 0.1 in healthy gait: the double-support time).
    middle_fraction : float
        Central share of each swing interval that is averaged (0 < f <= 1).

    Returns
    -------
    StrideMetrics

    Raises
    ------
    ValueError
        On inconsistent shapes or out-of-range fractions.
    """
    t = np.asarray(time_s, dtype=np.float64)
    ant = np.asarray(anterior_tilt_deg, dtype=np.float64)
    lat = np.asarray(lateral_tilt_deg, dtype=np.float64)
    ic = np.asarray(ic_time_s, dtype=np.float64)
    side = np.asarray(ic_side)
    if t.ndim != 1 or ant.shape != t.shape or lat.shape != t.shape:
        raise ValueError(
            "time_s, anterior_tilt_deg and lateral_tilt_deg must be 1-D and of equal length; "
            f"got shapes {t.shape}, {ant.shape}, {lat.shape}."
        )
    if ic.ndim != 1 or side.shape != ic.shape:
        raise ValueError(
            f"ic_time_s and ic_side must be 1-D of equal length; got {ic.shape}, {side.shape}."
        )
    bout = np.zeros(ic.shape, dtype=np.intp) if ic_bout is None else np.asarray(ic_bout)
    if bout.shape != ic.shape:
        raise ValueError(f"ic_bout must have the shape of ic_time_s {ic.shape}; got {bout.shape}.")
    if not 0 <= toe_off_fraction < 0.5:
        raise ValueError(f"toe_off_fraction must be in [0, 0.5); got {toe_off_fraction}.")
    if not 0 < middle_fraction <= 1:
        raise ValueError(f"middle_fraction must be in (0, 1]; got {middle_fraction}.")

    if ic.size < 3:
        empty = np.empty(0)
        return StrideMetrics(
            empty, empty, np.empty(0, dtype=object), empty, empty, empty, empty, empty
        )
    # A stride starts at every contact: contacts i, i+1, i+2 with sides a, b, a.
    # Everything is vectorised over strides with cumulative sums (NaN-propagating, like
    # a plain mean), so day-long sessions with >10,000 strides stay fast.
    a, b, c = side[:-2], side[1:-1], side[2:]
    t0, t1, t2 = ic[:-2], ic[1:-1], ic[2:]
    known = np.isin(a, ("left", "right")) & np.isin(b, ("left", "right"))
    ok = known & (b != a) & (c == a) & (bout[:-2] == bout[2:]) & (t2 - t0 <= max_stride_s)
    j = np.searchsorted(t, ic)
    i0, i2 = j[:-2], j[2:]
    ok &= (i2 - i0) >= 2
    stride = t2 - t0
    lat_means = _RangeMeans(lat)
    mean_obl = lat_means(i0, i2)
    swing_b = _middle_means(t, lat_means, t0 + toe_off_fraction * stride, t1, middle_fraction)
    swing_a = _middle_means(t, lat_means, t1 + toe_off_fraction * stride, t2, middle_fraction)
    a_left = a == "left"
    left_rel = np.where(a_left, swing_a, swing_b)
    right_rel = np.where(a_left, swing_b, swing_a)
    keep = np.nonzero(ok)[0]
    return StrideMetrics(
        start_s=t0[keep],
        end_s=t2[keep],
        start_side=np.array([str(v) for v in a[keep]], dtype=object),
        anterior_tilt_rom_deg=_stride_ptp(ant, j)[keep],
        obliquity_rom_deg=_stride_ptp(lat, j)[keep],
        obliquity_mean_deg=mean_obl[keep],
        left_swing_obliquity_deg=(left_rel - mean_obl)[keep],
        right_swing_obliquity_deg=(-(right_rel - mean_obl))[keep],
    )


class _RangeMeans:
    """Means of ``x[lo:hi]`` for arrays of bounds (cumulative sums computed once).

    NaN for empty ranges or ranges with a NaN inside, like a plain mean.
    """

    def __init__(self, x: FloatArray) -> None:
        nan = np.isnan(x)
        self._sum = np.concatenate(([0.0], np.cumsum(np.where(nan, 0.0, x))))
        self._nan = np.concatenate(([0], np.cumsum(nan)))

    def __call__(self, lo: np.ndarray, hi: np.ndarray) -> FloatArray:
        n = hi - lo
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = (self._sum[hi] - self._sum[lo]) / n
        return np.where((n > 0) & (self._nan[hi] == self._nan[lo]), mean, np.nan)


def _middle_means(
    t: FloatArray, means: _RangeMeans, start: FloatArray, end: FloatArray, frac: float
) -> FloatArray:
    """Mean over the central ``frac`` of each ``[start, end]`` interval."""
    mid, half = 0.5 * (start + end), 0.5 * frac * (end - start)
    lo, hi = np.searchsorted(t, mid - half), np.searchsorted(t, mid + half)
    return np.where(end > start, means(lo, hi), np.nan)


def _stride_ptp(x: FloatArray, j: np.ndarray) -> FloatArray:
    """Peak-to-peak of ``x`` over strides ``[j[i], j[i+2])`` from per-step extremes."""
    ext = np.append(x, np.nan)  # sentinel: reduceat needs indices < len
    step_max = np.maximum.reduceat(ext, j)[:-1]
    step_min = np.minimum.reduceat(ext, j)[:-1]
    empty = j[1:] == j[:-1]
    step_max[empty], step_min[empty] = -np.inf, np.inf
    hi = np.maximum(step_max[:-1], step_max[1:])
    lo = np.minimum(step_min[:-1], step_min[1:])
    return hi - lo
