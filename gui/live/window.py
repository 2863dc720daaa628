"""The live dashboard window: a thin view over :class:`~gui.live.model.LiveModel`.

A ~60 Hz timer calls ``model.tick()`` (drain the source queue, run the incremental
analysis); when new samples came (at most 30 times a second) the window copies the
model's snapshot into the plots and readouts. The status bar updates on every tick.
"""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import json
import math
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from analysis.activity import LABELS
from analysis.calibration import CalibrationError, load_calibration
from firmware_bridge.source import SampleSource
from gui.live.history_link import known_subjects, store_recording
from gui.live.lsl_feed import LslFeed
from gui.live.model import LiveModel
from gui.live.panels import CalibrationPanel, ConnectPanel, RecordPanel
from gui.live.recording import fresh_name
from gui.live.settings import WINDOW_CHOICES_S, LiveSettings
from gui.live.settings_dialog import SettingsDialog, window_text
from gui.live.sources import DeviceEntry, scan_devices
from gui.live.strides_panel import StridesPanel
from gui.widgets.activity_band import ActivityBand
from gui.widgets.readout import BigReadout, DropIndicator, HipHikeIndicator, format_angle
from gui.widgets.theme import THEMES, Theme, apply_palette
from gui.widgets.time_plot import Episode, TimePlot
from interop.lsl import PostureSink
from recordings import InputError
from recordings.files import OutputError, atomic_output

SourceFactory = Callable[[DeviceEntry], SampleSource]
#: The source queue is drained every TICK_MS (cheap when empty) so that a notification
#: waits at most ~16 ms; the plots are redrawn when new data came, at most MAX_FPS a second.
TICK_MS = 16
MAX_FPS = 30.0
#: The big numbers (and the calibration and recording panels) are updated at most this
#: often: readable, and repainting the styled readouts on every frame cost ~2 % of a core.
READOUT_HZ = 10.0
AXIS_WIDTH = 52


