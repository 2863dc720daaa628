"""The review window offscreen: open the demo, table vs ``analyze --json``, navigation,
thresholds, markers, exports, and the headless ``--screenshot --quit-after-load`` path.

Assertions read plot data and model state, not pixels.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from gui.review import cache
from gui.review.model import format_clock, open_session, suppressed_items, suppressed_line

pytestmark = pytest.mark.gui
DEMO = Path(__file__).resolve().parents[2] / "recordings" / "demo" / "clinic_tilted.psrec"


@pytest.fixture(scope="module")
def cached_demo(tmp_path_factory):  # type: ignore[no-untyped-def]
    """The demo recording analysed once, plus its ``analyze --json`` document."""
    from pelviscope.cli import main

    folder = tmp_path_factory.mktemp("review_window")
    path = folder / DEMO.name
    shutil.copy(DEMO, path)
    open_session(path)
    out = folder / "demo.json"
    assert main(["analyze", str(DEMO), "--json", str(out), "-q"]) == 0
    return path, json.loads(out.read_text())


@pytest.fixture
def window(qtbot, cached_demo, tmp_path):  # type: ignore[no-untyped-def]
    from gui.review.window import ReviewWindow

    src, _ = cached_demo
    path = tmp_path / src.name
    shutil.copy(src, path)
    shutil.copy(cache.cache_path(src), cache.cache_path(path))
    w = ReviewWindow()
    qtbot.addWidget(w)
    w.show()
    with qtbot.waitSignal(w.loaded, timeout=30_000):
        w.open_path(path)
    yield w
    w.close()


def test_opens_and_table_matches_analyze_json(window, cached_demo) -> None:  # type: ignore[no-untyped-def]
    _, doc = cached_demo
    expected = doc["hip_hike_episodes"]
    assert window.model.session.from_cache
    got = window.model.episodes
    assert [(e["side"], e["kind"], e["activity"]) for e in got] == [
        (e["side"], e["kind"], e["activity"]) for e in expected
    ]
    for g, e in zip(got, expected, strict=True):
        for key in ("start_s", "end_s", "peak_deg", "mean_deg"):
            assert g[key] == pytest.approx(e[key], abs=1e-9)
    rows = window.episodes.rows_text()
    assert len(rows) == len(expected)
    for row, e in zip(rows, expected, strict=True):
        assert row[:4] == [e["side"], e["kind"], e["activity"], format_clock(e["start_s"])]
        assert row[4] == f"{e['end_s'] - e['start_s']:.1f} s"
        assert row[5] == f"{e['peak_deg']:.1f}"
        assert row[7] == f"{e['confidence']:.2f}"  # and the reason is the row's tooltip
    assert window.episodes.not_flagged.text() == suppressed_line(
        suppressed_items(doc["hip_hike_suppressed"], window.model.params))
    # The curves hold the session's data, with breaks at the gaps.
    t, _ant, lat = window.plots.detail_curve()
    assert t.size > 1000 and np.isnan(lat).any() and np.nanmax(np.abs(lat)) > 4.0
    summary = [window.summary.table.item(i, 0).text()
               for i in range(window.summary.table.rowCount())]
    assert summary == list(doc["summary"])


def test_click_episode_moves_detail_view(window, qtbot) -> None:  # type: ignore[no-untyped-def]
    from PySide6 import QtCore

    table = window.episodes.table
    rect = table.visualItemRect(table.item(1, 0))
    qtbot.mouseClick(table.viewport(), QtCore.Qt.MouseButton.LeftButton, pos=rect.center())
    e = window.model.episodes[1]
    x0, x1 = window.plots.span
    assert x0 < e["start_s"] < e["end_s"] < x1
    assert x1 - x0 < 0.5 * window.model.result.duration_s
    vr = window.plots.lateral.getPlotItem().viewRange()[0]
    assert vr == pytest.approx([x0, x1])
    lo, hi = window.plots.region.getRegion()
    assert (lo, hi) == pytest.approx((x0, x1))
    t, _, _ = window.plots.detail_curve()
    assert t[0] <= x0 + 0.1 and t[-1] >= x1 - 0.1
    assert window.plots.episode_labels()[0].startswith(e["side"].upper())
    # Keyboard: next and previous episode.
    qtbot.keyClick(window, "n")
    assert window.current_episode == 2 and window.episodes.current() == 2
    qtbot.keyClick(window, "p")
    qtbot.keyClick(window, "p")
    assert window.current_episode == 0
    e0 = window.model.episodes[0]
    x0, x1 = window.plots.span
    assert x0 < e0["start_s"] < e0["end_s"] < x1


def test_region_drag_moves_detail(window) -> None:  # type: ignore[no-untyped-def]
    window.plots.region.setRegion((100.0, 130.0))
    assert window.plots.span == pytest.approx((100.0, 130.0))
    assert window.plots.anterior.getPlotItem().viewRange()[0] == pytest.approx([100.0, 130.0])


def test_threshold_change_updates_table(window, qtbot) -> None:  # type: ignore[no-untyped-def]
    before = len(window.episodes.rows_text())
    box = window.thresholds.fields["static_threshold_deg"]
    with qtbot.waitSignal(window.redetected, timeout=10_000):
        box.setValue(6.5)
    rows = window.episodes.rows_text()
    assert len(rows) < before
    assert all(float(r[5]) >= 6.5 for r in rows if r[1] == "static")
    assert window.model.params.static_threshold_deg == 6.5
    assert window.plots.lateral._thresholds[0].value() == 6.5
    shaded = window.plots.overview.episode_regions()
    assert sum(len(v) for v in shaded.values()) == len(rows)
    # An invalid combination is refused with a message, the episodes stay.
    window.thresholds.fields["static_release_deg"].setValue(9.0)
    assert "static_release_deg" in window.thresholds.error.text()
    assert len(window.episodes.rows_text()) == len(rows)


def test_markers_saved_and_reloaded(window, qtbot) -> None:  # type: ignore[no-untyped-def]
    from gui.review.notes import load_notes

    window.plots.set_span(100.0, 140.0)
    qtbot.keyClick(window, "m")
    assert [m.time_s for m in window.model.markers] == [pytest.approx(120.0)]
    window.markers.table.item(0, 1).setText("pain")
    window.markers.table.item(0, 2).setText("left low back")
    notes = load_notes(window.model.path)
    assert [(m.label, m.note) for m in notes.markers] == [("pain", "left low back")]
    assert "pain" in [t.toPlainText() for t in window.plots._marker_labels if t.isVisible()]
    path = window.model.path
    with qtbot.waitSignal(window.loaded, timeout=30_000):
        window.open_path(path)
    assert [m.label for m in window.model.markers] == ["pain"]
    assert window.markers.table.item(0, 1).text() == "pain"


def test_exports_write_files(window, tmp_path) -> None:  # type: ignore[no-untyped-def]
    for kind, name in [("html", "r.html"), ("csv", "s.csv"), ("episodes", "e.csv"),
                       ("png", "v.png")]:
        window.export(kind, tmp_path / name)
        assert (tmp_path / name).stat().st_size > 100, kind
    assert (tmp_path / "v.png").read_bytes()[:4] == b"\x89PNG"
    # Never silently over an existing file or through a planted link (issue 13).
    from recordings.files import OutputError

    (tmp_path / "r.html").write_text("keep")
    victim = tmp_path / "victim"
    victim.write_text("keep too")
    (tmp_path / "link.csv").symlink_to(victim)
    with pytest.raises(OutputError, match="exists already"):
        window.export("html", tmp_path / "r.html")
    for overwrite in (False, True):
        with pytest.raises(OutputError):
            window.export("csv", tmp_path / "link.csv", overwrite=overwrite)
    assert (tmp_path / "r.html").read_text() == "keep" and victim.read_text() == "keep too"
    window.export("html", tmp_path / "r.html", overwrite=True)  # as after the dialog asked
    assert "<html" in (tmp_path / "r.html").read_text().lower()
    assert not [p for p in tmp_path.iterdir() if ".partial" in p.name]


def test_recalibrate_from_span(window, qtbot) -> None:  # type: ignore[no-untyped-def]
    window.plots.set_span(0.0, 60.0)
    with qtbot.waitSignal(window.loaded, timeout=30_000):
        window.recalibrate_from_span()
    cal = window.model.result.calibration
    assert cal is not None and "span 0-60 s" in cal.method
    assert len(window.model.episodes) >= 1


def test_headless_screenshot(cached_demo, tmp_path) -> None:  # type: ignore[no-untyped-def]
    src, _ = cached_demo
    shot = tmp_path / "x.png"
    proc = subprocess.run(
        [sys.executable, "-m", "pelviscope", "review", str(src), "--screenshot", str(shot),
         "--quit-after-load"],
        capture_output=True, text=True, timeout=60,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
    )
    assert proc.returncode == 0, proc.stderr
    assert shot.read_bytes()[:4] == b"\x89PNG"
    bad = subprocess.run(
        [sys.executable, "-m", "pelviscope", "review", str(tmp_path / "missing.psrec"),
         "--quit-after-load"],
        capture_output=True, text=True, timeout=60,
    )
    assert bad.returncode == 2 and "missing.psrec" in bad.stderr and "Traceback" not in bad.stderr


def test_drop_opens_file(qtbot, cached_demo, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from PySide6 import QtCore, QtGui

    from gui.review.window import ReviewWindow

    src, _ = cached_demo
    w = ReviewWindow()
    qtbot.addWidget(w)
    w.show()
    mime = QtCore.QMimeData()
    mime.setUrls([QtCore.QUrl.fromLocalFile(str(src))])
    qt = QtCore.Qt
    event = QtGui.QDropEvent(QtCore.QPointF(10, 10), qt.DropAction.CopyAction, mime,
                             qt.MouseButton.LeftButton, qt.KeyboardModifier.NoModifier)
    with qtbot.waitSignal(w.loaded, timeout=30_000):
        w.dropEvent(event)
    assert w.model is not None and w.model.path == src
    w.close()


def test_uncached_open_shows_the_tilt_first(qtbot, cached_demo, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The final tilt is on screen while activity, steps and hip-hikes are analysed."""
    from gui.review.window import ReviewWindow

    src, doc = cached_demo
    path = tmp_path / src.name
    shutil.copy(src, path)
    w = ReviewWindow(use_cache=False)
    qtbot.addWidget(w)
    w.show()
    seen: dict = {}

    def on_preview() -> None:
        seen["order"] = ["previewed"]
        seen["curve"] = w.plots.detail_curve()
        seen["span"] = w.plots.span
        seen["model"] = w.model
        seen["title"] = w.episodes.title.text()
        seen["header"] = w.header.text()
        seen["rows"] = w.episodes.table.rowCount()

    w.previewed.connect(on_preview)
    w.loaded.connect(lambda: seen.setdefault("order", []).append("loaded"))
    with qtbot.waitSignal(w.loaded, timeout=60_000):
        w.open_path(path)
    assert seen["order"] == ["previewed", "loaded"]
    assert seen["model"] is None and seen["rows"] == 0  # nothing to edit or export yet
    assert "analysing" in seen["title"] and "finding activities" in seen["header"]
    t, ant, lat = seen["curve"]
    assert t.size > 100 and np.isfinite(lat).sum() > 100
    # the same span and the same curves once complete: the preview's tilt is final
    assert w.plots.span == seen["span"]
    t2, ant2, lat2 = w.plots.detail_curve()
    np.testing.assert_array_equal(t, t2)
    np.testing.assert_array_equal(ant, ant2)
    np.testing.assert_array_equal(lat, lat2)
    assert len(w.model.episodes) == len(doc["hip_hike_episodes"]) > 0
    assert "finding activities" not in w.header.text()
    w.close()
