"""The review window's Tests tab (issue 18 item 3): the marked tests of a recording, per
side, against norms, in the report's plain words. A simulated clinical session (single-leg
stances with a left drop, five sit-to-stands, a walk) with test markers in the recording.
"""

from __future__ import annotations

import pytest

from recordings import Marker, write_recording
from simulator.clinical import simulate_clinical, standard_session

pytest.importorskip("pytestqt")

pytestmark = pytest.mark.gui


def test_tests_tab_lists_the_marked_tests(qtbot, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from gui.review.window import ReviewWindow

    s = simulate_clinical(standard_session(seed=3), seed=3, rate_hz=50)
    items = {it["kind"] + it.get("side", ""): it for it in s.items}
    marks = [(items["slsleft"]["start_s"] - 1.5, "sls-left"),
             (items["slsright"]["start_s"] - 1.5, "sls-right"),
             (items["sts"]["start_s"] - 2.0, "sts"), (items["sts"]["end_s"], "walk")]
    s.recording.markers.extend(Marker(t, label) for t, label in marks)
    path = tmp_path / "clinic.psrec"
    write_recording(path, s.recording)

    w = ReviewWindow()
    qtbot.addWidget(w)
    w.show()
    with qtbot.waitSignal(w.loaded, timeout=60_000):
        w.open_path(path)
    kinds = [d["kind"] for d in w.model.result.clinical["tests"]]
    assert kinds == ["sls", "sls", "sts", "walk"]
    assert w.clinical.counts == (4, 0)
    text = w.clinical.toPlainText()
    assert "Single-leg stance (Trendelenburg test)" in text
    assert "Trendelenburg POSITIVE" in text  # on the left leg the right side drops (simulated)
    assert "Five-times sit-to-stand" in text and "Walk test" in text
    assert "left against right" in text.lower()
    w.tabs.setCurrentWidget(w.clinical)
    w.grab().save(str(tmp_path / "review_tests.png"))
    w.close()


def test_a_recording_without_markers_says_how_to_get_tests(qtbot) -> None:  # type: ignore[no-untyped-def]
    from gui.review.clinical_panel import EMPTY, ClinicalPanel

    panel = ClinicalPanel()
    qtbot.addWidget(panel)
    panel.set_clinical({"tests": [], "exercises": []})
    assert panel.toPlainText() == EMPTY and panel.counts == (0, 0)
