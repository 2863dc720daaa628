"""The sidebar of the dashboard: sensor, calibration and recording panels (thin views)."""

from __future__ import annotations

import math
from collections.abc import Sequence

from PySide6 import QtCore, QtWidgets

from analysis.calibration import MOUNT_PRESETS
from analysis.guided_calibration import GuidedStatus
from gui.live.sources import EMULATED_ENTRY, DeviceEntry
from gui.widgets.theme import Theme

#: Connection text -> theme colour attribute.
STATE_COLOURS = {
    "streaming": "ok", "reconnecting": "warn", "connecting": "warn", "searching": "warn",
    "starting": "warn", "connected - no data": "warn", "failed": "alert",
    "disconnected": "muted", "not connected": "muted",
}


def _button(text: str, tip: str = "") -> QtWidgets.QPushButton:
    b = QtWidgets.QPushButton(text)
    b.setToolTip(tip)
    return b


class ConnectPanel(QtWidgets.QGroupBox):
    """Device list (name, kind, address, RSSI), scan, connect and the connection state."""

    scan_requested = QtCore.Signal()
    connect_requested = QtCore.Signal(object)  # DeviceEntry
    disconnect_requested = QtCore.Signal()

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__("Sensor", parent)
        self.table = QtWidgets.QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels(["Name", "Kind", "Address", "RSSI"])
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setHorizontalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.table.setFixedHeight(96)
        self.scan_btn = _button("Scan", "Look for sensors nearby (4 s)")
        self.connect_btn = _button("Connect", "Stream from the selected sensor")
        self.disconnect_btn = _button("Disconnect")
        self.state = QtWidgets.QLabel("not connected")
        self.state.setTextFormat(QtCore.Qt.TextFormat.PlainText)
        self.state.setObjectName("state")
        self.detail = QtWidgets.QLabel("")
        self.detail.setTextFormat(QtCore.Qt.TextFormat.PlainText)
        self.detail.setWordWrap(True)
        row = QtWidgets.QHBoxLayout()
        for b in (self.scan_btn, self.connect_btn, self.disconnect_btn):
            row.addWidget(b)
        lay = QtWidgets.QVBoxLayout(self)
        lay.addWidget(self.table)
        lay.addLayout(row)
        lay.addWidget(self.state)
        lay.addWidget(self.detail)
        self.entries: list[DeviceEntry] = []
        self.set_devices([])
        self.scan_btn.clicked.connect(self.scan_requested)
        self.connect_btn.clicked.connect(self._on_connect)
        self.disconnect_btn.clicked.connect(self.disconnect_requested)
        self.table.doubleClicked.connect(self._on_connect)
        self.theme: Theme | None = None

    def set_devices(self, found: Sequence[DeviceEntry]) -> None:
        """Show the emulated sensor plus the scanned devices."""
        self.entries = [EMULATED_ENTRY, *found]
        self.table.setRowCount(len(self.entries))
        for r, e in enumerate(self.entries):
            rssi = "" if e.rssi is None else f"{e.rssi} dBm"
            for c, text in enumerate((e.name, e.kind, e.address, rssi)):
                self.table.setItem(r, c, QtWidgets.QTableWidgetItem(text))
        self.table.resizeColumnsToContents()
        self.table.selectRow(1 if len(self.entries) > 1 else 0)

    def selected(self) -> DeviceEntry:
        """The selected row (the emulated sensor if none)."""
        rows = self.table.selectionModel().selectedRows()
        return self.entries[rows[0].row()] if rows else self.entries[0]

    def _on_connect(self) -> None:
        self.connect_requested.emit(self.selected())

    def set_state(self, text: str, detail: str = "") -> None:
        """Show the connection state (coloured) and one line of detail."""
        if text != self.state.text() and self.theme is not None:
            colour = getattr(self.theme, STATE_COLOURS.get(text, "muted"))
            self.state.setStyleSheet(f"color: {colour}; font-size: 16px; font-weight: 700;")
        self.state.setText(text)
        self.detail.setText(detail)

    def apply_theme(self, theme: Theme) -> None:
        """Colours from the theme."""
        self.theme = theme
        current = self.state.text()
        self.state.setText("")
        self.set_state(current, self.detail.text())


