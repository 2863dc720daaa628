"""BIDS-motion export (interop.bids), checked by the official validator, and the way back."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from interop.bids import BidsName, export_recording
from pelviscope.cli import main
from recordings import Marker, load, write_recording
from recordings.bids import read_bids_motion
from simulator import ImuErrors, Scenario, Sit, Stand, Walk, simulate

SUBJECTS = ("01", "02", "03")
SESSIONS = ("pre", "post")


def validator() -> str:
    """The bids-validator executable; skip (or fail under CI) when it is absent."""
    exe = os.environ.get("BIDS_VALIDATOR") or shutil.which("bids-validator")
    if exe and os.access(exe, os.X_OK):
        return exe
    msg = ("the BIDS validator is not installed (npm install -g bids-validator, or source "
           ".ci/setup.d/bids-validator.sh, which sets BIDS_VALIDATOR)")
    if os.environ.get("PELVISCOPE_REQUIRE_DATA") == "1":
        pytest.fail(msg)
    pytest.skip(msg)


def validate(root: Path) -> dict[str, list[dict]]:
    proc = subprocess.run([validator(), str(root), "--json"], capture_output=True, text=True,
                          timeout=120, check=False)  # fmt: skip
    issues = json.loads(proc.stdout)["issues"]
    return {k: issues[k] for k in ("errors", "warnings")}


def _recording(seed: int, *, loss: float = 0.0):
    errors = ImuErrors(packet_loss=loss, rate_error_ppm=40.0)
    rec = simulate(Scenario([Stand(6), Walk(10), Sit(5), Stand(3)]), rate_hz=100.0,
                   errors=errors, seed=seed).recording
    rec.markers.append(Marker(float(rec.time_s[120]), "cue", "start\twalking"))
    rec.meta["start_time_utc"] = "2026-03-01T09:12:44.120Z"
    return rec


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Path]]:
    """3 subjects x 2 sessions exported through the command line; one session has gaps."""
    base = tmp_path_factory.mktemp("bids")
    root = base / "ds"
    sources: dict[str, Path] = {}
    for i, sub in enumerate(SUBJECTS):
        for j, ses in enumerate(SESSIONS):
            src = base / f"s{sub}{ses}.psrec"
            write_recording(src, _recording(10 * i + j, loss=0.03 if (i, j) == (1, 1) else 0))
            sources[f"{sub}{ses}"] = src
            assert main(["export", str(src), "--bids", str(root), "--subject", sub,
                         "--session", ses, "--task", "clinic"]) == 0
    return root, sources


def _motion(root: Path, sub: str, ses: str, run: str = "") -> Path:
    return (root / f"sub-{sub}" / f"ses-{ses}" / "motion" /
            f"sub-{sub}_ses-{ses}_task-clinic_tracksys-imu{run}_motion.tsv")


def test_official_validator_finds_no_error(dataset):
    root, _ = dataset
    issues = validate(root)
    assert issues["errors"] == [], [(e["key"], e["reason"]) for e in issues["errors"]]
    # Known warnings only: the 1.x validator reads a motion.tsv's first row as a header
    # (BIDS-motion files have none) and the dataset has no authors.
    keys = {w["key"] for w in issues["warnings"]}
    assert keys <= {"CUSTOM_COLUMN_WITHOUT_DESCRIPTION", "NO_AUTHORS"}, keys
    custom = [w for w in issues["warnings"] if w["key"] == "CUSTOM_COLUMN_WITHOUT_DESCRIPTION"]
    for w in custom:
        assert all(f["file"]["name"].endswith("_motion.tsv") for f in w["files"])


def test_files_say_what_bids_motion_asks(dataset):
    root, _ = dataset
    m = _motion(root, "02", "post")
    side = json.loads(m.with_name(m.name.replace("motion.tsv", "motion.json")).read_text())
    assert side["SamplingFrequency"] == 100.0 and side["TaskName"] == "clinic"
    assert side["ACCELChannelCount"] == 3 and side["GYROChannelCount"] == 3
    assert side["MissingValues"] == "n/a"
    channels = m.with_name(m.name.replace("motion.tsv", "channels.tsv")).read_text().splitlines()
    assert channels[0].split("\t")[:5] == ["name", "component", "type", "tracked_point", "units"]
    rows = [r.split("\t") for r in channels[1:]]
    assert [r[2] for r in rows] == ["ACCEL"] * 3 + ["GYRO"] * 3 + ["LATENCY"]
    assert [r[4] for r in rows] == ["m/s^2"] * 3 + ["rad/s"] * 3 + ["s"]
    lines = m.read_text().splitlines()
    assert all(len(line.split("\t")) == 7 for line in lines)  # no header, 7 columns
    na_rows = [line for line in lines if line.startswith("n/a")]
    assert na_rows and all(set(line.split("\t")) == {"n/a"} for line in na_rows)
    events = m.with_name(m.name.replace("motion.tsv", "events.tsv")).read_text().splitlines()
    assert events[0].startswith("onset\tduration\ttrial_type")
    kinds = {e.split("\t")[2] for e in events[1:]}
    assert {"activity", "step", "marker", "gap", "transition"} <= kinds
    participants = (root / "participants.tsv").read_text().split()
    assert participants == ["participant_id", "sub-01", "sub-02", "sub-03"]
    scans = (root / "sub-02" / "ses-post" / "sub-02_ses-post_scans.tsv").read_text()
    row = "motion/sub-02_ses-post_task-clinic_tracksys-imu_motion.tsv\t2026-03-01T09:12:44"
    assert row in scans


def test_round_trip_keeps_samples_gaps_and_markers(dataset, tmp_path):
    root, sources = dataset
    for key in ("01pre", "02post"):
        original = load(sources[key])
        back = read_bids_motion(_motion(root, key[:2], key[2:]))
        assert back.n_samples == original.n_samples
        # float32 samples come back bit for bit; times to the nanosecond.
        f32 = np.float32
        assert np.array_equal(back.acc_mps2.astype(f32), original.acc_mps2.astype(f32))
        assert np.array_equal(back.gyr_rps.astype(f32), original.gyr_rps.astype(f32))
        assert np.max(np.abs(back.time_s - original.time_s)) < 2e-9
        assert [(round(g.start_s, 6), round(g.end_s, 6), g.lost_samples, g.reason)
                for g in back.gaps] == [(round(g.start_s, 6), round(g.end_s, 6), g.lost_samples,
                                         g.reason) for g in original.gaps]
        assert [(m.label, m.note) for m in back.markers] == [("cue", "start walking")]
        assert back.meta["start_time_utc"] == original.meta["start_time_utc"]
    assert load(sources["02post"]).gaps, "the lossy session must have gaps"
    # ... and through the command line into a native recording.
    out = tmp_path / "back.psrec"
    assert main(["export", str(_motion(root, "02", "post")), str(out)]) == 0
    again = load(out)
    assert np.array_equal(again.acc_mps2.astype(np.float32),
                          load(sources["02post"]).acc_mps2.astype(np.float32))
    assert len(again.gaps) == len(load(sources["02post"]).gaps)


def test_growing_a_dataset_never_overwrites(dataset, tmp_path, capsys):
    root, sources = dataset
    grown = tmp_path / "ds"
    shutil.copytree(root, grown)
    before = _motion(grown, "01", "pre").read_bytes()
    argv = ["export", str(sources["01post"]), "--bids", str(grown), "--subject", "01",
            "--session", "pre", "--task", "clinic"]
    capsys.readouterr()
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "exists already" in err[0] and "--overwrite" in err[0]
    assert _motion(grown, "01", "pre").read_bytes() == before
    # A new subject with two runs is added; participants and the validator agree.
    two = [str(sources["01pre"]), str(sources["03post"])]
    assert main(["export", *two, "--bids", str(grown), "--subject", "04", "--session", "pre",
                 "--task", "clinic"]) == 0
    assert _motion(grown, "04", "pre", "_run-1").exists()
    assert _motion(grown, "04", "pre", "_run-2").exists()
    assert "sub-04" in (grown / "participants.tsv").read_text().split()
    assert validate(grown)["errors"] == []
    # --overwrite replaces one recording's files.
    assert main([*argv, "--overwrite"]) == 0
    assert _motion(grown, "01", "pre").read_bytes() != before


@pytest.mark.parametrize(("args", "message"), [
    (["--subject", "0_1", "--task", "x"], "only letters and digits"),
    (["--task", "x"], "--bids needs --subject"),
])
def test_bad_bids_options(dataset, tmp_path, capsys, args, message):
    _, sources = dataset
    capsys.readouterr()
    status = main(["export", str(sources["01pre"]), "--bids", str(tmp_path / "d"), *args])
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 2 and len(err) == 1 and message in err[0]
    assert not (tmp_path / "d").exists()


def test_not_a_bids_folder_is_refused(dataset, tmp_path, capsys):
    _, sources = dataset
    (tmp_path / "notes.txt").write_text("mine")
    capsys.readouterr()
    status = main(["export", str(sources["01pre"]), "--bids", str(tmp_path), "--subject", "01",
                   "--task", "x"])
    assert status == 2 and "not a BIDS dataset" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_reads_another_tools_file_in_g_without_latency(tmp_path):
    """Rows of n/a become a gap; g and deg/s become SI; time from the row index."""
    m = tmp_path / "sub-x_task-y_tracksys-z_motion.tsv"
    rows = ["0\t0\t1\t0\t0\t90"] * 5 + ["\t".join(["n/a"] * 6)] * 3 + ["0\t0\t1\t0\t0\t0"] * 4
    m.write_text("\n".join(rows) + "\n")
    (tmp_path / "sub-x_task-y_tracksys-z_motion.json").write_text(
        json.dumps({"TaskName": "y", "SamplingFrequency": 50}))
    ch = ["name\tcomponent\ttype\ttracked_point\tunits"]
    ch += [f"a{c}\t{c}\tACCEL\tpelvis\tg" for c in "xyz"]
    ch += [f"g{c}\t{c}\tGYRO\tpelvis\tdeg/s" for c in "xyz"]
    (tmp_path / "sub-x_task-y_tracksys-z_channels.tsv").write_text("\n".join(ch) + "\n")
    rec = read_bids_motion(m)
    assert rec.n_samples == 9 and rec.rate_hz == 50
    assert rec.acc_mps2[0, 2] == pytest.approx(9.80665)
    assert rec.gyr_rps[0, 2] == pytest.approx(np.pi / 2)
    assert rec.time_s[5] == pytest.approx(8 / 50)
    assert len(rec.gaps) == 1 and rec.gaps[0].lost_samples == 3


def test_export_recording_refuses_empty_and_checks_labels(tmp_path):
    with pytest.raises(ValueError, match="letters and digits"):
        BidsName("01", "a-b", "walk")
    rec = _recording(1)
    rec.time_s, rec.acc_mps2, rec.gyr_rps = rec.time_s[:0], rec.acc_mps2[:0], rec.gyr_rps[:0]
    with pytest.raises(ValueError, match="no samples"):
        export_recording(tmp_path / "d", rec, BidsName("01", None, "walk"))


def test_load_and_analyze_take_a_bids_motion_file(dataset):
    from analysis.session import analyze

    root, sources = dataset
    m = _motion(root, "03", "pre")
    assert load(m).n_samples == load(sources["03pre"]).n_samples
    a = analyze(m).to_json()
    b = analyze(sources["03pre"]).to_json()
    # The same analysis (times differ by nanoseconds: confidences in the 10th digit).
    assert [(s["time_s"], s["side"]) for s in a["steps"]] == [
        (s["time_s"], s["side"]) for s in b["steps"]]
    assert a["segments"] == b["segments"]
