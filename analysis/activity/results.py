"""What the activity analysis returns: :class:`ActivityResult`, :class:`TransitionEvent`."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from analysis.activity.features import FrameFeatures
from analysis.labels import Codes

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]


@dataclass(frozen=True)
class TransitionEvent:
    """A detected posture change.

    Attributes
    ----------
    kind : str
        ``"sit_to_stand"``, ``"stand_to_sit"``, ``"lie_down"`` or ``"get_up"``.
    time_s : float
        Start of the movement (leaving the first posture level), session time.
    duration_s : float
        Until the second posture level is reached.
    lean_deg : float or None
        Peak forward lean above the higher of the two levels (sit/stand only;
        None when it could not be measured: uncalibrated or lying).
    """

    kind: str
    time_s: float
    duration_s: float
    lean_deg: float | None = None


@dataclass
class ActivityResult:
    """Output of :func:`classify_activity`.

    Attributes
    ----------
    labels : ndarray of int8 (N,)
        An :class:`~analysis.labels.Activity` code per sample.
    segments : list of (str, float, float)
        ``(activity, start_s, end_s)`` runs of equal labels; ``end_s`` is the start of the
        next segment (or one sample after the last).
    transitions : list of TransitionEvent
        Posture changes in time order.
    notes : list of str
        Plain-language remarks (fallbacks, reliability).
    frame_labels : ndarray of int (F,)
        Decoded state per frame (index into :data:`STATES`), before transitions.
    features : FrameFeatures or None
        The per-frame features (offline only).
    costs : ndarray (F, 5) or None
        The decoder's per-frame costs (offline only).
    """

    labels: Codes
    segments: list[tuple[str, float, float]]
    transitions: list[TransitionEvent]
    notes: list[str] = field(default_factory=list)
    frame_labels: IntArray = field(default_factory=lambda: np.empty(0, np.intp))
    features: FrameFeatures | None = None
    costs: FloatArray | None = None
