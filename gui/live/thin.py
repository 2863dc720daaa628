"""Incremental min/max thinning of a growing signal for scrolling plots (no Qt).

A scrolling plot shows a few hundred pixels of a window that holds thousands of samples.
:class:`MinMaxTrace` keeps, for consecutive bins of ``samples_per_bin`` samples, the
bin's minimum and maximum as two points at the bin's first and last time, in the order
they occurred (a falling stretch is drawn falling, not as a sawtooth) - one pair per two
pixels is faithful for these signals. Bins are fixed to the samples (not to the
visible window), so new samples only complete the newest bin and add new ones: a redraw
costs O(new samples) instead of re-thinning the whole window, and the drawn shape of old
data does not shimmer as the window scrolls.

The pairs live in a ring stored twice (like :class:`gui.live.ring.RingBuffer`), so the
newest bins are always one contiguous slice that can go to the plot without copying.
"""

from __future__ import annotations

import itertools

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]


class MinMaxTrace:
    """Min/max pairs of consecutive bins of samples, appended to as samples arrive.

    Parameters
    ----------
    samples_per_bin : int
        Samples per bin (``k``); each bin becomes two points.
    capacity : int
        Bins kept (the oldest are dropped).

    Notes
    -----
    A bin holding only NaN becomes a NaN pair (a break in a curve drawn with
    ``connect="finite"``); NaN among finite values is ignored. A gap before a sample
    (``breaks``) closes the open bin early and adds a NaN pair whose two points sit at
    the last time before and the first time after the gap.
    """

    def __init__(self, samples_per_bin: int, capacity: int) -> None:
        if samples_per_bin < 1 or capacity < 2:
            raise ValueError("samples_per_bin must be >= 1 and capacity >= 2")
        self.samples_per_bin = int(samples_per_bin)
        self.capacity = int(capacity)
        self._x = np.full((2 * self.capacity, 2), np.nan)
        self._y = np.full((2 * self.capacity, 2), np.nan)
        #: Closed bins so far (the open bin, if any, is written at slot ``closed``).
        self.closed = 0
        self._open_n = 0
        self._open_t0 = self._open_lo = self._open_hi = np.nan
        self._open_lo_at = self._open_hi_at = 0
        self._last_t = np.nan

    def __len__(self) -> int:
        """Bins held, the open one included."""
        return min(self.closed + (self._open_n > 0), self.capacity)

    def _write(self, first: int, x: FloatArray, y: FloatArray) -> None:
        """Write pairs ``x, y`` (shape (n, 2)) to bins ``first, first + 1, ...``."""
        n = x.shape[0]
        if n > self.capacity:
            x, y, first = x[-self.capacity :], y[-self.capacity :], first + n - self.capacity
            n = self.capacity
        idx = (first + np.arange(n)) % self.capacity
        for arr, v in ((self._x, x), (self._y, y)):
            arr[idx] = v
            arr[idx + self.capacity] = v

    def _set_slot(self, i: int, x0: float, x1: float, y0: float, y1: float) -> None:
        j = i % self.capacity
        for arr, a, b in ((self._x, x0, x1), (self._y, y0, y1)):
            arr[j] = arr[j + self.capacity] = (a, b)

    def extend(self, t: ArrayLike, y: ArrayLike, breaks: ArrayLike | None = None) -> None:
        """Append samples.

        Parameters
        ----------
        t, y : array_like (N,)
            Sample times (increasing) and values.
        breaks : array_like of bool (N,), optional
            True where a gap lies just before the sample (the curve must break there).
        """
        t = np.asarray(t, dtype=float)
        y = np.asarray(y, dtype=float)
        if t.shape != y.shape or t.ndim != 1:
            raise ValueError("t and y must be 1-D arrays of one length")
        if t.size == 0:
            return
        brk = np.zeros(t.size, bool) if breaks is None else np.asarray(breaks, dtype=bool)
        cuts = [0, *(int(i) for i in np.flatnonzero(brk[1:]) + 1), t.size]
        for a, b in itertools.pairwise(cuts):
            if brk[a]:
                self._break(float(t[a]))
            self._extend_run(t[a:b], y[a:b])

    def _break(self, t_next: float) -> None:
        """Close the open bin and add a NaN pair from the last sample to ``t_next``."""
        if self._open_n:
            self.closed += 1
            self._open_n = 0
        if np.isfinite(self._last_t):
            self._set_slot(self.closed, self._last_t, t_next, np.nan, np.nan)
            self.closed += 1

    def _write_open(self, t_last: float) -> None:
        lo_first = self._open_lo_at <= self._open_hi_at
        a, b = (self._open_lo, self._open_hi) if lo_first else (self._open_hi, self._open_lo)
        self._set_slot(self.closed, self._open_t0, t_last, a, b)

    def _extend_run(self, t: FloatArray, y: FloatArray) -> None:
        k = self.samples_per_bin
        i = 0
        if self._open_n:  # complete the open bin first
            m = min(k - self._open_n, t.size)
            self._merge_open(y[:m], self._open_n)
            self._open_n += m
            self._write_open(float(t[m - 1]))
            i = m
            if self._open_n == k:
                self.closed += 1
                self._open_n = 0
        rest = t.size - i
        full = rest // k
        if full:
            tt = t[i : i + full * k].reshape(full, k)
            yy = y[i : i + full * k].reshape(full, k)
            x = np.stack([tt[:, 0], tt[:, -1]], axis=1)
            lo, hi = np.fmin.reduce(yy, axis=1), np.fmax.reduce(yy, axis=1)
            nan = np.isnan(yy)
            lo_first = (np.argmin(np.where(nan, np.inf, yy), axis=1)
                        <= np.argmax(np.where(nan, -np.inf, yy), axis=1))
            v = np.where(lo_first[:, None], np.stack([lo, hi], 1), np.stack([hi, lo], 1))
            self._write(self.closed, x, v)
            self.closed += full
            i += full * k
        if i < t.size:  # a new open bin
            self._open_t0 = float(t[i])
            self._open_lo = self._open_hi = np.nan
            self._merge_open(y[i:], 0)
            self._open_n = t.size - i
            self._write_open(float(t[-1]))
        self._last_t = float(t[-1])

    def _merge_open(self, part: FloatArray, offset: int) -> None:
        """Fold samples ``part`` (at ``offset`` in the open bin) into its min and max."""
        finite = np.isfinite(part)
        if not finite.any():
            return
        j_lo = int(np.argmin(np.where(finite, part, np.inf)))
        j_hi = int(np.argmax(np.where(finite, part, -np.inf)))
        if not part[j_lo] >= self._open_lo:  # also when the bin had no finite value yet
            self._open_lo, self._open_lo_at = float(part[j_lo]), offset + j_lo
        if not part[j_hi] <= self._open_hi:
            self._open_hi, self._open_hi_at = float(part[j_hi]), offset + j_hi

    def since(self, t0: float) -> tuple[FloatArray, FloatArray]:
        """Points of the bins that end at or after ``t0``, oldest first.

        Returns
        -------
        x, y : ndarray (2 * n,)
            Views into the trace (valid until the next :meth:`extend`).
        """
        n = len(self)
        if n == 0:
            return np.empty(0), np.empty(0)
        end = self.closed + (self._open_n > 0)
        start = (end - n) % self.capacity
        x = self._x[start : start + n]
        i = int(np.searchsorted(x[:, 1], t0))
        return x[i:].reshape(-1), self._y[start + i : start + n].reshape(-1)
