"""The printable, self-contained HTML report of one analysed session."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from html import escape
from typing import TYPE_CHECKING, Any

import numpy as np

from analysis.clinical import html_section as clinical_html
from analysis.report.gait import gait_section_html, shade_drops
from analysis.report.svg import ACTIVITY_COLOURS, DROP_COLOUR, SIDE_COLOURS, Chart

if TYPE_CHECKING:
    from analysis.session import SessionResult

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px auto;max-width:980px;
color:#222;line-height:1.4}
h1{font-size:1.6em;margin-bottom:0}h2{font-size:1.2em;border-bottom:2px solid #ddd;padding-bottom:3px;
margin-top:1.6em}
.sub{color:#666;margin-top:2px}
table{border-collapse:collapse;margin:8px 0;font-size:.92em}
th,td{border:1px solid #ddd;padding:4px 8px;text-align:right}th{background:#f4f4f4}
td:first-child,th:first-child{text-align:left}
.facts td{text-align:left}
.findings li{margin:4px 0}
.warn{color:#a94400}
.chart{font-size:11px;margin:6px 0}
.legend span{display:inline-block;padding:1px 8px;margin-right:6px;border-radius:3px;font-size:.85em}
@media print{body{margin:0;max-width:none}h2{break-after:avoid}.chart{break-inside:avoid}}
"""


def _fmt(v: Any, digits: int = 1) -> str:
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return "–"
    if isinstance(v, float):
        return f"{v:.{digits}f}"
    return escape(str(v))


