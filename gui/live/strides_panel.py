"""The dashboard's small gait-cycle view: pelvic obliquity of the last strides of each side.

Each stride thin, the side's mean thick, over 0-100 % of the cycle (initial contact to the
next of the same foot; + = the stride's side up), from
:meth:`gui.live.model.LiveModel.last_strides`. The review window has the full view.
"""

from __future__ import annotations

import warnings

import numpy as np
import pyqtgraph as pg
from PySide6 import QtGui, QtWidgets

from analysis.gait.cycle import PERCENT, StrideCycles
from gui.widgets.theme import Theme


class StridesPanel(QtWidgets.QGroupBox):
    """Obliquity over the gait cycle of the last ``n`` strides per side."""

    def __init__(self, theme: Theme, n: int = 10,
                 parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(f"Last {n} strides per side", parent)
        self.n = n
        self.theme = theme
        self.plot = pg.PlotWidget(background=theme.background)
        item = self.plot.getPlotItem()
        item.setMenuEnabled(False)
        item.hideButtons()
        item.setMouseEnabled(False, False)
        item.setLabel("left", "obliquity (°)")
        item.setLabel("bottom", "gait cycle (%)")
        item.setXRange(0, 100, padding=0.01)
        item.addLegend(offset=(4, 2), labelTextColor=theme.foreground).setColumnCount(2)
        self.plot.setMinimumHeight(120)
        self.info = QtWidgets.QLabel("walk to see the strides")
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        lay.addWidget(self.plot)
        lay.addWidget(self.info)
        #: Strides drawn per side (for tests).
        self.counts = {"left": 0, "right": 0}

    def set_cycles(self, cycles: StrideCycles | None) -> None:
        """Draw the strides (None: nothing yet)."""
        item = self.plot.getPlotItem()
        item.clear()
        self.counts = {"left": 0, "right": 0}
        if cycles is None or not len(cycles):
            self.info.setText("walk to see the strides")
            return
        for side in ("left", "right"):
            rows = cycles.obliquity_deg[cycles.side == side]
            if not rows.shape[0]:
                continue
            colour = QtGui.QColor(self.theme.side[side])
            thin = QtGui.QColor(colour)
            thin.setAlpha(70)
            for row in rows:
                item.plot(PERCENT, row, pen=pg.mkPen(thin, width=1))
            with warnings.catch_warnings():  # a point unknown in every stride stays NaN
                warnings.simplefilter("ignore", RuntimeWarning)
                mean = np.nanmean(rows, axis=0)
            item.plot(PERCENT, mean, pen=pg.mkPen(colour, width=3),
                      name=f"{side} ({rows.shape[0]})")
            self.counts[side] = int(rows.shape[0])
        self.info.setText("+ = stride side up · thin: strides, thick: mean")
