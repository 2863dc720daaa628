"""A fast scrolling time plot: one curve, threshold lines, shaded episodes, markers.

Built for 30 redraws a second of up to 5 minutes at 200 Hz: pen width 1, no grid, fixed
view ranges (no autorange), ``skipFiniteCheck`` with NaN-separated segments, min/max
decimation to about two points per pixel, and one path item per episode colour (so a
session with many episodes still costs a handful of graphics items).

In scroll mode (:meth:`TimePlot.set_scrolling`, the live dashboard) the x axis shows the
time before now and never changes: the curve, shading, markers and labels keep their
absolute times inside one group item that :meth:`TimePlot.scroll_to` shifts. Scrolling
then regenerates no axis, re-lays out nothing and leaves unchanged shading alone; a
changed x range (the review window, :meth:`TimePlot.set_data`) still works as before.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from numpy.typing import NDArray
from PySide6 import QtCore, QtGui, QtWidgets

from gui.widgets.theme import Theme

FloatArray = NDArray[np.float64]


def decimate_minmax(
    t: FloatArray, y: FloatArray, max_points: int
) -> tuple[FloatArray, FloatArray]:
    """At most ``max_points`` points keeping each bin's minimum and maximum (display only).

    A bin holding a NaN (a gap) becomes NaN so that the break stays visible.
    """
    n = t.size
    if n <= max_points:
        return t, y
    k = int(np.ceil(2 * n / max_points))
    m = n // k
    if m < 1:
        return t, y
    yy = y[: m * k].reshape(m, k)
    lo, hi = np.fmin.reduce(yy, axis=1), np.fmax.reduce(yy, axis=1)
    bad = np.isnan(yy).any(axis=1)
    lo[bad], hi[bad] = np.nan, np.nan
    tt = t[: m * k].reshape(m, k)
    t_out = np.repeat(tt[:, 0], 2)
    t_out[1::2] = tt[:, -1]
    y_out = np.empty(2 * m)
    y_out[0::2], y_out[1::2] = lo, hi
    tail_t, tail_y = t[m * k :], y[m * k :]
    return np.concatenate([t_out, tail_t]), np.concatenate([y_out, tail_y])


class Episode:
    """A shaded span: ``side`` picks its colour, ``label`` is written at its top.

    ``side`` is ``"left"``/``"right"`` for a hip-hike (the theme's side colour) or
    ``"drop"`` for a pelvic drop (the theme's drop colour, whichever side drops).
    """

    __slots__ = ("end_s", "label", "side", "start_s")

    def __init__(self, start_s: float, end_s: float, side: str, label: str = "") -> None:
        self.start_s, self.end_s, self.side, self.label = start_s, end_s, side, label


class TimePlot(pg.PlotWidget):
    """Scrolling plot of one signal against time.

    Parameters
    ----------
    title : str
        Shown at the top left inside the plot.
    unit : str
        Y axis label.
    y_range : (float, float)
        Fixed y range.
    theme : Theme
        Colours.
    colour_key : str
        Attribute of the theme used for the curve (``"anterior"``, ``"lateral"``).
    """

    #: Emitted after each paint (the dashboard measures notification-to-screen latency).
    painted = QtCore.Signal()

    def __init__(
        self,
        title: str,
        unit: str,
        y_range: tuple[float, float],
        theme: Theme,
        colour_key: str,
        parent: QtWidgets.QWidget | None = None,
    ) -> None:
        super().__init__(parent=parent, background=theme.background)
        self._colour_key = colour_key
        self._max_points = 4000
        item = self.getPlotItem()
        item.setMenuEnabled(False)
        item.hideButtons()
        item.setMouseEnabled(False, False)
        item.disableAutoRange()
        item.showGrid(False, False)
        item.setLabel("left", unit)
        item.getViewBox().setDefaultPadding(0.0)
        item.setClipToView(False)
        #: Everything drawn in data time; shifted by -now in scroll mode.
        self.content = pg.ItemGroup()
        item.getViewBox().addItem(self.content)
        self.curve = pg.PlotCurveItem(skipFiniteCheck=True, connect="finite", antialias=False)
        self.curve.setParentItem(self.content)
        self.zero_line = pg.InfiniteLine(pos=0.0, angle=0, movable=False)
        item.addItem(self.zero_line)
        self._thresholds: list[pg.InfiniteLine] = []
        #: "threshold" or "reference": the colour of every line in ``_thresholds``.
        self._threshold_kind = "threshold"
        self._shading: dict[str, QtWidgets.QGraphicsPathItem] = {}
        self._labels: list[pg.TextItem] = []
        self._label_starts: list[float] = []
        self._episodes_key: tuple[tuple[float, float, str, str], ...] | None = None
        self._markers_key: tuple[float, ...] | None = None
        self._markers = QtWidgets.QGraphicsPathItem()
        self._markers.setZValue(5)
        self._markers.setParentItem(self.content)
        #: Scroll mode: the visible span, s (None: absolute time axis).
        self.window_s: float | None = None
        #: Data time at x = 0 (scroll mode: now).
        self.origin_s = 0.0
        self.title = pg.TextItem(title, anchor=(0, 0))
        self.title.setParentItem(item.getViewBox())
        self.title.setPos(6, 2)
        self.y_range = y_range
        item.setYRange(*y_range, padding=0)
        for name in ("left", "bottom"):  # repainted every frame, changed rarely: keep a pixmap
            item.getAxis(name).setCacheMode(
                QtWidgets.QGraphicsItem.CacheMode.DeviceCoordinateCache
            )
        self.apply_theme(theme)

    # ---- appearance ---------------------------------------------------------------------
    def apply_theme(self, theme: Theme) -> None:
        """Recolour everything."""
        self.theme = theme
        self.setBackground(theme.background)
        item = self.getPlotItem()
        for name in ("left", "bottom"):
            ax = item.getAxis(name)
            ax.setPen(pg.mkPen(theme.axis, width=1))
            ax.setTextPen(pg.mkPen(theme.axis))
        self.curve.setPen(pg.mkPen(getattr(theme, self._colour_key), width=1))
        self.zero_line.setPen(pg.mkPen(theme.reference, width=1))
        for line in self._thresholds:
            line.setPen(self._threshold_pen())
        self.title.setColor(theme.foreground)
        font = QtGui.QFont()
        font.setPointSize(10)
        font.setBold(True)
        self.title.setFont(font)
        self._markers.setPen(pg.mkPen(theme.marker, width=1, style=QtCore.Qt.PenStyle.DashLine))
        for side, path in self._shading.items():
            self._style_shading(path, side)
        self._episodes_key = None  # label colours come with the next set_episodes

    def _threshold_pen(self) -> QtGui.QPen:
        kind = self._threshold_kind
        colour = self.theme.threshold if kind == "threshold" else self.theme.reference
        return pg.mkPen(colour, width=1, style=QtCore.Qt.PenStyle.DashLine)

    def set_thresholds(self, values: Sequence[float], kind: str = "threshold") -> None:
        """Horizontal dashed lines at ``values`` (``kind`` "threshold" or "reference")."""
        item = self.getPlotItem()
        for line in self._thresholds:
            item.removeItem(line)
        self._thresholds = []
        self._threshold_kind = kind
        for v in values:
            line = pg.InfiniteLine(pos=float(v), angle=0, movable=False)
            line.setPen(self._threshold_pen())
            item.addItem(line)
            self._thresholds.append(line)

    def set_y_range(self, lo: float, hi: float) -> None:
        """Fixed y range."""
        if (lo, hi) != self.y_range:
            self._episodes_key = self._markers_key = None  # drawn full height: redraw
        self.y_range = (lo, hi)
        self.getPlotItem().setYRange(lo, hi, padding=0)

    def set_scrolling(self, window_s: float) -> None:
        """Scroll mode: the x axis shows the last ``window_s`` seconds as ``-window_s .. 0``.

        The view range stays fixed; :meth:`scroll_to` moves the data under it.
        """
        self.window_s = float(window_s)
        self.getPlotItem().setXRange(-self.window_s, 0.0, padding=0)
        self._place_labels()

    def scroll_to(self, now_s: float) -> None:
        """Scroll mode: show data time ``now_s`` at the right edge (x = 0)."""
        if now_s == self.origin_s:
            return
        self.origin_s = float(now_s)
        self.content.setPos(-self.origin_s, 0.0)
        self._place_labels()

    def left_edge_s(self) -> float:
        """Data time at the left edge of the view."""
        return self.getPlotItem().viewRange()[0][0] + self.origin_s

    def episode_colour(self, side: str) -> str:
        """The colour of an episode's shading and label (``"drop"``: the drop colour)."""
        return self.theme.drop if side == "drop" else self.theme.side.get(side, self.theme.alert)

    def _style_shading(self, path: QtWidgets.QGraphicsPathItem, side: str) -> None:
        colour = QtGui.QColor(self.episode_colour(side))
        colour.setAlpha(48)
        path.setBrush(QtGui.QBrush(colour))
        edge = QtGui.QColor(colour)
        edge.setAlpha(140)
        path.setPen(pg.mkPen(edge, width=1))

    # ---- data -------------------------------------------------------------------------------
    def set_data(self, t: FloatArray, y: FloatArray, x_range: tuple[float, float]) -> None:
        """New samples (NaN separates segments) and the visible time span (absolute axis)."""
        # One min/max pair per two pixels: faithful for these signals, half the points.
        self._max_points = max(200, self.width())
        td, yd = decimate_minmax(t, y, self._max_points)
        self.set_curve(td, yd)
        self.getPlotItem().setXRange(*x_range, padding=0)
        self._place_labels()

    def set_curve(self, x: FloatArray, y: FloatArray) -> None:
        """Draw points as given (already thinned; data time; NaN breaks the curve)."""
        # 'all' draws a polygon (fast); 'finite' is only needed when a gap breaks the curve.
        connect = "finite" if np.isnan(y).any() else "all"
        self.curve.setData(x, y, connect=connect, skipFiniteCheck=True)

    def curve_data(self) -> tuple[FloatArray, FloatArray]:
        """What the curve currently holds (decimated, NaN at breaks)."""
        x, y = self.curve.getData()
        return (np.empty(0), np.empty(0)) if x is None else (np.asarray(x), np.asarray(y))

    def set_episodes(self, episodes: Sequence[Episode], *, labels: bool = True) -> None:
        """Shade each episode over the full height; one path item per side.

        Nothing is redrawn when the episodes are the same as last time.
        """
        shown = [ep for ep in episodes if ep.label] if labels else []
        key = tuple((ep.start_s, ep.end_s, ep.side, ep.label if labels else "")
                    for ep in episodes)
        if key == self._episodes_key:
            return
        self._episodes_key = key
        lo, hi = self.y_range
        by_side: dict[str, QtGui.QPainterPath] = {}
        for ep in episodes:
            path = by_side.setdefault(ep.side, QtGui.QPainterPath())
            path.addRect(QtCore.QRectF(ep.start_s, lo, max(ep.end_s - ep.start_s, 1e-3), hi - lo))
        for side in set(self._shading) | set(by_side):
            item = self._shading.get(side)
            if item is None:
                item = self._shading[side] = QtWidgets.QGraphicsPathItem()
                item.setZValue(-10)
                self._style_shading(item, side)
                item.setParentItem(self.content)
            item.setPath(by_side.get(side, QtGui.QPainterPath()))
        while len(self._labels) < len(shown):
            text = pg.TextItem(anchor=(0, 0))
            font = QtGui.QFont()
            font.setBold(True)
            font.setPointSize(9)
            text.setFont(font)
            text.setParentItem(self.content)
            self._labels.append(text)
        self._label_starts = [ep.start_s for ep in shown]
        for text, ep in zip(self._labels, shown, strict=False):
            text.setText(ep.label)
            text.setColor(self.episode_colour(ep.side))
            text.setVisible(True)
        for text in self._labels[len(shown) :]:
            text.setVisible(False)
        self._place_labels()

    def _place_labels(self) -> None:
        """Episode labels at the top, at the episode start or the left edge if later."""
        if not self._label_starts:
            return
        vb = self.getPlotItem().getViewBox()
        (v0, v1), _ = vb.viewRange()
        lo, hi = self.y_range
        left = v0 + self.origin_s
        s_per_px = (v1 - v0) / max(1.0, vb.width())
        title_end = left + (10 + self.title.boundingRect().width()) * s_per_px
        row_h = (hi - lo) / max(1.0, vb.height()) * 18
        for text, start in zip(self._labels, self._label_starts, strict=False):
            x = max(start, left)
            text.setPos(x, hi - row_h if x < title_end else hi)  # not over the title

    def episode_regions(self) -> dict[str, list[tuple[float, float]]]:
        """The shaded spans per side, as drawn (for tests)."""
        out: dict[str, list[tuple[float, float]]] = {}
        for side, item in self._shading.items():
            rects = [p.boundingRect() for p in item.path().toSubpathPolygons()]
            out[side] = [(r.left(), r.right()) for r in rects]
        return out

    def episode_labels(self) -> list[str]:
        """Texts of the visible episode labels (for tests)."""
        return [t.toPlainText() for t in self._labels if t.isVisible()]

    def set_markers(self, times_s: Sequence[float]) -> None:
        """Vertical dashed lines at the marker times (one path item; kept if unchanged)."""
        key = tuple(times_s)
        if key == self._markers_key:
            return
        self._markers_key = key
        lo, hi = self.y_range
        path = QtGui.QPainterPath()
        for t in times_s:
            path.moveTo(t, lo)
            path.lineTo(t, hi)
        self._markers.setPath(path)

    def paintEvent(self, event: QtGui.QPaintEvent) -> None:
        """Paint, then announce it."""
        super().paintEvent(event)
        self.painted.emit()

