"""The clinic screen records (issue 18 item 3): a test run in the screen is stored with its
marker and outcome, and ``analyze`` of that file finds the same test with the same result.
"""

from __future__ import annotations

import pytest

from analysis.calibration import Calibration
from analysis.session import analyze
from gui.clinic.app import ClinicOptions, build
from gui.clinic.model import ClinicSpec, Step
from gui.clinic.recording import marker_label
from recordings import load

pytestmark = pytest.mark.gui


def test_recorded_test_is_found_by_analyze(qtbot, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "sls.psrec"
    spec = ClinicSpec(kind="sls", side="right")
    window, _ = build(ClinicOptions(spec, seed=9, speed=40.0, record=path))
    qtbot.addWidget(window)
    window.show()
    window.start()
    qtbot.waitUntil(lambda: window.model.step in (Step.RESULT, Step.REPEAT), timeout=30_000)
    assert window.recorded == path
    live = window.model.outcome.to_json()
    rec = load(path)
    assert [m.label for m in rec.markers] == ["sls-right"]
    assert rec.meta["clinic_test"] == "sls-right" and rec.meta["clinic_result"] == live
    # The file states the calibration the screen used; analyze is given it (it does not
    # read a recording's stored calibration by itself yet).
    cal = Calibration.from_dict(rec.meta["calibration"])
    (test,) = analyze(path, calibration=cal).clinical["tests"]
    assert test["kind"] == "sls" and test["side"] == "right" and test["valid"]
    assert test["trendelenburg"] == live["trendelenburg"]
    assert test["drop_deg"] == pytest.approx(live["drop_deg"], abs=0.3)
    assert test["hold_s"] == pytest.approx(live["hold_s"], abs=0.3)


@pytest.mark.parametrize(
    ("spec", "label"),
    [(ClinicSpec(kind="sls", side="left"), "sls-left"),
     (ClinicSpec(kind="level_balance", side="right"), "balance-right"),
     (ClinicSpec(kind="tilt_control"), "tilt-control"),
     (ClinicSpec(kind="sts_no_shift"), "sts-no-shift"),
     (ClinicSpec(kind="level_walking"), "level-walking"),
     (ClinicSpec(kind="walk", walk_s=120.0), "walk-2min"),
     (ClinicSpec(kind="standing"), "standing")],
)
def test_every_screen_has_its_marker(spec: ClinicSpec, label: str) -> None:
    assert marker_label(spec) == label
