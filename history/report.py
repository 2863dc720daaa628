"""The progress report: a self-contained HTML page of a subject's trends and findings.

Inline CSS and SVG only (charts from :mod:`analysis.report.svg`): the page opens
offline, prints, and can be mailed as one file.
"""

from __future__ import annotations

import datetime as dt
import math
from html import escape

import numpy as np

from analysis.report.svg import SIDE_COLOURS, Chart
from history.trends import SubjectTrends, findings, fmt_value

#: Charts of the report: title, unit, then (metric, legend, colour) per line.
CHARTS: tuple[tuple[str, str, tuple[tuple[str, str, str], ...]], ...] = (
    ("Time hip-hiked while standing", "%", (
        ("hike_left_standing_pct", "left", SIDE_COLOURS["left"]),
        ("hike_right_standing_pct", "right", SIDE_COLOURS["right"]))),
    ("Time hip-hiked while sitting", "%", (
        ("hike_left_sitting_pct", "left", SIDE_COLOURS["left"]),
        ("hike_right_sitting_pct", "right", SIDE_COLOURS["right"]))),
    ("Time hip-hiked while walking", "%", (
        ("hike_left_walking_pct", "left", SIDE_COLOURS["left"]),
        ("hike_right_walking_pct", "right", SIDE_COLOURS["right"]))),
    ("Episodes per hour", "/h", (
        ("hike_episodes_per_h", "hip-hike", "#d35400"),
        ("drop_episodes_per_h", "pelvic drop", "#2471a3"))),
    ("Standing posture", "deg", (
        ("standing_obliquity_deg", "obliquity (+ = left higher)", "#1e8449"),
        ("standing_tilt_deg", "anterior tilt", "#7d3c98"))),
    ("Sitting obliquity", "deg", (("sitting_obliquity_deg", "obliquity", "#1e8449"),)),
    ("Gait speed", "m/s", (("gait_speed_mps", "gait speed", "#2471a3"),)),
    ("Cadence (steps per minute)", "/min", (("cadence_spm", "cadence", "#2471a3"),)),
    ("Step-time asymmetry", "%", (("step_asymmetry_pct", "asymmetry", "#2471a3"),)),
    ("Pelvic obliquity range in gait", "deg", (("obliquity_rom_deg", "range", "#1e8449"),)),
)  # fmt: skip

