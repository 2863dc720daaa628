"""Report parts for gait the way a clinician reads it (issue 17).

Pure functions from plain dicts (the JSON shapes) to HTML/SVG strings, so the report,
a future review panel and tests all draw from the same documents:

- :func:`drop_table_html` - the ``pelvic_drop_episodes`` table;
- :func:`shade_drops` - drop episodes shaded on a timeline :class:`Chart` in
  :data:`~analysis.report.svg.DROP_COLOUR`;
- :func:`cycle_chart_svg` - left and right gait-cycle curves (mean +- SD) over the normal
  band, from :func:`analysis.gait.cycle.cycles_json`;
- :func:`symmetry_table_html`, :func:`spatial_table_html`;
- :func:`gait_section_html` - all of them as one report section.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

import numpy as np

from analysis.report.svg import DROP_COLOUR, NORMAL_BAND_COLOUR, SIDE_COLOURS, Chart

_SIGNALS = {
    "obliquity": ("pelvic obliquity (°, + = that side up)", "Obliquity over the gait cycle"),
    "anterior_tilt": ("anterior tilt (°)", "Anterior tilt over the gait cycle"),
}


def _fmt(v: Any, digits: int = 1, unit: str = "") -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "–"
    if isinstance(v, float | int) and not isinstance(v, bool):
        return f"{float(v):.{digits}f}{unit}"
    return escape(str(v))


def _clock(seconds: float) -> str:
    h, rem = divmod(round(max(0.0, float(seconds))), 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def _table(header: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{h}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def drop_table_html(drops: Sequence[Mapping[str, Any]]) -> str:
    """The excessive pelvic drop episodes as a table (``"<p>None.</p>"`` without any).

    Parameters
    ----------
    drops : sequence of dict
        ``pelvic_drop_episodes`` entries (:meth:`PelvicDropEpisode.to_dict`): ``side``,
        ``start_s``, ``end_s``, ``peak_deg``, ``mean_deg`` and optionally
        ``confidence``, ``reason``.
    """
    if not drops:
        return "<p>None.</p>"
    swatch = f'<span style="color:{DROP_COLOUR}">■</span> '
    rows = [
        [
            swatch + str(i + 1),
            escape(str(d["side"])),
            _clock(d["start_s"]),
            f"{d['end_s'] - d['start_s']:.1f} s",
            _fmt(d.get("peak_deg"), unit="°"),
            _fmt(d.get("mean_deg"), unit="°"),
            _fmt(d.get("confidence"), 2),
            f"<div style='text-align:left'>{escape(str(d.get('reason', '')))}</div>",
        ]
        for i, d in enumerate(drops)
    ]
    return _table(
        [
            "#",
            "dropping side",
            "start",
            "duration",
            "deepest (below neutral)",
            "mean swing depth",
            "confidence",
            "why",
        ],
        rows,
    )


def shade_drops(
    chart: Chart, drops: Sequence[Mapping[str, Any]], scale: float = 1.0, row: int = 1
) -> None:
    """Shade drop episodes on a timeline chart (band + a marker strip in ``row``).

    ``scale`` divides the times (seconds) into the chart's unit (60 for minutes).
    """
    for d in drops:
        a, b = d["start_s"] / scale, d["end_s"] / scale
        chart.band(a, b, DROP_COLOUR, 0.22)
        peak = d.get("peak_deg")
        chart.strip(
            a,
            b,
            DROP_COLOUR,
            row,
            f"{d['side']} pelvic drop" + (f", deepest {peak:.1f} deg" if peak is not None else ""),
        )


def _curve(values: Sequence[float | None] | None) -> np.ndarray:
    if values is None:
        return np.full(0, np.nan)
    return np.array([np.nan if v is None else float(v) for v in values], dtype=float)


def cycle_chart_svg(
    cycles: Mapping[str, Any],
    signal: str = "obliquity",
    *,
    scope: Mapping[str, Any] | None = None,
    width_px: int = 470,
    height_px: int = 240,
) -> str:
    """Left and right mean +- SD curves over 0-100 % of the cycle, on the normal band.

    Parameters
    ----------
    cycles : dict
        :func:`analysis.gait.cycle.cycles_json` (its ``percent`` and ``normal``).
    signal : {"obliquity", "anterior_tilt"}
    scope : dict, optional
        Whose curves: ``cycles["session"]`` (default) or one of ``cycles["bouts"]``.
    width_px, height_px : int
        SVG size.

    Returns
    -------
    str
        An ``<svg>``, or a short paragraph when no side has a stride.

    Notes
    -----
    The normal band is a zero-mean shape (pelviscope's angles are relative to neutral
    standing, the literature's to the anatomical pelvis): it is drawn around the mean of
    the measured curves, so the chart compares shape and range, not the offset.
    """
    if signal not in _SIGNALS:
        raise ValueError(f"signal must be one of {', '.join(_SIGNALS)}; got {signal!r}.")
    y_label, title = _SIGNALS[signal]
    scope = cycles["session"] if scope is None else scope
    x = np.asarray(cycles["percent"], dtype=float)
    curves = {}
    for side in ("left", "right"):
        part = scope.get(side) or {}
        mean = _curve(part.get(f"{signal}_mean_deg"))
        if part.get("n_strides", 0) and mean.size == x.size and np.isfinite(mean).any():
            sd = _curve(part.get(f"{signal}_sd_deg"))
            curves[side] = (mean, np.where(np.isfinite(sd), sd, 0.0), int(part["n_strides"]))
    if not curves:
        return f"<p>{escape(title)}: no complete strides.</p>"
    normal = cycles.get("normal", {}).get(signal)
    centre = float(np.nanmean([np.nanmean(c[0]) for c in curves.values()]))
    lows = [np.nanmin(m - s) for m, s, _ in curves.values()]
    highs = [np.nanmax(m + s) for m, s, _ in curves.values()]
    band = None
    if normal is not None:
        nm, ns = _curve(normal["mean_deg"]), _curve(normal["sd_deg"])
        band = (centre + nm - ns, centre + nm + ns)
        lows.append(float(np.nanmin(band[0])))
        highs.append(float(np.nanmax(band[1])))
    lo, hi = min(lows), max(highs)
    pad = max(0.5, 0.08 * (hi - lo))
    chart = Chart(
        (0.0, 100.0),
        (lo - pad, hi + pad),
        width_px=width_px,
        height_px=height_px,
        x_label="gait cycle (%; initial contact to the next of the same foot)",
        y_label=y_label,
    )
    if band is not None:
        chart.area(x, band[0], band[1], NORMAL_BAND_COLOUR, 0.25, "normal")
    for side, (mean, sd, _) in curves.items():
        chart.area(x, mean - sd, mean + sd, SIDE_COLOURS[side], 0.15)
    for side, (mean, _, n) in curves.items():
        chart.line(x, mean, SIDE_COLOURS[side], f"{side} (n={n})", width=2.0)
    caption = f"<figcaption><b>{escape(title)}</b></figcaption>"
    return f"<figure style='margin:0'>{caption}{chart.render()}</figure>"


def symmetry_table_html(symmetry: Mapping[str, Any]) -> str:
    """Left-versus-right measures (:func:`analysis.gait.cycle.symmetry_indices`)."""
    rows = []
    names = {
        "obliquity_rom_deg": ("obliquity range in the side's swing step", 1, "°"),
        "swing_obliquity_deg": ("obliquity in its own swing (+ up, − dropped)", 1, "°"),
        "step_time_s": ("step time (ending with that foot)", 3, " s"),
    }
    for key, (label, digits, unit) in names.items():
        entry = symmetry.get(key)
        if not entry:
            continue
        if "symmetry_index_pct" in entry:
            index = _fmt(entry["symmetry_index_pct"], 1, " %")
        else:
            index = _fmt(entry.get("difference_deg"), 1, "° (L − R)")
        rows.append(
            [
                label,
                _fmt(entry.get("left"), digits, unit),
                _fmt(entry.get("right"), digits, unit),
                index,
            ]
        )
    return _table(["", "left", "right", "symmetry index (0 = symmetric)"], rows)


def spatial_table_html(bouts: Sequence[Mapping[str, Any]]) -> str:
    """Walking speed and stride length per bout (:func:`analysis.gait.spatial.bout_spatial`)."""
    if not bouts:
        return ""
    rows = [
        [
            _clock(b["start_s"]),
            f"{b['end_s'] - b['start_s']:.0f} s",
            str(b.get("n_steps", "–")),
            _fmt(b.get("walking_speed_mps"), 2, " m/s"),
            _fmt(b.get("stride_length_m"), 2, " m"),
        ]
        for b in bouts
    ]
    return _table(["bout start", "length", "steps", "walking speed", "stride length"], rows)


def gait_section_html(
    cycles: Mapping[str, Any] | None = None,
    drops: Sequence[Mapping[str, Any]] = (),
    spatial_bouts: Sequence[Mapping[str, Any]] = (),
) -> str:
    """The clinical gait part of the report: drops, cycle curves, symmetry, speed.

    Parameters
    ----------
    cycles : dict, optional
        The ``gait.cycles`` document (:func:`analysis.gait.cycle.cycles_json`).
    drops : sequence of dict
        ``pelvic_drop_episodes``.
    spatial_bouts : sequence of dict
        Per-bout walking speed and stride length.
    """
    out = [
        "<h2>Pelvic drop episodes</h2>",
        "<p class='sub'>The swing side dropping further than this person's usual swing "
        "(Trendelenburg pattern: weak hip abductors of the stance leg), over several "
        f"strides in a row; shaded <span style='color:{DROP_COLOUR}'>orange</span> on "
        "the timeline. The opposite of a gait hip-hike (swing side raised).</p>",
        drop_table_html(drops),
    ]
    if cycles is not None:
        out += [
            "<h2>Gait cycle</h2>",
            "<div style='display:flex;gap:8px'>",
            f"<div style='flex:1'>{cycle_chart_svg(cycles, 'obliquity')}</div>",
            f"<div style='flex:1'>{cycle_chart_svg(cycles, 'anterior_tilt')}</div>",
            "</div>",
            "<p class='sub'>Mean ± SD of every complete stride per side (turns left out); "
            "obliquity drawn for the stride's own side, + = that side up. Grey: normal "
            f"shape ({escape(str(cycles.get('normal', {}).get('source', '')))}), centred "
            "on the measured curves because angles here are relative to neutral "
            "standing.</p>",
            symmetry_table_html(cycles.get("symmetry", {})),
        ]
    if spatial_bouts:
        out += [
            "<h2>Walking speed and stride length</h2>",
            spatial_table_html(spatial_bouts),
            "<p class='sub'>From the pelvis's vertical excursion per step (inverted "
            "pendulum, Zijlstra &amp; Hof 2003, corrected against INDIP on mobgap_lab: "
            "held-out speed error 0.05-0.08 m/s).</p>",
        ]
    return "\n".join(out)
