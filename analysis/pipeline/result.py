"""The result of a session analysis: :class:`SessionResult` and :class:`TiltPreview`.

The JSON document of DESIGN section 4 is built by :mod:`analysis.pipeline.serialize`;
this module holds the results and what is derived from them (summaries, the per-sample
table, a fast re-detection of hip-hikes with other thresholds).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from analysis.calibration import Calibration
from analysis.hiphike import HipHikeParams, hip_hike_labels
from analysis.hiphike.params import PelvicDropParams
from analysis.labels import ACTIVITY_LABELS, Activity, Codes, Side, activity_names, side_names
from analysis.pipeline.stages import gait_patterns, num
from recordings import Gap

FloatArray = NDArray[np.float64]
FORMAT = "pelviscope.analysis/1"
#: Bump when results change for the same input (invalidates the review window's cache).
ANALYSIS_VERSION = "6"
#: Activity words in code order (:class:`analysis.labels.Activity`).
ACTIVITIES = ACTIVITY_LABELS
Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class TiltPreview:
    """A session's tilt, known before its activity, gait and hip-hiking.

    Passed to ``analyze(..., on_tilt=...)`` so that a viewer can show the (final) tilt
    curves while the rest is still being analysed. The arrays are those of the result.
    """

    time_s: FloatArray
    anterior_tilt_deg: FloatArray
    lateral_tilt_deg: FloatArray
    calibration: Calibration | None


@dataclass
class SessionResult:
    """Everything pelviscope derives from one session.

    Per-sample arrays have the recording's samples (no interpolation over gaps);
    ``activity`` and ``hip_hike`` hold :class:`~analysis.labels.Activity` and
    :class:`~analysis.labels.Side` codes (int8), words only in :attr:`per_sample`.
    """

    source: str
    meta: dict[str, Any]
    rate_hz: float
    time_s: FloatArray
    quat_wxyz: FloatArray
    anterior_tilt_deg: FloatArray
    lateral_tilt_deg: FloatArray
    activity: Codes
    hip_hike: Codes
    gaps: list[Gap]
    calibration: Calibration | None
    calibration_error: str | None
    segments: list[dict[str, Any]]
    transitions: list[dict[str, Any]]
    steps: list[dict[str, Any]]
    strides: pd.DataFrame
    swings: pd.DataFrame
    bouts: list[dict[str, Any]]
    episodes: list[dict[str, Any]]
    hip_hike_params: HipHikeParams
    notes: list[str] = field(default_factory=list)
    #: Would-be hip-hike flags left out, by reason (``analysis.hiphike``).
    hip_hike_suppressed: dict[str, int] = field(default_factory=dict)
    #: ``{"start_s", "end_s", "angle_deg"}`` per turn, + = left (:mod:`analysis.gait.turns`).
    turns: list[dict[str, float]] = field(default_factory=list)
    #: Excessive pelvic drop episodes (``PelvicDropEpisode.to_dict()``), in time order.
    pelvic_drops: list[dict[str, Any]] = field(default_factory=list)
    drop_params: PelvicDropParams = field(default_factory=PelvicDropParams)
    #: Gait-cycle curves per side (``analysis.gait.cycle.cycles_json``), None without strides.
    cycles: dict[str, Any] | None = None
    #: Marked guided tests and exercises: ``{"tests": [...], "exercises": [...]}``.
    clinical: dict[str, list[dict[str, Any]]] = field(
        default_factory=lambda: {"tests": [], "exercises": []}
    )
    _ic_time_s: FloatArray = field(default_factory=lambda: np.empty(0))
    _ic_side: NDArray[np.str_] = field(default_factory=lambda: np.empty(0, dtype="<U7"))

    @property
    def duration_s(self) -> float:
        """First to last sample."""
        return float(self.time_s[-1] - self.time_s[0]) if self.time_s.size else 0.0

    @property
    def per_sample(self) -> pd.DataFrame:
        """The per-sample table of DESIGN section 3."""
        return pd.DataFrame(
            {
                "time_s": self.time_s,
                "anterior_tilt_deg": self.anterior_tilt_deg,
                "lateral_tilt_deg": self.lateral_tilt_deg,
                "activity": activity_names(self.activity),
                "hip_hike": side_names(self.hip_hike),
            }
        )

    def gait_summary(self) -> dict[str, Any]:
        """The ``gait`` object of DESIGN section 4 (plus bout details)."""
        s = self.strides
        weighed = [(b["cadence_spm"], b["n_steps"]) for b in self.bouts]
        weighed = [(c, n) for c, n in weighed if c is not None and np.isfinite(c) and n > 0]
        cadence = (
            float(np.average([c for c, _ in weighed], weights=[n for _, n in weighed]))
            if weighed
            else float("nan")
        )
        return {
            "cadence_spm": num(cadence),
            "walking_speed_mps": _weighted(self.bouts, "walking_speed_mps"),
            "stride_length_m": _weighted(self.bouts, "stride_length_m"),
            # Complete strides (two steps each); the stride table has one per contact.
            "strides": sum(max(0, (b["n_steps"] - 1) // 2) for b in self.bouts),
            "obliquity_rom_deg": num(s["obliquity_rom_deg"].median()) if len(s) else None,
            "anterior_tilt_rom_deg": num(s["anterior_tilt_rom_deg"].median()) if len(s) else None,
            "steps": len(self.steps),
            "bouts": self.bouts,
            "left_swing_elevation_deg": self._swing_median("left"),
            "right_swing_elevation_deg": self._swing_median("right"),
            "cycles": self.cycles,
        }

    def _swing_median(self, side: str) -> float | None:
        v = self.swings.loc[self.swings["swing_side"] == side, "elevation_deg"]
        return num(float(v.median())) if len(v) else None

    def summary(self) -> dict[str, Any]:
        """Per-activity duration, tilt mean and SD, and share of time hip-hiking."""
        out: dict[str, Any] = {}
        dt = sample_durations(self.time_s, self.rate_hz)
        hiked = self.hip_hike != Side.NONE
        for act in Activity:
            sel = self.activity == act
            if not sel.any():
                continue
            ant, lat = self.anterior_tilt_deg[sel], self.lateral_tilt_deg[sel]
            duration = float(dt[sel].sum())
            out[act.label] = {
                "duration_s": duration,
                "anterior_tilt_deg": _stats(ant),
                "lateral_tilt_deg": _stats(lat),
                "hip_hike_pct": float(100 * dt[sel & hiked].sum() / duration),
            }
        return out

    def to_json(self) -> dict[str, Any]:
        """The ``analyze --json`` document (DESIGN section 4).

        Every number in it is finite (a value that cannot be computed is None) and a
        plain Python type: ``json.dumps(doc, allow_nan=False)`` always works.
        """
        from analysis.pipeline.serialize import to_json

        return to_json(self)

    def redetect(self, params: HipHikeParams) -> SessionResult:
        """Re-run only the hip-hike detection with new thresholds (fast)."""
        return self.redetect_patterns(params, self.drop_params)

    def redetect_patterns(
        self, params: HipHikeParams, drop_params: PelvicDropParams
    ) -> SessionResult:
        """Re-run the hip-hike and pelvic-drop detection with new thresholds (fast)."""
        g = gait_patterns(
            self.time_s,
            self.lateral_tilt_deg,
            self.activity,
            self._ic_time_s,
            self._ic_side,
            params,
            drop_params,
            self.turns,
        )
        return _replace(
            self,
            episodes=[e.to_dict() for e in g.episodes],
            hip_hike=hip_hike_labels(self.time_s, g.episodes),
            hip_hike_params=params,
            swings=g.swings,
            hip_hike_suppressed=g.suppressed,
            pelvic_drops=[d.to_dict() for d in g.drops],
            drop_params=drop_params,
        )


def _replace(result: SessionResult, **changes: Any) -> SessionResult:
    return replace(result, **changes)


def _weighted(bouts: list[dict[str, Any]], key: str) -> float | None:
    """``key`` over the bouts that have it, weighted by their steps (None if none has)."""
    pairs = [(b.get(key), b["n_steps"]) for b in bouts]
    pairs = [(v, n) for v, n in pairs if v is not None and np.isfinite(v) and n > 0]
    if not pairs:
        return None
    return num(float(np.average([v for v, _ in pairs], weights=[n for _, n in pairs])))


def _stats(x: FloatArray) -> dict[str, float | None]:
    x = x[np.isfinite(x)]
    if not x.size:
        return {"mean": None, "sd": None}
    return {"mean": float(x.mean()), "sd": float(x.std())}


def sample_durations(time_s: FloatArray, rate_hz: float) -> FloatArray:
    """Time each sample stands for; samples next to a gap count one nominal period."""
    dt = np.diff(time_s, append=time_s[-1] + 1 / rate_hz) if time_s.size else np.empty(0)
    return np.minimum(dt, 1.5 / rate_hz)
