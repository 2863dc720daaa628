"""The live dashboard records into a subject of the history (issue 19 item 4): the subject
is picked from (or added to) the database, and the recording is analysed and stored as a
session when it stops - in a worker thread, the GUI never waits. A real private SQLite
database ($PELVISCOPE_DB); the stream is a replayed simulated recording (no BLE).
"""

from __future__ import annotations

import pytest

from firmware_bridge.replay import ReplaySource
from gui.live.model import LiveModel
from gui.live.settings import LiveSettings
from history.db import DB_ENV, open_database
from history.store import add_subject, list_sessions
from simulator import Scenario, Stand, Walk, simulate

pytest.importorskip("pytestqt")

pytestmark = pytest.mark.gui


def test_recording_is_stored_in_the_subjects_history(qtbot, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from gui.live.window import LiveWindow

    url = f"sqlite:///{tmp_path / 'history.sqlite'}"
    with open_database(url) as db:
        add_subject(db, "OLD-1")
    monkeypatch.setenv(DB_ENV, url)
    rec = simulate(Scenario([Stand(8), Walk(15), Stand(10)]), rate_hz=50, seed=2).recording

    model = LiveModel(LiveSettings(window_s=20.0))
    window = LiveWindow(model, lambda entry: None)
    qtbot.addWidget(window)
    window.timer.stop()  # the test drives the ticks
    rp = window.record_panel
    qtbot.waitUntil(lambda: (window._check_history(), rp.subjects)[1] == ["OLD-1"], timeout=10_000)

    model.connect(ReplaySource(rec, batch_samples=25, batches_per_poll=4), "replay")
    rp.subject.setText("NEW-2")  # a new id: added to the database when stored
    window.start_recording(str(tmp_path / "live.psrec"))
    assert rp.recording
    while not model.source.done:
        model.tick()
    path = window.stop_recording()
    assert path is not None and "storing in the history of NEW-2" in rp.info.text()
    qtbot.waitUntil(lambda: (window._check_history(), window.store_job)[1] is None,
                    timeout=60_000)
    assert rp.info.text() == "stored in the history of NEW-2"
    with open_database(url) as db:
        sessions = list_sessions(db, "NEW-2")
        assert [s.path for s in sessions] == [str(path)]
        assert list_sessions(db, "OLD-1") == []
    qtbot.waitUntil(lambda: (window._check_history(), rp.subjects)[1] == ["NEW-2", "OLD-1"],
                    timeout=10_000)
    window.close()