class CalibrationPanel(QtWidgets.QGroupBox):
    """Calibration in use, the guided wizard (instruction, progress, quality, reason)."""

    guided_requested = QtCore.Signal(str)  # "walk" or "bend"
    cancel_requested = QtCore.Signal()
    load_requested = QtCore.Signal()
    save_requested = QtCore.Signal()
    preset_requested = QtCore.Signal(str)

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__("Calibration", parent)
        self.current = QtWidgets.QLabel()
        self.current.setTextFormat(QtCore.Qt.TextFormat.PlainText)
        self.current.setWordWrap(True)
        self.walk_btn = _button("Stand + walk", "Stand still 5 s, then walk ~10 steps")
        self.bend_btn = _button("Stand + bend", "Stand still 5 s, then bend forward and back")
        self.cancel_btn = _button("Cancel")
        self.load_btn = _button("Load…")
        self.save_btn = _button("Save…")
        self.preset = QtWidgets.QComboBox()
        self.preset.addItems(list(MOUNT_PRESETS))
        self.instruction = QtWidgets.QLabel("")
        self.instruction.setTextFormat(QtCore.Qt.TextFormat.PlainText)
        self.instruction.setWordWrap(True)
        self.progress = QtWidgets.QProgressBar()
        self.progress.setRange(0, 100)
        self.progress.setTextVisible(True)
        self.quality = QtWidgets.QLabel("")
        self.quality.setTextFormat(QtCore.Qt.TextFormat.PlainText)
        self.reason = QtWidgets.QLabel("")
        self.reason.setTextFormat(QtCore.Qt.TextFormat.PlainText)
        self.reason.setWordWrap(True)
        g = QtWidgets.QGridLayout(self)
        g.addWidget(self.current, 0, 0, 1, 3)
        g.addWidget(self.walk_btn, 1, 0)
        g.addWidget(self.bend_btn, 1, 1)
        g.addWidget(self.cancel_btn, 1, 2)
        g.addWidget(self.instruction, 2, 0, 1, 3)
        g.addWidget(self.progress, 3, 0, 1, 3)
        g.addWidget(self.quality, 4, 0, 1, 3)
        g.addWidget(self.reason, 5, 0, 1, 3)
        g.addWidget(QtWidgets.QLabel("Preset:"), 6, 0)
        g.addWidget(self.preset, 6, 1, 1, 2)
        g.addWidget(self.load_btn, 7, 0)
        g.addWidget(self.save_btn, 7, 1)
        self.walk_btn.clicked.connect(lambda: self.guided_requested.emit("walk"))
        self.bend_btn.clicked.connect(lambda: self.guided_requested.emit("bend"))
        self.cancel_btn.clicked.connect(self.cancel_requested)
        self.load_btn.clicked.connect(self.load_requested)
        self.save_btn.clicked.connect(self.save_requested)
        self.preset.activated.connect(
            lambda _i: self.preset_requested.emit(self.preset.currentText())
        )
        self.theme: Theme | None = None
        self.show_guided(None)

    def apply_theme(self, theme: Theme) -> None:
        """Colours from the theme."""
        self.theme = theme
        self.reason.setStyleSheet(f"color: {theme.alert}; font-weight: 600;")
        self.instruction.setStyleSheet("font-size: 13px; font-weight: 600;")

    def show_calibration(self, method: str, calibrated: bool, quality: str = "") -> None:
        """Describe the calibration in use."""
        if calibrated:
            text = f"Calibrated ({method}){' · ' + quality if quality else ''}"
            colour = self.theme.ok if self.theme else ""
        else:
            text = (f"Not calibrated: using mount {method.removeprefix('preset:')!r}. "
                    "Angles assume that exact wear - calibrate for clinical numbers.")
            colour = self.theme.warn if self.theme else ""
        self.current.setText(text)
        self.current.setStyleSheet(f"color: {colour};")
        self.save_btn.setEnabled(calibrated)

    def show_guided(self, status: GuidedStatus | None) -> None:
        """Show the wizard's step, progress, quality and failure reason."""
        running = status is not None and status.phase not in ("done", "failed")
        self.cancel_btn.setEnabled(running)
        self.walk_btn.setEnabled(not running)
        self.bend_btn.setEnabled(not running)
        if status is None:
            self.instruction.setText("Start a guided calibration with the person standing.")
            self.progress.setValue(0)
            self.progress.setFormat("")
            self.quality.setText("")
            self.reason.setText("")
            return
        step = {"stand": "Step 1/2", "walk": "Step 2/2", "bend": "Step 2/2"}.get(status.phase, "")
        self.instruction.setText(f"{step}  {status.instruction}".strip())
        self.progress.setValue(round(100 * status.progress))
        self.progress.setFormat(f"{status.phase} %p%")
        q = status.quality
        self.quality.setText("" if q is None or not math.isfinite(q) else f"Quality {q:.0%}")
        failed = status.phase == "failed"
        self.reason.setText(status.message if failed else "")
        if not failed and status.message:
            self.quality.setText(status.message)


