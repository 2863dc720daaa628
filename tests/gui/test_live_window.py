"""The live dashboard end to end: emulated sensor over the bumble stack -> window (offscreen).

Each test streams a short simulated scenario in real time (a few seconds each), so the
whole file stays well under a minute. Assertions read plot data, not pixels.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from firmware_bridge.emulator import FaultConfig
from gui.live import sources
from gui.live.model import LiveModel
from gui.live.settings import LiveSettings
from simulator import Scenario, Stand, Walk

pytestmark = pytest.mark.gui
RATE_HZ = 200.0


@pytest.fixture
def make_window(qtbot, tmp_path):  # type: ignore[no-untyped-def]
    from PySide6 import QtCore

    from gui.live.window import LiveWindow

    made = []

    def make(scenario: Scenario, faults: FaultConfig | None = None) -> LiveWindow:
        signal = sources.simulated_signal(scenario, rate_hz=RATE_HZ)

        def factory(entry: sources.DeviceEntry):  # type: ignore[no-untyped-def]
            source, _sensor = sources.emulated(rate_hz=RATE_HZ, faults=faults, signal=signal)
            return source

        qs = QtCore.QSettings(str(tmp_path / "live.ini"), QtCore.QSettings.Format.IniFormat)
        window = LiveWindow(LiveModel(LiveSettings(window_s=20.0)), factory, qs)
        qtbot.addWidget(window)
        window.show()
        window.connect_to(sources.EMULATED_ENTRY)
        made.append(window)
        return window

    yield make
    for w in made:
        w.close()


def test_connects_and_shows_samples(make_window, qtbot) -> None:  # type: ignore[no-untyped-def]
    w = make_window(Scenario([Stand(4.0), Walk(10.0)]))
    qtbot.waitUntil(lambda: w.lateral_plot.curve_data()[0].size >= 400, timeout=8000)
    x, y = w.anterior_plot.curve_data()
    assert np.all(np.diff(x) > 0)
    assert np.nanmax(np.abs(y)) < 15.0  # standing upright, sacral mount preset
    _, lat = w.lateral_plot.curve_data()
    assert np.nanmax(np.abs(lat)) < 5.0
    assert w.connect_panel.state.text() == "streaming"
    assert 150 < w.model.status.rate_hz < 250
    assert w.anterior_readout.value.text().endswith("°")
    assert "Not calibrated" in w.cal_panel.current.text()  # says a preset is in use


def test_static_hip_hike_flagged_with_side(make_window, qtbot) -> None:  # type: ignore[no-untyped-def]
    # Right side raised (lateral tilt negative) while standing, from 3.5 s on.
    w = make_window(Scenario([Stand(3.5), Stand(9.0, lateral_deg=-6.5), Stand(3.0)]))
    qtbot.waitUntil(lambda: w.model.hip_hike_flag != "", timeout=15000)
    flagged_at = w.model.now_s
    t = w.model.ring.last("t")
    lat = w.model.ring.last("lat")
    crossing = float(t[np.argmax(lat <= -w.model.settings.hip_hike_threshold_deg)])
    min_dur = w.model.settings.hip_hike_min_duration_s
    assert w.model.hip_hike_flag == "right"
    assert flagged_at - crossing <= min_dur + 1.0
    w.refresh()
    regions = w.lateral_plot.episode_regions()
    assert list(regions) == ["right"] and len(regions["right"]) == 1
    start, end = regions["right"][0]
    assert abs(start - crossing) < 0.5 and end >= flagged_at - 0.1
    assert w.lateral_plot.episode_labels()[0].startswith("R ")
    assert w.hiphike.value.text() == "RIGHT"
    assert "right side raised" in w.hiphike.detail.text()


def test_survives_disconnect(make_window, qtbot) -> None:  # type: ignore[no-untyped-def]
    faults = FaultConfig(disconnect_every_s=2.0, vanish_s=1.0)
    w = make_window(Scenario([Stand(30.0)]), faults)
    seen: set[str] = set()

    def reconnected() -> bool:
        seen.add(w.connect_panel.state.text())
        return w.model.status.reconnects >= 1 and w.model.connection_text == "streaming"

    qtbot.waitUntil(reconnected, timeout=15000)
    assert "reconnecting" in seen or "connected - no data" in seen
    assert "streaming" in seen
    qtbot.waitUntil(lambda: w.model.now_s > max(g[1] for g in w.model.gaps) + 0.5, timeout=5000)
    w.refresh()
    x, y = w.lateral_plot.curve_data()
    breaks = np.flatnonzero(np.isnan(y))
    assert breaks.size >= 1
    i = int(breaks[0])
    assert x[i + 1] - x[i - 1] > 0.5  # the curve jumps over the time without data


def test_records_a_file_analyze_reads(make_window, qtbot, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from analysis.session import analyze
    from recordings import load

    w = make_window(Scenario([Stand(3.0), Walk(10.0)]))
    qtbot.waitUntil(lambda: w.model.now_s > 0.5, timeout=8000)
    w.record_panel.subject.setText("S01")
    w.record_panel.session.setText("live-test")
    w.record_panel.notes.setPlainText("pytest")
    w.record_panel.store.setChecked(False)  # storing in the history: test_live_history.py
    path = tmp_path / "live.psrec"
    w.start_recording(str(path))
    qtbot.waitUntil(lambda: w.model.recording.duration_s > 1.0, timeout=5000)
    qtbot.keyClick(w, "M")
    qtbot.waitUntil(lambda: w.model.recording.duration_s > 4.0, timeout=8000)
    written = w.stop_recording()
    assert written == path
    rec = load(path)
    assert rec.meta["subject_id"] == "S01" and rec.meta["session_id"] == "live-test"
    assert rec.meta["notes"] == "pytest"
    assert len(rec.markers) == 1 and 0.5 < rec.markers[0].time_s < 4.5
    assert rec.n_samples >= 3.5 * RATE_HZ and rec.time_s[0] < 0.1
    result = analyze(path)
    assert math.isclose(result.duration_s, rec.time_s[-1] - rec.time_s[0], abs_tol=0.1)
    assert len(result.per_sample) == rec.n_samples
    assert Path(w.record_panel.info.text().removeprefix("saved ")) == path


def test_recording_on_an_existing_name_keeps_the_file(make_window, qtbot, tmp_path) -> None:  # type: ignore[no-untyped-def]
    w = make_window(Scenario([Stand(5.0)]))
    qtbot.waitUntil(lambda: w.model.now_s > 0.3, timeout=8000)
    path = tmp_path / "live.psrec"
    path.write_bytes(b"yesterday's session")
    w.start_recording(str(path))
    assert w.model.recording is None and not w.record_panel.recording
    assert "exists already" in w.record_panel.info.text()
    assert str(path) in w.record_panel.info.text()
    t = w.model.now_s
    qtbot.waitUntil(lambda: w.model.now_s > t + 0.5, timeout=5000)  # streaming goes on
    assert path.read_bytes() == b"yesterday's session"
    # An automatic name that is taken (same subject, session and second) gets a suffix.
    import datetime as dt

    now = dt.datetime.now()
    taken = {tmp_path / f"S01_{(now + dt.timedelta(seconds=k)):%Y%m%d-%H%M%S}.psrec"
             for k in range(4)}
    for p in taken:
        p.write_bytes(b"taken")
    w.record_panel.folder.setText(str(tmp_path))
    w.record_panel.subject.setText("S01")
    w.start_recording()
    assert w.model.recording is not None
    assert w.model.recording.path.name.endswith("-2.psrec")
    qtbot.waitUntil(lambda: w.model.recording.samples > 0, timeout=5000)
    written = w.stop_recording()
    assert written is not None and written not in taken and written.parent == tmp_path
    assert path.read_bytes() == b"yesterday's session"
    assert all(p.read_bytes() == b"taken" for p in taken)


def test_full_disk_stops_the_recording_with_one_line(make_window, qtbot, small_disk) -> None:  # type: ignore[no-untyped-def]
    tiny_disk = small_disk(64, 8)
    w = make_window(Scenario([Stand(30.0)]))
    qtbot.waitUntil(lambda: w.model.now_s > 0.3, timeout=8000)
    path = tiny_disk / "live.psrec"
    w.start_recording(str(path))
    qtbot.waitUntil(lambda: not w.record_panel.recording, timeout=15_000)
    info = w.record_panel.info.text()
    assert "disk is full" in info and str(path) in info and "\n" not in info
    assert w.model.recording is None
    t = w.model.now_s
    qtbot.waitUntil(lambda: w.model.now_s > t + 0.3, timeout=5000)  # the dashboard goes on