def _clock(seconds: float) -> str:
    seconds = max(0.0, float(seconds))
    h, rem = divmod(round(seconds), 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def _table(header: list[str], rows: list[list[str]], cls: str = "") -> str:
    head = "".join(f"<th>{h}</th>" for h in header) if any(header) else ""
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    head = f"<tr>{head}</tr>" if head else ""
    return f'<table class="{cls}">{head}{body}</table>'


def _time_axis(result: SessionResult) -> tuple[np.ndarray, float, str]:
    """Times in a readable unit for the session length."""
    d = result.duration_s
    if d > 3 * 3600:
        return result.time_s / 3600, 3600.0, "time (h)"
    if d > 600:
        return result.time_s / 60, 60.0, "time (min)"
    return result.time_s, 1.0, "time (s)"


def _timeline(
    result: SessionResult,
    values: np.ndarray,
    label: str,
    threshold: float | None,
    drops: Sequence[Mapping[str, Any]] = (),
) -> str:
    t, scale, x_label = _time_axis(result)
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return f"<p class='warn'>{escape(label)}: not available (no calibration).</p>"
    lo, hi = np.percentile(finite, [0.2, 99.8])
    pad = max(2.0, 0.1 * (hi - lo))
    chart = Chart(
        (float(t[0]), float(t[-1])),
        (float(lo - pad), float(hi + pad)),
        x_label=x_label,
        y_label=label,
    )
    for seg in result.segments:
        chart.band(
            seg["start_s"] / scale,
            seg["end_s"] / scale,
            ACTIVITY_COLOURS.get(seg["activity"], "#eee"),
            0.35,
        )
    for ep in result.episodes:
        chart.band(ep["start_s"] / scale, ep["end_s"] / scale, SIDE_COLOURS[ep["side"]], 0.25)
        chart.strip(
            ep["start_s"] / scale,
            ep["end_s"] / scale,
            SIDE_COLOURS[ep["side"]],
            0,
            f"{ep['side']} {ep['kind']} hip-hike, peak {ep['peak_deg']:.1f} deg",
        )
    shade_drops(chart, drops, scale)
    for gap in result.gaps:
        chart.band(gap.start_s / scale, gap.end_s / scale, "#555", 0.5)
    if threshold is not None:
        chart.hline(threshold, SIDE_COLOURS["left"])
        chart.hline(-threshold, SIDE_COLOURS["right"])
    chart.hline(0.0, "#999", "1 0")
    # Break the line at gaps: a NaN after the last sample before each gap.
    y = values.astype(float).copy()
    if result.gaps:
        idx = np.searchsorted(result.time_s, [g.start_s for g in result.gaps], side="right")
        t = np.insert(t, idx, t[np.maximum(idx - 1, 0)])
        y = np.insert(y, idx, np.nan)
    chart.line(t, y, "#222")
    return chart.render()


def _legend(drops: bool = False) -> str:
    parts = [
        f'<span style="background:{c}">{a}</span>'
        for a, c in ACTIVITY_COLOURS.items()
        if a != "unknown"
    ]
    parts += [
        f'<span style="background:{SIDE_COLOURS["left"]};color:white">hip-hike left</span>',
        f'<span style="background:{SIDE_COLOURS["right"]};color:white">hip-hike right</span>',
        '<span style="background:#555;color:white">lost data</span>',
    ]
    if drops:
        parts.insert(-1, f'<span style="background:{DROP_COLOUR};color:white">pelvic drop</span>')
    return '<p class="legend">' + "".join(parts) + "</p>"


def _stride_charts(result: SessionResult) -> str:
    sw = result.swings
    if len(sw) == 0:
        return "<p>No valid steps: no gait pattern to show.</p>"
    t_all, t_scale, x_label = _time_axis(result)
    thr = result.hip_hike_params.gait_elevation_deg
    values = sw["elevation_deg"].to_numpy(float)
    lo, hi = min(-6.0, float(values.min()) - 1), max(6.0, float(values.max()) + 1)
    chart = Chart(
        (float(t_all[0]), float(t_all[-1])),
        (lo, hi),
        x_label=x_label,
        y_label="swing side (°)",
        title="Swing-side pelvis height per step (+ = raised; normal gait drops it)",
    )
    chart.hline(0.0, "#999", "1 0")
    chart.hline(thr, "#a94400")
    rows = []
    for side in ("left", "right"):
        sel = sw["swing_side"] == side
        v = values[sel.to_numpy()]
        chart.points(
            sw.loc[sel, "time_s"].to_numpy(float) / t_scale, v, SIDE_COLOURS[side], f"{side} swing"
        )
        rows.append(
            [
                side,
                str(v.size),
                _fmt(float(np.median(v)) if v.size else None),
                f"{int((v >= thr).sum())} ({100 * (v >= thr).mean() if v.size else 0:.0f} %)",
            ]
        )
    table = _table(["swing side", "steps", "median (°)", f"raised ≥ {thr:g}°"], rows)
    note = (
        f"<p class='sub'>Brown line: the gait hip-hike level ({thr:g}° above the stride's own "
        f"mean at mid-swing, so a constant sideways offset does not count); an episode needs "
        f"{result.hip_hike_params.gait_min_strides} such strides in a row whose swing rises "
        f"at least {result.hip_hike_params.gait_asymmetry_deg:g}° more than the other side's, "
        "beyond this person's own usual difference.</p>"
    )
    return chart.render() + table + note


def _suppressed(result: SessionResult) -> str:
    """The would-be flags the detector left out, by reason."""
    counts = getattr(result, "hip_hike_suppressed", None) or {}
    if not counts:
        return ""
    items = "".join(
        f"<li>{n}× {escape(str(reason))}</li>"
        for reason, n in sorted(counts.items(), key=lambda kv: -kv[1])
    )
    return (
        "<p class='sub'>Not flagged (a threshold relative to neutral standing would have "
        "flagged these, or they were too short):</p><ul>" + items + "</ul>"
    )


def _findings(result: SessionResult) -> list[str]:
    out: list[str] = []
    summary = result.summary()
    eps = result.episodes
    if result.calibration is None:
        out.append(
            f"<span class='warn'>No calibration: {escape(str(result.calibration_error))}</span>"
        )
    if eps:
        total = sum(e["end_s"] - e["start_s"] for e in eps)
        by_kind: dict[str, list[dict[str, Any]]] = {}
        for e in eps:
            by_kind.setdefault(f"{e['kind']}|{e['side']}|{e['activity']}", []).append(e)
        parts = []
        for key, group in sorted(by_kind.items()):
            kind, side, activity = key.split("|")
            peak = max(e["peak_deg"] for e in group)
            dur = sum(e["end_s"] - e["start_s"] for e in group)
            what = "while walking (swing side raised)" if kind == "gait" else f"while {activity}"
            parts.append(
                f"{len(group)}× {side} side raised {what}, {_clock(dur)} in total, up to {peak:.1f}°"
            )
        out.append(
            f"<b>{len(eps)} hip-hike episode{'s' if len(eps) != 1 else ''}</b> ({_clock(total)}): "
            + "; ".join(parts)
            + "."
        )
    else:
        out.append("No hip-hiking was detected.")
    g = result.gait_summary()
    if g["steps"]:
        out.append(
            f"{g['steps']} steps in {len(result.bouts)} walking bout(s); cadence {_fmt(g['cadence_spm'], 0)} steps/min."
        )
        thr = result.hip_hike_params.gait_elevation_deg
        for side in ("left", "right"):
            v = result.swings.loc[result.swings["swing_side"] == side, "elevation_deg"].to_numpy(
                float
            )
            if not v.size:
                continue
            raised = v >= thr
            # Name the pattern only where the detector flagged it: it judges each stride
            # against the person's own usual swing, over several strides in a row.
            flagged = any(e["kind"] == "gait" and e["side"] == side for e in eps)
            if flagged and raised.sum() >= result.hip_hike_params.gait_min_strides:
                normal = v[~raised]
                rest = (
                    f"; in the other steps it dropped (median {np.median(normal):+.1f}°)"
                    if normal.size
                    else ""
                )
                out.append(
                    f"During {side} swing the {side} side of the pelvis <b>rose</b> in {raised.sum()} of "
                    f"{v.size} steps (median {np.median(v[raised]):+.1f}°) – a hip-hiking pattern{rest}."
                )
            elif np.median(v) <= 0:
                out.append(
                    f"During {side} swing the {side} side of the pelvis dropped as in normal gait "
                    f"(median {np.median(v):+.1f}°, {v.size} steps)."
                )
            else:
                out.append(
                    f"During {side} swing the {side} side of the pelvis stayed at a median "
                    f"{np.median(v):+.1f}° from the stride's mean ({v.size} steps): this "
                    "person's usual pattern, not flagged as hip-hiking."
                )
    for act in ("standing", "sitting"):
        if act in summary and summary[act]["anterior_tilt_deg"]["mean"] is not None:
            a = summary[act]["anterior_tilt_deg"]["mean"]
            lat = summary[act]["lateral_tilt_deg"]["mean"]
            direction = "forward" if a >= 0 else "backward"
            out.append(
                f"{act.capitalize()} ({_clock(summary[act]['duration_s'])}): pelvis tilted {abs(a):.1f}° {direction} "
                f"of neutral on average, lateral tilt {lat:+.1f}° (+ = left side higher)."
            )
    if result.gaps:
        lost = sum(g.end_s - g.start_s for g in result.gaps)
        out.append(
            f"<span class='warn'>{len(result.gaps)} gap(s) of lost data, {lost:.1f} s in total: shown dark grey, never filled in.</span>"
        )
    return out


def _drop_findings(drops: Sequence[Mapping[str, Any]]) -> list[str]:
    out = []
    for side in ("left", "right"):
        eps = [d for d in drops if d["side"] == side]
        if not eps:
            continue
        total = sum(d["end_s"] - d["start_s"] for d in eps)
        peaks = [d["peak_deg"] for d in eps if d.get("peak_deg") is not None]
        deepest = f", deepest {max(peaks):.1f}° below neutral" if peaks else ""
        out.append(
            f"<b>Pelvic drop on the {side}</b> (the {side} side dropping in its swing "
            f"beyond this person's usual swing - a Trendelenburg pattern, weak "
            f"{'right' if side == 'left' else 'left'} hip abductors): {len(eps)} "
            f"episode(s), {total:.0f} s{deepest}."
        )
    return out


def render_html(
    result: SessionResult,
    *,
    pelvic_drops: Sequence[Mapping[str, Any]] | None = None,
    gait_cycles: Mapping[str, Any] | None = None,
    spatial_bouts: Sequence[Mapping[str, Any]] | None = None,
) -> str:
    """The report as one HTML string (inline CSS and SVG, no external files).

    Parameters
    ----------
    result : SessionResult
        The analysed session.
    pelvic_drops : sequence of dict, optional
        ``pelvic_drop_episodes`` (shaded on the lateral-tilt timeline, tabled).
    gait_cycles : dict, optional
        ``gait.cycles`` (:func:`analysis.gait.cycle.cycles_json`): cycle charts.
    spatial_bouts : sequence of dict, optional
        Walking speed and stride length per bout.

    Each defaults to the result's own (``result.pelvic_drops``, ``result.cycles``, the
    bouts' speed and stride length).
    """
    if pelvic_drops is None:
        pelvic_drops = result.pelvic_drops
    if gait_cycles is None:
        gait_cycles = result.cycles
    if spatial_bouts is None:
        spatial_bouts = [b for b in result.bouts if b.get("walking_speed_mps") is not None]
    drops = list(pelvic_drops or ())
    clinical = bool(result.bouts) or gait_cycles is not None or bool(drops)
    meta = result.meta
    cal = result.calibration
    summary = result.summary()
    facts = [
        ["file", escape(result.source)],
        ["device", _fmt(meta.get("device"))],
        ["subject / session", f"{_fmt(meta.get('subject_id'))} / {_fmt(meta.get('session_id'))}"],
        ["start (UTC)", _fmt(meta.get("start_time_utc"))],
        ["duration", _clock(result.duration_s)],
        ["samples", f"{result.time_s.size:,} at {result.rate_hz:g} Hz"],
        [
            "lost data",
            f"{len(result.gaps)} gap(s), {sum(g.lost_samples for g in result.gaps):,} samples",
        ],
    ]
    if cal is not None:
        q = cal.quality
        cal_rows = [
            ["method", escape(cal.method)],
            [
                "quiet standing used",
                f"{q.standing_s:.1f} s (acc SD {_fmt(q.stillness_acc_std_mps2, 3)} m/s²)",
            ],
            ["walking used", f"{q.walking_s:.1f} s"],
            ["direction confidence", _fmt(q.direction_confidence, 2)],
            ["direction spread (RMS)", f"{_fmt(q.residual_deg)}°"],
            ["standing tilt offset", f"{cal.standing_tilt_deg:g}°"],
        ] + [["note", escape(n)] for n in q.notes]
    else:
        cal_rows = [["method", "none"], ["reason", escape(str(result.calibration_error))]]
    act_rows = []
    for act, s in summary.items():
        act_rows.append(
            [
                act,
                _clock(s["duration_s"]),
                f"{_fmt(s['anterior_tilt_deg']['mean'])} ± {_fmt(s['anterior_tilt_deg']['sd'])}",
                f"{_fmt(s['lateral_tilt_deg']['mean'])} ± {_fmt(s['lateral_tilt_deg']['sd'])}",
                f"{s['hip_hike_pct']:.1f} %",
            ]
        )
    ep_rows = [
        [
            str(i + 1),
            e["side"],
            e["kind"],
            e["activity"],
            _clock(e["start_s"]),
            f"{e['end_s'] - e['start_s']:.1f} s",
            f"{e['peak_deg']:.1f}°",
            f"{e['mean_deg']:.1f}°",
            _fmt(e.get("confidence"), 2),
            escape(str(e.get("reason", ""))),
        ]
        for i, e in enumerate(result.episodes)
    ]
    g = result.gait_summary()
    bout_rows = [
        [
            _clock(b["start_s"]),
            f"{b['end_s'] - b['start_s']:.0f} s",
            str(b["n_steps"]),
            _fmt(b["cadence_spm"], 0),
            _fmt(b["stride_time_cv_pct"]),
            _fmt(b["step_asymmetry_pct"]),
        ]
        for b in result.bouts
    ]
    thr = result.hip_hike_params.static_threshold_deg
    generated = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    html = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>pelviscope report – {escape(result.source)}</title><style>{CSS}</style></head><body>",
        "<h1>Pelvic posture report</h1>",
        f"<p class='sub'>pelviscope · {escape(result.source)} · generated {generated}</p>",
        "<h2>Findings</h2><ul class='findings'>"
        + "".join(f"<li>{f}</li>" for f in _findings(result) + _drop_findings(drops))
        + "</ul>",
        "<h2>Session</h2>" + _table(["", ""], facts, "facts"),
        "<h2>Calibration</h2>" + _table(["", ""], cal_rows, "facts"),
        "<h2>Per activity</h2>",
        _table(
            [
                "activity",
                "time",
                "anterior tilt (°) mean ± SD",
                "lateral tilt (°) mean ± SD",
                "hip-hiking",
            ],
            act_rows,
        ),
        "<p class='sub'>Angles relative to the neutral standing posture of the calibration. "
        "Anterior tilt + = pelvis tipped forward; lateral tilt + = left side higher.</p>",
        "<h2>Timeline</h2>",
        _legend(drops=pelvic_drops is not None),
        _timeline(result, result.anterior_tilt_deg, "anterior tilt (°)", None, drops),
        _timeline(result, result.lateral_tilt_deg, "lateral tilt (°)", thr, drops),
        f"<p class='sub'>Dashed lines: ±{thr:g}°; a static hip-hike is a tilt held that far beyond "
        "the person's own habitual tilt in that activity for "
        f"{result.hip_hike_params.static_min_duration_s:g} s. Top strips: hip-hike episodes.</p>",
        "<h2>Hip-hike episodes</h2>",
        _table(
            [
                "#",
                "raised side",
                "kind",
                "activity",
                "start",
                "duration",
                "peak",
                "mean",
                "confidence",
                "why",
            ],
            ep_rows,
        )
        if ep_rows
        else "<p>None.</p>",
        _suppressed(result),
        "<h2>Gait</h2>",
        f"<p>Cadence {_fmt(g['cadence_spm'], 0)} steps/min · {g['steps']} steps · {g['strides']} strides · "
        f"median obliquity ROM {_fmt(g['obliquity_rom_deg'])}° · median anterior-tilt ROM {_fmt(g['anterior_tilt_rom_deg'])}°</p>",
        _table(
            ["bout start", "length", "steps", "cadence", "stride CV %", "step asymmetry %"],
            bout_rows,
        )
        if bout_rows
        else "",
        _stride_charts(result),
        gait_section_html(gait_cycles, drops, spatial_bouts or ()) if clinical else "",
        clinical_html(result.clinical.get("tests", []), result.clinical.get("exercises", [])),
        "<h2>Notes</h2><ul>" + "".join(f"<li>{escape(n)}</li>" for n in result.notes) + "</ul>"
        if result.notes
        else "",
        "</body></html>",
    ]
    return "\n".join(html)
