"""The level reference of the frontal plane: what lateral tilt 0 means (DESIGN section 2).

The calibration makes the neutral standing posture read 0. A person who habitually
stands with one hip hiked would have the hike zeroed away, so the level can come from
elsewhere:

* ``standing`` - the neutral standing posture (lateral tilt as calibrated);
* ``walking`` - the mean obliquity of level walking: the normal obliquity pattern (each
  swing side drops, then the other) is symmetric, so its mean is level;
* ``sitting`` - quiet sitting on a flat firm seat: both ischial tuberosities are loaded
  and the legs carry no weight, so a leg-length difference or tight hip muscles no
  longer tilt the pelvis;
* ``measured`` - a standing obliquity a clinician measured (``--standing-obliquity-deg``,
  + = left side higher).

:func:`level_reference` returns the *frontal offset*: the lateral tilt, as calibrated,
of the level posture. ``lateral_level = lateral - offset``;
:meth:`analysis.calibration.Calibration.with_frontal_offset` folds it into the
calibration. When the posture a reference needs is missing, the standing reference is
used and the note says so (never an error).

:func:`level_findings` words the standing and sitting obliquity for a clinician.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from analysis.labels import Activity
from analysis.motion import spans

FloatArray = NDArray[np.float64]

#: Works the findings rest on (cited in the findings' wording and the README).
SOURCES = (
    "Winter RB, Pinto WC. Pelvic obliquity: its causes and its treatment. Spine "
    "1986;11(3):225-234 (supra-pelvic, pelvic and infra-pelvic causes).",
    "Gurney B. Leg length discrepancy. Gait Posture 2002;15(2):195-206.",
    "Magee DJ. Orthopedic Physical Assessment, 6th ed. Saunders 2014, ch. 9 (lumbar "
    "spine) and 11 (hip): a lateral shift or obliquity that disappears when sitting is "
    "functional (legs), one that remains is structural (spine/pelvis).",
)


class LevelFrom(enum.Enum):
    """What defines lateral tilt 0."""

    STANDING = "standing"
    WALKING = "walking"
    SITTING = "sitting"
    MEASURED = "measured"

    @classmethod
    def parse(cls, word: str) -> LevelFrom:
        """The reference named ``word``; ValueError naming the choices otherwise."""
        try:
            return cls(word)
        except ValueError:
            choices = ", ".join(m.value for m in cls)
            raise ValueError(f"unknown level reference {word!r}: use one of {choices}") from None


@dataclass(frozen=True, kw_only=True)
class LevelParams:
    """How much of a posture a level reference needs.

    Attributes
    ----------
    min_walking_s : float
        Level walking needed for the walking reference (about 10 strides).
    min_sitting_s : float
        Quiet sitting needed for the sitting reference.
    min_span_s : float
        Shortest walking bout or sitting span used.
    """

    min_walking_s: float = 20.0
    min_sitting_s: float = 10.0
    min_span_s: float = 5.0


@dataclass(frozen=True)
class LevelReference:
    """The frontal-plane zero chosen and the habitual obliquities relative to it.

    Attributes
    ----------
    level_from : LevelFrom
        The reference used (``standing`` after a fallback).
    requested : LevelFrom
        The reference asked for.
    frontal_offset_deg : float
        Lateral tilt (as calibrated on neutral standing) of the level posture.
    standing_obliquity_deg, sitting_obliquity_deg, walking_obliquity_deg : float or None
        Median obliquity of each posture relative to the level (+ = left side higher);
        None where the posture is absent.
    note : str
        Why the reference differs from the one asked for ("" when it does not).
    """

    level_from: LevelFrom
    requested: LevelFrom
    frontal_offset_deg: float
    standing_obliquity_deg: float | None = None
    sitting_obliquity_deg: float | None = None
    walking_obliquity_deg: float | None = None
    note: str = ""


def _weighted_median(values: list[float], weights: list[float]) -> float | None:
    if not values:
        return None
    order = np.argsort(values)
    v, w = np.asarray(values)[order], np.asarray(weights)[order]
    cum = np.cumsum(w)
    return float(v[np.searchsorted(cum, 0.5 * cum[-1])])


def posture_obliquity_deg(
    lateral_deg: FloatArray,
    activity: NDArray[np.int8],
    rate_hz: float,
    posture: Activity,
    *,
    min_span_s: float = 5.0,
) -> tuple[float | None, float]:
    """Duration-weighted median of the span means of one posture, and its duration (s).

    A median of spans: a minority of spans held differently (a static hip-hike while
    sitting) does not move it.
    """
    lateral = np.asarray(lateral_deg, float)
    values, weights = [], []
    for a, b in spans(np.asarray(activity) == posture, rate_hz, min_s=min_span_s):
        seg = lateral[a:b]
        seg = seg[np.isfinite(seg)]
        if seg.size:
            values.append(float(seg.mean()))
            weights.append(seg.size / rate_hz)
    return _weighted_median(values, weights), float(sum(weights))


def level_reference(
    lateral_deg: FloatArray,
    activity: NDArray[np.int8],
    rate_hz: float,
    level_from: LevelFrom | str = LevelFrom.STANDING,
    *,
    standing_obliquity_deg: float | None = None,
    stride_obliquity_mean_deg: FloatArray | None = None,
    params: LevelParams | None = None,
) -> LevelReference:
    """Choose the frontal-plane zero of a session.

    Parameters
    ----------
    lateral_deg : ndarray (N,)
        Lateral tilt as calibrated on neutral standing (no offset applied), deg.
    activity : ndarray (N,) of int8
        :class:`~analysis.labels.Activity` codes.
    rate_hz : float
        Sampling rate.
    level_from : LevelFrom or str
        The reference asked for.
    standing_obliquity_deg : float, optional
        Clinician-measured standing obliquity (+ = left higher); required for
        ``measured``.
    stride_obliquity_mean_deg : ndarray, optional
        Per-stride mean obliquity of level walking (the stride table's
        ``obliquity_mean_deg``); preferred to the walking samples when given (whole
        strides: no part-stride bias).
    params : LevelParams, optional
        How much of each posture is needed.

    Returns
    -------
    LevelReference
        Falls back to ``standing`` with a note when the posture is absent.

    Raises
    ------
    ValueError
        ``measured`` without a finite ``standing_obliquity_deg`` within +-30 deg, or an
        unknown reference name.
    """
    p = params or LevelParams()
    requested = LevelFrom.parse(level_from) if isinstance(level_from, str) else level_from
    standing, _ = posture_obliquity_deg(
        lateral_deg, activity, rate_hz, Activity.STANDING, min_span_s=p.min_span_s
    )
    sitting, sitting_s = posture_obliquity_deg(
        lateral_deg, activity, rate_hz, Activity.SITTING, min_span_s=p.min_span_s
    )
    walking, walking_s = posture_obliquity_deg(
        lateral_deg, activity, rate_hz, Activity.WALKING, min_span_s=p.min_span_s
    )
    strides = (
        np.asarray(stride_obliquity_mean_deg, float)
        if stride_obliquity_mean_deg is not None
        else np.empty(0)
    )
    strides = strides[np.isfinite(strides)]
    if strides.size >= 10:
        walking = float(np.median(strides))
    note = ""
    offset = 0.0
    used = requested
    if requested is LevelFrom.MEASURED:
        x = standing_obliquity_deg
        if x is None or not np.isfinite(x) or abs(x) > 30.0:
            raise ValueError(
                "a measured level reference needs the standing obliquity: a finite angle "
                f"within +-30 deg (--standing-obliquity-deg), got {x!r}"
            )
        offset = -float(x)
    elif requested is LevelFrom.WALKING:
        if walking is None or (walking_s < p.min_walking_s and strides.size < 10):
            used = LevelFrom.STANDING
            note = (
                f"level from walking needs >= {p.min_walking_s:g} s of level walking "
                f"(found {walking_s:.0f} s): lateral tilt 0 is neutral standing instead"
            )
        else:
            offset = walking
    elif requested is LevelFrom.SITTING:
        if sitting is None or sitting_s < p.min_sitting_s:
            used = LevelFrom.STANDING
            note = (
                f"level from sitting needs >= {p.min_sitting_s:g} s of quiet sitting "
                f"(found {sitting_s:.0f} s): lateral tilt 0 is neutral standing instead"
            )
        else:
            offset = sitting

    def rel(value: float | None) -> float | None:
        return None if value is None else round(value - offset, 2)

    return LevelReference(
        used,
        requested,
        round(offset, 3),
        standing_obliquity_deg=rel(standing if requested is not LevelFrom.MEASURED else 0.0),
        sitting_obliquity_deg=rel(sitting),
        walking_obliquity_deg=rel(walking),
        note=note,
    )


def _side_words(obliquity_deg: float) -> str:
    side = "left" if obliquity_deg > 0 else "right"
    return f"{abs(obliquity_deg):.1f} deg higher on the {side} (the {side} hip hiked)"


def level_findings(ref: LevelReference, *, min_obliquity_deg: float = 2.0) -> list[str]:
    """Plain-language findings on the habitual frontal-plane posture.

    Parameters
    ----------
    ref : LevelReference
        The session's level reference.
    min_obliquity_deg : float
        A standing obliquity below this is called level (measurement and day-to-day
        variation are about 1-2 deg).

    Returns
    -------
    list of str
        Sentences for the report, the review window and the text summary.
    """
    what = {
        LevelFrom.STANDING: "the neutral standing posture of the calibration",
        LevelFrom.WALKING: "the mean pelvic obliquity of level walking",
        LevelFrom.SITTING: "quiet sitting on a flat seat",
        LevelFrom.MEASURED: "the clinician-measured standing obliquity",
    }[ref.level_from]
    out = [f"Level (lateral tilt 0) is {what}."]
    if ref.note:
        out.append(ref.note[0].upper() + ref.note[1:] + ".")
    standing = ref.standing_obliquity_deg
    if ref.level_from is LevelFrom.STANDING:
        out.append(
            "Standing is level by definition here: a habitual standing obliquity cannot "
            "be seen (use level from walking or sitting to see it)."
        )
        return out
    if standing is None:
        out.append("No quiet standing was found: the habitual standing obliquity is unknown.")
        return out
    if abs(standing) < min_obliquity_deg:
        out.append(f"Habitual standing posture: level (obliquity {standing:+.1f} deg).")
        return out
    out.append(f"Habitual standing posture: the pelvis is {_side_words(standing)}.")
    if ref.level_from is LevelFrom.SITTING:
        out.append(
            "Sitting is the level here, so this is the standing-vs-sitting difference: the "
            "obliquity disappears off the legs. This points to a cause below the pelvis - a "
            "leg-length difference or tight or weak hip muscles (e.g. the abductors) - "
            "rather than to the spine (Gurney 2002; Magee 2014). An obliquity that also "
            "stays when sitting is not visible with this reference: use level from walking."
        )
        return out
    sitting = ref.sitting_obliquity_deg
    if sitting is None:
        out.append(
            "No quiet sitting was found: compare with sitting on a flat firm seat to tell a "
            "leg-length or hip-muscle cause from a spinal one."
        )
        return out
    if abs(sitting) < max(min_obliquity_deg / 2, abs(standing) / 2) or sitting * standing < 0:
        out.append(
            f"When sitting it is {sitting:+.1f} deg: the obliquity disappears off the legs. "
            "This points to a cause below the pelvis - a leg-length difference or tight or "
            "weak hip muscles (e.g. the abductors) - rather than to the spine "
            "(Gurney 2002; Magee 2014)."
        )
    else:
        out.append(
            f"When sitting it stays at {sitting:+.1f} deg: an obliquity that remains without "
            "the legs points to the pelvis or the spine itself (e.g. a scoliosis or a pelvic "
            "asymmetry) rather than to leg length (Winter & Pinto 1986; Magee 2014)."
        )
    return out
