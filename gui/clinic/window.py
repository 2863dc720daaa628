"""The guided test / exercise window: big text readable from 2 m, a trace with the target.

A thin view of :class:`gui.clinic.model.ClinicModel`: a timer takes the samples that are
due from a :class:`ReplaySource` (or any object with the same ``read``), feeds the model
and draws its :class:`~gui.clinic.model.View`. No analysis here.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
import pyqtgraph as pg
from numpy.typing import NDArray
from PySide6 import QtCore, QtGui, QtWidgets

from gui.clinic.model import ClinicModel, Step, View
from gui.clinic.recording import ClinicRecording
from gui.widgets.theme import LIGHT, Theme

FloatArray = NDArray[np.float64]


class ChunkSource(Protocol):
    """Anything that hands out the samples due by a time."""

    def read(self, until_s: float) -> tuple[FloatArray, FloatArray, FloatArray | None]:
        """Samples with time <= ``until_s`` not handed out yet (time, acc, gyr)."""
        ...

    @property
    def start_s(self) -> float:
        """Time of the first sample."""
        ...

    @property
    def finished(self) -> bool:
        """No sample is left."""
        ...


@dataclass
class ReplaySource:
    """Recorded or simulated samples replayed in chunks (sensor frame).

    Parameters
    ----------
    time_s, acc_mps2, gyr_rps : ndarray
        The samples.
    """

    time_s: FloatArray
    acc_mps2: FloatArray
    gyr_rps: FloatArray | None
    _next: int = 0

    def read(self, until_s: float) -> tuple[FloatArray, FloatArray, FloatArray | None]:
        """Samples up to ``until_s`` (session time) not read yet."""
        end = int(np.searchsorted(self.time_s, until_s, side="right"))
        a, self._next = self._next, max(self._next, end)
        gyr = None if self.gyr_rps is None else self.gyr_rps[a:self._next]
        return self.time_s[a:self._next], self.acc_mps2[a:self._next], gyr

    @property
    def start_s(self) -> float:
        """Time of the first sample."""
        return float(self.time_s[0]) if self.time_s.size else 0.0

    @property
    def finished(self) -> bool:
        """Every sample was read."""
        return self._next >= self.time_s.size


TONES = {"good": "ok", "bad": "alert", "neutral": "foreground"}


class ClinicWindow(QtWidgets.QWidget):
    """Guided test or exercise screen.

    Parameters
    ----------
    model : ClinicModel
        The state machine.
    source : ChunkSource
        Where samples come from.
    speed : float
        Replay speed (1 = real time).
    interval_ms : int
        Timer period; at most 50 ms so that feedback follows the data within 100 ms.
    recording : ClinicRecording, optional
        Where the samples are recorded, with the test's marker and outcome (closed when
        the test ends or the window closes).
    """

    def __init__(self, model: ClinicModel, source: ChunkSource, *, speed: float = 1.0,
                 interval_ms: int = 50, theme: Theme = LIGHT,
                 recording: ClinicRecording | None = None) -> None:
        super().__init__()
        self.model, self.source, self.speed, self.theme = model, source, speed, theme
        self.recording = recording
        #: The recording written, once the test ended.
        self.recorded: Path | None = None
        self.setWindowTitle(f"pelviscope clinic - {model.spec.title}")
        self.resize(1280, 800)
        self.title = QtWidgets.QLabel(model.spec.title.upper())
        self.headline = QtWidgets.QLabel(model.view.headline)
        self.value = QtWidgets.QLabel("")
        self.detail = QtWidgets.QLabel("")
        for w in (self.headline, self.detail):
            w.setWordWrap(True)
        for w in (self.title, self.headline, self.value, self.detail):
            w.setAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)
        self.plot = pg.PlotWidget(background=theme.background)
        self.plot.setMenuEnabled(False)
        self.plot.setMouseEnabled(False, False)
        self.plot.hideButtons()
        self.plot.setMinimumHeight(220)
        axis_pen = pg.mkPen(theme.axis)
        self._tick_font = QtGui.QFont()  # kept: the axes paint with it later
        self._tick_font.setPixelSize(18)
        for name in ("left", "bottom"):
            ax = self.plot.getAxis(name)
            ax.setPen(axis_pen)
            ax.setTextPen(axis_pen)
            ax.setTickFont(self._tick_font)
        self.plot.setLabel("bottom", "s before now")
        self.curve = self.plot.plot(pen=pg.mkPen(theme.lateral, width=4))
        self.bands: list[pg.LinearRegionItem] = []
        self.stop_button = QtWidgets.QPushButton("Stop")
        self.stop_button.setMinimumHeight(48)
        self.stop_button.clicked.connect(self.stop)
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(32, 24, 32, 24)
        lay.addWidget(self.title)
        lay.addWidget(self.headline)
        lay.addWidget(self.value, 2)
        lay.addWidget(self.detail)
        lay.addWidget(self.plot, 3)
        lay.addWidget(self.stop_button, 0, QtCore.Qt.AlignmentFlag.AlignRight)
        self.setStyleSheet(f"background: {theme.background};")
        self.title.setStyleSheet(f"color: {theme.muted}; font-size: 26px; font-weight: 700; "
                                 "letter-spacing: 3px;")
        self.headline.setStyleSheet(f"color: {theme.foreground}; font-size: 44px; "
                                    "font-weight: 700;")
        self.detail.setStyleSheet(f"color: {theme.muted}; font-size: 28px;")
        self.stop_button.setStyleSheet(f"font-size: 20px; color: {theme.foreground}; "
                                       f"border: 1px solid {theme.reference}; padding: 4px 24px;")
        self._start_wall: float | None = None
        self.timer = QtCore.QTimer(self)
        self.timer.setInterval(min(interval_ms, 50))
        self.timer.timeout.connect(self.tick)
        self.draw(model.view)

    # ------------------------------------------------------------------ driving
    def start(self) -> None:
        """Start pulling samples."""
        self._start_wall = time.monotonic()
        self.timer.start()

    def tick(self) -> None:
        """Feed the samples that are due and draw the newest view."""
        if self._start_wall is None:
            return
        due = self.source.start_s + (time.monotonic() - self._start_wall) * self.speed
        t, acc, gyr = self.source.read(due)
        if self.recording is not None:
            self.recording.append(t, acc, gyr)
        view = self.model.view
        # A fast replay is fed as a sensor would deliver it: chunks of <= 50 ms.
        step = max(1, int(0.05 * self.model.rate_hz))
        for i in range(0, t.size, step):
            sl = slice(i, i + step)
            view = self.model.feed(t[sl], acc[sl], None if gyr is None else gyr[sl])
        if self.source.finished and view.step in (Step.COUNTDOWN, Step.MEASURE):
            view = self.model.stop()
        self.draw(view)
        if view.step in (Step.RESULT, Step.REPEAT):
            self.timer.stop()
            self._close_recording()

    def stop(self) -> None:
        """The stop button: end the test with what was measured."""
        self.timer.stop()
        self.draw(self.model.stop())
        self._close_recording()

    def _close_recording(self) -> None:
        rec, self.recording = self.recording, None
        if rec is not None:
            self.recorded = rec.close(self.model.outcome)

    # ------------------------------------------------------------------ drawing
    def draw(self, view: View) -> None:
        """Show one frame of the model."""
        th = self.theme
        colour = getattr(th, TONES.get(view.tone, "foreground"))
        self.headline.setText(view.headline)
        self.value.setText(view.value)
        size = 150 if view.step is Step.COUNTDOWN else 120
        self.value.setStyleSheet(f"color: {colour}; font-size: {size}px; font-weight: 800;")
        self.detail.setText(view.detail)
        self.stop_button.setVisible(view.step in (Step.COUNTDOWN, Step.MEASURE))
        if view.trace_time_s.size:
            x = view.trace_time_s - view.trace_time_s[-1]
            self.curve.setData(x, view.trace_deg)
            self.plot.setXRange(-self.model.trace_s, 0, padding=0)
            lo = min(float(np.nanmin(view.trace_deg)) - 1, *(b[0] for b in view.bands_deg), -3)
            hi = max(float(np.nanmax(view.trace_deg)) + 1, *(b[1] for b in view.bands_deg), 3)
            self.plot.setYRange(lo, hi, padding=0.05)
            self.plot.setLabel("left", f"{view.trace_label} (°)")
        if len(self.bands) == len(view.bands_deg):
            for region, band in zip(self.bands, view.bands_deg, strict=True):
                region.setRegion(band)
        else:
            for b in self.bands:
                self.plot.removeItem(b)
            brush = QtGui.QColor(th.ok)
            brush.setAlpha(50)
            self.bands = []
            for lo_b, hi_b in view.bands_deg:
                region = pg.LinearRegionItem((lo_b, hi_b), orientation="horizontal",
                                             movable=False, brush=brush)
                self.plot.addItem(region)
                self.bands.append(region)

    def screenshot(self, path: str | Path) -> None:
        """Render the window to a PNG."""
        self.grab().save(str(path))

    def closeEvent(self, event: QtGui.QCloseEvent) -> None:
        """Stop the timer; a recording is closed with what was measured."""
        self.timer.stop()
        self._close_recording()
        super().closeEvent(event)
