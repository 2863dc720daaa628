"""Side panels of the review window: episodes, summary, gait, thresholds, markers, calibration.

Each panel only shows what :class:`gui.review.model.ReviewModel` gives it and emits a
signal when the user asks for something; the window wires them to the model.
"""

from __future__ import annotations

import dataclasses
import html
import math
from typing import Any

import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from analysis.hiphike import HipHikeParams
from gui.review.model import (
    EPISODE_COLUMNS,
    ReviewModel,
    Suppressed,
    field_help,
    field_label,
    format_clock,
    suppressed_help,
    suppressed_line,
    tunable_fields,
)
from gui.widgets.theme import Theme

_RO = QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers


def _fmt(value: float | None, digits: int = 1, sign: bool = False) -> str:
    if value is None or not math.isfinite(value):
        return "–"
    return f"{value:+.{digits}f}" if sign else f"{value:.{digits}f}"


def _duration(seconds: float) -> str:
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} h"
    if seconds >= 60:
        return f"{seconds / 60:.1f} min"
    return f"{seconds:.1f} s"


def _item(text: str, align_right: bool = False) -> QtWidgets.QTableWidgetItem:
    item = QtWidgets.QTableWidgetItem(text)
    if align_right:
        item.setTextAlignment(
            QtCore.Qt.AlignmentFlag.AlignRight | QtCore.Qt.AlignmentFlag.AlignVCenter
        )
    return item


#: Width of a long tooltip, px (Qt wraps rich text in a narrow column by itself).
TOOLTIP_WIDTH_PX = 400


def plain_tooltip(text: str) -> str:
    """A tooltip that shows ``text`` as written, never as markup.

    A tooltip guesses rich or plain text by itself: escaped rich text is never markup,
    and Qt wraps it. A long text is set in a fixed-width cell, so that it reads as a few
    wide lines rather than a narrow column.
    """
    body = html.escape(text).replace("\n", "<br>")
    if len(text) <= 60:
        return f"<p>{body}</p>"
    return f"<table width='{TOOLTIP_WIDTH_PX}'><tr><td>{body}</td></tr></table>"


#: What an episode's confidence means (the Confidence column's tooltip).
CONFIDENCE_HELP = (
    "How far beyond the detector's thresholds the episode went, in size and in duration "
    "(or strides): 0.25 = both just at the threshold, 1 = twice the threshold for twice "
    "the minimum. Lower while the person's usual posture was not yet known. Hover a row "
    "for why it was flagged."
)


def _plain_label(text: str = "") -> QtWidgets.QLabel:
    label = QtWidgets.QLabel(text)
    label.setTextFormat(QtCore.Qt.TextFormat.PlainText)  # texts from the analysis or a file
    label.setWordWrap(True)
    label.setSizePolicy(QtWidgets.QSizePolicy.Policy.Ignored,
                        QtWidgets.QSizePolicy.Policy.Preferred)
    return label


def _table(headers: list[str]) -> QtWidgets.QTableWidget:
    t = QtWidgets.QTableWidget(0, len(headers))
    t.setHorizontalHeaderLabels(headers)
    t.verticalHeader().setVisible(False)
    t.setEditTriggers(_RO)
    t.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
    t.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.SingleSelection)
    t.horizontalHeader().setStretchLastSection(True)
    t.setAlternatingRowColors(True)
    t.verticalHeader().setDefaultSectionSize(22)
    return t


