"""Detail plots (anterior, lateral tilt) and the whole-session overview, linked.

The overview's :class:`pyqtgraph.LinearRegionItem` selects the span the detail plots
show; zooming or panning the detail plots moves the region. Each view change draws only
what the model's min/max pyramid gives for the span (about two points per pixel column),
the episodes overlapping it (one path item per side) and the activity band (one image).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from analysis.session import ACTIVITIES
from gui.review.model import SessionView, format_clock
from gui.widgets.activity_band import ActivityBand
from gui.widgets.theme import Theme
from gui.widgets.time_plot import Episode, TimePlot

LEFT_AXIS_PX = 52
MIN_SPAN_S = 2.0
MAX_LABEL_ROWS = 3
#: At most this many damage spans are hatched per plot (each is a scene item).
MAX_DAMAGE_SPANS = 500


class ElapsedAxis(pg.AxisItem):
    """Bottom axis in elapsed session time (``m:ss`` / ``h:mm:ss``)."""

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        """Tick labels."""
        return [format_clock(v, with_tenths=spacing < 1) for v in values]


def _prepare(plot: TimePlot, theme: Theme, *, bottom: bool) -> None:
    item = plot.getPlotItem()
    item.setAxisItems({"bottom": ElapsedAxis(orientation="bottom")})
    item.getAxis("left").setWidth(LEFT_AXIS_PX)
    if not bottom:
        item.getAxis("bottom").setStyle(showValues=False)
        item.getAxis("bottom").setHeight(6)
    plot.apply_theme(theme)


def _shaded(e: dict[str, Any]) -> Episode:
    """An episode's shading: its side's colour for a hip-hike, the drop colour for a drop."""
    return Episode(e["start_s"], e["end_s"], "drop" if e["kind"] == "drop" else e["side"])


class SessionPlots(QtWidgets.QWidget):
    """The plotting half of the review window.

    Signals
    -------
    spanChanged(float, float)
        The detail view now shows this span (after zoom, pan, region drag or a jump).
    """

    spanChanged = QtCore.Signal(float, float)

    def __init__(self, theme: Theme, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.theme = theme
        self.model: SessionView | None = None
        self.anterior = TimePlot("Anterior tilt  (+ = tipped forward)", "°", (-10, 10), theme,
                                 "anterior")
        self.lateral = TimePlot("Lateral tilt  (+ = left side higher)", "°", (-10, 10), theme,
                                "lateral")
        _prepare(self.anterior, theme, bottom=False)
        _prepare(self.lateral, theme, bottom=True)
        self.lateral.setXLink(self.anterior)
        for p in (self.anterior, self.lateral):
            item = p.getPlotItem()
            item.setMouseEnabled(x=True, y=False)
            item.getViewBox().setMouseMode(pg.ViewBox.PanMode)
        self.band = ActivityBand(ACTIVITIES, theme)
        self.band.set_left_width(LEFT_AXIS_PX)
        self.overview = TimePlot("Whole session", "°", (-10, 10), theme, "lateral")
        _prepare(self.overview, theme, bottom=True)
        self.overview_anterior = pg.PlotCurveItem(connect="finite", skipFiniteCheck=True,
                                                  antialias=False)
        self.overview_anterior.setPen(pg.mkPen(theme.anterior, width=1))
        self.overview.getPlotItem().addItem(self.overview_anterior)
        self.overview_band = ActivityBand(ACTIVITIES, theme)
        self.overview_band.set_left_width(LEFT_AXIS_PX)
        self.overview_band.legend.hide()
        self.overview_band.plot.setFixedHeight(10)
        self.region = pg.LinearRegionItem(movable=True, swapMode="block")
        self.region.setZValue(20)
        brush = QtGui.QColor(theme.anterior)
        brush.setAlpha(40)
        self.region.setBrush(brush)
        self.overview.getPlotItem().addItem(self.region)
        self.overview.setFixedHeight(120)
        self._marker_labels: list[pg.TextItem] = []
        self._episode_labels: list[pg.TextItem] = []
        self._add_episode_labels(8 * MAX_LABEL_ROWS)  # made now, not on the first zoom-out
        self._updating = False
        self._span = (0.0, 1.0)
        self._damage_items: list[tuple[TimePlot, pg.LinearRegionItem]] = []

        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        lay.addWidget(self.anterior, 5)
        lay.addWidget(self.lateral, 6)
        lay.addWidget(self.band)
        lay.addSpacing(6)
        lay.addWidget(self.overview)
        lay.addWidget(self.overview_band)

        self.anterior.getPlotItem().sigXRangeChanged.connect(self._on_detail_range)
        self.region.sigRegionChanged.connect(self._on_region)

    # ---- set-up ---------------------------------------------------------------------------
    def set_model(self, model: SessionView) -> None:
        """Show a (new, re-analysed or completed) session, keeping the span if it still fits."""
        first = self.model is None or self.model.path != model.path
        self.model = model
        t0, t1 = model.t_range
        self.anterior.set_y_range(*model.anterior_range)
        self.lateral.set_y_range(*model.lateral_range)
        lo = min(model.anterior_range[0], model.lateral_range[0])
        hi = max(model.anterior_range[1], model.lateral_range[1])
        self.overview.set_y_range(lo, hi)
        for p in (self.anterior, self.lateral):
            p.getPlotItem().getViewBox().setLimits(xMin=t0, xMax=t1, minXRange=MIN_SPAN_S)
        self.overview.getPlotItem().setXRange(t0, t1, padding=0)
        self.region.setBounds((t0, t1))
        self._draw_overview()
        self._set_damage(model.damage_spans)
        self.refresh_annotations()
        if first:
            span = min(t1 - t0, 600.0)
            self.set_span(t0, t0 + span)
        else:
            self.set_span(*self._span)

    def _set_damage(self, spans: list[tuple[float, float]]) -> None:
        """Hatch the spans lost to file damage or implausible samples in every plot."""
        for plot, item in self._damage_items:
            plot.getPlotItem().removeItem(item)
        self._damage_items = []
        colour = QtGui.QColor(self.theme.warn)
        colour.setAlpha(150)
        brush = QtGui.QBrush(colour, QtCore.Qt.BrushStyle.BDiagPattern)
        for plot in (self.anterior, self.lateral, self.overview):
            for a, b in spans[:MAX_DAMAGE_SPANS]:
                item = pg.LinearRegionItem((a, b), movable=False, brush=brush,
                                           pen=pg.mkPen(colour, width=1))
                item.setZValue(-5)
                plot.getPlotItem().addItem(item)
                self._damage_items.append((plot, item))

    def damage_regions(self) -> list[tuple[float, float]]:
        """The hatched damage spans of the detail plots (for tests)."""
        regions = [item.getRegion() for plot, item in self._damage_items if plot is self.lateral]
        return [(float(lo), float(hi)) for lo, hi in regions]

    def _draw_overview(self) -> None:
        m = self.model
        if m is None:
            return
        t0, t1 = m.t_range
        t, ant, lat = m.view(t0, t1, 2 * max(400, self.overview.width()))
        self.overview.curve.setData(t, lat, connect="finite", skipFiniteCheck=True)
        self.overview_anterior.setData(t, ant, connect="finite", skipFiniteCheck=True)
        self.overview_band.set_data(m.time_s, m.activity_codes, (t0, t1))

    def refresh_annotations(self) -> None:
        """Redraw episodes, thresholds and markers (after a re-detection or an edit)."""
        m = self.model
        if m is None:
            return
        self.overview.set_episodes([_shaded(e) for e in m.episodes], labels=False)
        thr = m.params.static_threshold_deg
        self.lateral.set_thresholds([thr, -thr])
        times = m.all_marker_times()
        for p in (self.anterior, self.lateral, self.overview):
            p.set_markers(times)
        self._draw_detail()

    # ---- span ---------------------------------------------------------------------------------
    @property
    def span(self) -> tuple[float, float]:
        """The detail view's time span."""
        return self._span

    def set_span(self, x0: float, x1: float) -> None:
        """Show ``[x0, x1]`` in the detail plots (clamped to the session)."""
        if self.model is None:
            return
        t0, t1 = self.model.t_range
        width = max(MIN_SPAN_S, x1 - x0)
        width = min(width, t1 - t0)
        x0 = min(max(x0, t0), t1 - width)
        self.anterior.getPlotItem().setXRange(x0, x0 + width, padding=0)
        self._on_detail_range()

    def _on_detail_range(self, *args: object) -> None:
        if self._updating or self.model is None:
            return
        x0, x1 = self.anterior.getPlotItem().viewRange()[0]
        self._span = (float(x0), float(x1))
        self._updating = True
        try:
            self.region.setRegion((x0, x1))
        finally:
            self._updating = False
        self._draw_detail()
        self.spanChanged.emit(float(x0), float(x1))

    def _on_region(self) -> None:
        if self._updating or self.model is None:
            return
        x0, x1 = self.region.getRegion()
        if x1 - x0 < MIN_SPAN_S:
            return
        self._updating = True
        try:
            self.anterior.getPlotItem().setXRange(x0, x1, padding=0)
        finally:
            self._updating = False
        self._span = (float(x0), float(x1))
        self._draw_detail()
        self.spanChanged.emit(float(x0), float(x1))

    # ---- drawing the detail -------------------------------------------------------------------
    def _draw_detail(self) -> None:
        m = self.model
        if m is None:
            return
        x0, x1 = self._span
        t, ant, lat = m.view(x0, x1, 2 * max(400, self.lateral.width()))
        self.anterior.curve.setData(t, ant, connect="finite", skipFiniteCheck=True)
        self.lateral.curve.setData(t, lat, connect="finite", skipFiniteCheck=True)
        self.band.set_data(m.time_s, m.activity_codes, (x0, x1))
        shown = [e for e in m.episodes if e["end_s"] >= x0 and e["start_s"] <= x1]
        self.anterior.set_episodes([_shaded(e) for e in shown], labels=False)
        self.lateral.set_episodes([_shaded(e) for e in shown], labels=False)
        self._label_episodes(shown, x0, x1)
        self._label_markers(x0, x1)

    def _label_episodes(self, shown: list[dict[str, Any]], x0: float, x1: float) -> None:
        """Side labels at the top of the lateral plot, stacked in rows where they would overlap."""
        vb = self.lateral.getPlotItem().getViewBox()
        s_per_px = (x1 - x0) / max(1.0, vb.width())
        lo, hi = self.lateral.y_range
        row_h = (hi - lo) / max(1.0, vb.height()) * 16
        row_end: list[float] = []
        placed: list[tuple[str, str, float, int]] = []
        for e in shown:
            drop = e["kind"] == "drop"
            label = f"{e['side'].upper()} {'pelvic drop' if drop else 'hip-hike, ' + e['kind']}"
            start = max(e["start_s"], x0)
            row = next((i for i, r in enumerate(row_end) if r <= start), len(row_end))
            if row >= MAX_LABEL_ROWS:  # zoomed far out: the shading and the table suffice
                continue
            if row == len(row_end):
                row_end.append(0.0)
            row_end[row] = start + (8 * len(label) + 6) * s_per_px
            placed.append((label, "drop" if drop else e["side"], start, row))
        self._add_episode_labels(len(placed))
        for text, (label, side, start, row) in zip(self._episode_labels, placed, strict=False):
            if text.toPlainText() != label:
                text.setText(label)
                text.setColor(self.lateral.episode_colour(side))
            text.setPos(start, hi - (row + 1) * row_h)  # row 0 is the plot title's
            text.setVisible(True)
        for text in self._episode_labels[len(placed):]:
            text.setVisible(False)

    def _add_episode_labels(self, count: int) -> None:
        """Have at least ``count`` label items (hidden until used)."""
        vb = self.lateral.getPlotItem().getViewBox()
        while len(self._episode_labels) < count:
            text = pg.TextItem(anchor=(0, 0))
            font = QtGui.QFont()
            font.setBold(True)
            font.setPointSize(9)
            text.setFont(font)
            text.setVisible(False)
            vb.addItem(text)
            self._episode_labels.append(text)

    def episode_labels(self) -> list[str]:
        """Texts of the visible episode labels (for tests)."""
        return [t.toPlainText() for t in self._episode_labels if t.isVisible()]

    def _label_markers(self, x0: float, x1: float) -> None:
        m = self.model
        assert m is not None
        shown = [mk for mk in [*m.recording_markers, *m.markers] if x0 <= mk.time_s <= x1]
        vb = self.anterior.getPlotItem().getViewBox()
        while len(self._marker_labels) < len(shown):
            text = pg.TextItem(anchor=(0, 1), color=self.theme.marker)
            vb.addItem(text)
            self._marker_labels.append(text)
        lo = self.anterior.y_range[0]
        for text, mk in zip(self._marker_labels, shown, strict=False):
            text.setText(mk.label or "marker")
            text.setPos(mk.time_s, lo)
            text.setVisible(True)
        for text in self._marker_labels[len(shown):]:
            text.setVisible(False)

    def resizeEvent(self, event: QtGui.QResizeEvent) -> None:
        """Re-decimate for the new width."""
        super().resizeEvent(event)
        self._draw_overview()
        self._draw_detail()

    # ---- for tests and the benchmark ----------------------------------------------------------
    def detail_curve(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(t, anterior, lateral)`` as currently drawn in the detail plots."""
        t, ant = self.anterior.curve_data()
        _, lat = self.lateral.curve_data()
        return t, ant, lat
