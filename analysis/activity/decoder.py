"""The explicit-duration Viterbi decoder shared by offline and live decoding."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]



class Decoder:
    """Explicit-duration Viterbi: state s is a chain of ``min_frames[s]`` sub-states."""

    def __init__(self, min_frames: tuple[int, ...], switch_cost: float) -> None:
        sizes = np.asarray(min_frames)
        first = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        last = first + sizes - 1
        m = int(sizes.sum())
        self.state_of = np.repeat(np.arange(sizes.size), sizes)
        n_cand = sizes.size  # first sub-state: the other states' last ones (+ self loop)
        cand = np.zeros((m, n_cand), dtype=np.intp)
        cost = np.full((m, n_cand), np.inf)
        for s in range(sizes.size):
            for k in range(sizes[s]):
                j = first[s] + k
                if k == 0:
                    for c, o in enumerate(range(sizes.size)):
                        if o != s:
                            cand[j, c], cost[j, c] = last[o], switch_cost
                    if sizes[s] == 1:
                        cand[j, s], cost[j, s] = j, 0.0
                else:
                    cand[j, 0], cost[j, 0] = j - 1, 0.0
                    if k == sizes[s] - 1:
                        cand[j, 1], cost[j, 1] = j, 0.0
        self.cand, self.cost = cand, cost
        # Start anywhere in a state's last sub-state (the first run has no minimum).
        self.initial = np.full(m, np.inf)
        self.initial[last] = 0.0

    def step(self, v: FloatArray | None, emission: FloatArray) -> tuple[FloatArray, IntArray]:
        """One frame: new path costs (M,) and back-pointers (M,) (sub-state indices)."""
        em = emission[self.state_of]
        if v is None:
            return self.initial + em, np.arange(em.size)
        c = v[self.cand] + self.cost
        k = np.argmin(c, axis=1)
        rows = np.arange(c.shape[0])
        return c[rows, k] + em, self.cand[rows, k]

    def decode(self, costs: FloatArray) -> IntArray:
        """Most likely state sequence (F,) for per-frame costs (F, S)."""
        f = costs.shape[0]
        if f == 0:
            return np.empty(0, np.intp)
        back = np.empty((f, self.state_of.size), dtype=np.int16)
        v, bp = self.step(None, costs[0])
        back[0] = bp
        # The loop body of step() with everything hoisted: this runs once per frame of a
        # whole day (over 100,000 times), so per-call overhead dominates.
        emissions = costs[:, self.state_of]
        cand, cost = self.cand, self.cost
        flat = np.arange(cand.shape[0]) * cand.shape[1]
        for i in range(1, f):
            c = v[cand]
            c += cost
            k = c.argmin(axis=1)
            k += flat
            back[i] = cand.ravel()[k]
            v = c.ravel()[k] + emissions[i]
        path = np.empty(f, np.intp)
        j = int(np.argmin(v))
        for i in range(f - 1, -1, -1):
            path[i] = j
            j = int(back[i, j])
        return np.asarray(self.state_of[path])
