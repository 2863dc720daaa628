"""The review window's gait-cycle panel: obliquity and anterior tilt over 0-100 % of a stride.

Left and right mean +- SD curves of the session (``SessionResult.cycles``, the
``gait.cycles`` document of :func:`analysis.gait.cycle.cycles_json`) over the normal band.
The band is a zero-mean shape from the literature (the document's ``normal.source``);
pelviscope's angles are relative to neutral standing, so - as in the HTML report
(:func:`analysis.report.gait.cycle_chart_svg`) - it is drawn around the mean of the
measured curves: the panel compares shape and range, not the offset.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any

import numpy as np
import pyqtgraph as pg
from numpy.typing import NDArray
from PySide6 import QtCore, QtGui, QtWidgets

from gui.widgets.theme import Theme

FloatArray = NDArray[np.float64]
#: Signal key of the cycles document -> plot title and y label.
SIGNALS = {
    "obliquity": ("Pelvic obliquity (+ = left side up)", "obliquity (°)"),
    "anterior_tilt": ("Anterior tilt (+ = forward)", "anterior tilt (°)"),
}


def _curve(values: Any) -> FloatArray:
    """A JSON list (None = not known) as floats with NaN."""
    return np.array([np.nan if v is None else v for v in (values or [])], dtype=float)


def side_curves(
    cycles: Mapping[str, Any], signal: str
) -> dict[str, tuple[FloatArray, FloatArray, int]]:
    """``{side: (mean_deg, sd_deg, n_strides)}`` of the session's sides with strides."""
    n_points = len(cycles.get("percent", ()))
    out = {}
    for side in ("left", "right"):
        part = (cycles.get("session") or {}).get(side) or {}
        mean = _curve(part.get(f"{signal}_mean_deg"))
        if part.get("n_strides", 0) and mean.size == n_points and np.isfinite(mean).any():
            sd = _curve(part.get(f"{signal}_sd_deg"))
            out[side] = (mean, np.where(np.isfinite(sd), sd, 0.0), int(part["n_strides"]))
    return out


def normal_band(
    cycles: Mapping[str, Any], signal: str, centre_deg: float
) -> tuple[FloatArray, FloatArray] | None:
    """The normal band ``(low, high)`` around ``centre_deg``, or None without one."""
    normal = (cycles.get("normal") or {}).get(signal)
    if not normal:
        return None
    mean, sd = _curve(normal.get("mean_deg")), _curve(normal.get("sd_deg"))
    return centre_deg + mean - sd, centre_deg + mean + sd


class CyclePanel(QtWidgets.QWidget):
    """Two plots (obliquity, anterior tilt) of left/right mean +- SD and the normal band."""

    def __init__(self, theme: Theme, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.theme = theme
        self.text = QtWidgets.QLabel()
        self.text.setWordWrap(True)
        self.text.setTextFormat(QtCore.Qt.TextFormat.RichText)
        self.plots: dict[str, pg.PlotWidget] = {}
        #: What is drawn, per signal (for tests): ``{"left": (mean, sd, n), ..., "normal": ...}``.
        self.drawn: dict[str, dict[str, Any]] = {}
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(self.text)
        for signal, (title, unit) in SIGNALS.items():
            plot = pg.PlotWidget(background=theme.background)
            item = plot.getPlotItem()
            item.setMenuEnabled(False)
            item.hideButtons()
            item.setMouseEnabled(x=False, y=False)
            item.setTitle(title, color=theme.foreground, size="9pt")
            item.setLabel("left", unit)
            item.setLabel("bottom", "gait cycle (%)")
            item.setXRange(0, 100, padding=0.01)
            legend = item.addLegend(offset=(6, 2), labelTextColor=theme.foreground)
            legend.setColumnCount(3)  # one row above the curves
            self.plots[signal] = plot
            lay.addWidget(plot, 1)
        self.clear("no strides yet")

    def clear(self, message: str) -> None:
        """Nothing to draw: show ``message``."""
        self.text.setText(f"<b>Gait cycle</b> &nbsp; {html.escape(message)}")
        for plot in self.plots.values():
            plot.getPlotItem().clear()
        self.drawn = {}

    def set_cycles(self, cycles: Mapping[str, Any] | None) -> None:
        """Draw ``SessionResult.cycles`` (None: no complete strides)."""
        if not cycles:
            self.clear("no complete strides in this session")
            return
        self.drawn = {}
        x = np.asarray(cycles.get("percent", ()), dtype=float)
        counts = []
        for signal, plot in self.plots.items():
            item = plot.getPlotItem()
            item.clear()
            curves = side_curves(cycles, signal)
            drawn: dict[str, Any] = dict(curves)
            if curves:
                centre = float(np.nanmean([np.nanmean(m) for m, _, _ in curves.values()]))
                band = normal_band(cycles, signal, centre)
                if band is not None:
                    drawn["normal"] = band
                    self._area(item, x, *band, QtGui.QColor(self.theme.reference), 70, "normal")
            for side, (mean, sd, n) in curves.items():
                colour = QtGui.QColor(self.theme.side[side])
                self._area(item, x, mean - sd, mean + sd, colour, 40, None)
                item.plot(x, mean, pen=pg.mkPen(colour, width=2), name=f"{side} (n={n})")
            if signal == "obliquity":
                counts = [f"{side} {n}" for side, (_, _, n) in curves.items()]
            self.drawn[signal] = drawn
        sym = (cycles.get("symmetry") or {}).get("swing_obliquity_deg") or {}
        diff = sym.get("difference_deg")
        diff_txt = (f" · left minus right in own swing {diff:+.1f}°"
                    if isinstance(diff, int | float) else "")
        strides = ", ".join(counts) if counts else "none"
        source = html.escape(str((cycles.get("normal") or {}).get("source", "")))
        self.text.setText(
            f"<b>Gait cycle</b> &nbsp; mean ± SD per side, strides: {strides}{diff_txt}<br>"
            f"<span style='color:{self.theme.muted}'>grey: normal shape, centred on the "
            f"measured curves (angles are relative to neutral standing). {source}</span>"
        )
        self.text.setToolTip(source)

    @staticmethod
    def _area(item: pg.PlotItem, x: FloatArray, lo: FloatArray, hi: FloatArray,
              colour: QtGui.QColor, alpha: int, name: str | None) -> None:
        fill = QtGui.QColor(colour)
        fill.setAlpha(alpha)
        ok = np.isfinite(lo) & np.isfinite(hi)
        top = pg.PlotCurveItem(x[ok], hi[ok])
        bottom = pg.PlotCurveItem(x[ok], lo[ok])
        area = pg.FillBetweenItem(top, bottom, brush=pg.mkBrush(fill))
        item.addItem(area)
        if name is not None and item.legend is not None:
            item.legend.addItem(pg.BarGraphItem(x=[0], height=[0], width=1, brush=fill), name)