class EpisodeTable(QtWidgets.QWidget):
    """The hip-hike and pelvic-drop episodes; selecting a row asks the window to jump to it.

    A drop's kind reads "drop", its side (the side that drops) in the drop colour.

    Each row shows the episode's confidence; its reason is the row's tooltip and, for the
    selected row, the line under the table. The last line counts the would-be flags the
    detector left out, by reason (its tooltip says what each reason means).

    Signals
    -------
    episodeActivated(int)
        The user picked episode ``i`` (click, arrow keys).
    """

    episodeActivated = QtCore.Signal(int)
    TITLE = "Hip-hike and pelvic-drop episodes"

    def __init__(self, theme: Theme, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.theme = theme
        self.title = QtWidgets.QLabel(f"<b>{self.TITLE}</b>")
        self.table = _table([h for h, _ in EPISODE_COLUMNS])
        self.table.itemSelectionChanged.connect(self._on_select)
        confidence = [k for _, k in EPISODE_COLUMNS].index("confidence")
        if (header := self.table.horizontalHeaderItem(confidence)) is not None:
            header.setToolTip(plain_tooltip(CONFIDENCE_HELP))
        self.why = _plain_label()
        self.not_flagged = _plain_label()
        self.not_flagged.setStyleSheet(f"color: {theme.muted}")
        self.not_flagged.setCursor(QtCore.Qt.CursorShape.WhatsThisCursor)  # hover: what each is
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.title)
        lay.addWidget(self.table, 1)
        lay.addWidget(self.why)
        lay.addWidget(self.not_flagged)
        self._quiet = False
        self._reasons: list[str] = []
        self._show_why()
        self.set_suppressed(None)

    def set_rows(self, rows: list[dict[str, Any]]) -> None:
        """Fill the table (one row per episode)."""
        self._quiet = True
        try:
            self.table.setRowCount(len(rows))
            for i, r in enumerate(rows):
                side = _item(r["side"])
                colour = (self.theme.drop if r["kind"] == "drop"
                          else self.theme.side.get(r["side"], self.theme.alert))
                side.setForeground(QtGui.QColor(colour))
                font = side.font()
                font.setBold(True)
                side.setFont(font)
                cells = [
                    side,
                    _item(r["kind"]),
                    _item(r["activity"]),
                    _item(format_clock(r["start_s"]), True),
                    _item(f"{r['duration_s']:.1f} s", True),
                    _item(_fmt(r["peak_deg"]), True),
                    _item(_fmt(r["mean_deg"]), True),
                    _item(_fmt(r.get("confidence"), 2), True),
                ]
                tip = plain_tooltip(str(r.get("reason") or ""))
                for j, c in enumerate(cells):
                    c.setToolTip(tip)
                    self.table.setItem(i, j, c)
            self.table.resizeColumnsToContents()
            self._reasons = [str(r.get("reason") or "") for r in rows]
        finally:
            self._quiet = False
        self._show_why()
        n = len(rows)
        self.title.setText(f"<b>{self.TITLE}</b> ({n}) &nbsp; "
                           f"<span style='color:{self.theme.muted}'>click to show · N / P: "
                           "next / previous</span>")

    def set_suppressed(self, items: list[Suppressed] | None) -> None:
        """The "Not flagged" line: would-be flags left out by reason (None: not known yet)."""
        if items is None:
            self.not_flagged.clear()
            self.not_flagged.setToolTip("")
            self.not_flagged.hide()
            return
        self.not_flagged.setText(suppressed_line(items))
        self.not_flagged.setToolTip(plain_tooltip(suppressed_help(items)))
        self.not_flagged.show()

    def _show_why(self) -> None:
        """The selected episode's reason under the table."""
        i = self.current()
        if i is not None and 0 <= i < len(self._reasons) and self._reasons[i]:
            self.why.setText(f"Why: {self._reasons[i]}")
        elif self._reasons:
            self.why.setText("Select an episode to see why it was flagged.")
        else:
            self.why.clear()
        self.why.setVisible(bool(self.why.text()))

    def rows_text(self) -> list[list[str]]:
        """The table's text, row by row (for tests)."""
        t = self.table
        return [
            [item.text() if (item := t.item(i, j)) else "" for j in range(t.columnCount())]
            for i in range(t.rowCount())
        ]

    def select(self, index: int | None) -> None:
        """Highlight row ``index`` without emitting."""
        self._quiet = True
        try:
            if index is None:
                self.table.clearSelection()
            else:
                self.table.selectRow(index)
                if (item := self.table.item(index, 0)) is not None:
                    self.table.scrollToItem(item)
        finally:
            self._quiet = False

    def current(self) -> int | None:
        """The selected row, if any."""
        rows = self.table.selectionModel().selectedRows()
        return rows[0].row() if rows else None

    def _on_select(self) -> None:
        self._show_why()
        if not self._quiet and (i := self.current()) is not None:
            self.episodeActivated.emit(i)