class RecordPanel(QtWidgets.QGroupBox):
    """Subject and session ids, notes, folder, start/stop and markers.

    The subject id is picked from the history database's subjects (or typed: a new one);
    with "Store in the subject's history" the recording is stored there when it stops.
    """

    start_requested = QtCore.Signal()
    stop_requested = QtCore.Signal()
    marker_requested = QtCore.Signal()

    def __init__(self, folder: str, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__("Recording", parent)
        self.subject = QtWidgets.QLineEdit()
        self.subject.setPlaceholderText("e.g. S014 (pick or type a new id)")
        self._subjects = QtCore.QStringListModel([])
        completer = QtWidgets.QCompleter(self._subjects, self.subject)
        completer.setCaseSensitivity(QtCore.Qt.CaseSensitivity.CaseInsensitive)
        completer.setCompletionMode(QtWidgets.QCompleter.CompletionMode.UnfilteredPopupCompletion)
        self.subject.setCompleter(completer)
        self.store = QtWidgets.QCheckBox("Store in the subject's history")
        self.store.setChecked(True)
        self.store.setToolTip("When the recording stops it is analysed and stored as a session "
                              "of this subject (a new id is added) in the history database.")
        self.session = QtWidgets.QLineEdit()
        self.session.setPlaceholderText("e.g. baseline")
        self.notes = QtWidgets.QPlainTextEdit()
        self.notes.setPlaceholderText("notes stored with the recording")
        self.notes.setFixedHeight(48)
        self.folder = QtWidgets.QLineEdit(folder)
        self.browse = _button("…", "Choose the folder for recordings")
        self.browse.setFixedWidth(28)
        self.start_btn = _button("● Record", "Start recording to the folder")
        self.marker_btn = _button("Marker (M)", "Add a marker now (key M)")
        self.info = QtWidgets.QLabel("not recording")
        self.info.setTextFormat(QtCore.Qt.TextFormat.PlainText)
        self.info.setWordWrap(True)
        f = QtWidgets.QFormLayout(self)
        f.addRow("Subject", self.subject)
        f.addRow("", self.store)
        f.addRow("Session", self.session)
        f.addRow("Notes", self.notes)
        row = QtWidgets.QHBoxLayout()
        row.addWidget(self.folder)
        row.addWidget(self.browse)
        f.addRow("Folder", row)
        buttons = QtWidgets.QHBoxLayout()
        buttons.addWidget(self.start_btn)
        buttons.addWidget(self.marker_btn)
        f.addRow(buttons)
        f.addRow(self.info)
        self.recording = False
        self.start_btn.clicked.connect(self._toggle)
        self.marker_btn.clicked.connect(self.marker_requested)
        self.browse.clicked.connect(self._browse)
        self.set_recording(False)

    def set_subjects(self, codes: list[str]) -> None:
        """The subject ids of the history database, offered as the id is typed."""
        self._subjects.setStringList(codes)

    @property
    def subjects(self) -> list[str]:
        """The subject ids offered."""
        return list(self._subjects.stringList())

    def _toggle(self) -> None:
        (self.stop_requested if self.recording else self.start_requested).emit()

    def _browse(self) -> None:
        d = QtWidgets.QFileDialog.getExistingDirectory(self, "Folder for recordings",
                                                       self.folder.text())
        if d:
            self.folder.setText(d)

    def set_recording(self, on: bool, info: str = "") -> None:
        """Switch the button between start and stop and show ``info``."""
        self.recording = on
        self.start_btn.setText("■ Stop" if on else "● Record")
        self.marker_btn.setEnabled(on)
        for w in (self.subject, self.store, self.session, self.folder, self.browse):
            w.setEnabled(not on)
        if info:
            self.info.setText(info)
