"""The review window: plots on the left, episodes and panels on the right.

Thin: it opens sessions through a background :class:`~gui.review.worker.Task`, hands the
result to :class:`~gui.review.model.ReviewModel` and wires the panels' signals to it.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from PySide6 import QtCore, QtGui, QtWidgets

from analysis.calibration import Calibration
from analysis.hiphike import HipHikeParams
from analysis.hiphike.params import PelvicDropParams
from analysis.session import SessionResult
from gui.review.clinical_panel import ClinicalPanel
from gui.review.cycles_panel import CyclePanel
from gui.review.history_panel import HistoryPanel, load_history
from gui.review.model import (
    Derived,
    LoadedSession,
    PreviewModel,
    ReviewModel,
    format_clock,
    open_session,
    recalibrate,
)
from gui.review.notes import open_notes
from gui.review.panels import (
    CalibrationPanel,
    EpisodeTable,
    GaitPanel,
    MarkersPanel,
    SummaryPanel,
    ThresholdForm,
)
from gui.review.plots import SessionPlots
from gui.review.worker import Partial, Progress, Task
from gui.widgets.theme import LIGHT, Theme, apply_palette
from recordings import Gap
from recordings.files import OutputError, atomic_output

ResultT = TypeVar("ResultT")

#: Warnings listed in the strip's tooltip (all of them are in the Details dialog).
MAX_TOOLTIP_WARNINGS = 30
OPEN_FILTER = "Recordings and CSV (*.psrec *.csv *.txt);;All files (*)"


class ReviewWindow(QtWidgets.QMainWindow):
    """Recorded-session review.

    Signals
    -------
    previewed()
        The tilt of a session being opened is shown (the rest is still analysed).
    loaded()
        A session is shown (after opening or re-calibrating).
    loadFailed(str)
        Opening failed; the message names the file and the reason.
    redetected()
        Episodes were re-detected with new thresholds.
    historyLoaded()
        The history panel was filled for the session on screen (or found none).
    """

    previewed = QtCore.Signal()
    loaded = QtCore.Signal()
    loadFailed = QtCore.Signal(str)
    redetected = QtCore.Signal()
    historyLoaded = QtCore.Signal()

    def __init__(
        self,
        theme: Theme = LIGHT,
        *,
        use_cache: bool = True,
        acc_unit: str = "mps2",
        gyr_unit: str = "rps",
    ) -> None:
        super().__init__()
        self.theme = theme
        self.use_cache = use_cache
        self.units = {"acc_unit": acc_unit, "gyr_unit": gyr_unit}
        self.model: ReviewModel | None = None
        self.task: Task | None = None
        self.current_episode: int | None = None
        self._pending_params: tuple[HipHikeParams, PelvicDropParams] | None = None
        self.setWindowTitle("pelviscope review")
        self.setAcceptDrops(True)
        app = QtWidgets.QApplication.instance()
        if isinstance(app, QtWidgets.QApplication):
            apply_palette(app, theme)

        self.header = QtWidgets.QLabel("Open a recording: File > Open, or drop a file here.")
        # Rich text for the layout only: every string from a file is escaped (_set_header).
        self.header.setTextFormat(QtCore.Qt.TextFormat.RichText)
        self.header.setContentsMargins(8, 6, 8, 6)
        self.warnings: list[str] = []
        self.warning_strip = self._warning_strip()
        self.plots = SessionPlots(theme)
        self.episodes = EpisodeTable(theme)
        self.summary = SummaryPanel()
        self.gait = GaitPanel(theme)
        self.cycles = CyclePanel(theme)
        self.thresholds = ThresholdForm()
        self.drop_thresholds = ThresholdForm(params_type=PelvicDropParams, intro=(
            "Pelvic-drop detector thresholds (Trendelenburg gait: the swing side drops "
            "beyond this person's usual swing). Re-detected as soon as a value changes."))
        forms = QtWidgets.QWidget()
        forms_lay = QtWidgets.QVBoxLayout(forms)
        forms_lay.setContentsMargins(0, 0, 0, 0)
        forms_lay.addWidget(self.thresholds)
        forms_lay.addWidget(self.drop_thresholds)
        self.markers = MarkersPanel()
        self.calibration = CalibrationPanel()
        self.history = HistoryPanel(theme)
        self.clinical = ClinicalPanel()
        self.history_task: Task | None = None
        self.tabs = QtWidgets.QTabWidget()
        self.tabs.addTab(self.summary, "Summary")
        self.tabs.addTab(self.gait, "Gait")
        self.tabs.addTab(self.cycles, "Gait cycle")
        self.tabs.addTab(self.clinical, "Tests")
        self.tabs.addTab(self._scrolled(forms), "Thresholds")
        self.tabs.addTab(self.markers, "Markers && notes")
        self.tabs.addTab(self.calibration, "Calibration")
        self.tabs.addTab(self.history, "History")
        side = QtWidgets.QSplitter(QtCore.Qt.Orientation.Vertical)
        side.addWidget(self.episodes)
        side.addWidget(self.tabs)
        side.setSizes([260, 540])
        split = QtWidgets.QSplitter(QtCore.Qt.Orientation.Horizontal)
        split.addWidget(self.plots)
        split.addWidget(side)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        split.setSizes([1000, 560])
        central = QtWidgets.QWidget()
        lay = QtWidgets.QVBoxLayout(central)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        lay.addWidget(self.header)
        lay.addWidget(self.warning_strip)
        lay.addWidget(split, 1)
        self.setCentralWidget(central)

        self.progress = QtWidgets.QProgressBar()
        self.progress.setMaximumWidth(320)
        self.progress.setRange(0, 100)
        self.progress.hide()
        self.statusBar().addPermanentWidget(self.progress)
        self._build_menus()

        self.episodes.episodeActivated.connect(self.show_episode)
        self.thresholds.paramsChanged.connect(self._on_params)
        self.drop_thresholds.paramsChanged.connect(self._on_drop_params)
        self.markers.addRequested.connect(self.add_marker_at_centre)
        self.markers.markerEdited.connect(self._on_marker_edited)
        self.markers.removeRequested.connect(self._on_marker_removed)
        self.markers.markerActivated.connect(self._on_marker_activated)
        self.markers.sessionNoteEdited.connect(self._on_session_note)
        self.calibration.recalibrateRequested.connect(self.recalibrate_from_span)
        self.history.open_requested.connect(lambda p: self.open_path(Path(p)))
        self.resize(1600, 1000)

    def _warning_strip(self) -> QtWidgets.QFrame:
        strip = QtWidgets.QFrame()
        strip.setObjectName("warningStrip")
        warn = QtGui.QColor(self.theme.warn)
        strip.setStyleSheet(
            f"#warningStrip {{ background: rgba({warn.red()}, {warn.green()}, {warn.blue()}, 50);"
            f" border: 1px solid {warn.name()}; }}"
        )
        self.warning_label = QtWidgets.QLabel()
        self.warning_label.setTextFormat(QtCore.Qt.TextFormat.PlainText)
        self.warning_label.setWordWrap(True)
        self.warning_label.setSizePolicy(QtWidgets.QSizePolicy.Policy.Ignored,
                                         QtWidgets.QSizePolicy.Policy.Preferred)
        self.warning_details = QtWidgets.QPushButton("Details…")
        self.warning_details.clicked.connect(self.show_warnings)
        lay = QtWidgets.QHBoxLayout(strip)
        lay.setContentsMargins(8, 3, 8, 3)
        lay.addWidget(self.warning_label, 1)
        lay.addWidget(self.warning_details)
        strip.hide()
        return strip

    def _set_warnings(self, path: Path, warnings: list[str]) -> None:
        """Show what reading the recording found wrong (damage, implausible samples)."""
        self.warnings = list(warnings)
        if not warnings:
            self.warning_strip.hide()
            return
        n = len(warnings)
        first = warnings[0].removeprefix(f"{path}: ")  # the header names the file already
        self.warning_label.setText(
            f"⚠ The data are damaged or partly implausible ({n} warning{'s' * (n > 1)}; "
            f"hatched spans have no data): {first}"
        )
        # A tooltip decides rich or plain text by itself: give it escaped rich text.
        self.warning_strip.setToolTip(
            "<p style='white-space:pre-wrap'>"
            + "<br>".join(html.escape(w) for w in warnings[:MAX_TOOLTIP_WARNINGS])
            + (f"<br>… {n - MAX_TOOLTIP_WARNINGS} more" if n > MAX_TOOLTIP_WARNINGS else "")
            + "</p>"
        )
        self.warning_strip.show()

    def show_warnings(self) -> None:
        """All warnings about the open recording, in a dialog."""
        if not self.warnings:
            return
        box = QtWidgets.QMessageBox(self)
        box.setIcon(QtWidgets.QMessageBox.Icon.Warning)
        box.setWindowTitle("Damaged or implausible data")
        box.setTextFormat(QtCore.Qt.TextFormat.PlainText)
        box.setText(f"{len(self.warnings)} warning(s) about the recording's data. The spans "
                    "without data are hatched in the plots and are not analysed.")
        box.setDetailedText("\n".join(self.warnings))
        box.open()

    @staticmethod
    def _scrolled(widget: QtWidgets.QWidget) -> QtWidgets.QScrollArea:
        area = QtWidgets.QScrollArea()
        area.setWidget(widget)
        area.setWidgetResizable(True)
        return area

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file = bar.addMenu("&File")
        self._action(file, "&Open…", self.open_dialog, QtGui.QKeySequence.StandardKey.Open)
        file.addSeparator()
        self.export_actions = [
            self._action(file, "Export HTML &report…", lambda: self._export("html")),
            self._action(file, "Export per-sample &CSV…", lambda: self._export("csv")),
            self._action(file, "Export &episode table (CSV)…", lambda: self._export("episodes")),
            self._action(file, "Export current view as &PNG…", lambda: self._export("png")),
        ]
        file.addSeparator()
        self._action(file, "&Quit", self.close, QtGui.QKeySequence.StandardKey.Quit)
        view = bar.addMenu("&View")
        self._action(view, "&Next episode", lambda: self.step_episode(+1), "N")
        self._action(view, "&Previous episode", lambda: self.step_episode(-1), "P")
        self._action(view, "&Whole session", self.show_all, "Home")
        self._action(view, "Add &marker at centre", self.add_marker_at_centre, "M")

    def _action(self, menu: QtWidgets.QMenu, text: str, slot: Callable[[], object],
                shortcut: str | QtGui.QKeySequence.StandardKey | None = None) -> QtGui.QAction:
        act = menu.addAction(text)
        act.triggered.connect(slot)
        if shortcut is not None:
            act.setShortcut(QtGui.QKeySequence(shortcut))
        self.addAction(act)
        return act

    # ---- opening -------------------------------------------------------------------------
    def open_dialog(self) -> None:
        """File > Open."""
        path, _ = QtWidgets.QFileDialog.getOpenFileName(self, "Open a session", "", OPEN_FILTER)
        if path:
            self.open_path(Path(path))

    def open_path(self, path: Path) -> None:
        """Open ``path`` in the background (progress in the status bar)."""
        use_cache, units = self.use_cache, self.units

        def job(progress: Progress, partial: Partial) -> tuple[ReviewModel, LoadedSession, str]:
            session = open_session(
                path,
                use_cache=use_cache,
                progress=progress,
                on_preview=lambda preview: partial(PreviewModel(preview)),
                **units,
            )
            opened = open_notes(session.path)
            progress(1.0, "preparing the view")
            model = ReviewModel(session, opened.notes)
            if not opened.writable:
                model.notes_blocked = "an unreadable notes file is in the way; not replaced"
            return model, session, opened.problem

        self.statusBar().showMessage(f"Opening {path.name}…")
        self._run(job, self._on_opened, self._on_preview)

    def _run(self, job: Callable[[Progress, Partial], ResultT], on_done: Callable[[ResultT], None],
             on_partial: Callable[[Any], None] | None = None) -> None:
        if self.task is not None and self.task.isRunning():
            self.statusBar().showMessage("Busy - wait for the current job to finish", 4000)
            return
        task = Task(job, self)
        task.progress.connect(self._on_progress)
        if on_partial is not None:
            task.partial.connect(on_partial)
        task.done.connect(on_done)
        task.failed.connect(self._on_failed)
        task.finished.connect(self.progress.hide)
        self.task = task
        self.progress.setValue(0)
        self.progress.show()
        task.start()

    def _load_history(self, path: Path) -> None:
        """Fill the history panel off the GUI thread (a database query)."""
        if self.history_task is not None and self.history_task.isRunning():
            self.history_task.wait()  # a quick query; its result is for the previous file
        task = Task(lambda _progress, _partial: (path, load_history(path)), self)

        def done(result: tuple[Path, Any]) -> None:
            if self.model is not None and self.model.path == result[0]:
                self.history.set_history(result[1])
                self.historyLoaded.emit()

        def failed(message: str) -> None:
            self.history.set_history(None)
            self.history.title.setText(f"History not available: {message}")
            self.historyLoaded.emit()

        task.done.connect(done)
        task.failed.connect(failed)
        self.history_task = task
        task.start()

    def _on_progress(self, fraction: float, stage: str) -> None:
        self.progress.setValue(round(100 * fraction))
        self.progress.setFormat(f"{stage} %p%")

    def _on_failed(self, message: str) -> None:
        self.progress.hide()
        self.statusBar().showMessage(message)
        self.loadFailed.emit(message)

    def _on_preview(self, preview: PreviewModel) -> None:
        """The tilt is known: show it while activity, steps and hip-hikes are analysed."""
        self.model = None  # nothing to edit or export until the session is complete
        self.current_episode = None
        pv = preview.preview
        self._set_header(pv.path, pv.meta, preview.t_range, pv.rate_hz, pv.tilt.calibration,
                         pv.gaps, "finding activities, steps and hip-hikes…")
        self._set_warnings(pv.path, pv.warnings)
        self.plots.set_model(preview)
        self.episodes.set_rows([])
        self.episodes.set_suppressed(None)
        self.episodes.title.setText(f"<b>{self.episodes.TITLE}</b> - analysing…")
        self.summary.set_rows([])
        self.gait.clear("analysing…")
        self.previewed.emit()

    def _on_opened(self, opened: tuple[ReviewModel, LoadedSession, str]) -> None:
        self.model, session, note_error = opened
        self.current_episode = None
        self._pending_params = None
        self._show_model()
        self._load_history(session.path)
        src = "cache" if session.from_cache else "analysis"
        secs = sum(session.timings_s.values())
        msg = f"Opened {session.path.name} from {src} in {secs:.1f} s"
        if self.warnings:
            msg += f" - {len(self.warnings)} warning(s) about the data"
        if session.cache_note:
            msg += f" ({session.cache_note})"
        self.statusBar().showMessage(f"{note_error} | {msg}" if note_error else msg)
        self.loaded.emit()

    def _show_model(self) -> None:
        m = self.model
        assert m is not None
        r = m.result
        self._set_header(m.path, r.meta, m.t_range, r.rate_hz, r.calibration, r.gaps)
        self._set_warnings(m.path, m.session.warnings)
        self.thresholds.set_params(m.params)
        self.drop_thresholds.set_params(m.drop_params)
        self.plots.set_model(m)
        self._refresh_results()
        self.markers.set_markers(m)
        self.calibration.set_model(m)

    def _set_header(self, path: Path, meta: dict[str, Any], t_range: tuple[float, float],
                    rate_hz: float, calibration: Calibration | None, gaps: list[Gap],
                    status: str = "") -> None:
        lost = sum(g.end_s - g.start_s for g in gaps)
        cal = calibration.method if calibration else "none"
        meta = meta if isinstance(meta, dict) else {}

        def field(key: str, label: str, suffix: str = "") -> str:
            value = meta.get(key)
            return f"{label} {value}{suffix}" if value else ""

        parts = [field("subject_id", "subject"),
                 field("session_id", "session"),
                 field("start_time_utc", "started", " UTC"),
                 f"{format_clock(t_range[1] - t_range[0])} at {rate_hz:g} Hz",
                 f"calibration: {cal}",
                 f"{len(gaps)} gaps ({lost:.1f} s without data)" if gaps else "no gaps"]
        # Everything from the file is text, never markup (a subject id can hold "<img>").
        text = " · ".join(html.escape(str(p)) for p in parts if p)
        if status:
            text += f" · <i>{html.escape(status)}</i>"
        self.header.setText(
            f"<span style='font-size:15px'><b>{html.escape(path.name)}</b></span> &nbsp; {text}"
        )
        self.setWindowTitle(f"pelviscope review - {path.name}")

    def _refresh_results(self) -> None:
        m = self.model
        assert m is not None
        self.episodes.set_rows(m.episode_rows())
        self.episodes.set_suppressed(m.suppressed())
        self.summary.set_rows(m.summary_rows())
        self.gait.set_model(m)
        self.cycles.set_cycles(m.result.cycles)
        self.clinical.set_clinical(m.result.clinical)
        self.plots.refresh_annotations()

    # ---- navigation ---------------------------------------------------------------------
    def show_episode(self, index: int) -> None:
        """Move the detail view to episode ``index`` and select its row."""
        if self.model is None or not 0 <= index < len(self.model.episodes):
            return
        self.current_episode = index
        self.plots.set_span(*self.model.episode_span(index))
        self.episodes.select(index)

    def step_episode(self, step: int) -> None:
        """Next (+1) or previous (-1) episode."""
        if self.model is None:
            return
        x0, x1 = self.plots.span
        i = self.model.neighbour_episode(self.current_episode, step, 0.5 * (x0 + x1))
        if i is not None:
            self.show_episode(i)

    def show_all(self) -> None:
        """The whole session in the detail view."""
        if self.model is not None:
            self.plots.set_span(*self.model.t_range)

    # ---- thresholds, calibration ------------------------------------------------------------
    def _on_params(self, params: HipHikeParams) -> None:
        """New hip-hike thresholds (the drop thresholds as they are)."""
        drop = self._pending_params[1] if self._pending_params else None
        if drop is None and self.model is not None:
            drop = self.model.drop_params
        self._redetect(params, drop or PelvicDropParams())

    def _on_drop_params(self, drop: PelvicDropParams) -> None:
        """New pelvic-drop thresholds (the hip-hike thresholds as they are)."""
        params = self._pending_params[0] if self._pending_params else None
        if params is None and self.model is not None:
            params = self.model.params
        self._redetect(params or HipHikeParams(), drop)

    def _redetect(self, params: HipHikeParams, drop: PelvicDropParams) -> None:
        """Re-detect in the background; edits made meanwhile are applied afterwards."""
        self._pending_params = (params, drop)
        if self.model is None or (self.task is not None and self.task.isRunning()):
            return
        model = self.model
        self._pending_params = None

        def job(progress: Progress, _partial: Partial) -> Derived:
            progress(0.0, "re-detecting")
            return model.redetected(params, drop)

        self._run(job, self._on_redetected)

    def _on_redetected(self, derived: Derived) -> None:
        assert self.model is not None
        self.model.accept(derived, full=False)
        self.current_episode = None
        self._refresh_results()
        self._save_notes()
        self.statusBar().showMessage(f"{len(self.model.episodes)} episodes with the new "
                                     "thresholds", 5000)
        self.redetected.emit()
        if self._pending_params is not None:
            QtCore.QTimer.singleShot(0, self._apply_pending_params)

    def _apply_pending_params(self) -> None:
        # Read when the timer fires: a newer edit meanwhile replaces (or has taken) the pending one.
        if self._pending_params is not None:
            self._redetect(*self._pending_params)

    def recalibrate_from_span(self) -> None:
        """Re-analyse with a calibration from the detail view's span (background)."""
        if self.model is None:
            return
        x0, x1 = self.plots.span
        path, params, units = self.model.path, self.model.params, self.units

        def job(progress: Progress, _partial: Partial) -> SessionResult:
            return recalibrate(path, x0, x1, params, progress=progress, **units)

        self.statusBar().showMessage(f"Re-calibrating from {format_clock(x0)}–{format_clock(x1)}…")
        self._run(job, self._on_recalibrated)

    def _on_recalibrated(self, result: SessionResult) -> None:
        assert self.model is not None
        self.model.apply_result(result)
        self._show_model()
        assert result.calibration is not None  # recalibrate() analyses with its calibration
        self.statusBar().showMessage(f"Re-calibrated: {result.calibration.method}")
        self.loaded.emit()

    # ---- markers -------------------------------------------------------------------------
    def add_marker_at_centre(self) -> None:
        """A new marker at the centre of the detail view."""
        if self.model is None:
            return
        x0, x1 = self.plots.span
        self.model.add_marker(0.5 * (x0 + x1), "marker")
        self._markers_changed()

    def _on_marker_edited(self, row: int, label: str, note: str) -> None:
        if self.model is not None:
            self.model.edit_marker(row, label=label, note=note)
            self._markers_changed(refill=False)

    def _on_marker_removed(self, row: int) -> None:
        if self.model is not None:
            self.model.remove_marker(row)
            self._markers_changed()

    def _on_marker_activated(self, row: int) -> None:
        if self.model is not None and 0 <= row < len(self.model.markers):
            t = self.model.markers[row].time_s
            x0, x1 = self.plots.span
            half = 0.5 * (x1 - x0)
            self.plots.set_span(t - half, t + half)

    def _on_session_note(self, text: str) -> None:
        if self.model is not None:
            self.model.notes.session_note = text
            self._save_notes()

    def _markers_changed(self, *, refill: bool = True) -> None:
        assert self.model is not None
        if refill:
            self.markers.set_markers(self.model)
        self.plots.refresh_annotations()
        self._save_notes()

    def _save_notes(self) -> None:
        assert self.model is not None
        try:
            path = self.model.save_notes()
        except (OSError, ValueError) as exc:  # OutputError: one line naming file and reason
            self.markers.status.setText(f"Not saved: {exc}")
            return
        self.markers.status.setText(f"Saved to {path.name}")

    # ---- export ------------------------------------------------------------------------------
    def export(self, kind: str, path: Path, *, overwrite: bool = False) -> None:
        """Write ``kind`` ("html", "csv", "episodes", "png") to ``path``.

        Raises
        ------
        recordings.files.OutputError
            ``path`` exists (without ``overwrite``) or cannot be written; one line.
        """
        m = self.model
        if m is None:
            raise RuntimeError("no session open")
        if kind == "html":
            m.export_html(path, overwrite=overwrite)
        elif kind == "csv":
            m.export_csv(path, overwrite=overwrite)
        elif kind == "episodes":
            m.export_episodes_csv(path, overwrite=overwrite)
        elif kind == "png":
            data = QtCore.QByteArray()
            buffer = QtCore.QBuffer(data)
            buffer.open(QtCore.QIODevice.OpenModeFlag.WriteOnly)
            if not self.plots.grab().save(buffer, "PNG"):
                raise OutputError(path, "cannot write: the image could not be encoded")
            with atomic_output(path, overwrite=overwrite) as f:
                f.write(bytes(data.data()))
        else:
            raise ValueError(f"unknown export {kind!r}")

    def _export(self, kind: str) -> None:
        if self.model is None:
            return
        stem = self.model.path.with_suffix("")
        default, filt = {
            "html": (f"{stem}_report.html", "HTML (*.html)"),
            "csv": (f"{stem}_samples.csv", "CSV (*.csv)"),
            "episodes": (f"{stem}_episodes.csv", "CSV (*.csv)"),
            "png": (f"{stem}_view.png", "PNG image (*.png)"),
        }[kind]
        # The dialog asks before replacing an existing file.
        path, _ = QtWidgets.QFileDialog.getSaveFileName(self, "Export", default, filt)
        if not path:
            return
        try:
            self.export(kind, Path(path), overwrite=True)
        except (OSError, ValueError) as exc:  # OutputError: one line naming file and reason
            box = QtWidgets.QMessageBox(QtWidgets.QMessageBox.Icon.Warning, "Export failed",
                                        str(exc), parent=self)
            box.setTextFormat(QtCore.Qt.TextFormat.PlainText)
            box.open()
            return
        self.statusBar().showMessage(f"Wrote {path}", 5000)

    def screenshot(self, path: Path) -> None:
        """Save the whole window as PNG."""
        self.grab().save(str(path), "PNG")

    # ---- drag and drop ------------------------------------------------------------------------
    def dragEnterEvent(self, event: QtGui.QDragEnterEvent) -> None:
        """Accept one dropped local file."""
        urls = event.mimeData().urls()
        if urls and urls[0].isLocalFile():
            event.acceptProposedAction()

    def dropEvent(self, event: QtGui.QDropEvent) -> None:
        """Open the dropped file."""
        urls = event.mimeData().urls()
        if urls and urls[0].isLocalFile():
            self.open_path(Path(urls[0].toLocalFile()))
            event.acceptProposedAction()

    def closeEvent(self, event: QtGui.QCloseEvent) -> None:
        """Wait for a running job (it cannot be interrupted safely)."""
        for task in (self.task, self.history_task):
            if task is not None and task.isRunning():
                task.wait()
        super().closeEvent(event)