class LiveWindow(QtWidgets.QMainWindow):
    """The dashboard.

    Parameters
    ----------
    model : LiveModel
        State and analysis (no Qt).
    source_factory : callable
        Makes a source for a device-list entry (the emulated sensor or a BLE address).
    qsettings : QSettings, optional
        Where settings are remembered between runs (None = not remembered).
    """

    def __init__(
        self,
        model: LiveModel,
        source_factory: SourceFactory,
        qsettings: QtCore.QSettings | None = None,
    ) -> None:
        super().__init__()
        self.model = model
        self.source_factory = source_factory
        self.qsettings = qsettings
        if qsettings is not None:
            stored = {k: qsettings.value(k) for k in qsettings.allKeys()}
            model.apply_settings(LiveSettings.from_dict(stored))
            if not model.calibrated:
                model.use_preset(model.settings.mount_preset)
        self.setWindowTitle("pelviscope live")
        theme = THEMES[model.settings.theme]
        self._build(theme)
        self._executor = concurrent.futures.ThreadPoolExecutor(1, "ble-scan")
        #: Database work (subjects, storing a session): never on the GUI thread.
        self._history = concurrent.futures.ThreadPoolExecutor(1, "history")
        self._subjects_job: concurrent.futures.Future[list[str]] | None = (
            self._history.submit(known_subjects))
        #: Storing the last recording in the history (its one-line outcome when done).
        self.store_job: concurrent.futures.Future[str] | None = None
        self._scan: concurrent.futures.Future[list[DeviceEntry]] | None = None
        self._ticks = 0
        self._last_draw = self._last_status = self._last_readout = 0.0
        self._last_strides = -math.inf
        self._dirty = False
        #: Publishes derived values and events when the source streams to LSL (--lsl).
        self.lsl_feed: LslFeed | None = None
        #: Redraw on every tick even without new data (benchmarks of the drawing cost).
        self.force_redraw = False
        self.timer = QtCore.QTimer(self)
        self.timer.setTimerType(QtCore.Qt.TimerType.PreciseTimer)
        self.timer.timeout.connect(self.on_tick)
        self.timer.start(TICK_MS)
        self.apply_settings(model.settings)
        self._show_calibration()

    # ---- layout ------------------------------------------------------------------------------
    def _build(self, theme: Theme) -> None:
        s = self.model.settings
        self.connect_panel = ConnectPanel()
        self.cal_panel = CalibrationPanel()
        folder = str(Path.home() / "pelviscope-recordings")
        if self.qsettings is not None:
            folder = str(self.qsettings.value("ui/folder", folder))
        self.record_panel = RecordPanel(folder)
        side = QtWidgets.QWidget()
        side_lay = QtWidgets.QVBoxLayout(side)
        side_lay.setContentsMargins(8, 8, 4, 8)
        for panel in (self.connect_panel, self.cal_panel, self.record_panel):
            side_lay.addWidget(panel)
        side_lay.addStretch(1)
        side.setFixedWidth(350)

        self.anterior_readout = BigReadout("Anterior tilt", "+ = pelvis tipped forward")
        self.lateral_readout = BigReadout("Lateral tilt", "+ = left side higher")
        self.activity_readout = BigReadout("Activity", "")
        self.cadence_readout = BigReadout("Cadence", "steps/min while walking")
        self.hiphike = HipHikeIndicator()
        self.drop = DropIndicator()
        readouts = QtWidgets.QHBoxLayout()
        for readout in (self.anterior_readout, self.lateral_readout, self.activity_readout,
                        self.cadence_readout):
            readouts.addWidget(readout, 2)
        readouts.addWidget(self.hiphike, 3)
        readouts.addWidget(self.drop, 2)

        self.anterior_plot = TimePlot("Anterior tilt", "deg",
                                      (-s.anterior_range_deg, s.anterior_range_deg), theme,
                                      "anterior")
        self.lateral_plot = TimePlot("Lateral tilt (obliquity)", "deg",
                                     (-s.lateral_range_deg, s.lateral_range_deg), theme, "lateral")
        for p in (self.anterior_plot, self.lateral_plot):
            p.getPlotItem().getAxis("left").setWidth(AXIS_WIDTH)
        self.anterior_plot.getPlotItem().hideAxis("bottom")
        self.lateral_plot.getPlotItem().setLabel("bottom", "time before now", units="s")
        self.band = ActivityBand(LABELS, theme)
        self.band.set_left_width(AXIS_WIDTH)
        self.lateral_plot.painted.connect(self._after_paint)

        self.window_box = QtWidgets.QComboBox()
        for window_s in WINDOW_CHOICES_S:
            self.window_box.addItem(window_text(window_s), window_s)
        self.window_box.activated.connect(self._on_window_box)
        self.settings_btn = QtWidgets.QPushButton("Settings…")
        self.settings_btn.clicked.connect(self.open_settings)
        self.theme_btn = QtWidgets.QPushButton("Light/dark")
        self.theme_btn.clicked.connect(self.toggle_theme)
        top = QtWidgets.QHBoxLayout()
        self.session_label = QtWidgets.QLabel("")
        top.addWidget(self.session_label, 1)
        top.addWidget(QtWidgets.QLabel("Window"))
        top.addWidget(self.window_box)
        top.addWidget(self.theme_btn)
        top.addWidget(self.settings_btn)

        main = QtWidgets.QWidget()
        main_lay = QtWidgets.QVBoxLayout(main)
        main_lay.setContentsMargins(4, 8, 8, 4)
        main_lay.addLayout(top)
        main_lay.addLayout(readouts)
        plots = QtWidgets.QVBoxLayout()
        plots.addWidget(self.anterior_plot, 1)
        plots.addWidget(self.lateral_plot, 1)
        plots.addWidget(self.band)
        # The gait cycle of the last strides beside the time plots (aligned with each other).
        self.strides = StridesPanel(theme)
        self.strides.setFixedWidth(300)
        row = QtWidgets.QHBoxLayout()
        row.addLayout(plots, 1)
        row.addWidget(self.strides, 0, QtCore.Qt.AlignmentFlag.AlignBottom)
        main_lay.addLayout(row, 1)

        central = QtWidgets.QWidget()
        lay = QtWidgets.QHBoxLayout(central)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        lay.addWidget(side)
        lay.addWidget(main, 1)
        self.setCentralWidget(central)

        bar = self.statusBar()
        keys = ("state", "rate", "lost", "left_out", "battery", "latency", "cal")
        self.status_labels = {k: QtWidgets.QLabel("") for k in keys}
        for key in keys:
            self.status_labels[key].setTextFormat(QtCore.Qt.TextFormat.PlainText)
            bar.addPermanentWidget(self.status_labels[key], 1 if key == "cal" else 0)

        self.connect_panel.scan_requested.connect(self.start_scan)
        self.connect_panel.connect_requested.connect(self.connect_to)
        self.connect_panel.disconnect_requested.connect(self.disconnect_source)
        self.cal_panel.guided_requested.connect(self.start_guided)
        self.cal_panel.cancel_requested.connect(self._cancel_guided)
        self.cal_panel.load_requested.connect(self.load_calibration)
        self.cal_panel.save_requested.connect(self.save_calibration)
        self.cal_panel.preset_requested.connect(self.use_preset)
        self.record_panel.start_requested.connect(self.start_recording)
        self.record_panel.stop_requested.connect(self.stop_recording)
        self.record_panel.marker_requested.connect(self.add_marker)
        QtGui.QShortcut(QtGui.QKeySequence("M"), self, self.add_marker)
        self.resize(1440, 900)

    # ---- settings and theme ------------------------------------------------------------------
    def apply_settings(self, settings: LiveSettings) -> None:
        """Use (and remember) new settings."""
        self.model.apply_settings(settings)
        theme = THEMES[settings.theme]
        app = QtWidgets.QApplication.instance()
        if isinstance(app, QtWidgets.QApplication):
            apply_palette(app, theme)
        for p in (self.anterior_plot, self.lateral_plot):
            p.apply_theme(theme)
        self.band.apply_theme(theme)
        self.anterior_readout.apply_theme(theme, theme.anterior)
        self.lateral_readout.apply_theme(theme, theme.lateral)
        self.activity_readout.apply_theme(theme)
        self.cadence_readout.apply_theme(theme)
        self.hiphike.apply_theme(theme)
        self.drop.apply_theme(theme)
        self.connect_panel.apply_theme(theme)
        self.cal_panel.apply_theme(theme)
        for p in (self.anterior_plot, self.lateral_plot):
            p.set_scrolling(settings.window_s)
        self.band.set_scrolling(settings.window_s)
        self.anterior_plot.set_y_range(-settings.anterior_range_deg, settings.anterior_range_deg)
        self.lateral_plot.set_y_range(-settings.lateral_range_deg, settings.lateral_range_deg)
        self.anterior_plot.set_thresholds([settings.anterior_low_deg, settings.anterior_high_deg],
                                          kind="reference")
        th = settings.hip_hike_threshold_deg
        self.lateral_plot.set_thresholds([-th, th])
        self.window_box.setCurrentIndex(max(0, self.window_box.findData(settings.window_s)))
        if self.qsettings is not None:
            for k, v in settings.to_dict().items():
                self.qsettings.setValue(k, v)
        self._show_calibration()
        self.refresh()

    def _on_window_box(self, _index: int) -> None:
        s = self.model.settings.to_dict()
        s["window_s"] = float(self.window_box.currentData())
        self.apply_settings(LiveSettings(**s))

    def toggle_theme(self) -> None:
        """Switch between the light and the dark theme."""
        s = self.model.settings.to_dict()
        s["theme"] = "dark" if s["theme"] == "light" else "light"
        self.apply_settings(LiveSettings(**s))

    def open_settings(self) -> None:
        """Show the settings dialog."""
        dlg = SettingsDialog(self.model.settings, self)
        if dlg.exec() == QtWidgets.QDialog.DialogCode.Accepted:
            self.apply_settings(dlg.settings())

    # ---- connection ------------------------------------------------------------------------
    def start_scan(self) -> None:
        """Scan for sensors in a worker thread (results arrive on a later tick)."""
        if self._scan is not None:
            return
        self.connect_panel.scan_btn.setEnabled(False)
        self.connect_panel.detail.setText("scanning…")
        self._scan = self._executor.submit(scan_devices, 4.0)

    def _check_scan(self) -> None:
        if self._scan is None or not self._scan.done():
            return
        fut, self._scan = self._scan, None
        self.connect_panel.scan_btn.setEnabled(True)
        try:
            found = fut.result()
        except Exception as exc:  # no adapter, permissions: say so, keep the emulator
            self.connect_panel.detail.setText(f"scan failed: {exc}")
            return
        self.connect_panel.set_devices(found)
        self.connect_panel.detail.setText(f"{len(found)} sensor(s) found")

    def connect_to(self, entry: DeviceEntry) -> None:
        """Stream from a device-list entry."""
        try:
            source = self.source_factory(entry)
        except Exception as exc:
            self.connect_panel.set_state("failed", str(exc))
            return
        self.model.connect(source, entry.kind if entry.kind == "emulated" else entry.address)
        self.record_panel.set_recording(False, "not recording")
        self.on_tick()

    def disconnect_source(self) -> None:
        """Stop streaming."""
        self._finish_recording()
        self.model.disconnect()
        self.on_tick()

    # ---- calibration ------------------------------------------------------------------------
    def start_guided(self, mode: str) -> None:
        """Start the guided calibration wizard."""
        self.model.start_guided("bend" if mode == "bend" else "walk")
        self.cal_panel.show_guided(self.model.guided_status)

    def _cancel_guided(self) -> None:
        self.model.cancel_guided()
        self.cal_panel.show_guided(None)

    def load_calibration(self, path: str | None = None) -> None:
        """Use a saved calibration (JSON from Save… or ``analyze --save-calibration``).

        The file is checked as the command line checks it
        (:func:`analysis.calibration.load_calibration`): one that cannot be used is one line
        under the calibration, and the calibration in use stays.
        """
        if not path:
            path, _ = QtWidgets.QFileDialog.getOpenFileName(self, "Load calibration", "",
                                                            "Calibration (*.json)")
        if not path:
            return
        try:
            cal = load_calibration(path)
        except InputError as exc:
            self.cal_panel.reason.setText(str(exc))
            return
        self.model.set_calibration(cal)
        self.cal_panel.reason.setText("")
        self._show_calibration()

    def save_calibration(self, path: str | None = None) -> None:
        """Save the calibration in use for later sessions of the same wear."""
        confirmed = not path  # the dialog asks before replacing a file; a given path is new
        if not path:
            path, _ = QtWidgets.QFileDialog.getSaveFileName(self, "Save calibration",
                                                            "calibration.json",
                                                            "Calibration (*.json)")
        if not path:
            return
        try:
            with atomic_output(path, overwrite=confirmed, mode="w") as f:
                f.write(json.dumps(self.model.calibration.to_dict(), indent=2))
        except OutputError as exc:
            self.cal_panel.reason.setText(str(exc))

    def use_preset(self, name: str) -> None:
        """Fall back to a mount preset."""
        try:
            self.model.use_preset(name)
        except CalibrationError as exc:
            self.cal_panel.reason.setText(str(exc))
            return
        s = self.model.settings.to_dict()
        s["mount_preset"] = name
        self.apply_settings(LiveSettings(**s))

    def _show_calibration(self) -> None:
        cal = self.model.calibration
        quality = ""
        if self.model.calibrated and self.model.guided_status is not None:
            q = self.model.guided_status.quality
            quality = "" if q is None else f"quality {q:.0%}"
        self.cal_panel.show_calibration(cal.method, self.model.calibrated, quality)
        preset = cal.method.removeprefix("preset:")
        self.status_labels["cal"].setText(
            f"calibration: {cal.method}" if self.model.calibrated
            else f"not calibrated (mount preset {preset})")

    # ---- recording -----------------------------------------------------------------------------
    def start_recording(self, path: str | None = None) -> None:
        """Record to the chosen folder (``path`` overrides the file name)."""
        rp = self.record_panel
        if self.model.source is None:
            rp.info.setText("connect a sensor first")
            return
        subject, session = rp.subject.text().strip(), rp.session.text().strip()
        if not path:
            folder = Path(rp.folder.text()).expanduser()
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                rp.info.setText(f"cannot use folder: {exc}")
                return
            stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
            stem = "_".join(x for x in (subject, session, stamp) if x)
            path = str(fresh_name(folder, stem, ".psrec"))
            if self.qsettings is not None:
                self.qsettings.setValue("ui/folder", str(folder))
        meta = {"subject_id": subject or None, "session_id": session or None,
                "notes": rp.notes.toPlainText().strip() or None}
        try:
            self.model.start_recording(path, meta)
        except OutputError as exc:  # an existing file is never replaced
            rp.set_recording(False, f"not recording: {exc}")
            return
        rp.set_recording(True, f"recording to {Path(path).name}")

    def stop_recording(self) -> Path | None:
        """Stop recording; returns the file written."""
        return self._finish_recording()

    def _finish_recording(self) -> Path | None:
        if self.model.recording is None:
            return None
        path = self.model.stop_recording()
        info = f"saved {path}" if path else "nothing recorded"
        rp = self.record_panel
        code = rp.subject.text().strip()
        if path is not None and code and rp.store.isChecked():
            self.store_job = self._history.submit(store_recording, path, code)
            info += f" · storing in the history of {code}…"
        rp.set_recording(False, self.model.recording_error or info)
        return path

    def _check_history(self) -> None:
        """Take the results of the history worker (subjects, a stored session)."""
        job = self._subjects_job
        if job is not None and job.done():
            self._subjects_job = None
            try:
                self.record_panel.set_subjects(job.result())
            except OSError as exc:
                self.record_panel.info.setText(str(exc))
        store = self.store_job
        if store is not None and store.done():
            self.store_job = None
            try:
                line = store.result()
            except Exception as exc:  # a failed analysis: one line, the recording is kept
                line = f"not stored in the history: {type(exc).__name__}: {exc}"
            self.record_panel.info.setText(line)
            self._subjects_job = self._history.submit(known_subjects)

    def add_marker(self) -> None:
        """A marker now (button or key M)."""
        m = self.model.add_marker()
        if m is not None:
            self.record_panel.info.setText(f"{m.label} at {m.time_s:.1f} s")
            if self.lsl_feed is not None:
                self.lsl_feed.marker(m.label, m.time_s)

    # ---- the tick -------------------------------------------------------------------------------
    def on_tick(self) -> None:
        """Drain the source, update the analysis, redraw."""
        n = self.model.tick()
        self._publish_lsl()
        self._ticks += 1
        self._dirty = self._dirty or n > 0
        self._check_scan()
        self._check_history()
        if self.model.settings.sound and self.model.take_onsets():
            QtWidgets.QApplication.beep()
        else:
            self.model.take_onsets()
        now = time.perf_counter()
        due = now - self._last_draw >= 1.0 / MAX_FPS - 0.002
        if (self._dirty and due) or self.force_redraw or now - self._last_draw > 0.5:
            self._last_draw, self._dirty = now, False
            self.refresh()
        if now - self._last_status >= 0.1:
            self._last_status = now
            self._update_status()

    def _publish_lsl(self) -> None:
        source = self.model.source
        if not isinstance(source, PostureSink):
            self.lsl_feed = None
            return
        if self.lsl_feed is None or self.lsl_feed.sink is not source:
            self.lsl_feed = LslFeed(self.model, source)
        self.lsl_feed.update()

    def _after_paint(self) -> None:
        self.model.note_painted()
        if self.model.pipeline is not None and self.model.pipeline.gait_due:
            QtCore.QTimer.singleShot(0, self.model.idle)

    def _pairs(self) -> int:
        """Min/max pairs drawn across the plot: one per two pixels."""
        return max(100, int(self.lateral_plot.getPlotItem().getViewBox().width()) // 2)

    def _samples_per_bin(self) -> int:
        """Samples per min/max pair for the window and rate in use."""
        return max(1, math.ceil(self.model.settings.window_s * self.model.rate_hz / self._pairs()))

    def refresh(self) -> None:
        """Copy the model's new data into the plots and readouts.

        The plots scroll (their x axis is the time before now and stays put); only the
        samples that arrived since the last refresh are thinned; shading and markers are
        redrawn only when they change.
        """
        m = self.model
        window = m.settings.window_s
        now = m.now_s
        traces = m.thinned(self._samples_per_bin())
        t, codes = m.activity(window)
        if t.size <= 2 * self._pairs():  # fewer samples than pixels: draw them all
            snap = m.snapshot()
            curves = {"anterior": (snap.time_s, snap.anterior_tilt_deg),
                      "lateral": (snap.time_s, snap.lateral_tilt_deg)}
        else:
            curves = {key: tr.since(now - window) for key, tr in traces.items()}
        for plot, key in ((self.anterior_plot, "anterior"), (self.lateral_plot, "lateral")):
            plot.set_curve(*curves.get(key, (np.empty(0), np.empty(0))))
            plot.scroll_to(now)
        self.band.set_data(t, codes, (now - window, now))
        self.band.scroll_to(now)
        snap_eps, snap_markers = m.annotations(window)
        ongoing = {(e.side, e.start_s) for e in m.ongoing}
        episodes = []
        for e in snap_eps:
            live = (e.side, e.start_s) in ongoing
            end = now if live else e.end_s
            label = f"{'L' if e.side == 'left' else 'R'} {abs(e.mean_deg):.1f}°"
            episodes.append(Episode(e.start_s, end, e.side, label))
        live_drops = {(e.side, e.start_s) for e in m.drops_ongoing}
        for d in m.drop_annotations(window):
            end = now if (d.side, d.start_s) in live_drops else d.end_s
            episodes.append(Episode(d.start_s, end, "drop", f"DROP {d.side[0].upper()}"))
        self.lateral_plot.set_episodes(episodes)
        self.anterior_plot.set_episodes(episodes, labels=False)
        marks = [mk.time_s for mk in snap_markers]
        self.anterior_plot.set_markers(marks)
        self.lateral_plot.set_markers(marks)
        t_wall = time.perf_counter()
        if t_wall - self._last_strides >= 1.0:  # new strides come about once a second
            self.update_strides()
        same = m.hip_hike_flag == self.hiphike.side and m.drop_flag == self.drop.side
        if t_wall - self._last_readout < 1.0 / READOUT_HZ and same:
            return  # the numbers change at most READOUT_HZ times a second; a new flag at once
        self._last_readout = t_wall
        r = m.readout()
        self.anterior_readout.set_text(format_angle(r.anterior_tilt_deg))
        self.lateral_readout.set_text(format_angle(r.lateral_tilt_deg))
        self.activity_readout.set_text(r.activity)
        walking = r.activity == "walking" and math.isfinite(r.cadence_spm)
        self.cadence_readout.set_text(f"{r.cadence_spm:.0f}" if walking else "–")
        self.hiphike.set_state(r.hip_hike_side, r.hip_hike_deg, r.hip_hike_duration_s)
        self.drop.set_state(r.drop_side, r.drop_deg, r.drop_duration_s)
        if m.guided_status is not None:
            self.cal_panel.show_guided(m.guided_status)
            if m.guided_status.phase == "done":
                self._show_calibration()
        if m.recording is not None:
            rec = m.recording
            self.record_panel.info.setText(
                f"● {rec.path.name}  {rec.duration_s:.0f} s  {len(rec.markers)} marker(s)")
        elif m.recording_error and self.record_panel.recording:
            self.record_panel.set_recording(False, m.recording_error)

    def update_strides(self) -> None:
        """Redraw the last strides of each side (``refresh`` does it about once a second)."""
        self._last_strides = time.perf_counter()
        self.strides.set_cycles(self.model.last_strides(self.strides.n))

    def _update_status(self) -> None:
        m = self.model
        st = m.status
        state = m.connection_text
        dev = st.device.get("name") or m.source_label
        detail = "" if state != "failed" else st.error
        if state == "reconnecting":
            detail = f"link lost - reconnecting to {dev}"
        elif state == "streaming":
            detail = f"{dev} · {st.reconnects} reconnect(s)"
        self.connect_panel.set_state(state, detail)
        lab = self.status_labels
        lab["state"].setText(f"  {state}")
        lab["rate"].setText(f"{st.rate_hz:.0f} Hz")
        lab["lost"].setText(f"lost {st.lost_packets} pkts ({st.lost_samples} samples)")
        self._show_left_out()
        lab["battery"].setText("battery –" if st.battery_pct is None
                               else f"battery {st.battery_pct}%")
        lat = list(m.latencies_s)[-30:]
        lab["latency"].setText(f"latency {1000 * max(lat):.0f} ms" if lat else "latency –")
        rec = " · REC" if m.recording is not None else ""
        self.session_label.setText(f"<b>{state}</b> · t = {m.now_s:.1f} s{rec}")

    def _show_left_out(self) -> None:
        """One line in the status bar once impossible samples were left out (else none)."""
        m, label = self.model, self.status_labels["left_out"]
        n = m.left_out_samples
        text = f"{n} impossible sample{'s' if n != 1 else ''} left out" if n else ""
        if text == label.text():
            return
        label.setText(text)
        tip = ""
        if n and m.pipeline is not None:
            acc_lim, gyr_lim = m.pipeline.limits
            first = m.first_left_out_s
            when = f"; the first at t = {first:.1f} s" if math.isfinite(first) else ""
            tip = (f"Samples that are not numbers or beyond the sensor's range (|acc| <= "
                   f"{acc_lim:.4g} m/s², |gyr| <= {gyr_lim:.4g} rad/s) are treated as lost: "
                   f"never used for tilt, activity or hip-hike flags{when}.")
        label.setToolTip(tip)

    # ---- lifetime ----------------------------------------------------------------------------
    def screenshot(self, path: str | Path) -> None:
        """Render the window to a PNG."""
        self._last_readout = 0.0  # readouts up to date too
        self.refresh()
        self.grab().save(str(path))

    def closeEvent(self, event: QtGui.QCloseEvent) -> None:
        """Stop the timer, the recording and the source."""
        self.timer.stop()
        self._finish_recording()
        self.model.disconnect()
        self._executor.shutdown(wait=False, cancel_futures=True)
        self._history.shutdown(wait=True)  # a session being stored is finished, not torn
        super().closeEvent(event)
