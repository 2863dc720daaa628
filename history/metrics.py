"""The key results of a session, derived from its analysis document, and what they mean.

:func:`key_results` turns ``analysis.session.analyze(path).to_json()`` (DESIGN section 4)
into the flat values stored per session; :data:`METRICS` says for each of them its unit,
which direction is better and, where the literature gives one, its minimal detectable
change (MDC) with the source.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

SIDES = ("left", "right")
HIKE_ACTIVITIES = ("standing", "sitting", "walking")


@dataclass(frozen=True, kw_only=True)
class Metric:
    """One stored result of a session.

    Parameters
    ----------
    name : str
        Column name (with its unit).
    label : str
        Plain-language name for tables and findings.
    unit : str
        Unit as printed (``"%"``, ``"deg"``, ``"m/s"``).
    lower_is_better : bool or None
        Which way is an improvement (None: neither, e.g. a neutral angle).
    mdc : float or None
        Minimal detectable change (95 %) in the metric's unit, where published.
    mdc_source : str
        Where ``mdc`` comes from.
    trend : bool
        Plotted and summarised in trends and reports.
    """

    name: str
    label: str
    unit: str
    lower_is_better: bool | None = None
    mdc: float | None = None
    mdc_source: str = ""
    trend: bool = True


# MDC95 values: only those with a published test-retest study of the same quantity.
_DONOGHUE = (
    "Donoghue et al. 2019, BMJ Open 9:e030475 (adults >= 50 y; MDC of walking speed "
    "0.19-0.35 m/s over the tests, the lowest taken)"
)
_SENSORS_2020 = (
    "Sensors 2020;20:4866 (PMC7506931), wearable gait sensor, test-retest in a "
    "slow-walking clinical group (gait speed 0.6 m/s)"
)

METRICS: tuple[Metric, ...] = (
    *(
        Metric(
            name=f"hike_{side}_{activity}_pct",
            label=f"time with the {side} side hiked while {activity}",
            unit="%",
            lower_is_better=True,
        )
        for activity in HIKE_ACTIVITIES
        for side in SIDES
    ),
    Metric(name="hike_episodes_per_h", label="hip-hike episodes per hour", unit="/h",
           lower_is_better=True),
    Metric(name="drop_episodes_per_h", label="pelvic-drop episodes per hour", unit="/h",
           lower_is_better=True),
    Metric(name="standing_obliquity_deg", label="standing obliquity (+ = left higher)",
           unit="deg"),
    Metric(name="standing_tilt_deg", label="standing anterior tilt", unit="deg"),
    Metric(name="sitting_obliquity_deg", label="sitting obliquity (+ = left higher)",
           unit="deg"),
    Metric(name="gait_speed_mps", label="gait speed", unit="m/s", lower_is_better=False,
           mdc=0.19, mdc_source=_DONOGHUE),
    Metric(name="cadence_spm", label="cadence", unit="/min", mdc=12.2,
           mdc_source=_SENSORS_2020),
    Metric(name="step_asymmetry_pct", label="step-time asymmetry", unit="%",
           lower_is_better=True, mdc=14.2, mdc_source=_SENSORS_2020),
    Metric(name="obliquity_rom_deg", label="pelvic obliquity range in gait", unit="deg"),
    Metric(name="standing_s", label="time standing", unit="s", trend=False),
    Metric(name="sitting_s", label="time sitting", unit="s", trend=False),
    Metric(name="walking_s", label="time walking", unit="s", trend=False),
    Metric(name="steps", label="steps", unit="", trend=False),
)  # fmt: skip

METRIC_BY_NAME = {m.name: m for m in METRICS}


def _finite(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def _weighted(bouts: list[dict[str, Any]], key: str) -> float | None:
    """Mean of ``key`` over gait bouts, weighted by their steps (None if no bout has it)."""
    pairs = [
        (v, float(b.get("n_steps") or 1)) for b in bouts if (v := _finite(b.get(key))) is not None
    ]
    total = sum(w for _, w in pairs)
    return sum(v * w for v, w in pairs) / total if total > 0 else None


def key_results(doc: dict[str, Any]) -> dict[str, float | int | None]:
    """The stored results of one session from its analysis document.

    Parameters
    ----------
    doc : dict
        ``SessionResult.to_json()`` (DESIGN section 4).

    Returns
    -------
    dict
        One value per :data:`METRICS` name, plus ``duration_s``; None where the session
        gives none (e.g. no standing, no gait speed without a leg length).
    """
    summary: dict[str, Any] = doc.get("summary") or {}
    duration_s = _finite(doc.get("input", {}).get("duration_s")) or 0.0
    out: dict[str, float | int | None] = {"duration_s": duration_s}
    for activity in HIKE_ACTIVITIES:
        spent = _finite((summary.get(activity) or {}).get("duration_s"))
        out[f"{activity}_s"] = spent
        for side in SIDES:
            hiked = sum(
                max(0.0, (_finite(e.get("end_s")) or 0.0) - (_finite(e.get("start_s")) or 0.0))
                for e in doc.get("hip_hike_episodes") or []
                if e.get("side") == side and e.get("activity") == activity
            )
            pct = None if not spent else min(100.0, 100.0 * hiked / spent)
            out[f"hike_{side}_{activity}_pct"] = pct

    def mean_of(activity: str, angle: str) -> float | None:
        return _finite(((summary.get(activity) or {}).get(angle) or {}).get("mean"))

    out["standing_obliquity_deg"] = mean_of("standing", "lateral_tilt_deg")
    out["standing_tilt_deg"] = mean_of("standing", "anterior_tilt_deg")
    out["sitting_obliquity_deg"] = mean_of("sitting", "lateral_tilt_deg")
    gait: dict[str, Any] = doc.get("gait") or {}
    bouts: list[dict[str, Any]] = gait.get("bouts") or []
    out["cadence_spm"] = _finite(gait.get("cadence_spm"))
    steps = gait.get("steps")
    out["steps"] = int(steps) if isinstance(steps, int) else len(doc.get("steps") or [])
    out["step_asymmetry_pct"] = _weighted(bouts, "step_asymmetry_pct")
    out["gait_speed_mps"] = _finite(gait.get("walking_speed_mps")) or _weighted(
        bouts, "walking_speed_mps"
    )
    out["obliquity_rom_deg"] = _finite(gait.get("obliquity_rom_deg"))
    hours = duration_s / 3600.0
    for key, name in (("hip_hike_episodes", "hike"), ("pelvic_drop_episodes", "drop")):
        episodes = doc.get(key)
        out[f"{name}_episodes_per_h"] = (
            len(episodes) / hours if hours > 0 and isinstance(episodes, list) else None
        )
    return out
