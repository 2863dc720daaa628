"""The command line under faults (issue 13): one line per failure, never a traceback.

Bad input and outputs that cannot be written exit with 2 and one line naming the file;
bugs exit with 1 and one line naming a log file; nothing is overwritten without
``--overwrite``; each output is written on its own; a batch always ends with its summary.
Disk full and read-only folders are real tmpfs mounts (or a real file-size limit).
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import io
import json
import math
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pelviscope.commands.analyze as analyze_cmd
import pelviscope.commands.simulate as simulate_cmd
from pelviscope.cli import main
from pelviscope.commands.analyze import output_names
from pelviscope.common import json_text
from recordings import load, write_recording
from recordings.json_safe import finite_json
from tests.conftest import ROOT, mounted_tmpfs

PY = sys.executable


# --- inputs: small real files ---------------------------------------------------------


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    """A 1-min simulated session (.psrec and .csv) and the everyday bad inputs made from it."""
    d = tmp_path_factory.mktemp("inputs")
    rec_path = d / "s.psrec"
    assert main(["simulate", str(rec_path), "--scenario", "day", "--duration", "40",
                 "--rate-hz", "50", "--seed", "3"]) == 0  # fmt: skip
    assert main(["export", str(rec_path), str(d / "s.csv")]) == 0
    rec = load(rec_path)

    def cut(r, n):
        return dataclasses.replace(
            r, time_s=r.time_s[:n], acc_mps2=r.acc_mps2[:n], gyr_rps=r.gyr_rps[:n],
            device_time_s=None, gaps=[], markers=[], warnings=[],
        )  # fmt: skip

    write_recording(d / "one_sample.psrec", cut(rec, 1))
    gyr = rec.gyr_rps.copy()
    gyr[1000, 0] = 1e6  # one impossible gyro sample (rad/s)
    write_recording(d / "gyro_spike.psrec", dataclasses.replace(rec, gyr_rps=gyr))
    raw = rec_path.read_bytes()
    (d / "truncated.psrec").write_bytes(raw[:300])
    damaged = bytearray(raw)
    damaged[len(raw) // 2] ^= 0x40
    (d / "damaged.psrec").write_bytes(bytes(damaged))
    header = "time_s,acc_x,acc_y,acc_z,gyr_x,gyr_y,gyr_z\n"
    (d / "one_hz.csv").write_text(header + "".join(f"{i},0,0,9.81,0,0,0\n" for i in range(120)))
    table = pd.read_csv(d / "s.csv")
    table["time_s"] *= 1000.0
    table.to_csv(d / "time_ms.csv", index=False)
    (d / "nul.csv").write_bytes(b"\0" * 200_000)
    (d / "empty.psrec").write_bytes(b"")
    (d / "shot.png").write_bytes(b"an earlier screenshot")
    os.mkfifo(d / "pipe.csv")  # opening it to read would wait for a writer forever
    (d / "semicolons.csv").write_text("time_s;acc_x;acc_y;acc_z\n0;0;0;9.8\n")
    cal = d / "cal"
    cal.mkdir()
    (cal / "list.json").write_text("[1, 2, 3]")
    (cal / "number.json").write_text("42")
    (cal / "invalid.json").write_text("{'format': ")
    (cal / "keys.json").write_text('{"format": "pelviscope.calibration/1"}')
    (cal / "shape.json").write_text(
        '{"format": "pelviscope.calibration/1", "sensor_to_pelvis_quat_wxyz": [1, 0]}'
    )
    (cal / "nan_tilt.json").write_text(
        '{"format": "pelviscope.calibration/1", "sensor_to_pelvis_quat_wxyz": [1, 0, 0, 0],'
        ' "standing_tilt_deg": NaN}'
    )
    (cal / "binary.json").write_bytes(b"\xff\xfe\x00garbage")
    return d


@pytest.fixture(autouse=True)
def state_home(tmp_path, monkeypatch):
    """Logs of internal errors go to a private folder per test."""
    state = tmp_path / "state"
    monkeypatch.setenv("XDG_STATE_HOME", str(state))
    return state


def one_error_line(capsys, command: str, status: int, rc: int) -> str:
    """Assert exit status ``status`` with exactly one line on stderr; return it."""
    err = capsys.readouterr().err
    assert rc == status, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    assert lines[0].startswith(f"pelviscope {command}: ")
    return lines[0]


# --- 1. one error boundary ------------------------------------------------------------


def test_internal_error_is_one_line_and_a_log(monkeypatch, capsys, state_home, tmp_path):
    def broken(args):
        raise RuntimeError("boom\nsecond line of the message")

    monkeypatch.setattr(simulate_cmd, "run", broken)
    line = one_error_line(capsys, "simulate", 1, main(["simulate", str(tmp_path / "x.psrec")]))
    assert "internal error (RuntimeError: boom second line of the message)" in line
    assert "please report it with the log " in line
    log = Path(line.rsplit("the log ", 1)[1])
    assert log.parent == state_home / "pelviscope" / "logs"
    text = log.read_text()
    assert "Traceback" in text and "in broken" in text and "boom" in text
    assert oct(log.stat().st_mode & 0o777) == oct(0o600)


def test_log_falls_back_to_the_temp_folder(monkeypatch, capsys, tmp_path):
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("")
    monkeypatch.setenv("XDG_STATE_HOME", str(not_a_folder))
    monkeypatch.setattr(simulate_cmd, "run", lambda args: 1 / 0)
    line = one_error_line(capsys, "simulate", 1, main(["simulate", str(tmp_path / "x.psrec")]))
    log = Path(line.rsplit("the log ", 1)[1])
    try:
        assert log.parent.parent == Path(tempfile.gettempdir())
        assert "ZeroDivisionError" in log.read_text()
    finally:
        log.unlink()


def test_error_in_a_thread_the_command_starts(monkeypatch, capsys):
    def run(args):
        t = threading.Thread(target=lambda: [][1])
        t.start()
        t.join()
        return 0

    monkeypatch.setattr(simulate_cmd, "run", run)
    hook = threading.excepthook
    line = one_error_line(capsys, "simulate", 0, main(["simulate", "x.psrec"]))
    assert "internal error (IndexError" in line and "please report" in line
    assert threading.excepthook is hook  # restored after the command


@pytest.mark.parametrize(
    "exc, status, needle",
    [
        (MemoryError(), 2, "not enough memory"),
        (OSError(errno.ENOSPC, "No space left on device"), 2, "the disk is full"),
        (PermissionError(errno.EACCES, "Permission denied", "/x/y.json"), 2,
         "/x/y.json: permission denied"),
        (KeyboardInterrupt(), 130, "interrupted"),
    ],
)  # fmt: skip
def test_environment_failures_are_not_bugs(exc, status, needle, monkeypatch, capsys):
    def run(args):
        raise exc

    monkeypatch.setattr(simulate_cmd, "run", run)
    assert needle in one_error_line(capsys, "simulate", status, main(["simulate", "x.psrec"]))


def test_no_traceback_from_a_real_process_with_a_bug(tmp_path):
    code = (
        "import sys, threading\n"
        "import pelviscope.commands.export as e\n"
        "def run(args):\n"
        "    threading.Thread(target=lambda: {}['k']).start()\n"
        "    raise TypeError('injected')\n"
        "e.run = run\n"
        "from pelviscope.cli import main\n"
        "sys.exit(main(['export', 'a.psrec', 'b.csv']))\n"
    )
    env = {**os.environ, "XDG_STATE_HOME": str(tmp_path)}
    proc = subprocess.run([PY, "-c", code], capture_output=True, text=True, env=env,
                          cwd=ROOT, check=False)  # fmt: skip
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 2 and all("please report it with the log" in x for x in lines)
    assert len(list((tmp_path / "pelviscope" / "logs").iterdir())) == 2


def test_control_characters_never_reach_the_terminal(inputs, tmp_path, capsys):
    nasty = tmp_path / "x\x1b[2J\x07.csv"
    nasty.write_text("time_s,acc_x,acc_y,acc_z\n0,\x1b]0;owned\x07,0,9.8\n")
    line = one_error_line(capsys, "analyze", 2, main(["analyze", str(nasty)]))
    assert "\\x1b[2J\\x07.csv" in line
    assert not any(ord(c) < 32 or ord(c) == 127 for c in line)


def test_reader_of_stdout_quits(inputs):
    """``pelviscope analyze DIR | head``: no error, no traceback, status as after SIGPIPE."""
    r, w = os.pipe()
    os.close(r)
    try:
        proc = subprocess.run(
            [PY, "-m", "pelviscope", "analyze", str(inputs / "s.psrec"), str(inputs / "s.csv"),
             "--jobs", "1", "-q"],
            stdout=w, stderr=subprocess.PIPE, text=True, cwd=ROOT, check=False,
        )  # fmt: skip
    finally:
        os.close(w)
    assert proc.returncode == 141 and proc.stderr == "", proc.stderr


# --- 4. bad everyday input: exit 2, one line naming the file --------------------------


BAD_INPUTS = [
    # (argv with {d} for the inputs folder, needle in the one line)
    (["analyze", "{d}/one_sample.psrec"], "one_sample.psrec"),
    (["analyze", "{d}/truncated.psrec"], "truncated.psrec"),
    (["analyze", "{d}/empty.psrec"], "empty.psrec"),
    (["analyze", "{d}/one_hz.csv"], "one_hz.csv"),
    (["analyze", "{d}/time_ms.csv"], "millisecond"),
    (["analyze", "{d}/nul.csv"], "nul.csv"),
    (["analyze", "{d}/semicolons.csv"], "semicolons.csv"),
    (["analyze", "{d}/missing.psrec"], "missing.psrec: file not found"),
    (["analyze", "{d}/pipe.csv"], "pipe.csv: not a regular file"),
    (["export", "{d}/pipe.csv", "{d}/o.psrec"], "pipe.csv: not a regular file"),
    (["analyze", "{d}/s.psrec", "--calibration", "{d}/cal/list.json"], "list.json"),
    (["analyze", "{d}/s.psrec", "--calibration", "{d}/cal/number.json"], "number.json"),
    (["analyze", "{d}/s.psrec", "--calibration", "{d}/cal/invalid.json"], "invalid.json: line 1"),
    (["analyze", "{d}/s.psrec", "--calibration", "{d}/cal/keys.json"], "keys.json"),
    (["analyze", "{d}/s.psrec", "--calibration", "{d}/cal/shape.json"], "shape.json"),
    (["analyze", "{d}/s.psrec", "--calibration", "{d}/cal/nan_tilt.json"], "nan_tilt.json"),
    (["analyze", "{d}/s.psrec", "--calibration", "{d}/cal/binary.json"], "binary.json"),
    (["analyze", "{d}/s.psrec", "--calibration", "{d}/cal"], "cal: is a folder"),
    (["analyze", "{d}/s.psrec", "--calibration", "{d}/cal/none.json"], "none.json: file not"),
    (["analyze", "{d}/s.psrec", "--standing-tilt-deg", "nan"], "--standing-tilt-deg"),
    (["analyze", "{d}/s.psrec", "--standing-tilt-deg", "inf"], "--standing-tilt-deg"),
    (["analyze", "{d}/s.psrec", "--standing-tilt-deg", "60"], "--standing-tilt-deg"),
    (["analyze", "{d}/s.psrec", "--jobs", "0"], "--jobs"),
    (["analyze", "{d}/s.psrec", "--jobs", "-2"], "--jobs"),
    (["analyze", "{d}/s.psrec", "--static-threshold-deg", "nan"], "--static-threshold-deg"),
    (["analyze", "{d}/s.psrec", "--gait-elevation-deg", "inf"], "--gait-elevation-deg"),
    (["analyze", "{d}/s.psrec", "--static-threshold-deg", "-1"], "static_threshold_deg"),
    (["analyze", "{d}/s.psrec", "--gait-min-strides", "-1"], "gait_min_strides"),
    (["analyze", "{d}/s.psrec", "--json", "{d}/s.psrec"], "the same file as the input"),
    (["analyze", "{d}/s.psrec", "--json", "{d}/o.x", "--csv", "{d}/o.x"], "--csv"),
    (["simulate", "{d}/o.psrec", "--rate-hz", "1e9"], "--rate-hz"),
    (["simulate", "{d}/o.psrec", "--rate-hz", "0"], "--rate-hz"),
    (["simulate", "{d}/o.psrec", "--rate-hz", "-5"], "--rate-hz"),
    (["simulate", "{d}/o.psrec", "--rate-hz", "nan"], "--rate-hz"),
    (["simulate", "{d}/o.psrec", "--duration", "0"], "--duration"),
    (["simulate", "{d}/o.psrec", "--duration", "nan"], "--duration"),
    (["simulate", "{d}/o.psrec", "--duration", "1e12"], "--duration"),
    (["simulate", "{d}/o.psrec", "--scenario", "day", "--duration", "600000",
      "--rate-hz", "2000"], "--duration"),
    (["simulate", "{d}/o.psrec", "--drop-rate", "nan"], "--drop-rate"),
    (["simulate", "{d}/o.psrec", "--mount", "1,2"], "--mount"),
    (["simulate", "{d}/o.psrec", "--truth", "{d}/o.psrec"], "--truth"),
    (["export", "{d}/missing.psrec", "{d}/o.csv"], "missing.psrec"),
    (["export", "{d}/nul.csv", "{d}/o.psrec"], "nul.csv"),
    (["export", "{d}/s.psrec", "{d}/o.txt"], "o.txt"),
    (["record", "--out", "{d}/s.psrec", "--simulate"], "s.psrec: exists already"),
    (["record", "--out", "{d}/o.psrec", "--simulate", "--rate-hz", "nan"], "--rate-hz"),
    (["live", "--calibration", "{d}/cal/list.json", "--duration", "1"], "list.json"),
    (["live", "--simulate", "--duration", "1", "--screenshot", "{d}/shot.png"], "exists already"),
    (["review", "{d}/s.psrec", "--quit-after-load", "--screenshot", "{d}/shot.png"],
     "shot.png: exists already"),
    (["analyze", "{d}/s.psrec", "--no-such-option"], "--no-such-option"),
]  # fmt: skip


@pytest.mark.parametrize(
    "argv, needle", BAD_INPUTS, ids=[" ".join(a).replace("{d}/", "") for a, _ in BAD_INPUTS]
)
def test_bad_input_exits_2_with_one_line(argv, needle, inputs, capsys):
    argv = [a.format(d=inputs) for a in argv]
    before = sorted(p.name for p in inputs.iterdir())
    line = one_error_line(capsys, argv[0], 2, main(argv))
    assert needle.format(d=inputs) in line
    assert ": error: " in line
    assert sorted(p.name for p in inputs.iterdir()) == before  # nothing written or left over


@pytest.mark.parametrize(
    "argv",
    [
        ["analyze", "{d}/one_hz.csv", "--json", "{d}/o.json"],
        ["analyze", "{d}/s.psrec", "--calibration", "{d}/cal/list.json"],
        ["simulate", "{d}/o.psrec", "--rate-hz", "1e9"],
        ["export", "{d}/truncated.psrec", "{d}/o.csv"],
    ],
)
def test_bad_input_in_a_real_process(argv, inputs):
    proc = subprocess.run(
        [PY, "-m", "pelviscope", *(a.format(d=inputs) for a in argv)],
        capture_output=True, text=True, cwd=ROOT, check=False,
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert str(inputs) in proc.stderr or "--rate-hz" in proc.stderr


def test_impossible_sample_is_a_gap_with_a_warning(inputs, tmp_path, capsys):
    out = tmp_path / "r.json"
    rc = main(["analyze", str(inputs / "gyro_spike.psrec"), "--json", str(out)])
    err = capsys.readouterr().err
    assert rc == 0 and "Traceback" not in err
    warnings = [x for x in err.splitlines() if x.startswith("pelviscope analyze: warning: ")]
    assert any("gyro_spike.psrec" in w and "range" in w for w in warnings), err
    doc = json.loads(out.read_text())
    assert any(g["reason"] == "out_of_range" for g in doc["input"]["gaps"])


def test_damage_warnings_on_the_terminal_unless_quiet(inputs, capsys):
    path = str(inputs / "damaged.psrec")
    assert main(["analyze", path]) == 0
    captured = capsys.readouterr()
    warnings = [x for x in captured.err.splitlines() if ": warning: " in x]
    assert warnings and all(x.startswith(f"pelviscope analyze: warning: {path}") for x in warnings)
    assert "lost data" in captured.out
    assert main(["analyze", path, "-q"]) == 0
    assert capsys.readouterr().err == ""


def test_json_never_holds_nan(inputs, tmp_path, monkeypatch):
    from analysis.session import SessionResult

    real = SessionResult.to_json

    def with_nan(self):
        doc = real(self)
        doc["extra"] = {"a": math.nan, "b": [np.float32("inf"), -math.inf, np.float64(1.5)]}
        return doc

    monkeypatch.setattr(SessionResult, "to_json", with_nan)
    out = tmp_path / "r.json"
    assert main(["analyze", str(inputs / "s.psrec"), "--json", str(out), "-q"]) == 0

    def refuse(name):
        raise AssertionError(f"{name} in the JSON")

    doc = json.loads(out.read_text(), parse_constant=refuse)
    assert doc["extra"] == {"a": None, "b": [None, None, 1.5]}


@settings(max_examples=60, deadline=None)
@given(st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=3),
    lambda kids: st.lists(kids, max_size=3) | st.dictionaries(st.text(max_size=3), kids,
                                                              max_size=3),
    max_leaves=12,
))  # fmt: skip
def test_finite_json_always_serialises(doc):
    text = json_text(doc)
    json.loads(text, parse_constant=lambda c: pytest.fail(c))
    assert finite_json(finite_json(doc)) == finite_json(doc)


# --- 2. no silent overwrite -----------------------------------------------------------


@pytest.mark.parametrize(
    "argv, target",
    [
        (["simulate", "{t}/o.psrec", "--scenario", "day", "--duration", "20"], "o.psrec"),
        (["simulate", "{t}/o2.psrec", "--scenario", "day", "--duration", "20", "--truth",
          "{t}/o.json"], "o.json"),
        (["export", "{d}/s.psrec", "{t}/o.csv"], "o.csv"),
        (["export", "{d}/s.csv", "{t}/o.psrec"], "o.psrec"),
        (["analyze", "{d}/s.psrec", "--json", "{t}/o.json", "--csv", "{t}/new.csv"], "o.json"),
        (["analyze", "{d}/s.psrec", "--csv", "{t}/o.csv"], "o.csv"),
        (["analyze", "{d}/s.psrec", "--report", "{t}/o.html"], "o.html"),
        (["analyze", "{d}/s.psrec", "--save-calibration", "{t}/o.json"], "o.json"),
        (["analyze", "{d}/s.psrec", "{d}/s.csv", "--summary-csv", "{t}/o.csv"], "o.csv"),
        (["analyze", "{d}/s.psrec", "{d}/damaged.psrec", "--out-dir", "{t}"], "s.html"),
        (["record", "--simulate", "--out", "{t}/o.psrec", "--duration", "1"], "o.psrec"),
    ],
)  # fmt: skip
def test_no_command_overwrites_without_being_asked(argv, target, inputs, tmp_path, capsys):
    argv = [a.format(d=inputs, t=tmp_path) for a in argv]
    planted = tmp_path / target
    planted.write_text("precious")
    before = sorted(p.name for p in tmp_path.iterdir())
    line = one_error_line(capsys, argv[0], 2, main(argv))
    assert f"{planted}: exists already" in line and "--overwrite" in line
    assert planted.read_text() == "precious"
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # refused before any work
    if argv[0] == "record":
        return  # --overwrite with a real recording: test_two_recorders_on_one_name
    assert main([*argv, "--overwrite"]) == 0, capsys.readouterr().err
    assert planted.read_bytes() != b"precious"


# --- 6. outputs that cannot be written ------------------------------------------------


def _run_with_file_size_limit(argv: list[str], limit_bytes: int) -> subprocess.CompletedProcess:
    """Fallback where tmpfs cannot be mounted: a real write limit (EFBIG) in a subprocess."""
    import resource
    import signal

    def limit():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit_bytes, limit_bytes))

    return subprocess.run([PY, "-m", "pelviscope", *argv], capture_output=True, text=True,
                          cwd=ROOT, preexec_fn=limit, check=False)  # fmt: skip


def test_full_disk_loses_only_the_output_that_does_not_fit(inputs, tmp_path, capsys):
    with mounted_tmpfs("size=32k") as mount_point:
        mounted = mount_point is not None
        full = mount_point or tmp_path / "full"
        argv = ["analyze", str(inputs / "s.psrec"), "--json", str(tmp_path / "r.json"),
                "--report", str(tmp_path / "r.html"), "--csv", str(full / "r.csv")]  # fmt: skip
        if mounted:
            rc = main(argv)
            out, err = capsys.readouterr()
            reason = "cannot write: the disk is full"
            assert list(full.iterdir()) == []  # no partial file left on the full disk
        else:  # the CSV (~90 kB) is larger than the limit, the JSON (~10 kB) is not
            full.mkdir(exist_ok=True)
            proc = _run_with_file_size_limit([*argv[:-2], "--csv", str(full / "r.csv")], 40_000)
            rc, out, err = proc.returncode, proc.stdout, proc.stderr
            reason = "cannot write: the file is too large"
        assert rc == 2 and "Traceback" not in err
        lines = [x for x in err.strip().splitlines() if ": warning: " not in x]
        assert len(lines) == 1
        assert lines[0].startswith(f"pelviscope analyze: error: {full / 'r.csv'}: {reason}")
        assert json.loads((tmp_path / "r.json").read_text())["format"] == "pelviscope.analysis/1"
        assert (tmp_path / "r.html").read_text().startswith("<!DOCTYPE html>")
        assert "hip-hike episodes" in out  # the finished analysis is still reported


@pytest.mark.parametrize(
    "command", ["simulate", "export", pytest.param("record", marks=pytest.mark.ble)]
)
def test_full_disk_for_recordings(command, inputs, tmp_path, capsys):
    with mounted_tmpfs("size=16k") as mount_point:
        mounted = mount_point is not None
        full = mount_point or tmp_path / "full"
        if not mounted:
            pytest.fail("mount -t tmpfs failed (the file-size fallback covers analyze only)")
        out = full / "o.psrec"
        argv = {
            "simulate": ["simulate", str(out), "--scenario", "day", "--duration", "20"],
            "export": ["export", str(inputs / "s.csv"), str(out)],
            "record": ["record", "--simulate", "--out", str(out), "--duration", "4"],
        }[command]
        rc = main(argv)
        err = capsys.readouterr().err
        assert rc == 2 and "Traceback" not in err
        errors = [x for x in err.splitlines() if ": error: " in x]
        assert errors and all("the disk is full" in x and str(out) in x for x in errors), err
        if command != "record":  # a recorder keeps what it wrote before the disk filled up
            assert list(full.iterdir()) == []


def fill(folder: Path) -> None:
    """Fill the file system of ``folder`` to the last byte."""
    with open(folder / "filler", "wb", buffering=0) as f, contextlib.suppress(OSError):
        while True:
            f.write(b"\0" * 4096)


def test_summary_table_is_not_lost_on_a_full_disk(inputs, tmp_path, capsys):
    with mounted_tmpfs("size=64k") as mount_point:
        mounted = mount_point is not None
        full = mount_point or tmp_path / "full"
        if not mounted:
            pytest.fail("mount -t tmpfs failed")
        fill(full)
        summary = full / "t.csv"
        rc = main(["analyze", str(inputs / "s.psrec"), str(inputs / "s.csv"), "--jobs", "1",
                   "--summary-csv", str(summary), "-q"])  # fmt: skip
        captured = capsys.readouterr()
        assert rc == 2
        assert captured.err.strip().splitlines() == [
            f"pelviscope analyze: error: {summary}: cannot write: the disk is full "
            "(the table follows on stdout)",
            "2 of 2 files analysed",
        ]
        assert len(pd.read_csv(io.StringIO(captured.out))) == 2
        assert sorted(p.name for p in full.iterdir()) == ["filler"]


def test_read_only_folder_and_a_folder_in_the_way(inputs, tmp_path, capsys):
    with mounted_tmpfs("ro,size=16k") as mount_point:
        mounted = mount_point is not None
        ro = mount_point or tmp_path / "ro"
        if not mounted:
            pytest.fail("mount -t tmpfs -o ro failed")
        for argv in (
            ["analyze", str(inputs / "s.psrec"), "--json", str(ro / "r.json")],
            ["simulate", str(ro / "o.psrec")],
            ["export", str(inputs / "s.psrec"), str(ro / "o.csv")],
            ["record", "--simulate", "--out", str(ro / "o.psrec")],
            ["analyze", str(inputs / "s.psrec"), str(inputs / "s.csv"), "--out-dir", str(ro)],
        ):
            line = one_error_line(capsys, argv[0], 2, main(argv))
            assert str(ro) in line and "not writable" in line, line
    pipe = tmp_path / "pipe.json"  # as /dev/full would be: --overwrite replaces files only
    os.mkfifo(pipe)
    for argv in (["analyze", str(inputs / "s.psrec"), "--json", str(pipe), "--overwrite"],
                 ["export", str(inputs / "s.psrec"), str(pipe), "--to", "csv", "--overwrite"]):
        line = one_error_line(capsys, argv[0], 2, main(argv))
        assert f"{pipe}: not a regular file" in line
        assert pipe.is_fifo()
    folder = tmp_path / "a_folder.json"
    folder.mkdir()
    line = one_error_line(capsys, "analyze", 2,
                          main(["analyze", str(inputs / "s.psrec"), "--json", str(folder)]))
    assert f"{folder}: is a directory" in line
    argv = ["export", str(inputs / "s.csv"), str(tmp_path), "--to", "csv"]
    assert f"{tmp_path}: is a directory" in one_error_line(capsys, "export", 2, main(argv))


# --- 3. batch -------------------------------------------------------------------------


@pytest.fixture
def cohort(inputs, tmp_path):
    """Two good files with the same stem in two folders, and four bad ones."""
    folder = tmp_path / "cohort"
    for sub, name in (("x", "s.psrec"), ("y", "s.csv")):
        (folder / sub).mkdir(parents=True, exist_ok=True)
        (folder / sub / name).write_bytes((inputs / name).read_bytes())
    for name in ("one_sample.psrec", "one_hz.csv", "nul.csv", "damaged.psrec"):
        (folder / "y" / name).write_bytes((inputs / name).read_bytes())
    return folder


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_batch_finishes_with_its_summary(jobs, cohort, tmp_path, capsys, monkeypatch):
    real = analyze_cmd._analyze_one

    def bug_on_one_file(path, *args, **kwargs):
        if path.name == "damaged.psrec":
            raise AssertionError("injected bug")
        return real(path, *args, **kwargs)

    monkeypatch.setattr(analyze_cmd, "_analyze_one", bug_on_one_file)  # forked workers too
    out_dir = tmp_path / "results"
    # the folder twice and a file inside it once more: each file is analysed once
    rc = main(["analyze", str(cohort), str(cohort / "x" / "s.psrec"), str(cohort), "--jobs", jobs,
               "--out-dir", str(out_dir), "--summary-csv", str(tmp_path / "t.csv")])  # fmt: skip
    err = capsys.readouterr().err.strip().splitlines()
    err = [x for x in err if ": warning: " not in x]
    assert rc == 1  # a bug was met: exit status 1 (2 when every failure is bad input)
    assert err[-1] == "2 of 6 files analysed"
    errors = err[:-1]
    assert len(errors) == 4 and not any("Traceback" in x for x in errors)
    for name in ("one_sample.psrec", "one_hz.csv", "nul.csv"):
        assert sum(f"pelviscope analyze: error: {cohort / 'y' / name}: " in x
                   for x in errors) == 1  # fmt: skip
    bug = [x for x in errors if "damaged.psrec" in x]
    assert len(bug) == 1 and "internal error (AssertionError: injected bug)" in bug[0]
    assert Path(bug[0].rsplit("the log ", 1)[1]).read_text().count("injected bug") >= 1
    table = pd.read_csv(tmp_path / "t.csv", keep_default_na=False)
    assert len(table) == 6 and table["file"].is_unique
    good = table[table["error"] == ""]
    assert sorted(good["outputs"]) == [
        f"{out_dir / 's_csv.json'};{out_dir / 's_csv.html'}",
        f"{out_dir / 's_psrec.json'};{out_dir / 's_psrec.html'}",
    ]
    assert sorted(p.name for p in out_dir.iterdir()) == [
        "s_csv.html", "s_csv.json", "s_psrec.html", "s_psrec.json"
    ]  # fmt: skip
    docs = {p: json.loads((out_dir / p).read_text())["input"]["path"]
            for p in ("s_csv.json", "s_psrec.json")}  # fmt: skip
    assert docs["s_csv.json"].endswith("s.csv") and docs["s_psrec.json"].endswith("s.psrec")


def test_one_input_with_out_dir_is_a_batch_of_one(inputs, tmp_path, capsys):
    rc = main(["analyze", str(inputs / "s.psrec"), "--out-dir", str(tmp_path / "r"), "-q"])
    captured = capsys.readouterr()
    assert rc == 0 and captured.err.strip().splitlines() == ["1 of 1 files analysed"]
    assert sorted(p.name for p in (tmp_path / "r").iterdir()) == ["s.html", "s.json"]
    assert pd.read_csv(io.StringIO(captured.out))["outputs"].tolist() == [
        f"{tmp_path / 'r' / 's.json'};{tmp_path / 'r' / 's.html'}"
    ]


def test_batch_of_only_bad_input_exits_2(cohort, capsys):
    rc = main(["analyze", str(cohort / "y" / "nul.csv"), str(cohort / "y" / "one_hz.csv"),
               "--jobs", "1"])  # fmt: skip
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and err[-1] == "0 of 2 files analysed" and len(err) == 3


def test_batch_survives_a_worker_process_that_dies(cohort, tmp_path, capsys, monkeypatch):
    real = analyze_cmd._analyze_one

    def die_on_one_file(path, *args, **kwargs):
        if path.name == "one_hz.csv":
            os._exit(9)  # a worker killed (e.g. by the out-of-memory killer)
        return real(path, *args, **kwargs)

    monkeypatch.setattr(analyze_cmd, "_analyze_one", die_on_one_file)
    files = [cohort / "x" / "s.psrec", cohort / "y" / "one_hz.csv", cohort / "y" / "s.csv"]
    rc = main(["analyze", *map(str, files), "--jobs", "2", "-q"])
    captured = capsys.readouterr()
    err = captured.err.strip().splitlines()
    assert rc == 2 and err[-1] == "2 of 3 files analysed"
    assert len(err) == 2 and "one_hz.csv: the process analysing it stopped" in err[0]
    assert len(pd.read_csv(io.StringIO(captured.out))) == 3


@pytest.mark.parametrize(
    "paths, expected",
    [
        (["x/a.psrec", "y/b.csv"], ["a", "b"]),
        (["x/a.psrec", "y/a.csv"], ["a_psrec", "a_csv"]),
        (["x/a.psrec", "y/a.psrec"], ["x_a_psrec", "y_a_psrec"]),
        (["x/A.psrec", "y/a.psrec", "z/a.csv"], ["x_A_psrec", "y_a_psrec", "a_csv"]),
        (["p/x/a.csv", "q/x/a.csv"], ["p_x_a_csv", "q_x_a_csv"]),
        (["a.csv", "a_csv.csv", "d/a.txt"], ["a_csv", "a_csv-2", "a_txt"]),
    ],
)
def test_output_names(paths, expected, tmp_path):
    assert output_names([tmp_path / p for p in paths]) == expected


@settings(max_examples=80, deadline=None)
@given(st.lists(
    st.tuples(st.sampled_from(["x", "y", "x/y", "y/x", "Y"]), st.sampled_from(["a", "A", "a_csv"]),
              st.sampled_from([".psrec", ".csv", ".txt"])),
    min_size=1, max_size=8, unique=True,
))  # fmt: skip
def test_output_names_are_unique_and_stable(parts):
    files = [Path("/data", folder, stem + ext) for folder, stem, ext in parts]
    names = output_names(files)
    assert len({n.casefold() for n in names}) == len(names)
    assert output_names(files) == names  # deterministic
    assert all(n.startswith(f.stem) or f.stem in n for n, f in zip(names, files, strict=True))


# --- 2. two recorders on one name -----------------------------------------------------


@pytest.mark.ble
def test_two_recorders_on_one_name(tmp_path, state_home):
    out = tmp_path / "s.psrec"
    env = {**os.environ, "XDG_STATE_HOME": str(state_home)}
    argv = [PY, "-m", "pelviscope", "record", "--simulate", "--out", str(out)]
    first = subprocess.Popen([*argv, "--duration", "2"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, cwd=ROOT, env=env)  # fmt: skip
    try:
        deadline = time.monotonic() + 20
        while not out.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert out.exists()
        t0 = time.monotonic()
        second = subprocess.run([*argv, "--duration", "30"], capture_output=True, text=True,
                                cwd=ROOT, env=env, check=False)  # fmt: skip
        # At once: before connecting (no status line) and long before its 30 s were up.
        assert second.returncode == 2 and time.monotonic() - t0 < 15.0
        assert second.stderr.strip().splitlines() == [
            f"pelviscope record: error: {out}: exists already; choose another name or pass "
            "--overwrite to replace it"
        ]
        _, stderr = first.communicate(timeout=30)
    finally:
        first.kill()
        first.wait()
    assert first.returncode == 0, stderr
    rec = load(out)
    assert rec.duration_s >= 1.9 and not rec.warnings
    # --overwrite replaces it (with a new session)
    again = subprocess.run([*argv, "--duration", "1", "--overwrite"], capture_output=True,
                           text=True, cwd=ROOT, env=env, check=False)  # fmt: skip
    assert again.returncode == 0 and load(out).duration_s < 1.9
