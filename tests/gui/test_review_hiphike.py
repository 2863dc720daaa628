"""The review window and its cache with the hip-hike detector's confidence, reason and
suppressed counts (``hip_hike_suppressed``): fresh and cached opens equal, the episode
table's confidence column and reason, the "Not flagged" line, and re-detection with other
thresholds (real widgets, offscreen; assertions on model and widget data).

The session is simulated so that the default detector leaves flags out: a sit tilted 6 deg
from neutral throughout (this person's habitual sitting tilt) and a 3 s sideways tilt
while standing (too short), besides a left gait hike that is flagged.
"""

from __future__ import annotations

import dataclasses
import html
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from analysis.hiphike import HipHikeParams
from analysis.hiphike import gait as hiphike_gait
from analysis.hiphike import static as hiphike_static
from analysis.session import analyze_recording
from gui.review import cache
from gui.review.model import ReviewModel, open_session, suppressed_items, suppressed_line
from recordings import write_recording
from simulator import Scenario, Sit, Stand, Walk, simulate

pytest.importorskip("pytestqt")

pytestmark = pytest.mark.gui
SHORT = hiphike_static.SUPPRESSED_SHORT
HABITUAL_SITTING = hiphike_static.SUPPRESSED_HABITUAL.format(activity="sitting")
TOO_FEW_STRIDES = hiphike_gait.SUPPRESSED_SHORT


@pytest.fixture(scope="module")
def recording(tmp_path_factory):  # type: ignore[no-untyped-def]
    """A simulated session (~3 min) whose default analysis leaves flags out."""
    scenario = Scenario([
        Stand(10), Walk(20), Sit(60, lateral_deg=6.0), Stand(20), Stand(3, lateral_deg=7.0),
        Stand(15), Walk(20, hike_side="left", hike_deg=5.0), Walk(10), Stand(5),
    ])  # fmt: skip
    sim = simulate(scenario, rate_hz=100, mount=Rotation.random(random_state=1), seed=1)
    path = tmp_path_factory.mktemp("review_hiphike") / "suppressed.psrec"
    write_recording(path, sim.recording)
    return path


def _copy(src: Path, folder: Path) -> Path:
    dst = folder / src.name
    shutil.copy2(src, dst)
    return dst


def _doc(result) -> str:  # type: ignore[no-untyped-def]
    doc = result.to_json()
    doc["input"].pop("path")
    return json.dumps(doc, default=str)


def test_the_session_has_episodes_and_suppressed_flags(recording) -> None:  # type: ignore[no-untyped-def]
    """The premise of the tests below (not the detector's test): both kinds of output."""
    fresh = open_session(recording, use_cache=False)
    counts = fresh.result.hip_hike_suppressed
    assert counts.get(SHORT, 0) >= 1 and counts.get(HABITUAL_SITTING, 0) >= 1
    assert fresh.result.episodes
    for e in fresh.result.episodes:
        assert 0.0 < e["confidence"] <= 1.0 and e["side"] in e["reason"]


