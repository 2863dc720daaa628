"""Min/max pyramid of per-sample curves for fast zoom and pan (display only, no Qt).

A day at 100 Hz has 8.6 M samples; the screen has ~2,000 pixel columns. The pyramid
keeps, for bins of 8, 32, 128 ... samples, each bin's minimum and maximum (so spikes
survive, like pyqtgraph's "peak" downsampling) and picks, for a visible span, the
coarsest level that still gives about one bin per pixel column. A view change then
costs two binary searches and a slice - independent of the session length.

Gaps: bins never straddle a gap that is visible at their level (longer than half a bin);
a NaN point is put in each such gap, so ``connect="finite"`` draws a break there. Shorter
gaps are bridged at that level (at the raw level every gap is a break).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]


@dataclass(frozen=True)
class Level:
    """One level: ``t`` and one array per curve, NaN rows at the breaks.

    The raw level (``bin_samples == 1``) is the samples themselves, not copied: its
    breaks (``gap_after``, the index of the sample before each gap) are inserted into
    the viewed slice only.
    """

    bin_samples: int
    t: FloatArray
    ys: tuple[FloatArray, ...]
    gap_after: IntArray | None = None


def _with_breaks(
    t: FloatArray, ys: Sequence[FloatArray], after: IntArray, t_break: FloatArray
) -> tuple[FloatArray, tuple[FloatArray, ...]]:
    """Insert a NaN row after each index in ``after`` at time ``t_break``."""
    if not after.size:
        return t, tuple(ys)
    pos = after + 1
    t_out = np.insert(t, pos, t_break)
    return t_out, tuple(np.insert(y, pos, np.nan) for y in ys)


def raw_level(time_s: FloatArray, curves: Sequence[FloatArray], rate_hz: float) -> Level:
    """The per-sample level: the samples, breaking at every gap when viewed."""
    t = np.asarray(time_s, float)
    gap_after = np.flatnonzero(np.diff(t) > 1.5 / rate_hz)
    return Level(1, t, tuple(np.asarray(y, float) for y in curves), gap_after)


class MinMaxPyramid:
    """Levels of min/max-decimated curves sharing one time axis.

    Parameters
    ----------
    time_s : ndarray (N,)
        Strictly increasing sample times.
    curves : sequence of ndarray (N,)
        Per-sample values (NaN allowed).
    rate_hz : float
        Nominal sampling rate (defines which gaps are breaks).
    factor : int
        Bin-size ratio between levels.
    first_bin : int
        Samples per bin of the first decimated level.
    min_bins : int
        Stop when a level has fewer bins than this.
    """

    def __init__(
        self,
        time_s: FloatArray,
        curves: Sequence[FloatArray],
        rate_hz: float,
        *,
        factor: int = 4,
        first_bin: int = 8,
        min_bins: int = 256,
    ) -> None:
        raw = raw_level(time_s, curves, rate_hz)
        t, ys = raw.t, list(raw.ys)
        self.rate_hz = float(rate_hz)
        n = t.size
        assert raw.gap_after is not None
        gap_after = raw.gap_after  # index of the sample before a gap
        gap_len = t[gap_after + 1] - t[gap_after]
        self.levels: list[Level] = [raw]
        # Bin start indices (into the raw samples) of the previous level, and its min/max.
        prev_starts = np.arange(n)
        prev_lo: list[FloatArray] = ys
        prev_hi: list[FloatArray] = ys
        k = first_bin
        while n // k >= min_bins:
            visible = gap_len > 0.5 * k / rate_hz
            breaks = gap_after[visible] + 1  # a bin starts right after each visible gap
            grid = np.arange(0, n, k)
            extra = breaks[breaks % k != 0]
            starts = np.insert(grid, np.searchsorted(grid, extra), extra)  # sorted, unique
            # Starts nest in the previous level's starts (multiples of k, or gap edges
            # that were visible there too), so the previous bins can be merged.
            idx = np.searchsorted(prev_starts, starts)
            lo = [np.fmin.reduceat(p, idx) for p in prev_lo]
            hi = [np.fmax.reduceat(p, idx) for p in prev_hi]
            ends = np.append(starts[1:], n) - 1
            m = starts.size
            tt = np.empty(2 * m)
            tt[0::2], tt[1::2] = t[starts], t[ends]
            out = []
            for a, b in zip(lo, hi, strict=True):
                y = np.empty(2 * m)
                y[0::2], y[1::2] = a, b
                out.append(y)
            # The bin before each visible gap is followed by a NaN row.
            bin_before = np.searchsorted(starts, breaks) - 1
            t_break = 0.5 * (t[breaks - 1] + t[breaks])
            lt, lys = _with_breaks(tt, out, 2 * bin_before + 1, t_break)
            self.levels.append(Level(k, lt, lys))
            prev_starts, prev_lo, prev_hi = starts, lo, hi
            k *= factor

    @classmethod
    def from_levels(cls, levels: list[Level], rate_hz: float) -> MinMaxPyramid:
        """A pyramid from stored levels (the review cache keeps them)."""
        pyramid = cls.__new__(cls)
        pyramid.rate_hz = float(rate_hz)
        pyramid.levels = list(levels)
        return pyramid

    def to_arrays(self) -> dict[str, NDArray[np.float64]]:
        """The levels as named arrays (``pyramid/<bin>/t``, ``pyramid/<bin>/y<i>``)."""
        out = {}
        for lv in self.levels[1:]:  # the raw level is the per-sample data itself
            out[f"pyramid/{lv.bin_samples}/t"] = lv.t
            for i, y in enumerate(lv.ys):
                out[f"pyramid/{lv.bin_samples}/y{i}"] = y
        return out

    @classmethod
    def from_arrays(
        cls,
        arrays: dict[str, NDArray[np.float64]],
        raw: MinMaxPyramid | Level,
        rate_hz: float,
    ) -> MinMaxPyramid:
        """Inverse of :meth:`to_arrays`; ``raw`` is the per-sample level (NaN rows at gaps)."""
        raw_level = raw.levels[0] if isinstance(raw, MinMaxPyramid) else raw
        bins = sorted({int(k.split("/")[1]) for k in arrays if k.startswith("pyramid/")})
        levels = [raw_level]
        for b in bins:
            n_curves = sum(1 for k in arrays if k.startswith(f"pyramid/{b}/y"))
            ys = tuple(arrays[f"pyramid/{b}/y{i}"] for i in range(n_curves))
            levels.append(Level(b, arrays[f"pyramid/{b}/t"], ys))
        return cls.from_levels(levels, rate_hz)

    def view(
        self, x0: float, x1: float, max_points: int
    ) -> tuple[FloatArray, tuple[FloatArray, ...]]:
        """Points to draw for the span ``[x0, x1]`` (at most about ``max_points``).

        The slice reaches one point beyond each edge so lines run off the view.
        """
        span_samples = max(0.0, (x1 - x0) * self.rate_hz)
        level = self.levels[-1]
        for lv in self.levels:
            # Two points per bin (one per sample at the raw level).
            points = span_samples * (1 if lv.bin_samples == 1 else 2 / lv.bin_samples)
            if points <= max_points:
                level = lv
                break
        a = max(0, int(np.searchsorted(level.t, x0, side="left")) - 1)
        b = min(level.t.size, int(np.searchsorted(level.t, x1, side="right")) + 1)
        t, ys = level.t[a:b], tuple(y[a:b] for y in level.ys)
        g = level.gap_after
        if g is not None and g.size:
            inside = g[np.searchsorted(g, a) : np.searchsorted(g, b - 1)]
            if inside.size:
                t_break = 0.5 * (level.t[inside] + level.t[inside + 1])
                t, ys = _with_breaks(t, ys, inside - a, t_break)
        return t, ys
