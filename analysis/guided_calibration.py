"""Guided calibration for the live app: "stand still", then "walk" (or "bend forward").

A small state machine fed with the same chunks as the live orientation filter. It
tells the user what to do, shows progress and a quality score, and fails with a clear
reason (moved while standing, too few steps, ambiguous direction, no bend).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from analysis import quaternion as quat
from analysis.calibration import (
    Calibration,
    CalibrationError,
    CalibrationQuality,
    anterior_from_bend,
    anterior_from_gait,
    rotation_from_up_and_anterior,
    standing_quality,
)
from analysis.motion import still_mask, walking_mask

FloatArray = NDArray[np.float64]
Phase = Literal["stand", "walk", "bend", "done", "failed"]

INSTRUCTIONS = {
    "stand": "Stand still, upright and relaxed, feet hip-width apart.",
    "walk": "Walk straight ahead at your normal pace for about 10 steps.",
    "bend": "Bend forward slowly at the hips, then stand up straight again.",
    "done": "Calibration done.",
    "failed": "Calibration failed.",
}


@dataclass(frozen=True, kw_only=True)
class GuidedParams:
    """Durations and limits of the guided calibration.

    Attributes
    ----------
    stand_s : float
        Quiet standing needed.
    walk_s : float
        Walking needed (about 8-10 steps).
    bend_deg : float
        Minimum forward bend.
    timeout_s : float
        Time allowed for each phase before it fails.
    min_direction_confidence : float
        Agreement of the walking direction estimates needed (0-1).
    """

    stand_s: float = 5.0
    walk_s: float = 5.0
    bend_deg: float = 25.0
    timeout_s: float = 30.0
    min_direction_confidence: float = 0.6


@dataclass
class GuidedStatus:
    """What the UI shows."""

    phase: Phase
    instruction: str
    progress: float = 0.0
    quality: float | None = None
    message: str = ""
    calibration: Calibration | None = None


@dataclass
class _Buffer:
    acc: list[FloatArray] = field(default_factory=list)
    gyr: list[FloatArray] = field(default_factory=list)
    quat: list[FloatArray] = field(default_factory=list)

    def add(self, acc: FloatArray, gyr: FloatArray | None, q: FloatArray) -> None:
        self.acc.append(acc)
        self.quat.append(q)
        if gyr is not None:
            self.gyr.append(gyr)

    def keep_from(self, start: int) -> None:
        """Drop the first ``start`` samples."""
        acc, gyr, q = self.arrays()
        self.acc, self.quat = [acc[start:]], [q[start:]]
        self.gyr = [] if gyr is None else [gyr[start:]]

    def arrays(self) -> tuple[FloatArray, FloatArray | None, FloatArray]:
        acc = np.concatenate(self.acc) if self.acc else np.empty((0, 3))
        gyr = np.concatenate(self.gyr) if self.gyr else None
        q = np.concatenate(self.quat) if self.quat else np.empty((0, 4))
        return acc, gyr, q


class GuidedCalibration:
    """Stand still, then walk (``mode="walk"``) or bend forward (``mode="bend"``).

    Parameters
    ----------
    rate_hz : float
        Sampling rate.
    mode : {"walk", "bend"}
        How the anterior direction is found.
    params : GuidedParams, optional
        Durations and limits.
    """

    def __init__(
        self,
        rate_hz: float,
        *,
        mode: Literal["walk", "bend"] = "walk",
        params: GuidedParams | None = None,
    ) -> None:
        self.rate_hz = float(rate_hz)
        self.mode = mode
        self.params = params or GuidedParams()
        self.status = GuidedStatus("stand", INSTRUCTIONS["stand"])
        self._buf = _Buffer()
        self._phase_n = 0
        self._up_neutral: FloatArray | None = None
        self._stand_quality: tuple[float, float | None] = (0.0, None)

    def update(
        self, acc_mps2: FloatArray, gyr_rps: FloatArray | None, quat_wxyz: FloatArray
    ) -> GuidedStatus:
        """Feed a chunk (sensor signals and their orientation); return the new status."""
        if self.status.phase in ("done", "failed") or len(acc_mps2) == 0:
            return self.status
        self._buf.add(
            np.asarray(acc_mps2, float),
            None if gyr_rps is None else np.asarray(gyr_rps, float),
            np.asarray(quat_wxyz, float),
        )
        self._phase_n += len(acc_mps2)
        elapsed_s = self._phase_n / self.rate_hz
        if self.status.phase == "stand":
            self._update_stand(elapsed_s)
        elif self.status.phase == "walk":
            self._update_walk(elapsed_s)
        else:
            self._update_bend(elapsed_s)
        return self.status

    def _next(self, phase: Phase, message: str = "") -> None:
        self.status = GuidedStatus(phase, INSTRUCTIONS[phase], message=message)
        self._buf = _Buffer()
        self._phase_n = 0

    def _fail(self, reason: str) -> None:
        self.status = GuidedStatus("failed", INSTRUCTIONS["failed"], message=reason)

    def _update_stand(self, elapsed_s: float) -> None:
        p = self.params
        acc, gyr, _ = self._buf.arrays()
        still = still_mask(acc, gyr, self.rate_hz, window_s=0.5)
        moving = np.nonzero(~still)[0]
        if moving.size:
            # Only what follows the last movement counts: the still time starts again.
            self._buf.keep_from(int(moving[-1]) + 1)
            self.status.message = "You moved - stand still." if elapsed_s > 1.0 else ""
            acc, gyr, _ = self._buf.arrays()
        still_s = len(acc) / self.rate_hz
        self.status.progress = min(1.0, still_s / p.stand_s)
        if still_s >= p.stand_s:
            up, acc_std, gyr_dps = standing_quality(
                acc, None if gyr is None else self._buf.arrays()[1]
            )
            self._up_neutral = up
            self._stand_quality = (acc_std, gyr_dps)
            self._next(self.mode)
        elif elapsed_s > p.timeout_s:
            self._fail("moved during the still phase: stand still for 5 s")

    def _update_walk(self, elapsed_s: float) -> None:
        p = self.params
        acc, _, q = self._buf.arrays()
        walking = walking_mask(acc, self.rate_hz)
        walk_s = float(walking.sum() / self.rate_hz)
        self.status.progress = min(1.0, walk_s / p.walk_s)
        if walk_s >= p.walk_s:
            assert self._up_neutral is not None
            try:
                anterior, confidence, residual = anterior_from_gait(acc, q, self.rate_hz, walking)
            except CalibrationError as exc:
                self._fail(str(exc))
                return
            if confidence < p.min_direction_confidence:
                self._fail(
                    f"ambiguous direction (confidence {confidence:.2f}): walk straight ahead, "
                    "not on the spot or in a circle"
                )
                return
            self._finish("standing+walking", anterior, confidence, residual, walk_s)
        elif elapsed_s > p.timeout_s:
            self._fail(
                f"too few steps: {walk_s:.1f} s of walking in {elapsed_s:.0f} s - "
                "walk about 10 steps"
            )

    def _update_bend(self, elapsed_s: float) -> None:
        p = self.params
        assert self._up_neutral is not None
        _, _, q = self._buf.arrays()
        up = quat.up_in_sensor(q)
        angle = np.degrees(np.arccos(np.clip(up @ self._up_neutral, -1.0, 1.0)))
        i_max = int(np.argmax(angle))
        self.status.progress = min(1.0, float(angle[i_max]) / p.bend_deg)
        returned = angle[i_max] >= p.bend_deg and angle[-1] < 10.0
        if returned:
            anterior = anterior_from_bend(self._up_neutral, up[i_max])
            self._finish("standing+bend", anterior, 1.0, 0.0, 0.0)
        elif elapsed_s > p.timeout_s:
            self._fail(
                f"no forward bend of {p.bend_deg:.0f} deg detected (largest {angle[i_max]:.0f} deg)"
            )

    def _finish(
        self, method: str, anterior: FloatArray, confidence: float, residual: float, walk_s: float
    ) -> None:
        assert self._up_neutral is not None
        acc_std, gyr_dps = self._stand_quality
        quality = CalibrationQuality(
            standing_s=self.params.stand_s,
            walking_s=walk_s,
            stillness_acc_std_mps2=acc_std,
            stillness_gyr_dps=gyr_dps,
            direction_confidence=confidence,
            residual_deg=residual,
        )
        cal = Calibration(
            rotation_from_up_and_anterior(self._up_neutral, anterior), method, quality
        )
        stillness_score = float(np.clip(1.0 - (acc_std - 0.03) / 0.12, 0.0, 1.0))
        score = min(stillness_score, confidence)
        self.status = GuidedStatus(
            "done", INSTRUCTIONS["done"], 1.0, score, f"quality {score:.0%}", cal
        )
