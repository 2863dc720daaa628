"""Run the tests and exercises of a session from its markers (offline) or a span (live).

A marker labelled with a test or exercise name (:data:`LABELS`, e.g. ``"sls-left"``)
starts that test; it ends at the next marker or the end of the recording. The result is
the ``{"tests": [...], "exercises": [...]}`` pair of the analyze JSON.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from analysis.calibration import Calibration
from analysis.clinical.balance import analyze_single_leg_stance, analyze_standing
from analysis.clinical.exercises import (
    TiltTargets,
    level_balance,
    level_walking,
    sts_no_shift,
    tilt_control,
)
from analysis.clinical.signals import FloatArray, Outcome, Signals
from analysis.clinical.sts import analyze_sit_to_stand
from analysis.clinical.walk import WalkParams, analyze_walk
from analysis.orientation import estimate_quat_wxyz
from analysis.tilt import pelvic_tilt_deg


@dataclass(frozen=True, kw_only=True)
class Person:
    """What the analyses need to know about the person.

    Attributes
    ----------
    age_years : float or None
        For the sit-to-stand norms.
    targets : TiltTargets
        Tilt-control targets set for this person.
    """

    age_years: float | None = None
    targets: TiltTargets = field(default_factory=TiltTargets)


Runner = Callable[[Signals, Person], Outcome]

#: Marker label -> (group, analysis). Group is "tests" or "exercises".
LABELS: dict[str, tuple[str, Runner]] = {
    "standing": ("tests", lambda s, who: analyze_standing(s)),
    "sls-left": ("tests", lambda s, who: analyze_single_leg_stance(s, "left")),
    "sls-right": ("tests", lambda s, who: analyze_single_leg_stance(s, "right")),
    "sts": ("tests", lambda s, who: analyze_sit_to_stand(s, age_years=who.age_years)),
    "walk": ("tests", lambda s, who: analyze_walk(s)),
    "walk-2min": ("tests", lambda s, who: analyze_walk(s, WalkParams(duration_s=120.0))),
    "tilt-control": ("exercises", lambda s, who: tilt_control(s, who.targets)),
    "balance-left": ("exercises", lambda s, who: level_balance(s, "left")),
    "balance-right": ("exercises", lambda s, who: level_balance(s, "right")),
    "sts-no-shift": ("exercises", lambda s, who: sts_no_shift(s)),
    "level-walking": ("exercises", lambda s, who: level_walking(s)),
}


def signals_from_imu(
    time_s: ArrayLike,
    acc_mps2: ArrayLike,
    gyr_rps: ArrayLike | None,
    rate_hz: float,
    calibration: Calibration,
) -> Signals:
    """Calibrated :class:`Signals` of a whole recording (offline orientation)."""
    acc = np.asarray(acc_mps2, dtype=float)
    gyr = None if gyr_rps is None else np.asarray(gyr_rps, dtype=float)
    t = np.asarray(time_s, dtype=float)
    q = estimate_quat_wxyz(acc, gyr, rate_hz, offline=True, time_s=t)  # gaps bridged
    ant, lat = pelvic_tilt_deg(q, calibration)
    return Signals(t, ant, lat, calibration.to_pelvis(acc),
                   None if gyr is None else calibration.to_pelvis(gyr), float(rate_hz))


def analyze_marked(
    sig: Signals,
    markers: Sequence[tuple[float, str]],
    person: Person | None = None,
) -> dict[str, list[dict[str, Any]]]:
    """Every marked test and exercise of a session.

    Parameters
    ----------
    sig : Signals
        The whole session.
    markers : sequence of (time_s, label)
        Markers in time order; labels outside :data:`LABELS` only end the span before.
    person : Person, optional
        Age (sit-to-stand norms) and tilt targets.

    Returns
    -------
    dict
        ``{"tests": [...], "exercises": [...]}``: one JSON-ready dict per marked span
        (:meth:`Outcome.to_json` plus ``start_s``/``end_s``/``label``).
    """
    who = person or Person()
    out: dict[str, list[dict[str, Any]]] = {"tests": [], "exercises": []}
    ordered = sorted(markers, key=lambda m: m[0])
    end_all = float(sig.time_s[-1]) + 1.0 if sig.n else 0.0
    for k, (start, label) in enumerate(ordered):
        key = label.strip().lower()
        if key not in LABELS:
            continue
        end = ordered[k + 1][0] if k + 1 < len(ordered) else end_all
        group, run = LABELS[key]
        doc = run(sig.window(start, end), who).to_json()
        doc.update({"label": key, "start_s": float(start), "end_s": float(min(end, end_all))})
        out[group].append(doc)
    return out


__all__ = ["LABELS", "FloatArray", "Person", "analyze_marked", "signals_from_imu"]
