"""The review window's history panel on a real database of simulated weekly sessions."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from PySide6 import QtCore

from gui.review.history_panel import HistoryPanel
from gui.widgets.theme import LIGHT
from history.db import open_database
from history.model import history_for_recording
from history.store import add_subject, import_files
from tests.history.conftest import hike_seconds, write_session

pytestmark = pytest.mark.gui


def test_history_panel(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    files = []
    for week in range(4):
        files.append(tmp_path / f"w{week}.psrec")
        write_session(
            files[-1],
            seed=week,
            hike_s=hike_seconds(2 * week),
            start=dt.datetime(2026, 2, 2) + dt.timedelta(days=7 * week),
        )
    with open_database(f"sqlite:///{tmp_path / 'h.sqlite'}") as db:
        add_subject(db, "GUI-1")
        import_files(db, "GUI-1", files)
        shutil.move(files[3], tmp_path / "elsewhere.psrec")  # gone: not openable
        history = history_for_recording(db, files[1])
    panel = HistoryPanel(LIGHT)
    qtbot.addWidget(panel)
    panel.resize(420, 640)
    panel.set_history(history)
    assert "GUI-1" in panel.title.text() and panel.table.rowCount() == 4
    assert panel.metric_box.currentData() == "hike_right_standing_pct"
    assert panel.table.currentRow() == 1
    assert "fell from" in panel.findings.text()
    image = panel.grab()
    assert not image.isNull()
    image.save(str(tmp_path / "history_panel.png"))

    with qtbot.waitSignal(panel.open_requested, timeout=1000) as opened:
        panel.table.cellDoubleClicked.emit(0, 0)
    assert opened.args == [str(files[0])]
    with qtbot.assertNotEmitted(panel.open_requested):
        panel.table.cellDoubleClicked.emit(3, 0)  # moved away
        panel.table.cellDoubleClicked.emit(1, 0)  # the one on screen
    panel.set_history(None)
    assert panel.table.rowCount() == 0 and "No history" in panel.title.text()
    assert QtCore.Qt  # the Qt bindings stay imported for the signal spy
