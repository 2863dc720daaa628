"""The input of every clinical test and exercise, and the shape of their results.

All analyses take a :class:`Signals` - calibrated pelvic angles plus the accelerometer and
gyroscope in the pelvis frame - of the span of one test (the samples since the
instruction "go", live; the span between two markers, offline) and return a
:class:`Outcome`: still waiting for the movement, running (with feedback values), a
result, or a request to repeat with the reason. A live screen calls the same function on
the samples so far after every chunk; a recording is analysed by calling it once.
"""

from __future__ import annotations

import enum
import itertools
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.signal import butter, sosfiltfilt

from analysis.motion import GRAVITY_MPS2

FloatArray = NDArray[np.float64]


class State(enum.Enum):
    """Where a test or exercise stands."""

    WAITING = "waiting"  # the movement has not started yet
    RUNNING = "running"
    DONE = "done"  # a valid result
    REPEAT = "repeat"  # invalid execution: no result, a reason


@dataclass(frozen=True)
class Outcome:
    """What an analysis says about the samples given.

    Attributes
    ----------
    kind : str
        Test or exercise name (``"standing"``, ``"sls"``, ``"sts"``, ``"walk"``,
        ``"tilt_control"``, ``"level_balance"``, ``"sts_no_shift"``, ``"level_walking"``).
    state : State
        Waiting, running, done or repeat.
    message : str
        One plain-language line for the patient (instruction, feedback or reason).
    result : dict
        JSON-ready measures (only when ``state`` is DONE; empty otherwise, never a
        made-up value for an invalid execution).
    feedback : dict
        Live values for the screen (e.g. ``{"drop_deg": 3.1, "elapsed_s": 12.0}``).
    side : str or None
        ``"left"``/``"right"`` for one-sided tests.
    """

    kind: str
    state: State
    message: str = ""
    result: dict[str, Any] = field(default_factory=dict)
    feedback: dict[str, Any] = field(default_factory=dict)
    side: str | None = None

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict (the ``tests`` / ``exercises`` entries of analyze --json)."""
        doc: dict[str, Any] = {"kind": self.kind, "valid": self.state is State.DONE}
        if self.side is not None:
            doc["side"] = self.side
        if self.state is State.DONE:
            doc.update(clean(self.result))
        else:
            doc["repeat_reason"] = (
                self.message if self.state is State.REPEAT else "not finished: " + self.message
            )
        return doc


def clean(value: Any) -> Any:
    """Replace NaN/inf by None and numpy scalars by Python ones, recursively."""
    if isinstance(value, dict):
        return {k: clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


@dataclass(frozen=True)
class Signals:
    """Calibrated samples of one test span.

    Attributes
    ----------
    time_s : ndarray (N,)
        Sample times, s, increasing.
    anterior_tilt_deg, lateral_tilt_deg : ndarray (N,)
        Pelvic angles (DESIGN section 2) relative to the calibration's neutral.
    acc_p_mps2 : ndarray (N, 3)
        Specific force in the pelvis frame (x anterior, y left, z up).
    gyr_p_rps : ndarray (N, 3) or None
        Angular rate in the pelvis frame.
    rate_hz : float
        Nominal sampling rate.
    """

    time_s: FloatArray
    anterior_tilt_deg: FloatArray
    lateral_tilt_deg: FloatArray
    acc_p_mps2: FloatArray
    gyr_p_rps: FloatArray | None
    rate_hz: float

    def __post_init__(self) -> None:
        n = self.time_s.shape[0]
        if self.anterior_tilt_deg.shape != (n,) or self.lateral_tilt_deg.shape != (n,):
            raise ValueError("the tilt arrays must have one value per sample")
        if self.acc_p_mps2.shape != (n, 3):
            raise ValueError("acc_p_mps2 must have shape (N, 3)")
        if self.gyr_p_rps is not None and self.gyr_p_rps.shape != (n, 3):
            raise ValueError("gyr_p_rps must have shape (N, 3)")
        if not self.rate_hz > 0:
            raise ValueError(f"rate_hz must be positive, got {self.rate_hz}")

    @property
    def n(self) -> int:
        """Number of samples."""
        return int(self.time_s.shape[0])

    @property
    def duration_s(self) -> float:
        """Time from the first to the last sample (0 when empty)."""
        return float(self.time_s[-1] - self.time_s[0]) if self.n else 0.0

    def window(self, start_s: float, end_s: float) -> Signals:
        """The samples with ``start_s <= time_s < end_s``."""
        a, b = np.searchsorted(self.time_s, [start_s, end_s])
        return Signals(
            self.time_s[a:b], self.anterior_tilt_deg[a:b], self.lateral_tilt_deg[a:b],
            self.acc_p_mps2[a:b], None if self.gyr_p_rps is None else self.gyr_p_rps[a:b],
            self.rate_hz,
        )

    def up_p(self) -> FloatArray:
        """Unit up vector in the pelvis frame from the two tilts, (N, 3)."""
        th, ph = np.radians(self.anterior_tilt_deg), np.radians(self.lateral_tilt_deg)
        return np.stack([-np.cos(ph) * np.sin(th), np.sin(ph), np.cos(ph) * np.cos(th)], axis=1)

    def linear_acc_p_mps2(self) -> FloatArray:
        """Acceleration without gravity in the pelvis frame, (N, 3)."""
        return self.acc_p_mps2 - GRAVITY_MPS2 * self.up_p()


def lowpass(x: FloatArray, rate_hz: float, cutoff_hz: float) -> FloatArray:
    """Zero-phase 2nd-order Butterworth low-pass (short inputs returned unchanged)."""
    if x.shape[0] < 16 or cutoff_hz >= rate_hz / 2:
        return np.asarray(x, dtype=float)
    sos = butter(2, cutoff_hz, fs=rate_hz, output="sos")
    return np.asarray(sosfiltfilt(sos, x, axis=0, padlen=min(x.shape[0] - 1, 30)))


def runs(mask: NDArray[np.bool_]) -> list[tuple[int, int]]:
    """``[start, stop)`` index pairs of the True runs of ``mask``."""
    edges = np.diff(np.concatenate(([0], mask.astype(np.int8), [0])))
    return list(zip(np.flatnonzero(edges == 1).tolist(), np.flatnonzero(edges == -1).tolist(),
                    strict=True))


def bridge(mask: NDArray[np.bool_], max_gap: int) -> NDArray[np.bool_]:
    """``mask`` with False gaps of at most ``max_gap`` samples between True runs filled."""
    out = mask.copy()
    r = runs(mask)
    for (_, b), (c, _) in itertools.pairwise(r):
        if c - b <= max_gap:
            out[b:c] = True
    return out


def side_word(side: str) -> str:
    """``"left"`` -> ``"LEFT"`` for instructions."""
    return side.upper()


def other(side: str) -> str:
    """The other side."""
    return "left" if side == "right" else "right"
