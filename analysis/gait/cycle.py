"""Gait-cycle curves: pelvic obliquity and anterior tilt over 0-100 % of each stride.

A stride runs from an initial contact (IC) to the next IC of the same foot, through one
IC of the other foot. Each stride's angles are resampled to :data:`N_POINTS` points
(0, 1, ..., 100 % of the stride) by linear interpolation in time, and summarised per side
(the foot whose IC starts the stride) as mean +- SD, per walking bout and per session -
the way clinical gait reports show pelvic kinematics (e.g. Kadaba et al. 1990).

Obliquity is shown for the stride's own side, clinical style: **positive = that side
UP** (the lateral tilt of DESIGN section 2, ``+ = left higher``, times -1 for right
strides), so left and right curves overlay directly. Anterior tilt is as in DESIGN
(``+ = anterior``). Both are relative to the calibrated neutral standing posture.

The normal band (:func:`normal_band`) is a SHAPE: zero-mean over the cycle, because this
sensor's zero is the person's neutral standing, not the anatomical (ASIS/PSIS) plane of
the marker-based studies; a chart centres it on the measured curve's mean.

References
----------
M. P. Kadaba, H. K. Ramakrishnan, M. E. Wootten, "Measurement of lower extremity
kinematics during level walking", J Orthop Res 8:383-392, 1990.
J. Perry and J. M. Burnfield, *Gait Analysis: Normal and Pathological Function*, 2nd ed.,
SLACK, 2010.
D. Robinson, "Use of force platform variables to quantify the effects of chiropractic
manipulation on gait symmetry", J Manipulative Physiol Ther 10:172-176, 1987 (the
symmetry index ``2 (L - R) / (L + R)``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]

#: Points per cycle: 0, 1, ..., 100 % of the stride.
N_POINTS = 101
PERCENT = np.linspace(0.0, 100.0, N_POINTS)
#: Part of the stride that is the stride side's own swing in the symmetry indices
#: (toe-off at ~60 %, Perry & Burnfield; the first and last 5 % of it left out).
SWING_PERCENT = (65.0, 95.0)
_SIDE_SIGN = {"left": 1.0, "right": -1.0}


@dataclass(frozen=True)
class StrideCycles:
    """Every usable stride of a session, resampled to the gait cycle.

    Attributes
    ----------
    side : ndarray of str, shape (S,)
        Foot whose IC starts (and ends) the stride.
    start_s, end_s : ndarray, shape (S,)
        The stride's two ICs of that foot, s.
    step_time_s : ndarray, shape (S,)
        The stride's first step (IC of this foot to the other foot's IC), s.
    obliquity_deg : ndarray, shape (S, 101)
        Lateral tilt with + = the stride side UP, deg (NaN where the tilt was unknown).
    anterior_tilt_deg : ndarray, shape (S, 101)
        Anterior tilt, deg.
    """

    side: NDArray[np.str_]
    start_s: FloatArray
    end_s: FloatArray
    step_time_s: FloatArray
    obliquity_deg: FloatArray
    anterior_tilt_deg: FloatArray

    def __len__(self) -> int:
        return int(self.side.size)

    def select(self, mask: NDArray[np.bool_]) -> StrideCycles:
        """The strides where ``mask`` is true."""
        return StrideCycles(
            self.side[mask],
            self.start_s[mask],
            self.end_s[mask],
            self.step_time_s[mask],
            self.obliquity_deg[mask],
            self.anterior_tilt_deg[mask],
        )

    def last(self, n: int) -> StrideCycles:
        """The last ``n`` strides of each side (the live view: the last 10 per side)."""
        keep = np.zeros(len(self), dtype=bool)
        for side in _SIDE_SIGN:
            idx = np.flatnonzero(self.side == side)
            keep[idx[max(idx.size - n, 0) :]] = True
        return self.select(keep)

    def within(self, start_s: float, end_s: float) -> StrideCycles:
        """The strides lying entirely inside ``[start_s, end_s]``."""
        return self.select((self.start_s >= start_s) & (self.end_s <= end_s))


def stride_cycles(
    time_s: ArrayLike,
    lateral_tilt_deg: ArrayLike,
    anterior_tilt_deg: ArrayLike,
    ic_time_s: ArrayLike,
    ic_side: ArrayLike,
    *,
    min_stride_s: float = 0.5,
    max_stride_s: float = 3.0,
    exclude: Sequence[tuple[float, float]] = (),
) -> StrideCycles:
    """Resample every stride (IC to the next IC of the same foot) to 0-100 %.

    A stride is used when its three ICs alternate sides (left/right), it lasts
    ``min_stride_s``-``max_stride_s`` and lies within the samples. Strides overlapping
    one of ``exclude`` (e.g. turns, ``(start_s, end_s)``) are left out.

    Parameters
    ----------
    time_s : array_like, shape (N,)
        Sample times, s, increasing.
    lateral_tilt_deg, anterior_tilt_deg : array_like, shape (N,)
        Pelvic tilt (DESIGN section 2), deg; NaN = unknown.
    ic_time_s : array_like, shape (K,)
        Initial contacts, s, increasing.
    ic_side : array_like of str, shape (K,)
        Their feet (``"left"``/``"right"``; anything else breaks the strides around it).
    min_stride_s, max_stride_s : float
        Plausible stride time, s (cadences of 40-240 steps/min by default).
    exclude : sequence of (float, float)
        Spans whose strides are left out.

    Returns
    -------
    StrideCycles
    """
    t = np.asarray(time_s, dtype=np.float64)
    lat = np.asarray(lateral_tilt_deg, dtype=np.float64)
    ant = np.asarray(anterior_tilt_deg, dtype=np.float64)
    ic_t = np.asarray(ic_time_s, dtype=np.float64)
    sides = np.asarray(ic_side).astype(str)
    if not (t.shape == lat.shape == ant.shape) or ic_t.shape != sides.shape:
        raise ValueError("time_s and the tilts, and ic_time_s and ic_side, must match in size.")
    if ic_t.size < 3 or t.size < 2:
        return _empty()
    a, m, b = ic_t[:-2], ic_t[1:-1], ic_t[2:]
    sa, sm, sb = sides[:-2], sides[1:-1], sides[2:]
    known = np.isin(sa, ("left", "right")) & np.isin(sm, ("left", "right"))
    ok = known & (sa == sb) & (sa != sm) & (b - a >= min_stride_s) & (b - a <= max_stride_s)
    ok &= (a >= t[0]) & (b <= t[-1])
    for x0, x1 in exclude:
        ok &= ~((a < x1) & (b > x0))
    idx = np.flatnonzero(ok)
    frac = PERCENT / 100.0
    at = a[idx, None] + frac[None, :] * (b - a)[idx, None]  # (S, 101) instants
    sign = np.where(sa[idx] == "left", 1.0, -1.0)
    obl = sign[:, None] * _interp(at, t, lat)
    return StrideCycles(
        sa[idx],
        a[idx],
        b[idx],
        (m - a)[idx],
        obl,
        _interp(at, t, ant),
    )


def _interp(at: FloatArray, t: FloatArray, x: FloatArray) -> FloatArray:
    """``np.interp`` that keeps NaN: a point next to an unknown sample is unknown."""
    flat = at.ravel()
    out = np.interp(flat, t, np.nan_to_num(x))
    bad = ~np.isfinite(x)
    if bad.any():
        j = np.clip(np.searchsorted(t, flat), 1, t.size - 1)
        out[bad[j] | bad[j - 1]] = np.nan
    return out.reshape(at.shape)


def _empty() -> StrideCycles:
    z = np.empty((0, N_POINTS))
    return StrideCycles(np.empty(0, dtype="<U5"), np.empty(0), np.empty(0), np.empty(0), z, z)


# ------------------------------------------------------------------------ summaries


def side_summary(cycles: StrideCycles, side: str) -> dict[str, Any]:
    """Mean +- SD curves of one side's strides (JSON-ready, 101 points each).

    Returns
    -------
    dict
        ``n_strides`` and ``obliquity_mean_deg``, ``obliquity_sd_deg``,
        ``anterior_tilt_mean_deg``, ``anterior_tilt_sd_deg`` (lists of 101 numbers or
        ``None`` where no stride had a value; SD needs two strides).
    """
    sel = cycles.side == side
    out: dict[str, Any] = {"n_strides": int(sel.sum())}
    for name, arr in (
        ("obliquity", cycles.obliquity_deg[sel]),
        ("anterior_tilt", cycles.anterior_tilt_deg[sel]),
    ):
        mean, sd = _mean_sd(arr)
        out[f"{name}_mean_deg"] = _jsonable(mean)
        out[f"{name}_sd_deg"] = _jsonable(sd)
    return out


def _mean_sd(arr: FloatArray) -> tuple[FloatArray, FloatArray]:
    n = np.sum(np.isfinite(arr), axis=0)
    total = np.nansum(arr, axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(n > 0, total / np.maximum(n, 1), np.nan)
        dev = np.nansum((arr - mean) ** 2, axis=0)
        sd = np.where(n > 1, np.sqrt(dev / np.maximum(n - 1, 1)), np.nan)
    return mean, sd


def _jsonable(x: FloatArray, ndigits: int = 2) -> list[float | None]:
    return [round(float(v), ndigits) if math.isfinite(v) else None for v in x]


def _num(x: float, ndigits: int = 2) -> float | None:
    return round(float(x), ndigits) if math.isfinite(x) else None


def symmetry_indices(cycles: StrideCycles) -> dict[str, Any]:
    """Left-versus-right measures of the cycles (JSON-ready).

    Parameters
    ----------
    cycles : StrideCycles
        The strides to compare.

    Returns
    -------
    dict
        ``obliquity_rom_deg`` ``{"left", "right"}``: mean range of the side's obliquity
        over the second half of its stride (the step in which it swings; over a whole
        stride both sides see the same signal and the same range);
        ``swing_obliquity_deg`` ``{"left", "right"}``: mean obliquity of the side in its
        own swing (65-95 % of its stride) relative to neutral standing, + = raised,
        - = dropped (a frontal offset of the neutral adds to one side and takes from the
        other, so the difference is read together with the standing obliquity);
        ``step_time_s`` ``{"left", "right"}``: mean time of the steps that end with
        that foot's contact; each with ``symmetry_index_pct`` =
        ``200 (L - R) / (L + R)`` (Robinson 1987; 0 = symmetric) or, for the swing
        obliquity whose sides sit near zero, ``difference_deg`` = L - R.
    """
    out: dict[str, Any] = {}
    obl = cycles.obliquity_deg
    half = obl[:, N_POINTS // 2 :]  # the other foot's contact (~50 %) to this foot's
    rom = np.fmax.reduce(half, axis=1) - np.fmin.reduce(half, axis=1)  # NaN-skipping
    lo, hi = np.searchsorted(PERCENT, SWING_PERCENT)
    swing = _row_mean(obl[:, lo : hi + 1])
    step_l, step_r = _step_times(cycles)
    for name, per_side in (
        ("obliquity_rom_deg", {s: _nanmean(rom[cycles.side == s]) for s in _SIDE_SIGN}),
        ("swing_obliquity_deg", {s: _nanmean(swing[cycles.side == s]) for s in _SIDE_SIGN}),
        ("step_time_s", {"left": step_l, "right": step_r}),
    ):
        left, right = per_side["left"], per_side["right"]
        entry: dict[str, Any] = {"left": _num(left, 3), "right": _num(right, 3)}
        if name == "swing_obliquity_deg":
            entry["difference_deg"] = _num(left - right)
        else:
            entry["symmetry_index_pct"] = _num(200.0 * (left - right) / (left + right), 1)
        out[name] = entry
    return out


def _row_mean(x: FloatArray) -> FloatArray:
    n = np.sum(np.isfinite(x), axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, np.nansum(x, axis=1) / np.maximum(n, 1), np.nan)


def _nanmean(x: FloatArray) -> float:
    x = x[np.isfinite(x)]
    return float(x.mean()) if x.size else math.nan


def _step_times(cycles: StrideCycles) -> tuple[float, float]:
    """Mean time of the steps ending with the left / right foot's contact, s.

    A stride of foot X holds the step ending with the other foot (its first) and the
    step ending with X (the rest); strides overlap, so each step counts about twice.
    """
    second = cycles.end_s - cycles.start_s - cycles.step_time_s
    is_left = cycles.side == "left"
    left = np.concatenate((second[is_left], cycles.step_time_s[~is_left]))
    right = np.concatenate((second[~is_left], cycles.step_time_s[is_left]))
    return _nanmean(left), _nanmean(right)


def normal_band() -> dict[str, Any]:
    """Zero-mean normal shape of obliquity and anterior tilt over the cycle (JSON-ready).

    A literature SUMMARY, not digitised data: the first harmonic of obliquity (stride
    side up in loading response, peak ~+4 deg at ~20 %, down in its own early swing,
    ~-4 deg at ~70 %; peak-to-peak ~8 deg: Kadaba et al. 1990, Perry & Burnfield 2010)
    and the second harmonic of anterior tilt (two cycles a stride, ~3 deg range, most
    anterior in terminal stance ~45 % and ~95 %: same sources), each +- 1.5 / 1.0 deg
    for the spread between people. Zero-mean because pelviscope's angles are relative to
    neutral standing (not the anatomical pelvis plane): a chart centres the band on the
    measured curve's mean, so only the SHAPE and range are compared.

    Returns
    -------
    dict
        ``source``, ``reference`` (``"zero-mean"``), and for ``obliquity`` and
        ``anterior_tilt`` ``mean_deg`` and ``sd_deg`` (101 numbers each).
    """
    x = PERCENT / 100.0
    obliquity = 4.0 * np.sin(2 * np.pi * (x + 0.05))
    tilt = 1.5 * np.cos(4 * np.pi * (x - 0.45))
    return {
        "source": (
            "shape summarised from Kadaba et al. 1990 (J Orthop Res 8:383) and Perry & "
            "Burnfield 2010: obliquity ~8 deg peak to peak, stride side up at ~20 %, down "
            "at ~70 %; anterior tilt ~3 deg, two cycles per stride"
        ),
        "reference": "zero-mean",
        "obliquity": {"mean_deg": _jsonable(obliquity), "sd_deg": [1.5] * N_POINTS},
        "anterior_tilt": {"mean_deg": _jsonable(tilt), "sd_deg": [1.0] * N_POINTS},
    }


def cycles_json(
    cycles: StrideCycles,
    bouts: Sequence[tuple[float, float]] = (),
    *,
    min_bout_strides: int = 3,
) -> dict[str, Any]:
    """The compact ``gait.cycles`` document (every number finite or ``None``).

    Parameters
    ----------
    cycles : StrideCycles
        The session's strides (:func:`stride_cycles`).
    bouts : sequence of (float, float)
        Walking bouts ``(start_s, end_s)``; a bout with at least ``min_bout_strides``
        strides of a side gets its own mean +- SD curves.

    Returns
    -------
    dict
        ``{"points": 101, "percent": [0..100], "session": {"left": ..., "right": ...},
        "bouts": [{"start_s", "end_s", "left", "right"}], "symmetry": ...,
        "normal": ...}`` with each side as :func:`side_summary`.
    """
    out_bouts = []
    for b0, b1 in bouts:
        sub = cycles.within(b0, b1)
        if max((int(np.sum(sub.side == s)) for s in _SIDE_SIGN), default=0) < min_bout_strides:
            continue
        out_bouts.append(
            {
                "start_s": _num(b0, 3),
                "end_s": _num(b1, 3),
                "left": side_summary(sub, "left"),
                "right": side_summary(sub, "right"),
            }
        )
    return {
        "points": N_POINTS,
        "percent": [float(p) for p in PERCENT],
        "session": {s: side_summary(cycles, s) for s in _SIDE_SIGN},
        "bouts": out_bouts,
        "symmetry": symmetry_indices(cycles),
        "normal": normal_band(),
    }
