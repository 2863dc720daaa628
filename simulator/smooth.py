"""Smooth piecewise-constant signals with closed-form values and integrals.

The simulator builds every slowly varying quantity (posture angles, speed, cadence,
heading, pelvis height) as a sequence of levels joined by quintic "smootherstep"
ramps. The quintic ramp has continuous first and second derivatives, so the
accelerations and angular velocities derived from these signals are continuous.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]


def smootherstep(x: FloatArray) -> FloatArray:
    """Quintic ramp 0 -> 1 on ``x`` in [0, 1] (clipped outside), C2-continuous."""
    x = np.clip(x, 0.0, 1.0)
    return x * x * x * (x * (6.0 * x - 15.0) + 10.0)


def smootherstep_integral(x: FloatArray) -> FloatArray:
    """Integral of :func:`smootherstep` from 0 to ``x`` (``x`` clipped to [0, 1])."""
    x = np.clip(x, 0.0, 1.0)
    return x**6 - 3.0 * x**5 + 2.5 * x**4


@dataclass
class SmoothSteps:
    """A signal that holds levels and ramps smoothly between them.

    Ramps are added in time order with :meth:`ramp_to` and must not overlap.

    Parameters
    ----------
    initial : float
        Level before the first ramp.
    """

    initial: float = 0.0
    _start_s: list[float] = field(default_factory=list)
    _width_s: list[float] = field(default_factory=list)
    _levels: list[float] = field(default_factory=list)

    @property
    def last_level(self) -> float:
        """Level reached after the last ramp."""
        return self._levels[-1] if self._levels else self.initial

    @property
    def last_end_s(self) -> float:
        """End time of the last ramp (``-inf`` when there is none)."""
        return self._start_s[-1] + self._width_s[-1] if self._start_s else -np.inf

    def ramp_to(self, level: float, start_s: float, width_s: float) -> None:
        """Ramp from the current level to ``level`` over ``[start_s, start_s + width_s]``."""
        if start_s < self.last_end_s - 1e-9:
            raise ValueError(f"ramp at {start_s:.3f} s overlaps the previous one")
        if level == self.last_level:
            return
        self._start_s.append(float(start_s))
        self._width_s.append(max(float(width_s), 1e-6))
        self._levels.append(float(level))

    def _arrays(self) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
        start = np.asarray(self._start_s, dtype=float)
        width = np.asarray(self._width_s, dtype=float)
        levels = np.asarray(self._levels, dtype=float)
        before = np.concatenate(([self.initial], levels[:-1]))
        return start, width, levels, before

    def value(self, t_s: FloatArray) -> FloatArray:
        """The signal at times ``t_s``."""
        t_s = np.asarray(t_s, dtype=float)
        if not self._start_s:
            return np.full(t_s.shape, self.initial)
        start, width, levels, before = self._arrays()
        j = np.searchsorted(start, t_s, side="right") - 1  # index of the last ramp begun
        out = np.full(t_s.shape, self.initial)
        active = j >= 0
        jj = j[active]
        x = (t_s[active] - start[jj]) / width[jj]
        out[active] = before[jj] + (levels[jj] - before[jj]) * smootherstep(x)
        return out

    def integral(self, t_s: FloatArray, t0_s: float = 0.0) -> FloatArray:
        """Integral of the signal from ``t0_s`` to each of ``t_s``."""
        return self._integral_from_minus(np.asarray(t_s, float)) - self._integral_from_minus(
            np.asarray([t0_s], float)
        )

    def _integral_from_minus(self, t_s: FloatArray) -> FloatArray:
        # Integral from the first ramp's start (or 0) with the initial level extended
        # backwards, so differences of it are exact integrals.
        if not self._start_s:
            return self.initial * t_s
        start, width, levels, before = self._arrays()
        delta = levels - before
        # Ramp j contributes nothing before start_j, delta_j * width_j * S(x) while it runs
        # and delta_j * (width_j * S(1) + t - start_j - width_j) afterwards (S = integral
        # of the smootherstep). Finished ramps are summed with cumulative sums.
        j = np.searchsorted(start, t_s, side="right") - 1
        s1 = float(smootherstep_integral(np.ones(1))[0])
        c_delta = np.concatenate(([0.0], np.cumsum(delta)))
        c_const = np.concatenate(([0.0], np.cumsum(delta * (start + width - width * s1))))
        out = self.initial * t_s
        active = j >= 0
        ja = j[active]
        ta = t_s[active]
        out[active] += c_delta[ja] * ta - c_const[ja]  # ramps 0..ja-1, all finished
        x = (ta - start[ja]) / width[ja]
        partial = delta[ja] * width[ja] * smootherstep_integral(x)
        after = np.clip(ta - start[ja] - width[ja], 0.0, None) * delta[ja]
        out[active] += partial + after
        return out
