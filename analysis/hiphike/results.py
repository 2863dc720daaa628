"""What the hip-hike detector reports: episodes, live updates, per-step measures."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
SIDES = ("left", "right")
KINDS = ("static", "gait")


@dataclass(frozen=True)
class HipHikeEpisode:
    """One hip-hike episode (the keys of DESIGN section 4 ``hip_hike_episodes``, plus two).

    Attributes
    ----------
    side : str
        The raised side, ``"left"`` or ``"right"``.
    kind : str
        ``"static"`` or ``"gait"``.
    activity : str
        Activity during the episode (``"walking"`` for gait episodes).
    start_s, end_s : float
        Span, s. Static: first and last sample beyond the thresholds. Gait: the IC that
        starts the first hiked step and the IC that ends the last one.
    peak_deg, mean_deg : float
        Highest and mean lateral tilt over the span (relative to the calibrated neutral),
        deg, positive = towards the raised side. For gait episodes the mean is the
        sustained obliquity offset across strides.
    confidence : float
        0-1: how far beyond the detector's thresholds the episode went, in size and in
        duration (0.25 = both just at the threshold, 1 = twice the threshold for twice the
        minimum duration or strides). Lower while the person's baseline is not yet known.
    reason : str
        What fired it, in plain words.
    """

    side: str
    kind: str
    activity: str
    start_s: float
    end_s: float
    peak_deg: float
    mean_deg: float
    confidence: float = 1.0
    reason: str = ""

    @property
    def duration_s(self) -> float:
        """``end_s - start_s``, s."""
        return self.end_s - self.start_s

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (DESIGN section 4)."""
        return dataclasses.asdict(self)


class HipHikeUpdate(NamedTuple):
    """What :meth:`HipHikeTracker.update` reports.

    Attributes
    ----------
    closed : list of HipHikeEpisode
        Episodes that ended (final) since the previous update.
    ongoing : list of HipHikeEpisode
        Confirmed episodes still running; ``end_s``, ``peak_deg`` and ``mean_deg`` are
        provisional.
    flag : str
        ``"left"``, ``"right"`` or ``""``: the side raised right now (the most recently
        started ongoing episode).
    """

    closed: list[HipHikeEpisode]
    ongoing: list[HipHikeEpisode]
    flag: str


class StepObliquity(NamedTuple):
    """Lateral tilt over one step, IC to the next contralateral IC.

    Attributes
    ----------
    start_s, end_s : float
        The two contacts, s.
    swing_side : str
        Side of the leg swinging in this step (the one landing at ``end_s``), or ``""``
        when the step is not usable.
    valid : bool
        Alternating known sides, plausible duration, walking, samples present.
    elevation_deg : float
        Mean lateral tilt in mid-swing relative to the mean of the stride ending with this
        step (this step and the valid one before it; NaN without one), positive = swing
        side raised, deg. A constant frontal offset does not change it.
    sum_deg : float
        Sum of the finite lateral-tilt samples in ``[start_s, end_s)`` (+ = left up), deg.
    n_samples : int
        Their number.
    max_deg, min_deg : float
        Their extremes, deg.
    asymmetry_deg : float
        Mean of the two mid-swing tilts of the stride minus the stride mean, signed
        towards this step's swing side, deg (NaN without a valid step before): a side that
        rises in its own swing makes it positive for that side; a constant offset and a
        symmetric gait make it zero.
    level_elevation_deg : float
        Mean lateral tilt in mid-swing relative to the calibrated level (the pre-2026
        measure, kept to count the flags the offset-free measure suppresses), deg.
    offset_deg : float
        Mean tilt over the stride, towards this step's swing side, deg (NaN as above).
    """

    start_s: float
    end_s: float
    swing_side: str
    valid: bool
    elevation_deg: float
    sum_deg: float
    n_samples: int
    max_deg: float
    min_deg: float
    asymmetry_deg: float = math.nan
    level_elevation_deg: float = math.nan
    offset_deg: float = math.nan


@dataclass
class Span:
    """An open candidate episode with running statistics (signed: + = raised side)."""

    side: str
    activity: str
    start_s: float
    end_s: float
    total: float = 0.0
    count: int = 0
    peak: float = -math.inf
    pend_total: float = 0.0
    pend_count: int = 0
    pend_peak: float = -math.inf
    confirmed: bool = False
    strides: int = 0
    misses: int = 0
    #: Sum and count of the detector's own measure (beyond baseline), for the reason.
    score_total: float = 0.0
    score_count: int = 0
    pend_score_total: float = 0.0
    pend_score_count: int = 0
    baseline_deg: float = math.nan
    baseline_known: bool = True

    def commit(self) -> None:
        """Make the pending statistics part of the span (the hike went on)."""
        self.total += self.pend_total
        self.count += self.pend_count
        self.peak = max(self.peak, self.pend_peak)
        self.score_total += self.pend_score_total
        self.score_count += self.pend_score_count
        self.pend_total, self.pend_count, self.pend_peak = 0.0, 0, -math.inf
        self.pend_score_total, self.pend_score_count = 0.0, 0

    @property
    def score(self) -> float:
        """Mean of the detector's measure beyond its baseline over the span, deg."""
        return self.score_total / self.score_count if self.score_count else math.nan

    def episode(self, kind: str, confidence: float, reason: str) -> HipHikeEpisode:
        """The span as an episode."""
        mean = self.total / self.count if self.count else math.nan
        peak = self.peak if self.count else math.nan
        return HipHikeEpisode(
            self.side,
            kind,
            self.activity,
            self.start_s,
            self.end_s,
            peak,
            mean,
            round(confidence, 2),
            reason,
        )


def confidence(size: float, size_threshold: float, length: float, min_length: float) -> float:
    """0.25 at the bare thresholds, 1 at twice both (size and duration/strides)."""
    if not (math.isfinite(size) and size_threshold > 0):
        a = 1.0
    else:
        a = min(max(size / size_threshold, 1.0), 2.0)
    b = min(max(length / min_length, 1.0), 2.0) if min_length > 0 else 2.0
    return a * b / 4.0
