"""The review window shows the subject's history beside the session (issue 19 item 4):
filled off the GUI thread from the history database, and an earlier session opens on a
double-click. A real private SQLite database ($PELVISCOPE_DB) of three simulated sessions.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from gui.review.history_panel import load_history
from history.db import DB_ENV, open_database
from history.store import add_subject, import_files
from tests.history.conftest import hike_seconds, write_session

pytest.importorskip("pytestqt")

pytestmark = pytest.mark.gui


@pytest.fixture
def sessions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    files = []
    for week in range(3):
        files.append(tmp_path / f"week{week}.psrec")
        write_session(files[-1], seed=week, hike_s=hike_seconds(3 * week),
                      start=dt.datetime(2026, 3, 2) + dt.timedelta(days=7 * week))
    url = f"sqlite:///{tmp_path / 'history.sqlite'}"
    with open_database(url) as db:
        add_subject(db, "REV-7")
        import_files(db, "REV-7", files, jobs=1)
    monkeypatch.setenv(DB_ENV, url)
    return files


def test_review_window_shows_the_history_and_opens_an_earlier_session(
    qtbot, sessions  # type: ignore[no-untyped-def]
) -> None:
    from gui.review.window import ReviewWindow

    w = ReviewWindow()
    qtbot.addWidget(w)
    w.show()
    with qtbot.waitSignals([w.loaded, w.historyLoaded], timeout=60_000):
        w.open_path(sessions[2])
    panel = w.history
    assert "REV-7" in panel.title.text()
    assert panel.table.rowCount() == 3 and panel.table.currentRow() == 2
    w.tabs.setCurrentWidget(panel)
    w.grab().save(str(sessions[0].parent / "review_history.png"))
    with qtbot.waitSignals([w.loaded, w.historyLoaded], timeout=60_000):
        panel.table.cellDoubleClicked.emit(0, 0)
    assert w.model is not None and w.model.path == sessions[0]
    assert panel.table.currentRow() == 0
    w.close()


def test_no_database_no_history_and_none_is_created(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv(DB_ENV, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert load_history(tmp_path / "x.psrec") is None
    assert not (tmp_path / "data").exists()
