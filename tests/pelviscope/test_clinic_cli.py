"""``pelviscope clinic``: marked tests of a recording -> JSON and HTML; bad input -> exit 2."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from recordings import Marker, write_recording
from simulator.clinical import simulate_clinical, standard_session


def _cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "pelviscope", "clinic", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd, timeout=120)


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


def test_marked_recording_to_json_and_html(marked, tmp_path):
    path, items = marked
    out, page = tmp_path / "r.json", tmp_path / "r.html"
    proc = _cli(path, "--markers", "--age", "72", "--json", out, "--html", page)
    assert proc.returncode == 0, proc.stderr
    assert "sls left: ok" in proc.stdout
    doc = json.loads(out.read_text())
    tests = {(t["kind"], t.get("side")): t for t in doc["tests"]}
    left = tests[("sls", "left")]
    assert abs(left["drop_deg"] - items["slsleft"]["drop_deg"]) <= 1.0
    assert abs(left["hold_s"] - items["slsleft"]["hold_s"]) <= 0.5
    sts = tests[("sts", None)]
    assert abs(sts["total_s"] - items["sts"]["total_s"]) <= 0.5
    assert sts["favoured_side"] == "right"
    assert "Trendelenburg POSITIVE" in page.read_text()
    again = _cli(path, "--markers", "--json", out)
    assert again.returncode == 2 and "exists" in again.stderr


def test_bad_usage_is_one_line_exit_2(marked, tmp_path):
    path, _ = marked
    for args in ([path], [path, "--mark", "x:sls-left"], [path, "--mark", "3:jump"],
                 [tmp_path / "missing.psrec", "--markers"]):
        proc = _cli(*args)
        assert proc.returncode == 2, (args, proc.stderr)
        assert len(proc.stderr.strip().splitlines()) == 1
        assert "Traceback" not in proc.stderr
