"""Tiny dependency-free SVG charts for the printable HTML report.

Long signals are reduced to one min/max pair per pixel column (peak decimation), so a
24-hour session draws as a few thousand points and the page stays small. NaN values
(gaps) break the line: lost data is never drawn over.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]

ACTIVITY_COLOURS = {
    "standing": "#8fd18f",
    "walking": "#7fb2e5",
    "sitting": "#f0c987",
    "lying": "#c9a6e0",
    "transition": "#d0d0d0",
    "unknown": "#f2f2f2",
}
# The same side colours as the apps (gui/widgets/theme.py, light theme).
SIDE_COLOURS = {"left": "#e53935", "right": "#8e24aa"}
#: Excessive pelvic drop episodes: a colour of their own (not a side's, not an activity's).
DROP_COLOUR = "#ef6c00"
#: Normal band of the gait-cycle charts.
NORMAL_BAND_COLOUR = "#9e9e9e"


def peak_decimate(x: FloatArray, y: FloatArray, n_columns: int) -> tuple[FloatArray, FloatArray]:
    """Keep the min and max of ``y`` in each of ``n_columns`` equal spans of ``x``.

    NaNs survive as separators (a column holding a NaN emits one), so gaps stay visible.
    """
    if x.size <= 2 * n_columns:
        return x, y
    edges = np.linspace(x[0], x[-1], n_columns + 1)
    col = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, n_columns - 1)
    starts = np.searchsorted(col, np.arange(n_columns))
    stops = np.append(starts[1:], col.size)
    xs: list[float] = []
    ys: list[float] = []
    for a, b in zip(starts, stops, strict=True):
        if b <= a:
            continue
        seg = y[a:b]
        if np.isnan(seg).any():
            xs.append(float(x[a]))
            ys.append(np.nan)
            seg = seg[~np.isnan(seg)]
            if seg.size == 0:
                continue
        i_min, i_max = int(np.argmin(seg)), int(np.argmax(seg))
        for i in sorted((i_min, i_max)):
            xs.append(float(x[a + i]))
            ys.append(float(seg[i]))
    return np.asarray(xs), np.asarray(ys)


def _nice_ticks(lo: float, hi: float, n: int = 6) -> FloatArray:
    span = max(hi - lo, 1e-9)
    raw = span / n
    mag = 10 ** np.floor(np.log10(raw))
    step = min((m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw), default=10 * mag)
    ticks = np.arange(np.ceil(lo / step) * step, hi + 1e-9, step)
    ticks[np.abs(ticks) < 1e-9 * step] = 0.0  # no "-0" label
    return ticks + 0.0


@dataclass
class Chart:
    """An x-y chart with bands, shaded spans, lines and labels, rendered to SVG.

    Parameters
    ----------
    x_range, y_range : tuple of float
        Data ranges of the axes.
    width_px, height_px : int
        Size of the SVG.
    x_label, y_label, title : str
        Axis labels and the title.
    """

    x_range: tuple[float, float]
    y_range: tuple[float, float]
    width_px: int = 900
    height_px: int = 220
    x_label: str = ""
    y_label: str = ""
    title: str = ""
    _items: list[str] = field(default_factory=list)
    _legend: list[tuple[str, str]] = field(default_factory=list)

    margin_left = 56
    margin_right = 12
    margin_top = 24
    margin_bottom = 36

    def _px(self, x: FloatArray) -> FloatArray:
        x0, x1 = self.x_range
        w = self.width_px - self.margin_left - self.margin_right
        return self.margin_left + (np.asarray(x, float) - x0) / max(x1 - x0, 1e-12) * w

    def _py(self, y: FloatArray) -> FloatArray:
        y0, y1 = self.y_range
        h = self.height_px - self.margin_top - self.margin_bottom
        return self.margin_top + (1 - (np.asarray(y, float) - y0) / max(y1 - y0, 1e-12)) * h

    def band(self, x0: float, x1: float, colour: str, opacity: float = 0.45) -> None:
        """A full-height coloured band (activity, episode, gap)."""
        a, b = self._px(np.array([x0, x1]))
        top, bottom = self.margin_top, self.height_px - self.margin_bottom
        self._items.append(
            f'<rect x="{a:.1f}" y="{top}" width="{max(b - a, 0.6):.1f}" '
            f'height="{bottom - top}" fill="{colour}" fill-opacity="{opacity}"/>'
        )

    def strip(self, x0: float, x1: float, colour: str, row: int = 0, label: str = "") -> None:
        """A thin marker strip at the top of the plot area (e.g. an episode with its side)."""
        a, b = self._px(np.array([x0, x1]))
        y = self.margin_top - 14 + 7 * row
        self._items.append(
            f'<rect x="{a:.1f}" y="{y}" width="{max(b - a, 1.5):.1f}" height="6" fill="{colour}">'
            f"<title>{escape(label)}</title></rect>"
        )

    def hline(self, y: float, colour: str = "#888", dash: str = "4 3") -> None:
        """A horizontal reference line (threshold, zero)."""
        py = float(self._py(np.array([y]))[0])
        self._items.append(
            f'<line x1="{self.margin_left}" x2="{self.width_px - self.margin_right}" '
            f'y1="{py:.1f}" y2="{py:.1f}" stroke="{colour}" stroke-dasharray="{dash}"/>'
        )

    def line(
        self, x: FloatArray, y: FloatArray, colour: str, label: str = "", width: float = 1.0
    ) -> None:
        """A polyline, peak-decimated to the pixel width; NaNs break it."""
        cols = self.width_px - self.margin_left - self.margin_right
        xs, ys = peak_decimate(np.asarray(x, float), np.asarray(y, float), cols)
        y0, y1 = self.y_range
        ys = np.clip(ys, y0, y1)
        px, py = self._px(xs), self._py(ys)
        runs: list[list[str]] = [[]]
        for a, b, v in zip(px, py, ys, strict=True):
            if np.isnan(v):
                runs.append([])
            else:
                runs[-1].append(f"{a:.1f},{b:.1f}")
        for run in runs:
            if len(run) > 1:
                self._items.append(
                    f'<polyline fill="none" stroke="{colour}" stroke-width="{width}" '
                    f'points="{" ".join(run)}"/>'
                )
        if label:
            self._legend.append((label, colour))

    def area(
        self,
        x: FloatArray,
        lower: FloatArray,
        upper: FloatArray,
        colour: str,
        opacity: float = 0.2,
        label: str = "",
    ) -> None:
        """A filled band between two curves (mean +- SD, a normal range); NaNs split it."""
        x, lo, hi = (np.asarray(v, float) for v in (x, lower, upper))
        y0, y1 = self.y_range
        ok = np.isfinite(lo) & np.isfinite(hi)
        edges = np.flatnonzero(np.diff(np.r_[0, ok.astype(np.int8), 0]))
        for a, b in zip(edges[0::2], edges[1::2], strict=True):
            if b - a < 2:
                continue
            px = self._px(x[a:b])
            top = self._py(np.clip(hi[a:b], y0, y1))
            bottom = self._py(np.clip(lo[a:b], y0, y1))
            pts = [f"{u:.1f},{v:.1f}" for u, v in zip(px, top, strict=True)]
            pts += [f"{u:.1f},{v:.1f}" for u, v in zip(px[::-1], bottom[::-1], strict=True)]
            self._items.append(
                f'<polygon points="{" ".join(pts)}" fill="{colour}" fill-opacity="{opacity}" '
                'stroke="none"/>'
            )
        if label:
            self._legend.append((label, colour))

    def points(
        self, x: FloatArray, y: FloatArray, colour: str, label: str = "", r: float = 2.5
    ) -> None:
        """Scatter points."""
        for a, b in zip(self._px(x), self._py(np.clip(y, *self.y_range)), strict=True):
            if np.isfinite(b):
                self._items.append(f'<circle cx="{a:.1f}" cy="{b:.1f}" r="{r}" fill="{colour}"/>')
        if label:
            self._legend.append((label, colour))

    def legend_entry(self, label: str, colour: str) -> None:
        """Add a legend entry without drawing anything."""
        self._legend.append((label, colour))

    def render(self) -> str:
        """The chart as an ``<svg>`` element."""
        w, h = self.width_px, self.height_px
        left, right = self.margin_left, w - self.margin_right
        top, bottom = self.margin_top, h - self.margin_bottom
        out = [
            f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" '
            f'width="100%" role="img" aria-label="{escape(self.title)}" class="chart">',
            f'<rect x="{left}" y="{top}" width="{right - left}" height="{bottom - top}" '
            'fill="white" stroke="#999"/>',
        ]
        for tick in _nice_ticks(*self.y_range, n=5):
            py = float(self._py(np.array([tick]))[0])
            out.append(
                f'<line x1="{left}" x2="{right}" y1="{py:.1f}" y2="{py:.1f}" stroke="#eee"/>'
            )
            out.append(f'<text x="{left - 5}" y="{py + 4:.1f}" text-anchor="end">{tick:g}</text>')
        for tick in _nice_ticks(*self.x_range, n=8):
            px = float(self._px(np.array([tick]))[0])
            out.append(
                f'<line x1="{px:.1f}" x2="{px:.1f}" y1="{bottom}" y2="{bottom + 4}" stroke="#999"/>'
            )
            out.append(f'<text x="{px:.1f}" y="{bottom + 16}" text-anchor="middle">{tick:g}</text>')
        out.extend(self._items)
        out.append(
            f'<text x="{(left + right) / 2:.0f}" y="{h - 4}" text-anchor="middle">'
            f"{escape(self.x_label)}</text>"
        )
        out.append(
            f'<text transform="translate(13,{(top + bottom) / 2:.0f}) rotate(-90)" '
            f'text-anchor="middle">{escape(self.y_label)}</text>'
        )
        x = right
        for label, colour in reversed(self._legend):
            x -= 22 + 7 * len(label)  # swatch, gap and the text (~7 px a character)
            out.append(f'<rect x="{x}" y="4" width="10" height="10" fill="{colour}"/>')
            out.append(f'<text x="{x + 14}" y="13">{escape(label)}</text>')
        if self.title:
            out.append(f'<text x="{left}" y="14" font-weight="bold">{escape(self.title)}</text>')
        out.append("</svg>")
        return "\n".join(out)
