"""Incremental min/max thinning of a growing signal for scrolling plots (no Qt).

A scrolling plot shows a few hundred pixels of a window that holds thousands of samples.
:class:`MinMaxTrace` keeps, for consecutive bins of ``samples_per_bin`` samples, the
bin's minimum and maximum as two points ``(t_first, min), (t_last, max)`` - one pair per
two pixels is faithful for these signals. Bins are fixed to the samples (not to the
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

    def _slot(self, i: int) -> tuple[FloatArray, FloatArray]:
        j = i % self.capacity
        return self._x[j], self._y[j]

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

    def _extend_run(self, t: FloatArray, y: FloatArray) -> None:
        k = self.samples_per_bin
        i = 0
        if self._open_n:  # complete the open bin first
            m = min(k - self._open_n, t.size)
            (x0, _), (lo, hi) = self._slot(self.closed)
            part = y[:m]
            lo = np.fmin(lo, np.fmin.reduce(part))
            hi = np.fmax(hi, np.fmax.reduce(part))
            self._set_slot(self.closed, x0, float(t[m - 1]), lo, hi)
            self._open_n += m
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
            v = np.stack([np.fmin.reduce(yy, axis=1), np.fmax.reduce(yy, axis=1)], axis=1)
            self._write(self.closed, x, v)
            self.closed += full
            i += full * k
        if i < t.size:  # a new open bin
            part = y[i:]
            self._set_slot(self.closed, float(t[i]), float(t[-1]),
                           float(np.fmin.reduce(part)), float(np.fmax.reduce(part)))
            self._open_n = t.size - i
        self._last_t = float(t[-1])

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
