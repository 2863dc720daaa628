"""HTML section of the report: one plain-language card per test and exercise.

:func:`html_section` takes the ``tests`` / ``exercises`` lists of the analyze JSON and
returns an HTML fragment (escaped; no scripts) for the report page.
"""

from __future__ import annotations

from html import escape
from typing import Any

_TITLES = {
    "standing": "Standing posture (30 s)",
    "sls": "Single-leg stance (Trendelenburg test)",
    "sts": "Five-times sit-to-stand",
    "walk": "Walk test",
    "tilt_control": "Pelvic tilt control",
    "level_balance": "Level-pelvis single-leg balance",
    "sts_no_shift": "Sit-to-stand without lateral shift",
    "level_walking": "Level walking",
}

_CSS = """<style>
.clinic {font-family: system-ui, sans-serif; color: #1d232b}
.clinic .card {border: 1px solid #d5d9de; border-radius: 8px; padding: 10px 14px; margin: 8px 0}
.clinic .bad {border-left: 6px solid #c62828} .clinic .ok {border-left: 6px solid #2e7d32}
.clinic .rep {border-left: 6px solid #ef6c00}
.clinic h3 {margin: 0 0 4px 0; font-size: 16px} .clinic p {margin: 2px 0}
.clinic .src {color: #6b7480; font-size: 12px}
</style>"""


def _deg(x: Any) -> str:
    return "-" if x is None else f"{x:+.1f}°"


def _s(x: Any) -> str:
    return "-" if x is None else f"{x:.1f} s"


def _lines(doc: dict[str, Any]) -> tuple[list[str], str, str]:
    """Plain-language lines, the card's class and a source line."""
    kind = doc.get("kind", "")
    if not doc.get("valid"):
        return [f"No result: {doc.get('repeat_reason', 'invalid execution')}"], "rep", ""
    if kind == "standing":
        return [f"Anterior tilt {_deg(doc['anterior_tilt_deg'])}, obliquity "
                f"{_deg(doc['obliquity_deg'])} (higher side: {doc['higher_side']}, 0 = "
                f"{doc['level_reference']} level)",
                f"Sway SD {doc['sway_anterior_sd_deg']:.1f}° forward-back, "
                f"{doc['sway_lateral_sd_deg']:.1f}° side to side"], "ok", ""
    if kind == "sls":
        pos = doc["trendelenburg"] == "positive"
        lines = [f"Standing on the {doc['stance_side']} leg: the {doc['unsupported_side']} "
                 f"side dropped {_deg(doc['drop_deg'])} (negative = raised), held "
                 f"{_s(doc['hold_s'])}",
                 f"Trendelenburg {'POSITIVE' if pos else 'negative'}"
                 + (": " + "; ".join(doc["findings"]) if doc["findings"] else "")]
        return lines, "bad" if pos else "ok", f"{doc['criterion']} - {doc['criterion_source']}"
    if kind == "sts":
        lines = [f"{doc['total_s']:.1f} s for {doc['reps']} rises; time between rises "
                 + ", ".join(f"{t:.1f}" for t in doc["rep_times_s"]) + " s",
                 f"Peak forward lean {_deg(doc['peak_forward_lean_deg'])}; favours: "
                 f"{doc['favoured_side']} (mean shift {_deg(doc['mean_shift_deg'])})"]
        norm = doc.get("norm")
        src = ""
        cls = "ok"
        if norm:
            worse = norm["worse_than_average"]
            lines.append(f"Age {norm['age_band']}: {'worse than' if worse else 'within'} "
                         f"average (limit {norm['worse_than_average_above_s']} s)")
            src = norm["source"]
            cls = "bad" if worse else "ok"
        return lines, cls, src
    if kind == "walk":
        ps = doc["per_side"]
        speed = doc.get("walking_speed_mps")
        return [f"{doc['steps']} steps at {doc['cadence_spm']:.0f} steps/min"
                + (f", {speed:.2f} m/s" if speed is not None else ""),
                "Obliquity range per stride: left " + _deg(ps["left"]["obliquity_rom_deg"])
                + ", right " + _deg(ps["right"]["obliquity_rom_deg"])
                + f"; step-time asymmetry {doc['step_time_symmetry_pct'] or 0:.0f} %"], "ok", ""
    if "score_pct" in doc:
        summary = {
            "tilt_control": lambda d: f"{d['holds']} of {d['holds_asked']} holds; range "
                                      f"{d['range_deg']:.0f}°",
            "level_balance": lambda d: f"level for {d['time_level_s']:.0f} s of "
                                       f"{d['hold_s']:.0f} s on the {d['stance_side']} leg",
            "sts_no_shift": lambda d: f"{d['rises_without_shift']} of {d['rises']} rises level",
        }[kind](doc)
        return [summary, f"Score {doc['score_pct']:.0f} %"], "ok", ""
    if kind == "level_walking":
        hikes, drops = doc["hike_sides"], doc.get("drop_sides", [])
        found = (["hip-hike pattern on the " + " and ".join(hikes)] if hikes else []) + (
            ["pelvic drop on the " + " and ".join(drops)] if drops else [])
        text = "; ".join(found) if found else "no hip-hike or drop pattern"
        return [f"{doc['steps']} steps; {text}"], "bad" if found else "ok", ""
    return [str(doc)], "ok", ""


def html_section(tests: list[dict[str, Any]], exercises: list[dict[str, Any]]) -> str:
    """The report's test summary: an HTML fragment ("" when there is nothing)."""
    if not tests and not exercises:
        return ""
    parts = [_CSS, '<section class="clinic">']
    for title, docs in (("Clinical tests", tests), ("Exercises", exercises)):
        if not docs:
            continue
        parts.append(f"<h2>{title}</h2>")
        for doc in docs:
            lines, cls, src = _lines(doc)
            name = _TITLES.get(doc.get("kind", ""), doc.get("kind", ""))
            if doc.get("side") and doc.get("kind") not in ("sls",):
                name += f" - {doc['side']}"
            body = "".join(f"<p>{escape(line)}</p>" for line in lines)
            if src:
                body += f'<p class="src">{escape(src)}</p>'
            parts.append(f'<div class="card {cls}"><h3>{escape(name)}</h3>{body}</div>')
        if title == "Clinical tests":
            parts.append(_sides_card(docs))
    parts.append("</section>")
    return "\n".join(p for p in parts if p)


def _sides_card(tests: list[dict[str, Any]]) -> str:
    """Left against right of the single-leg stances ("" unless both sides are valid)."""
    sls = {d["stance_side"]: d for d in tests if d.get("kind") == "sls" and d.get("valid")}
    if set(sls) != {"left", "right"}:
        return ""
    left, right = sls["left"], sls["right"]
    line = (f"Drop of the unsupported side: {_deg(left['drop_deg'])} standing on the left, "
            f"{_deg(right['drop_deg'])} on the right; held {_s(left['hold_s'])} and "
            f"{_s(right['hold_s'])}")
    return (f'<div class="card ok"><h3>Single-leg stance: left against right</h3>'
            f"<p>{escape(line)}</p></div>")
