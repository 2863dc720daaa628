"""The subject's history beside a reviewed session: their sessions, one trend, the findings.

A thin view of :class:`history.model.SubjectHistory` (Qt-free, built by
:func:`history.model.history_for_recording`); double-clicking an earlier session whose
recording is still in place asks the window to open it (:attr:`HistoryPanel.open_requested`).
"""

from __future__ import annotations

import html
import os

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets
from sqlalchemy.exc import SQLAlchemyError

from gui.widgets.theme import Theme
from history.db import DB_ENV, default_path, open_database, reason
from history.model import SubjectHistory, history_for_recording
from history.trends import fmt_value

_RO = QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers
#: The metric shown first when the subject has values of it.
DEFAULT_METRIC = "hike_right_standing_pct"


class HistoryPanel(QtWidgets.QWidget):
    """Sessions list, a trend plot with a metric chooser, and plain-language findings.

    Signals
    -------
    open_requested(str)
        The path of an earlier session the user asked to open.
    """

    open_requested = QtCore.Signal(str)

    def __init__(self, theme: Theme, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self._theme = theme
        self._history: SubjectHistory | None = None
        self.title = QtWidgets.QLabel("No history: this recording was not imported")
        self.title.setWordWrap(True)
        self.metric_box = QtWidgets.QComboBox()
        self.metric_box.currentIndexChanged.connect(self._plot)
        self.plot = pg.PlotWidget(background=theme.background)
        self.plot.setMinimumHeight(160)
        self.plot.setLabel("bottom", "days since the first session")
        self.plot.showGrid(x=True, y=True, alpha=0.2)
        self.table = QtWidgets.QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels(["recorded (UTC)", "kind", "min", "file"])
        self.table.setEditTriggers(_RO)
        self.table.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().setVisible(False)
        self.table.setWordWrap(False)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.cellDoubleClicked.connect(self._open)
        self.findings = QtWidgets.QLabel()
        self.findings.setWordWrap(True)
        self.findings.setTextFormat(QtCore.Qt.TextFormat.RichText)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.metric_box)
        layout.addWidget(self.plot, 2)
        layout.addWidget(self.table, 2)
        layout.addWidget(self.findings)

    def set_history(self, history: SubjectHistory | None) -> None:
        """Show ``history`` (None: the recording is in no subject's history)."""
        self._history = history
        self.metric_box.blockSignals(True)
        self.metric_box.clear()
        self.table.setRowCount(0)
        if history is None:
            self.title.setText("No history: this recording was not imported")
            self.findings.clear()
            self.plot.clear()
            self.metric_box.blockSignals(False)
            return
        n = len(history.sessions)
        self.title.setText(f"<b>Subject {html.escape(history.code)}</b>: {n} sessions")
        for t in history.trends.metrics:
            if t.count:
                self.metric_box.addItem(t.metric.label, t.metric.name)
        index = self.metric_box.findData(DEFAULT_METRIC)
        self.metric_box.setCurrentIndex(max(index, 0))
        self.metric_box.blockSignals(False)
        bold = QtGui.QFont()
        bold.setBold(True)
        self.table.setRowCount(n)
        for row, s in enumerate(history.sessions):
            cells = [f"{s.recorded_utc:%Y-%m-%d %H:%M}", s.kind, f"{s.duration_s / 60:.1f}", s.file]
            for col, text in enumerate(cells):
                item = QtWidgets.QTableWidgetItem(text)
                if s.current:
                    item.setFont(bold)
                if history.openable(row) is None:
                    item.setForeground(QtGui.QColor(self._theme.muted))
                self.table.setItem(row, col, item)
        self.table.resizeColumnsToContents()
        if history.current_index is not None:
            self.table.selectRow(history.current_index)
        items = "".join(f"<li>{html.escape(f)}</li>" for f in history.findings)
        self.findings.setText(f"<ul>{items}</ul>" if items else "No change beyond noise yet.")
        self._plot()

    def _plot(self) -> None:
        self.plot.clear()
        history = self._history
        name = self.metric_box.currentData()
        if history is None or name is None:
            return
        trend = history.trends.of(str(name))
        days, known = history.trends.days, trend.known
        colour = self._theme.lateral
        self.plot.plot(
            days[known], trend.values[known], pen=pg.mkPen(colour, width=2),
            symbol="o", symbolSize=7, symbolBrush=colour, symbolPen=None,
        )  # fmt: skip
        current = history.current_index
        if current is not None and known[current]:
            self.plot.plot(
                [days[current]], [trend.values[current]], pen=None, symbol="o",
                symbolSize=13, symbolBrush=None, symbolPen=pg.mkPen(self._theme.alert, width=2),
            )  # fmt: skip
        unit = trend.metric.unit
        self.plot.setLabel("left", unit)  # the chooser above names the metric
        self.plot.setToolTip(
            f"first {fmt_value(trend.first, unit)}, last {fmt_value(trend.last, unit)}"
        )
        if days.size:
            self.plot.setXRange(0.0, max(float(np.nanmax(days)), 1.0), padding=0.05)

    def _open(self, row: int, _column: int) -> None:
        if self._history is None or self._history.sessions[row].current:
            return
        path = self._history.openable(row)
        if path is not None:
            self.open_requested.emit(path)


def load_history(path: str | os.PathLike[str], db: str | None = None) -> SubjectHistory | None:
    """The history of the subject ``path`` was imported for (None: not imported, no database).

    Blocking (a database query): the window calls it off the GUI thread. ``db`` as for
    :func:`history.db.open_database` (None: ``$PELVISCOPE_DB`` or the default SQLite file).
    Reviewing a file never creates a database: without ``db``, ``$PELVISCOPE_DB`` and the
    default file there is no history.
    """
    if db is None and not os.environ.get(DB_ENV) and not default_path().exists():
        return None
    try:
        with open_database(db) as database:
            return history_for_recording(database, path)
    except SQLAlchemyError as exc:  # one line for the panel, as the CLI says it
        raise OSError(f"history database: {reason(exc)}") from None