class SummaryPanel(QtWidgets.QWidget):
    """Per activity: time, anterior and lateral tilt mean ± SD, % time hip-hiking."""

    HEADERS = ("Activity", "Time", "Anterior tilt (°)", "Lateral tilt (°)", "Hip-hiking")

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.table = _table(list(self.HEADERS))
        self.table.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.NoSelection)
        self.note = QtWidgets.QLabel("mean ± SD relative to the calibrated neutral standing")
        self.note.setWordWrap(True)
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(self.table)
        lay.addWidget(self.note)

    def set_rows(self, rows: list[dict[str, Any]]) -> None:
        """Fill from :meth:`ReviewModel.summary_rows`."""
        self.table.setRowCount(len(rows))
        for i, r in enumerate(rows):
            ant = f"{_fmt(r['anterior_mean'], sign=True)} ± {_fmt(r['anterior_sd'])}"
            lat = f"{_fmt(r['lateral_mean'], sign=True)} ± {_fmt(r['lateral_sd'])}"
            cells = [_item(r["activity"]), _item(_duration(r["duration_s"]), True),
                     _item(ant, True), _item(lat, True), _item(f"{r['hip_hike_pct']:.0f} %", True)]
            for j, c in enumerate(cells):
                self.table.setItem(i, j, c)
        self.table.resizeColumnsToContents()


