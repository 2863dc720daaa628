"""``pelviscope analyze`` end to end: every output path, batch mode and bad input."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest

from pelviscope.cli import main
from tests.conftest import ROOT

DEMO = ROOT / "recordings" / "demo" / "clinic_tilted.psrec"

DESIGN_KEYS = {
    "format",
    "input",
    "calibration",
    "segments",
    "steps",
    "gait",
    "hip_hike_episodes",
    "summary",
}


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    out = tmp_path_factory.mktemp("analyze")
    rc = main(
        [
            "analyze",
            str(DEMO),
            "--json",
            str(out / "r.json"),
            "--csv",
            str(out / "r.csv"),
            "--report",
            str(out / "r.html"),
            "--save-calibration",
            str(out / "cal.json"),
            "-q",
        ]
    )
    assert rc == 0
    return out


def test_json_follows_design_section_4(outputs):
    doc = json.loads((outputs / "r.json").read_text())
    assert doc.keys() >= DESIGN_KEYS
    assert doc["format"] == "pelviscope.analysis/1"
    assert {"path", "duration_s", "rate_hz", "samples", "gaps"} <= doc["input"].keys()
    assert len(doc["input"]["gaps"]) == 49  # the demo's 2 % packet loss, every gap listed
    assert {"method", "sensor_to_pelvis_quat_wxyz", "quality"} <= doc["calibration"].keys()
    for seg in doc["segments"]:
        assert seg.keys() >= {"activity", "start_s", "end_s"}
        assert seg["activity"] in {
            "sitting",
            "standing",
            "walking",
            "transition",
            "lying",
            "unknown",
        }
    for step in doc["steps"]:
        assert step["side"] in {"left", "right"} and step["event"] == "initial_contact"
    assert {"cadence_spm", "strides", "obliquity_rom_deg", "anterior_tilt_rom_deg"} <= doc[
        "gait"
    ].keys()
    for ep in doc["hip_hike_episodes"]:
        assert ep.keys() >= {"side", "kind", "activity", "start_s", "end_s", "peak_deg", "mean_deg"}
    for stats in doc["summary"].values():
        assert stats.keys() >= {"duration_s", "anterior_tilt_deg", "lateral_tilt_deg"}
        assert stats["anterior_tilt_deg"].keys() >= {"mean", "sd"}


def test_results_match_the_demo_truth(outputs):
    doc = json.loads((outputs / "r.json").read_text())
    truth = json.loads(DEMO.with_suffix("").with_suffix(".truth.json").read_text())
    found = doc["hip_hike_episodes"]
    assert len(found) == len(truth["hip_hike_episodes"])
    for t, f in zip(truth["hip_hike_episodes"], found, strict=True):
        assert (f["side"], f["kind"], f["activity"]) == (t["side"], t["kind"], t["activity"])
        overlap = min(t["end_s"], f["end_s"]) - max(t["start_s"], f["start_s"])
        assert overlap >= 0.5 * (t["end_s"] - t["start_s"])
    assert abs(len(doc["steps"]) - len(truth["steps"])) <= 0.03 * len(truth["steps"])


def test_csv_and_report(outputs):
    table = pd.read_csv(outputs / "r.csv", keep_default_na=False)
    assert list(table.columns) == [
        "time_s",
        "anterior_tilt_deg",
        "lateral_tilt_deg",
        "activity",
        "hip_hike",
    ]
    assert set(table["hip_hike"]) == {"", "left", "right"}
    assert table["time_s"].is_monotonic_increasing
    html = (outputs / "r.html").read_text()
    assert html.startswith("<!DOCTYPE html>") and "Hip-hike episodes" in html
    assert "<svg" in html and "http" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert len(html.encode()) < 5_000_000
    cal = json.loads((outputs / "cal.json").read_text())
    assert cal["format"] == "pelviscope.calibration/1"


def test_saved_calibration_and_threshold_options(outputs, capsys):
    rc = main(
        [
            "analyze",
            str(DEMO),
            "--calibration",
            str(outputs / "cal.json"),
            "--static-threshold-deg",
            "10",
            "--json",
            str(outputs / "r2.json"),
            "-q",
        ]
    )
    assert rc == 0
    doc = json.loads((outputs / "r2.json").read_text())
    assert doc["calibration"]["method"] == "saved"
    assert all(ep["kind"] == "gait" for ep in doc["hip_hike_episodes"])  # 6-7 deg static < 10
    assert doc["hip_hike_params"]["static_threshold_deg"] == 10


def test_text_summary_on_stdout(capsys):
    assert main(["analyze", str(DEMO)]) == 0
    out = capsys.readouterr().out
    assert "hip-hike episodes: 3" in out and "calibration: standing+walking" in out


def test_batch_with_a_bad_file(tmp_path, capsys):
    folder = tmp_path / "cohort"
    folder.mkdir()
    (folder / "a.psrec").write_bytes(DEMO.read_bytes())
    (folder / "broken.csv").write_text("time_s,acc_x\n0,1\n")
    out_dir = tmp_path / "results"
    rc = main(
        [
            "analyze",
            str(folder),
            "--jobs",
            "2",
            "--summary-csv",
            str(tmp_path / "cohort.csv"),
            "--out-dir",
            str(out_dir),
            "-q",
        ]
    )
    assert rc == 2  # exit status 0 only when every file was analysed
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and "broken.csv" in err[0] and "Traceback" not in err[0]
    assert err[1] == "1 of 2 files analysed"
    table = pd.read_csv(tmp_path / "cohort.csv")
    table["error"] = table["error"].fillna("")
    assert len(table) == 2
    good = table[table["error"] == ""].iloc[0]
    assert good["episodes"] == 3 and good["steps"] > 150
    assert (out_dir / "a.json").exists() and (out_dir / "a.html").exists()


@pytest.mark.parametrize(
    "args, needle",
    [
        (["missing.psrec"], "file not found"),
        ([str(DEMO), "--mount", "sideways-ish"], "unknown mount"),
        ([str(DEMO), "--static-threshold-deg", "-3"], "static_threshold_deg"),
        (
            [str(DEMO), "--mount", "sacral-mm+", "--calibration", "x.json"],
            "either --calibration or --mount",
        ),
    ],
)
def test_bad_input_exits_2_with_one_line(args, needle, capsys):
    assert main(["analyze", *args]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and needle in err[0]


def test_no_traceback_from_a_real_process(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("time_s;acc_x;acc_y;acc_z\n0;0;0;9.8\n")
    proc = subprocess.run(
        [sys.executable, "-m", "pelviscope", "analyze", str(bad)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and str(bad) in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
