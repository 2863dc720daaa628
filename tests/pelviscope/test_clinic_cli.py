"""``pelviscope clinic``: marked tests of a recording -> JSON and HTML; bad input -> exit 2."""

from __future__ import annotations

import json

import pytest

from pelviscope.cli import main
from recordings import Marker, write_recording
from simulator.clinical import simulate_clinical, standard_session


@pytest.fixture(scope="module")
def marked(tmp_path_factory):
    s = simulate_clinical(standard_session(seed=2), seed=2)
    items = {it["kind"] + it.get("side", ""): it for it in s.items}
    rec = s.recording
    rec.markers = [Marker(20.5, "standing"),
                   Marker(items["slsleft"]["start_s"] - 1.5, "sls-left"),
                   Marker(items["slsright"]["start_s"] - 1.5, "sls-right"),
                   Marker(items["sts"]["start_s"] - 2.0, "sts"),
                   Marker(items["sts"]["end_s"], "walk")]
    path = tmp_path_factory.mktemp("clinic") / "session.psrec"
    write_recording(path, rec)
    return path, items


def test_marked_recording_to_json_and_html(marked, tmp_path, capsys):
    path, items = marked
    out, page = tmp_path / "r.json", tmp_path / "r.html"
    assert main(["clinic", str(path), "--markers", "--age", "72", "--json", str(out),
                 "--html", str(page)]) == 0
    assert "sls left: ok" in capsys.readouterr().out
    doc = json.loads(out.read_text())
    tests = {(t["kind"], t.get("side")): t for t in doc["tests"]}
    left = tests[("sls", "left")]
    assert abs(left["drop_deg"] - items["slsleft"]["drop_deg"]) <= 1.0
    assert abs(left["hold_s"] - items["slsleft"]["hold_s"]) <= 0.5
    sts = tests[("sts", None)]
    assert abs(sts["total_s"] - items["sts"]["total_s"]) <= 0.5
    assert sts["favoured_side"] == "right"
    assert "Trendelenburg POSITIVE" in page.read_text()
    assert main(["clinic", str(path), "--markers", "--json", str(out)]) == 2
    assert "exists" in capsys.readouterr().err


@pytest.mark.parametrize("args", [
    [], ["--mark", "x:sls-left"], ["--mark", "3:jump"], ["--simulate"],
])
def test_bad_usage_is_one_line_exit_2(marked, args, capsys):
    path, _ = marked
    argv = ["clinic", str(path), *args]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_missing_recording(tmp_path, capsys):
    assert main(["clinic", str(tmp_path / "missing.psrec"), "--markers"]) == 2
    assert "missing.psrec" in capsys.readouterr().err


def test_analyze_reports_the_marked_tests_in_its_json_and_report(marked, tmp_path):
    """``analyze`` of a recording with test markers: DESIGN section 4's ``tests`` key."""
    path, items = marked
    out, page = tmp_path / "a.json", tmp_path / "a.html"
    assert main(["analyze", str(path), "--json", str(out), "--report", str(page), "-q"]) == 0
    doc = json.loads(out.read_text())
    tests = {(t["kind"], t.get("side")): t for t in doc["tests"]}
    assert {("sls", "left"), ("sls", "right"), ("sts", None), ("standing", None)} <= set(tests)
    left = tests[("sls", "left")]
    assert abs(left["drop_deg"] - items["slsleft"]["drop_deg"]) <= 1.0
    assert doc["exercises"] == []
    assert "Clinical tests" in page.read_text()
