"""A thin colour band of the activity over time, with a legend (one image item)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from numpy.typing import NDArray
from PySide6 import QtWidgets

from gui.widgets.theme import Theme

#: Columns of the band image (the band is resampled to this many time bins).
BAND_BINS = 1200


class ActivityBand(QtWidgets.QWidget):
    """Activity codes drawn as coloured blocks under the time plots.

    Parameters
    ----------
    labels : sequence of str
        Label of each code (code ``i`` is ``labels[i]``; -1 = not decided, drawn blank).
    theme : Theme
        Colours (``theme.activity[label]``).
    """

    def __init__(
        self, labels: Sequence[str], theme: Theme, parent: QtWidgets.QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.labels = tuple(labels)
        self.plot = pg.PlotWidget(background=theme.background)
        item = self.plot.getPlotItem()
        item.setMenuEnabled(False)
        item.hideButtons()
        item.setMouseEnabled(False, False)
        item.disableAutoRange()
        item.hideAxis("bottom")
        item.getAxis("left").setWidth(1)
        item.getAxis("left").setStyle(showValues=False)
        item.getAxis("left").setTicks([[]])
        item.setYRange(0, 1, padding=0)
        self.image = pg.ImageItem(axisOrder="row-major")
        item.addItem(self.image)
        self.plot.setFixedHeight(22)
        self.legend = QtWidgets.QLabel()
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(2)
        lay.addWidget(self.plot)
        lay.addWidget(self.legend)
        self.codes = np.empty(0, np.int8)
        self.apply_theme(theme)

    def set_left_width(self, width: int) -> None:
        """Align with the plots above (their left axis width, px)."""
        self.plot.getPlotItem().getAxis("left").setWidth(width)

    def apply_theme(self, theme: Theme) -> None:
        """Recolour the band and the legend."""
        self.theme = theme
        self.plot.setBackground(theme.background)
        self.plot.getPlotItem().getAxis("left").setPen(theme.background)
        lut = [pg.mkColor(theme.activity.get(name, theme.background)).getRgb()
               for name in self.labels]
        lut.append(pg.mkColor(theme.background).getRgb())  # code -1 (undecided)
        self._lut = np.array(lut, dtype=np.ubyte)
        chips = "".join(
            f'<span style="color:{theme.activity[n]};font-size:14px">&#9632;</span>'
            f'<span style="color:{theme.muted}">&nbsp;{n}&nbsp;&nbsp;</span>'
            for n in self.labels if n in theme.activity and n != "unknown"
        )
        self.legend.setText(chips)
        if self.codes.size:
            self.image.setImage(self._lut[self.codes][None, :, :], autoLevels=False)

    def set_data(
        self, t: NDArray[np.float64], codes: NDArray[np.int8], x_range: tuple[float, float]
    ) -> None:
        """Activity code per sample at times ``t``; the band spans ``x_range``."""
        x0, x1 = x_range
        item = self.plot.getPlotItem()
        item.setXRange(x0, x1, padding=0)
        if t.size == 0:
            self.image.clear()
            self.codes = np.empty(0, np.int8)
            return
        edges = np.linspace(x0, x1, BAND_BINS + 1)
        centres = 0.5 * (edges[:-1] + edges[1:])
        idx = np.searchsorted(t, centres, side="right") - 1
        valid = (idx >= 0) & (centres <= t[-1])
        binned = np.full(BAND_BINS, -1, dtype=np.int8)
        binned[valid] = codes[idx[valid]]
        self.codes = binned
        self.image.setImage(self._lut[binned][None, :, :], autoLevels=False)
        self.image.setRect(x0, 0.0, x1 - x0, 1.0)

    def label_at(self, time_s: float) -> str:
        """The label drawn at ``time_s`` ("" if blank) - for tests."""
        x0, x1 = self.plot.getPlotItem().viewRange()[0]
        if not self.codes.size or not x0 <= time_s <= x1:
            return ""
        i = min(BAND_BINS - 1, int((time_s - x0) / (x1 - x0) * BAND_BINS))
        c = int(self.codes[i])
        return self.labels[c] if c >= 0 else ""
