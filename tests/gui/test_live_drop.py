"""Pelvic drop live (issue 17 item 1): the live model flags a drop on the side that drops,
with the episodes the offline analysis finds in the same recording (one code path).

A slow rehab gait (80 steps/min, stride CV 3.5 %) with a 6.5 deg extra drop of the left
side, replayed through the model the dashboard draws from (no BLE, no real time).
"""

from __future__ import annotations

import pytest

from analysis.pipeline.offline import analyze_recording
from firmware_bridge.replay import ReplaySource
from gui.live.model import LiveModel
from gui.live.settings import LiveSettings
from simulator import Scenario, Stand, Walk, simulate

DROP = Scenario(
    [
        Stand(6.0),
        Walk(40.0, cadence_spm=80, speed_mps=0.6, stride_cv=0.035),
        Walk(45.0, cadence_spm=80, speed_mps=0.6, stride_cv=0.035, drop_side="left",
             drop_deg=6.5),
        Stand(6.0),
    ]
)


@pytest.fixture(scope="module")
def drop_recording():
    return simulate(DROP, rate_hz=100, seed=3).recording


@pytest.fixture(scope="module")
def played(drop_recording):
    model = LiveModel(LiveSettings(window_s=20.0))
    model.connect(ReplaySource(drop_recording, batch_samples=20, batches_per_poll=2), "replay")
    src = model.source
    flags: list[tuple[str, str]] = []
    while not src.done:
        model.tick()
        model.idle()
        flags.append((model.hip_hike_flag, model.drop_flag))
    assert model.pipeline is not None
    model.pipeline.finish()
    return model, flags


def test_live_drop_is_flagged_on_the_dropping_side_and_not_as_a_hike(played) -> None:
    model, flags = played
    drop_flags = {d for _, d in flags if d}
    assert drop_flags == {"left"}
    assert not any(h for h, _ in flags)  # a drop is never shown as a hip-hike
    eps = model.pipeline.drop.episodes
    assert [e.side for e in eps] == ["left"]
    # flagged during the dropping walk (46-91 s), not in the normal one before it
    assert 46.0 <= eps[0].start_s <= 70.0 and eps[0].end_s >= 80.0
    snap = model.snapshot()
    assert model.readout().drop_side in ("", "left")
    assert all(d.side == "left" for d in snap.drops)


def test_live_drop_episodes_match_the_offline_analysis(played, drop_recording) -> None:
    model, _ = played
    offline = analyze_recording(drop_recording, source="drop", workers=1).pelvic_drops
    live = model.pipeline.drop.episodes
    assert [e["side"] for e in offline] == [e.side for e in live] == ["left"]
    stride_s = 2 * 60.0 / 80
    for off, on in zip(offline, live, strict=True):
        assert abs(off["start_s"] - on.start_s) <= stride_s
        assert abs(off["end_s"] - on.end_s) <= stride_s


@pytest.mark.gui
def test_dashboard_shows_the_drop_in_its_own_colour(drop_recording, qtbot, tmp_path) -> None:
    pytest.importorskip("pytestqt")
    from gui.live.window import LiveWindow

    model = LiveModel(LiveSettings(window_s=60.0))
    window = LiveWindow(model, lambda entry: None)
    qtbot.addWidget(window)
    window.timer.stop()  # the test drives the ticks
    model.connect(ReplaySource(drop_recording, batch_samples=50, batches_per_poll=4), "replay")
    while model.now_s < 80.0:
        model.tick()
        model.idle()
    window.show()
    window.refresh()
    window.update_strides()  # refresh does it at most once a second
    regions = window.lateral_plot.episode_regions()
    assert set(regions) == {"drop"} and regions["drop"]  # no hike shading
    (start, end), = regions["drop"]
    assert 46.0 <= start <= 70.0 and end == pytest.approx(model.now_s)
    assert window.lateral_plot.episode_labels() == ["DROP L"]
    assert window.drop.value.text() == "LEFT" and window.hiphike.value.text() == "none"
    assert window.lateral_plot.episode_colour("drop") == window.drop.theme.drop
    assert window.drop.theme.drop not in window.drop.theme.side.values()
    # the last 10 strides per side: the dropping (left) side's swing goes lower
    assert window.strides.counts == {"left": 10, "right": 10}
    cycles = model.last_strides(10)
    assert cycles is not None and cycles.end_s.max() <= model.now_s
    low = {s: cycles.obliquity_deg[cycles.side == s].mean(axis=0).min() for s in ("left", "right")}
    assert low["left"] < low["right"] - 2.0
    window.resize(1440, 900)
    window.grab().save(str(tmp_path / "live_drop.png"))
