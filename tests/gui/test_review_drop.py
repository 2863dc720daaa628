"""The review window with pelvic drops and gait cycles (issue 17): drop episodes shaded in
their own colour and listed (kind "drop") beside the hip-hikes, drop thresholds that
re-detect and are kept in the notes, the gait-cycle panel (left/right mean +- SD over the
normal band) and walking speed / stride length in the gait panel.

A simulated slow walk with a 6.5 deg extra drop of the left side, and later the right side
hiked while standing (real widgets, offscreen; assertions on model and widget data).
"""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pytest

from analysis.hiphike.params import PelvicDropParams
from recordings import write_recording
from simulator import Scenario, Stand, Walk, simulate

pytest.importorskip("pytestqt")

pytestmark = pytest.mark.gui

SLOW = {"cadence_spm": 80, "speed_mps": 0.6, "stride_cv": 0.035}
SCENARIO = Scenario([
    Stand(6), Walk(40, **SLOW), Walk(45, drop_side="left", drop_deg=6.5, **SLOW),  # type: ignore[arg-type]
    Walk(10, **SLOW), Stand(4), Stand(12, lateral_deg=-6.5), Stand(4),  # type: ignore[arg-type]
])  # fmt: skip


@pytest.fixture(scope="module")
def recording(tmp_path_factory):  # type: ignore[no-untyped-def]
    path = tmp_path_factory.mktemp("review_drop") / "drop.psrec"
    write_recording(path, simulate(SCENARIO, rate_hz=100, seed=3).recording)
    return path


@pytest.fixture
def window(qtbot, recording, tmp_path):  # type: ignore[no-untyped-def]
    import shutil

    from gui.review.window import ReviewWindow

    path = tmp_path / recording.name
    shutil.copy2(recording, path)
    made = []

    def open_() -> ReviewWindow:
        w = ReviewWindow()
        qtbot.addWidget(w)
        w.show()
        with qtbot.waitSignal(w.loaded, timeout=60_000):
            w.open_path(path)
        made.append(w)
        return w

    yield open_
    for w in made:
        w.close()


def test_drops_are_listed_and_shaded_in_their_own_colour(window) -> None:  # type: ignore[no-untyped-def]
    w = window()
    m = w.model
    kinds = [(e["kind"], e["side"]) for e in m.episodes]
    assert ("drop", "left") in kinds and ("static", "right") in kinds
    assert [e["start_s"] for e in m.episodes] == sorted(e["start_s"] for e in m.episodes)
    drop = next(e for e in m.episodes if e["kind"] == "drop")
    assert drop == {**m.result.pelvic_drops[0], "kind": "drop", "activity": "walking"}
    assert 46.0 <= drop["start_s"] <= 70.0
    i = m.episodes.index(drop)
    rows = w.episodes.rows_text()
    assert rows[i][:2] == ["left", "drop"]
    assert w.episodes.table.item(i, 0).foreground().color().name() == w.theme.drop
    assert "pelvic-drop" in w.episodes.title.text()
    w.show_episode(i)
    regions = w.plots.lateral.episode_regions()
    (lo, hi), = regions["drop"]
    assert lo == pytest.approx(drop["start_s"], abs=1e-3)
    assert hi == pytest.approx(drop["end_s"], abs=1e-3)
    assert "LEFT pelvic drop" in w.plots.episode_labels()
    assert w.theme.drop not in w.theme.side.values()


def test_drop_thresholds_redetect_and_are_kept(window, qtbot) -> None:  # type: ignore[no-untyped-def]
    w = window()
    assert w.drop_thresholds.fields["min_strides"].value() == PelvicDropParams().min_strides
    hikes = w.model.result.episodes
    with qtbot.waitSignal(w.redetected, timeout=10_000):
        w.drop_thresholds.fields["min_strides"].setValue(60)
    assert w.model.drop_params.min_strides == 60
    assert w.model.result.pelvic_drops == []
    assert w.model.result.episodes == hikes  # the hip-hikes are not touched
    assert "drop" not in [r[1] for r in w.episodes.rows_text()]
    w.close()
    w = window()  # reopened: the thresholds come back from the notes
    assert w.model.drop_params == dataclasses.replace(PelvicDropParams(), min_strides=60)
    assert w.model.result.pelvic_drops == []
    with qtbot.waitSignal(w.redetected, timeout=10_000):
        w.drop_thresholds.set_params(PelvicDropParams(), emit=True)
    assert [e["side"] for e in w.model.result.pelvic_drops] == ["left"]


def test_gait_cycle_panel_and_speed(window, tmp_path) -> None:  # type: ignore[no-untyped-def]
    w = window()
    cycles = w.model.result.cycles
    assert cycles is not None
    for signal in ("obliquity", "anterior_tilt"):
        drawn = w.cycles.drawn[signal]
        assert {"left", "right", "normal"} <= set(drawn)
        for side in ("left", "right"):
            mean, _sd, n = drawn[side]
            part = cycles["session"][side]
            assert n == part["n_strides"] >= 20
            np.testing.assert_allclose(mean, np.array(part[f"{signal}_mean_deg"], float))
        # the zero-mean normal shape is centred on the measured curves
        lo, hi = drawn["normal"]
        centre = np.nanmean([np.nanmean(drawn[s][0]) for s in ("left", "right")])
        normal = np.array(cycles["normal"][signal]["mean_deg"], float)
        np.testing.assert_allclose(0.5 * (lo + hi), centre + normal)
    g = w.model.gait()
    text = w.gait.text.text()
    speed = re.search(r"walking speed ([0-9.]+) m/s", text)
    stride = re.search(r"stride length ([0-9.]+) m", text)
    assert speed and stride
    assert float(speed.group(1)) == pytest.approx(g["walking_speed_mps"], abs=0.006)
    assert float(stride.group(1)) == pytest.approx(g["stride_length_m"], abs=0.006)
    w.tabs.setCurrentWidget(w.cycles)
    w.resize(1600, 1000)
    w.grab().save(str(tmp_path / "review_cycles.png"))