class GaitPanel(QtWidgets.QWidget):
    """Cadence, walking speed, stride length and each step's swing-side elevation per side.

    Speed and stride length are the session's (bouts weighted by their steps; the
    inverted-pendulum model of :mod:`analysis.gait.spatial`).
    """

    def __init__(self, theme: Theme, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.theme = theme
        self.text = QtWidgets.QLabel()
        self.text.setWordWrap(True)
        self.text.setTextFormat(QtCore.Qt.TextFormat.RichText)
        self.plot = pg.PlotWidget(background=theme.background)
        item = self.plot.getPlotItem()
        item.setMenuEnabled(False)
        item.hideButtons()
        item.setLabel("left", "swing side elevation (°)")
        item.setLabel("bottom", "step")
        item.setMouseEnabled(x=True, y=False)
        self.scatter = {
            side: pg.ScatterPlotItem(size=5, pen=None, brush=pg.mkBrush(theme.side[side]),
                                     name=f"{side} swing")
            for side in ("left", "right")
        }
        item.addLegend(offset=(6, 4), labelTextColor=theme.foreground)
        for s in self.scatter.values():
            item.addItem(s)
        self.line = pg.InfiniteLine(angle=0, movable=False,
                                    pen=pg.mkPen(theme.threshold, width=1,
                                                 style=QtCore.Qt.PenStyle.DashLine))
        item.addItem(self.line)
        item.addItem(pg.InfiniteLine(pos=0, angle=0, movable=False,
                                     pen=pg.mkPen(theme.reference, width=1)))
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(self.text)
        lay.addWidget(self.plot, 1)

    def clear(self, message: str) -> None:
        """No gait figures (yet): show ``message``."""
        self.text.setText(f"<b>Gait</b> &nbsp; {message}")
        for s in self.scatter.values():
            s.setData(x=[], y=[])

    def set_model(self, model: ReviewModel) -> None:
        """Show the gait summary and the per-step elevation."""
        g = model.gait()
        left, right = g["left_swing_elevation_deg"], g["right_swing_elevation_deg"]
        thr = model.params.gait_elevation_deg
        self.text.setText(
            f"<b>Gait</b> &nbsp; cadence {_fmt(g['cadence_spm'], 0)} steps/min · "
            f"walking speed {_fmt(g.get('walking_speed_mps'), 2)} m/s · "
            f"stride length {_fmt(g.get('stride_length_m'), 2)} m<br>"
            f"{g['steps']} steps · {g['strides']} strides · obliquity range "
            f"{_fmt(g['obliquity_rom_deg'])}°<br>Swing side elevation, median: "
            f"<span style='color:{self.theme.side['left']}'>left {_fmt(left, sign=True)}°</span>"
            f" · <span style='color:{self.theme.side['right']}'>right "
            f"{_fmt(right, sign=True)}°</span> &nbsp; (normal gait drops the swing side; "
            f"above {thr:.1f}° counts as hiked)"
        )
        # x = running step number per side, so left and right strides line up.
        for side, (_t, elev) in g["swings"].items():
            self.scatter[side].setData(x=list(range(elev.size)), y=elev)
        self.line.setPos(thr)


class ThresholdForm(QtWidgets.QWidget):
    """A detector's numeric thresholds; edits re-detect at once.

    Parameters
    ----------
    params_type : type
        The parameters dataclass (:class:`HipHikeParams` by default, or
        :class:`analysis.hiphike.params.PelvicDropParams`); its numeric fields get a box each.
    intro : str, optional
        The text above the fields.

    Signals
    -------
    paramsChanged(object)
        New valid parameters (an instance of ``params_type``).
    """

    paramsChanged = QtCore.Signal(object)

    def __init__(self, parent: QtWidgets.QWidget | None = None, *,
                 params_type: type = HipHikeParams, intro: str = "") -> None:
        super().__init__(parent)
        self.params_type = params_type
        form = QtWidgets.QFormLayout()
        form.setLabelAlignment(QtCore.Qt.AlignmentFlag.AlignRight)
        self.fields: dict[str, QtWidgets.QSpinBox | QtWidgets.QDoubleSpinBox] = {}
        helps = field_help(params_type)
        for f in tunable_fields(params_type):
            box: QtWidgets.QSpinBox | QtWidgets.QDoubleSpinBox
            if isinstance(f.default, int) and not isinstance(f.default, bool):
                box = QtWidgets.QSpinBox()
                box.setRange(0, max(100, 10 * f.default))  # baseline_strides: 200
            else:
                box = QtWidgets.QDoubleSpinBox()
                box.setDecimals(2)
                box.setSingleStep(0.5 if f.name.endswith(("_deg", "_s")) else 0.05)
                box.setRange(0.0, 600.0)
            box.setKeyboardTracking(False)
            # Rich text so that Qt wraps the long descriptions.
            tip = f"<p>{helps.get(f.name, '')} (default {f.default})</p>"
            box.setToolTip(tip)
            box.valueChanged.connect(self._changed)
            self.fields[f.name] = box
            label = QtWidgets.QLabel(field_label(f.name))
            label.setToolTip(tip)
            form.addRow(label, box)
        intro_label = QtWidgets.QLabel(intro or (
            "Hip-hike detector thresholds. Episodes are re-detected as soon as a value "
            "changes (orientation and calibration are kept). Hover a field for its meaning."
        ))
        intro_label.setWordWrap(True)
        self.error = QtWidgets.QLabel()
        self.error.setTextFormat(QtCore.Qt.TextFormat.PlainText)
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #c62828")
        reset = QtWidgets.QPushButton("Defaults")
        reset.clicked.connect(lambda: self.set_params(params_type(), emit=True))
        lay = QtWidgets.QVBoxLayout(self)
        lay.addWidget(intro_label)
        lay.addLayout(form)
        lay.addWidget(self.error)
        lay.addWidget(reset, 0, QtCore.Qt.AlignmentFlag.AlignLeft)
        lay.addStretch(1)
        self._base: Any = params_type()
        self._quiet = False

    def set_params(self, params: Any, *, emit: bool = False) -> None:
        """Show ``params`` (emit ``paramsChanged`` only when asked)."""
        self._base = params
        self._quiet = True
        try:
            for name, box in self.fields.items():
                box.setValue(getattr(params, name))
        finally:
            self._quiet = False
        self.error.clear()
        if emit:
            self.paramsChanged.emit(params)

    def _changed(self, *_: Any) -> None:
        if self._quiet:
            return
        # Each field's own type (int or float spin box); the dataclass checks the values.
        values: dict[str, Any] = {n: b.value() for n, b in self.fields.items()}
        try:
            params = dataclasses.replace(self._base, **values)
        except ValueError as exc:
            self.error.setText(str(exc))
            return
        self.error.clear()
        self._base = params
        self.paramsChanged.emit(params)


class MarkersPanel(QtWidgets.QWidget):
    """The user's markers (time, label, note) and a note on the whole session.

    Signals
    -------
    addRequested()
        Add a marker at the centre of the detail view.
    markerEdited(int, str, str)
        Row, new label, new note.
    removeRequested(int)
        Delete the marker of this row.
    markerActivated(int)
        Show this marker.
    sessionNoteEdited(str)
        New session note.
    """

    addRequested = QtCore.Signal()
    markerEdited = QtCore.Signal(int, str, str)
    removeRequested = QtCore.Signal(int)
    markerActivated = QtCore.Signal(int)
    sessionNoteEdited = QtCore.Signal(str)

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self._quiet = False
        self.table = _table(["Time", "Label", "Note"])
        self.table.setEditTriggers(
            QtWidgets.QAbstractItemView.EditTrigger.DoubleClicked
            | QtWidgets.QAbstractItemView.EditTrigger.EditKeyPressed
        )
        self.table.itemChanged.connect(self._on_edit)
        self.table.cellClicked.connect(lambda row, _col: self.markerActivated.emit(row))
        add = QtWidgets.QPushButton("Add marker (M)")
        add.clicked.connect(self.addRequested.emit)
        remove = QtWidgets.QPushButton("Delete")
        remove.clicked.connect(self._remove)
        self.status = QtWidgets.QLabel()
        self.status.setTextFormat(QtCore.Qt.TextFormat.PlainText)  # holds file names
        self.session_note = QtWidgets.QPlainTextEdit()
        self.session_note.setPlaceholderText("Note on the whole session…")
        self.session_note.setMaximumHeight(70)
        self.session_note.textChanged.connect(
            lambda: None if self._quiet else self.sessionNoteEdited.emit(
                self.session_note.toPlainText()))
        buttons = QtWidgets.QHBoxLayout()
        buttons.addWidget(add)
        buttons.addWidget(remove)
        buttons.addStretch(1)
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addLayout(buttons)
        lay.addWidget(self.table, 1)
        lay.addWidget(QtWidgets.QLabel("Session note"))
        lay.addWidget(self.session_note)
        lay.addWidget(self.status)

    def set_markers(self, model: ReviewModel) -> None:
        """Fill from the model's user markers and session note."""
        self._quiet = True
        try:
            self.table.setRowCount(len(model.markers))
            for i, m in enumerate(model.markers):
                t = _item(format_clock(m.time_s, with_tenths=True), True)
                t.setFlags(t.flags() & ~QtCore.Qt.ItemFlag.ItemIsEditable)
                self.table.setItem(i, 0, t)
                self.table.setItem(i, 1, _item(m.label))
                self.table.setItem(i, 2, _item(m.note))
            if self.session_note.toPlainText() != model.notes.session_note:
                self.session_note.setPlainText(model.notes.session_note)
        finally:
            self._quiet = False

    def _on_edit(self, item: QtWidgets.QTableWidgetItem) -> None:
        if self._quiet or item.column() == 0:
            return
        row = item.row()
        label, note = self.table.item(row, 1), self.table.item(row, 2)
        self.markerEdited.emit(row, label.text() if label else "", note.text() if note else "")

    def _remove(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        if rows:
            self.removeRequested.emit(rows[0].row())


class CalibrationPanel(QtWidgets.QWidget):
    """How the session was calibrated, and re-calibration from the detail-view span.

    Signals
    -------
    recalibrateRequested()
        Re-calibrate from the span shown in the detail plots.
    """

    recalibrateRequested = QtCore.Signal()

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.text = QtWidgets.QLabel()
        self.text.setWordWrap(True)
        self.text.setTextFormat(QtCore.Qt.TextFormat.RichText)
        self.button = QtWidgets.QPushButton("Re-calibrate from the span shown")
        self.button.clicked.connect(self.recalibrateRequested.emit)
        help_text = QtWidgets.QLabel(
            "Zoom the detail view to a span holding quiet standing (≥ 5 s) followed by "
            "straight walking (≥ 10 s), then press the button. The whole session is "
            "re-analysed with that neutral posture and walking direction."
        )
        help_text.setWordWrap(True)
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(self.text)
        lay.addWidget(help_text)
        lay.addWidget(self.button, 0, QtCore.Qt.AlignmentFlag.AlignLeft)
        lay.addStretch(1)

    def set_model(self, model: ReviewModel) -> None:
        """Describe the calibration in use."""
        r = model.result
        cal = r.calibration
        if cal is None:
            self.text.setText(f"<b>No calibration</b>: {html.escape(str(r.calibration_error))}")
            return
        q = cal.quality
        # The method and notes can come from a recording's metadata: text, not markup.
        parts = [f"<b>Calibration</b>: {html.escape(str(cal.method))}"]
        if cal.standing_span_s:
            a, b = cal.standing_span_s
            parts.append(f"neutral standing {format_clock(a)}–{format_clock(b)} "
                         f"({q.standing_s:.0f} s)")
        if cal.walking_span_s:
            parts.append(f"walking used {q.walking_s:.0f} s, direction confidence "
                         f"{_fmt(q.direction_confidence, 2)}")
        parts.extend(html.escape(str(n)) for n in q.notes)
        self.text.setText("<br>".join(parts))