CSS = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 24px auto; max-width: 960px; color: #222; }
h1 { font-size: 22px; margin-bottom: 4px; } h2 { font-size: 17px; margin-top: 28px; }
.meta { color: #555; } table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { border-bottom: 1px solid #ddd; padding: 4px 6px; text-align: right; }
th:first-child, td:first-child { text-align: left; }
.up { color: #1e8449; } .down { color: #b03a2e; } .mdc { font-weight: bold; }
.findings li { margin: 4px 0; } .chart text { font-size: 11px; fill: #333; }
.note { color: #555; font-size: 12px; }
@media print { body { margin: 0; } h2 { break-after: avoid; } svg { break-inside: avoid; } }
"""


def _change_cell(trend_change: float, unit: str, beyond: bool | None, better: bool | None) -> str:
    if math.isnan(trend_change):
        return "<td>-</td>"
    shown = fmt_value(trend_change, unit)
    cls = []
    if better is not None and fmt_value(0.0, unit) != shown:
        cls.append("up" if better else "down")
    if beyond:
        cls.append("mdc")
    sign = "+" if trend_change > 0 and shown != fmt_value(0.0, unit) else ""
    mark = " *" if beyond else ""
    return f'<td class="{" ".join(cls)}">{sign}{escape(shown)}{mark}</td>'


def _table(trends: SubjectTrends) -> str:
    rows = []
    for t in trends.metrics:
        if t.count == 0:
            continue
        m = t.metric
        cells = [f"<td>{escape(m.label)}</td>", f"<td>{t.count}</td>"]
        cells += [f"<td>{escape(fmt_value(v, m.unit))}</td>" for v in (t.first, t.last)]
        for change in (t.since_first, t.since_previous):
            better = None
            if m.lower_is_better is not None and not math.isnan(change) and change != 0:
                better = (change < 0) == m.lower_is_better
            cells.append(_change_cell(change, m.unit, t.beyond_mdc(change), better))
        cells.append(f"<td>{escape(fmt_value(m.mdc, m.unit)) if m.mdc is not None else '-'}</td>")
        rows.append(f"<tr>{''.join(cells)}</tr>")
    head = (
        "<tr><th>result</th><th>sessions</th><th>first</th><th>last</th>"
        "<th>since first</th><th>since previous</th><th>MDC</th></tr>"
    )
    return f"<table>{head}{''.join(rows)}</table>"


def _charts(trends: SubjectTrends) -> str:
    days = trends.days
    x_hi = max(float(days[-1]) if days.size else 1.0, 1.0)
    out = []
    for title, unit, lines in CHARTS:
        series = [(trends.of(name), label, colour) for name, label, colour in lines]
        values = np.concatenate([t.values[t.known] for t, _, _ in series])
        if values.size == 0:
            continue
        lo, hi = float(values.min()), float(values.max())
        if unit in ("%", "/h"):
            lo = min(lo, 0.0)
        pad = max(0.08 * (hi - lo), 0.5 if unit in ("deg", "%") else 0.05)
        chart = Chart(
            x_range=(0.0, 1.02 * x_hi),
            y_range=(lo - (pad if lo < 0 else 0.0), hi + pad),
            height_px=200,
            x_label="days since the first session",
            y_label=unit,
            title=title,
        )
        for t, label, colour in series:
            if t.count == 0:
                continue
            known = t.known
            chart.line(days[known], t.values[known], colour, width=1.5)
            chart.points(days[known], t.values[known], colour, label=label, r=3.0)
            if t.metric.mdc is not None:
                for bound in (t.first - t.metric.mdc, t.first + t.metric.mdc):
                    chart.hline(bound, colour="#bbb")
        out.append(chart.render())
    return "\n".join(out)


def _sources(trends: SubjectTrends) -> str:
    cited = {t.metric.mdc_source: t.metric for t in trends.metrics if t.metric.mdc is not None}
    items = "".join(f"<li>{escape(src)}</li>" for src in cited)
    without = ", ".join(t.metric.label for t in trends.metrics if t.metric.mdc is None)
    return (
        f"<ul>{items}</ul><p class='note'>No published minimal detectable change for: "
        f"{escape(without)}. Their changes are shown without one; a finding names them only "
        "when they changed by at least 5 percentage points, 1°, 1 per hour, 0.05 m/s or "
        "5 steps/min (a floor against noise, not a detectable change).</p>"
    )


def render_progress_html(trends: SubjectTrends, *, now_utc: dt.datetime | None = None) -> str:
    """The progress report of one subject as one HTML page.

    Parameters
    ----------
    trends : SubjectTrends
        From :func:`history.trends.load_trends`.
    now_utc : datetime, optional
        The "generated" time printed (default: now).
    """
    now = now_utc or dt.datetime.now(dt.UTC).replace(tzinfo=None)
    n = len(trends.recorded_utc)
    span = f"{trends.recorded_utc[0]:%Y-%m-%d} to {trends.recorded_utc[-1]:%Y-%m-%d}" if n else "-"
    kinds = ", ".join(f"{trends.kinds.count(k)} {k}" for k in sorted(set(trends.kinds)))
    found = findings(trends)
    finding_html = (
        "".join(f"<li>{escape(f)}</li>" for f in found)
        if found
        else "<li>No result changed by more than its minimal detectable change or the "
        "noise floor below.</li>"
        if n > 1
        else "<li>One session so far: changes show from the second on.</li>"
    )
    side = trends.affected_side or "not given"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>Progress report {escape(trends.code)}</title><style>{CSS}</style></head>
<body>
<h1>Progress report: subject {escape(trends.code)}</h1>
<p class="meta">{n} session{"" if n == 1 else "s"} ({escape(kinds or "none")}), {span};
affected side: {escape(side)}. Generated {now:%Y-%m-%d %H:%M} UTC by pelviscope.</p>
<h2>Findings</h2><ul class="findings">{finding_html}</ul>
<h2>Results: first, last and changes</h2>
{_table(trends)}
<p class="note">Changes in green are improvements, in red worsenings; * marks a change beyond
the minimal detectable change (MDC, 95 %). Hip-hike times are the share of the time spent in
that activity with the pelvis held raised on that side. Lateral angles: + = left side higher.</p>
<h2>Trends</h2>
<p class="note">One point per session. Grey dashed lines: the first session's value plus and
minus the MDC, where one is published.</p>
{_charts(trends)}
<h2>Minimal detectable change: sources</h2>
{_sources(trends)}
</body></html>
"""
