"""The clinic window end to end, offscreen: a whole single-leg stance test replayed (issue 18)."""

from __future__ import annotations

import pytest

from gui.clinic.app import ClinicOptions, build
from gui.clinic.model import ClinicSpec, Step

pytestmark = pytest.mark.gui


def test_single_leg_stance_end_to_end(qtbot, tmp_path):
    window, session = build(ClinicOptions(ClinicSpec(kind="sls", side="right"), seed=9,
                                          speed=40.0))
    qtbot.addWidget(window)
    window.show()
    assert window.value.text() == ""  # countdown not started: nothing measured
    window.start()
    seen: set[str] = set()

    def finished() -> bool:
        seen.add(window.model.view.step.value)
        return window.model.step in (Step.RESULT, Step.REPEAT)

    qtbot.waitUntil(finished, timeout=30_000)
    truth = session.items[0]
    result = window.model.outcome.result
    assert window.model.step is Step.RESULT
    assert abs(result["drop_deg"] - truth["drop_deg"]) <= 1.0
    assert abs(result["hold_s"] - truth["hold_s"]) <= 0.5
    assert window.headline.text() == "Trendelenburg POSITIVE"
    assert window.value.text() == f"{result['hold_s']:.1f} s"
    assert "left side dropped" in window.detail.text()
    assert {"countdown", "measure"} <= seen
    assert not window.timer.isActive()
    assert window.stop_button.isHidden()
    lo, hi = window.bands[0].getRegion()
    assert lo + 2 == pytest.approx(result["level_deg"]) == pytest.approx(hi - 2)
    png = tmp_path / "sls.png"
    window.screenshot(png)
    assert png.stat().st_size > 10_000


def test_stop_button_ends_with_repeat(qtbot):
    window, _ = build(ClinicOptions(ClinicSpec(kind="sts"), seed=10, speed=5.0))
    qtbot.addWidget(window)
    window.show()
    window.start()
    qtbot.waitUntil(lambda: window.model.step is Step.MEASURE, timeout=10_000)
    window.stop_button.click()
    assert window.model.step is Step.REPEAT
    assert window.headline.text() == "Repeat"
    assert window.model.outcome.result == {}
