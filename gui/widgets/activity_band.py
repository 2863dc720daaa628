"""A thin colour band of the activity over time, with a legend (one image item).

In scroll mode (:meth:`ActivityBand.set_scrolling`, the live dashboard) the view range is
fixed at ``-window .. 0`` and the image keeps data time in a group shifted by -now; its
bins are aligned to data time (at least ``MIN_BIN_S`` wide - activity is decided per
0.25 s frame), so the image is rebuilt only when a bin starts or a label is decided,
not on every frame.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from numpy.typing import NDArray
from PySide6 import QtWidgets

from gui.widgets.theme import Theme

#: Columns of the band image (the band is resampled to this many time bins).
BAND_BINS = 1200
#: Narrowest bin in scroll mode, s.
MIN_BIN_S = 0.125


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
        #: Holds the image in data time; shifted by -now in scroll mode.
        self.content = pg.ItemGroup()
        item.getViewBox().addItem(self.content)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setParentItem(self.content)
        self.window_s: float | None = None
        self.origin_s = 0.0
        self._rect = (0.0, 1.0)
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

    def set_scrolling(self, window_s: float) -> None:
        """Scroll mode: a fixed view of the last ``window_s`` seconds (see the module)."""
        self.window_s = float(window_s)
        self.plot.getPlotItem().setXRange(-self.window_s, 0.0, padding=0)

    def scroll_to(self, now_s: float) -> None:
        """Scroll mode: show data time ``now_s`` at the right edge."""
        if now_s != self.origin_s:
            self.origin_s = float(now_s)
            self.content.setPos(-self.origin_s, 0.0)

    def set_data(
        self, t: NDArray[np.float64], codes: NDArray[np.int8], x_range: tuple[float, float]
    ) -> None:
        """Activity code per sample at times ``t``; the band spans ``x_range`` (data time).

        In scroll mode the view range stays put (``x_range`` only selects the bins) and
        the image is left alone when its bins did not change.
        """
        x0, x1 = x_range
        if self.window_s is None:
            self.plot.getPlotItem().setXRange(x0, x1, padding=0)
            n = BAND_BINS
        else:
            bin_s = max(self.window_s / BAND_BINS, MIN_BIN_S)
            x0 = np.floor(x0 / bin_s) * bin_s
            n = int(np.ceil(self.window_s / bin_s)) + 1
            x1 = x0 + n * bin_s
        if t.size == 0:
            self.image.clear()
            self.codes = np.empty(0, np.int8)
            return
        centres = x0 + (np.arange(n) + 0.5) * ((x1 - x0) / n)
        idx = np.searchsorted(t, centres, side="right") - 1
        valid = (idx >= 0) & (centres <= t[-1])
        binned = np.full(n, -1, dtype=np.int8)
        binned[valid] = codes[idx[valid]]
        if self.window_s is not None and (x0, x1) == self._rect and np.array_equal(
            binned, self.codes
        ):
            return
        self.codes = binned
        self._rect = (x0, x1)
        self.image.setImage(self._lut[binned][None, :, :], autoLevels=False)
        self.image.setRect(x0, 0.0, x1 - x0, 1.0)

    def label_at(self, time_s: float) -> str:
        """The label drawn at ``time_s`` (data time; "" if blank) - for tests."""
        v0, v1 = self.plot.getPlotItem().viewRange()[0]
        x0, x1 = self._rect
        n = self.codes.size
        if not n or not v0 + self.origin_s <= time_s <= v1 + self.origin_s:
            return ""
        if not x0 <= time_s <= x1:
            return ""
        i = min(n - 1, int((time_s - x0) / (x1 - x0) * n))
        c = int(self.codes[i])
        return self.labels[c] if c >= 0 else ""