def test_cached_open_equals_fresh_with_suppressed_counts(recording, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = _copy(recording, tmp_path)
    fresh = open_session(path)
    assert not fresh.from_cache and fresh.cache_file == cache.cache_path(path)
    cached = open_session(path)
    assert cached.from_cache and not cached.cache_note
    assert cached.result.hip_hike_suppressed == fresh.result.hip_hike_suppressed
    assert cached.result.hip_hike_suppressed  # not two empty dicts
    assert cached.result.episodes == fresh.result.episodes
    assert [(e["confidence"], e["reason"]) for e in cached.result.episodes] == [
        (e["confidence"], e["reason"]) for e in fresh.result.episodes
    ]
    assert _doc(cached.result) == _doc(fresh.result)  # the whole JSON, suppressed included
    # The models the window shows agree, and so does a re-detection on either.
    a, b = ReviewModel(fresh), ReviewModel(cached)
    assert a.suppressed() == b.suppressed() and a.episode_rows() == b.episode_rows()
    params = HipHikeParams(gait_min_strides=40, static_min_duration_s=2.0)
    ra, rb = fresh.result.redetect(params), cached.result.redetect(params)
    assert ra.hip_hike_suppressed == rb.hip_hike_suppressed and ra.episodes == rb.episodes


def test_a_format_4_cache_is_reanalysed_quietly(recording, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A cache written before the counts were stored would open without them: stale."""
    path = _copy(recording, tmp_path)
    fresh = open_session(path)
    arrays = _archive(cache.cache_path(path))
    doc = json.loads(arrays["doc"].tobytes())
    doc["format"] = "pelviscope.review-cache/4"
    del doc["hip_hike_suppressed"]
    for e in doc["episodes"]:
        e.pop("confidence"), e.pop("reason")
    arrays["doc"] = np.frombuffer(json.dumps(doc).encode(), np.uint8)
    cache._write_signed(cache.cache_path(path), arrays, cache.user_key())
    again = open_session(path)
    assert not again.from_cache and not again.cache_note
    assert again.result.hip_hike_suppressed == fresh.result.hip_hike_suppressed
    assert open_session(path).from_cache  # re-written in the current format


def _archive(cache_file: Path) -> dict[str, np.ndarray]:
    import io

    data = cache_file.read_bytes()[cache._HEADER_BYTES:]
    with np.load(io.BytesIO(data), allow_pickle=False) as npz:
        return {k: npz[k] for k in npz.files}


def _open(qtbot, path: Path):  # type: ignore[no-untyped-def]
    from gui.review.window import ReviewWindow

    w = ReviewWindow()
    qtbot.addWidget(w)
    w.show()
    with qtbot.waitSignal(w.loaded, timeout=60_000):
        w.open_path(path)
    return w


def _shown(w) -> dict:  # type: ignore[no-untyped-def]
    """What the episode pane shows: rows, each row's tooltip, the "Not flagged" line."""
    t = w.episodes.table
    return {
        "rows": w.episodes.rows_text(),
        "tips": [t.item(i, 0).toolTip() for i in range(t.rowCount())],
        "not_flagged": w.episodes.not_flagged.text(),
        "not_flagged_tip": w.episodes.not_flagged.toolTip(),
    }


def test_window_fresh_and_cached_open_show_the_same(qtbot, recording, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from gui.review.panels import plain_tooltip

    path = _copy(recording, tmp_path)
    w = _open(qtbot, path)
    assert not w.model.session.from_cache
    fresh = _shown(w)
    counts = w.model.result.hip_hike_suppressed
    w.close()
    w = _open(qtbot, path)
    assert w.model.session.from_cache
    assert _shown(w) == fresh
    assert w.model.result.hip_hike_suppressed == counts
    # The table: confidence in its own column, the reason as every cell's tooltip.
    headers = [w.episodes.table.horizontalHeaderItem(j).text()
               for j in range(w.episodes.table.columnCount())]
    col = headers.index("Confidence")
    assert "twice the threshold" in w.episodes.table.horizontalHeaderItem(col).toolTip()
    episodes = w.model.episodes
    assert len(fresh["rows"]) == len(episodes) >= 1
    for row, tip, e in zip(fresh["rows"], fresh["tips"], episodes, strict=True):
        assert row[col] == f"{e['confidence']:.2f}"
        assert tip == plain_tooltip(e["reason"]) and html.escape(e["reason"]) in tip
    table = w.episodes.table
    assert {table.item(0, j).toolTip() for j in range(table.columnCount())} == {fresh["tips"][0]}
    # The selected episode's reason is written under the table.
    w.show_episode(0)
    assert w.episodes.why.text() == f"Why: {episodes[0]['reason']}"
    # The "Not flagged" line counts the suppressed flags by reason, in a few words each.
    line = fresh["not_flagged"]
    assert line.startswith("Not flagged: ")
    parts = line.removeprefix("Not flagged: ").split(", ")
    assert f"{counts[SHORT]} too short" in parts
    assert f"{counts[HABITUAL_SITTING]} habitual sitting tilt" in parts
    assert len(parts) == len(counts)
    tip = fresh["not_flagged_tip"]
    assert "less than 5 s" in tip and "usual sitting" in tip
    w.close()


def test_redetect_keeps_confidence_reason_and_counts_consistent(qtbot, recording, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = _copy(recording, tmp_path)
    w = _open(qtbot, path)
    before = _shown(w)
    # Every gait hike of this session is shorter than 40 strides: no longer flagged, counted.
    with qtbot.waitSignal(w.redetected, timeout=10_000):
        w.thresholds.fields["gait_min_strides"].setValue(40)
    params = w.model.params
    assert params.gait_min_strides == 40
    # The same as a whole analysis with these thresholds (not only a re-detection).
    from recordings import load

    reference = analyze_recording(load(path), source=str(path), hip_hike_params=params)
    assert w.model.result.episodes == reference.episodes
    assert w.model.result.hip_hike_suppressed == reference.hip_hike_suppressed
    assert reference.hip_hike_suppressed.get(TOO_FEW_STRIDES, 0) >= 1
    shown = _shown(w)
    assert len(shown["rows"]) == len(reference.episodes) < len(before["rows"])
    parts = shown["not_flagged"].removeprefix("Not flagged: ").split(", ")
    assert f"{reference.hip_hike_suppressed[TOO_FEW_STRIDES]} too few strides" in parts
    assert "fewer than 40 strides" in shown["not_flagged_tip"]
    assert shown["not_flagged"] == suppressed_line(
        suppressed_items(reference.hip_hike_suppressed, params))
    # Reopened (from the cache, with the thresholds kept in the notes): the same.
    w.close()
    w = _open(qtbot, path)
    assert w.model.session.from_cache and w.model.params == params
    assert _shown(w) == shown
    # Back to the defaults: the first view again.
    with qtbot.waitSignal(w.redetected, timeout=10_000):
        w.thresholds.set_params(HipHikeParams(), emit=True)
    assert _shown(w) == before
    w.close()


def test_reasons_are_text_never_markup(qtbot) -> None:  # type: ignore[no-untyped-def]
    from PySide6 import QtCore

    from gui.review.panels import EpisodeTable, plain_tooltip
    from gui.widgets.theme import LIGHT

    table = EpisodeTable(LIGHT)
    qtbot.addWidget(table)
    bad = "<b>left</b> <img src='x'> & more"
    table.set_rows([{"side": "left", "kind": "static", "activity": "sitting", "start_s": 1.0,
                     "end_s": 7.0, "duration_s": 6.0, "peak_deg": 5.0, "mean_deg": 4.5,
                     "confidence": 0.5, "reason": bad}])
    assert table.table.item(0, 0).toolTip() == "<p>" + html.escape(bad) + "</p>"
    long_bad = bad * 5  # set in a wide cell, still escaped
    assert plain_tooltip(long_bad).startswith("<table") and bad not in plain_tooltip(long_bad)
    table.select(0)
    assert table.why.text() == f"Why: {bad}"
    items = suppressed_items({bad: 2, SHORT: 3}, HipHikeParams())
    table.set_suppressed(items)
    assert table.not_flagged.text() == f"Not flagged: 3 too short, 2 {bad}"
    tip = table.not_flagged.toolTip()
    assert bad not in tip and html.escape(bad) in tip
    for label in (table.why, table.not_flagged):
        assert label.textFormat() == QtCore.Qt.TextFormat.PlainText
    table.set_suppressed([])
    assert table.not_flagged.text() == "Not flagged: none"
    table.set_suppressed(None)  # not known yet (the session is still being analysed)
    assert table.not_flagged.isHidden()


def test_every_detector_reason_has_words_and_an_explanation() -> None:
    """A reason the window cannot explain would be shown as the detector's raw words."""
    reasons = [
        getattr(module, name).format(activity=activity)
        for module in (hiphike_static, hiphike_gait)
        for name in dir(module)
        if name.startswith("SUPPRESSED_")
        for activity in ("sitting", "standing")
    ]
    assert len(set(reasons)) >= 6
    params = dataclasses.replace(HipHikeParams(), static_min_duration_s=7.5)
    for item in suppressed_items(dict.fromkeys(reasons, 1), params):
        assert item.label != item.reason and len(item.label) < 40
        assert item.explanation != item.reason and len(item.explanation) > 60
        assert "{" not in item.label + item.explanation
    short = suppressed_items({SHORT: 1}, params)[0]
    assert "7.5 s" in short.explanation
