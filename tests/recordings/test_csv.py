"""CSV interchange: reading, writing, units, gaps, and every bad-CSV case via the real CLI."""

from __future__ import annotations

import math

import numpy as np
import pytest

from pelviscope.cli import main
from recordings import InputError, load, read_csv, read_recording, write_csv
from recordings.csv_io import estimate_rate_and_gaps
from tests.recordings.conftest import make_recording

HEADER = "time_s,acc_x,acc_y,acc_z,gyr_x,gyr_y,gyr_z"


def _rows(n=20, rate_hz=100.0, acc=(0.1, 0.2, 9.8), gyr=(0.01, -0.02, 0.03)):
    return [
        f"{i / rate_hz!r},{acc[0]},{acc[1]},{acc[2]},{gyr[0]},{gyr[1]},{gyr[2]}"
        for i in range(n)
    ]


def _write(path, lines):
    path.write_text("\n".join(lines) + "\n")
    return path


def test_write_read_round_trip_exact(tmp_path):
    rec = make_recording(300, has_mag=True)
    write_csv(tmp_path / "a.csv", rec)
    assert (tmp_path / "a.csv").read_text().splitlines()[0] == HEADER + ",mag_x,mag_y,mag_z"
    got = read_csv(tmp_path / "a.csv")
    np.testing.assert_array_equal(got.time_s, rec.time_s)
    np.testing.assert_array_equal(got.acc_mps2, rec.acc_mps2)
    np.testing.assert_array_equal(got.gyr_rps, rec.gyr_rps)
    np.testing.assert_array_equal(got.mag, rec.mag)
    assert got.rate_hz == 100.0 and got.gaps == [] and got.warnings == []


def test_any_column_order_extra_columns_and_spaces(tmp_path):
    lines = ["note, acc_z ,time_s,acc_y,acc_x,gyr_z,gyr_y,gyr_x"]
    lines += [f"x,9.8,{i / 50!r},0.5,0.25,3,2,1" for i in range(10)]
    got = read_csv(_write(tmp_path / "a.csv", lines))
    assert got.rate_hz == 50.0
    np.testing.assert_array_equal(got.acc_mps2[0], [0.25, 0.5, 9.8])
    np.testing.assert_array_equal(got.gyr_rps[0], [1, 2, 3])


def test_accelerometer_only(tmp_path):
    lines = ["time_s,acc_x,acc_y,acc_z", *[f"{i / 100!r},0,0,9.81" for i in range(5)]]
    got = load(_write(tmp_path / "a.csv", lines))
    assert got.gyr_rps is None and not got.has_gyr
    empty_gyr = [HEADER, *[f"{i / 100!r},0,0,9.81,,," for i in range(5)]]
    assert read_csv(_write(tmp_path / "b.csv", empty_gyr)).gyr_rps is None


def test_units_g_and_dps(tmp_path):
    path = _write(tmp_path / "a.csv", [HEADER, *_rows(acc=(0, 0, 1.0), gyr=(90, 0, -180))])
    got = read_csv(path, acc_unit="g", gyr_unit="dps")
    np.testing.assert_allclose(got.acc_mps2[0], [0, 0, 9.80665])
    np.testing.assert_allclose(got.gyr_rps[0], [math.pi / 2, 0, -math.pi])


def test_gaps_are_reported(tmp_path):
    time_s = np.arange(1000) / 100.0
    time_s[300:] += 0.5  # 50 lost samples
    time_s[700:] += 0.02  # 2 lost samples
    lines = [HEADER] + [f"{float(t)!r},0,0,9.81,0,0,0" for t in time_s]
    got = read_csv(_write(tmp_path / "a.csv", lines))
    assert got.rate_hz == 100.0
    assert [(g.start_s, g.end_s, g.lost_samples) for g in got.gaps] == [
        (time_s[299], time_s[300], 50),
        (time_s[699], time_s[700], 2),
    ]


def test_jitter_is_not_a_gap():
    rng = np.random.default_rng(0)
    time_s = np.cumsum(rng.normal(0.01, 0.0015, 5000))
    rate_hz, gaps = estimate_rate_and_gaps(time_s)
    assert rate_hz == pytest.approx(100.0, rel=0.01)
    assert len(gaps) < 5  # 1.5x alone would flag hundreds
    time_s[2000:] += 0.2
    assert any(g.start_s == time_s[1999] for g in estimate_rate_and_gaps(time_s)[1])


def test_trailing_blank_lines_and_crlf(tmp_path):
    path = tmp_path / "a.csv"
    path.write_bytes(("\r\n".join([HEADER, *_rows(5)]) + "\r\n\r\n\r\n").encode())
    assert read_csv(path).n_samples == 5


def test_blank_line_in_the_middle_keeps_line_numbers_right(tmp_path):
    lines = [HEADER, *_rows(3), "", "", *_rows(3)[1:]]
    lines[-1] = lines[-1].replace("0.1,", "oops,", 1)
    with pytest.raises(InputError, match="line 8: column acc_x: 'oops' is not a number"):
        read_csv(_write(tmp_path / "a.csv", lines))


# -- every bad CSV through the real command line -------------------------------------
BAD = {
    "empty": ([], None, "line 1", "file is empty"),
    "header_only": ([HEADER], None, "line 2", "no data rows"),
    "semicolon": ([HEADER.replace(",", ";"), *[r.replace(",", ";") for r in _rows(3)]],
                  None, "line 1", "uses ';' as delimiter, expected ','"),
    "tab": ([HEADER.replace(",", "\t"), *[r.replace(",", "\t") for r in _rows(3)]],
            None, "line 1", "uses tab as delimiter, expected ','"),
    "missing_column": (["time_s,acc_x,acc_z,gyr_x,gyr_y", *[r[:-8] for r in _rows(3)]],
                       None, "line 1",
                       "missing column(s) acc_y, gyr_z "
                       "(found: time_s, acc_x, acc_z, gyr_x, gyr_y)"),
    "non_numeric": ([HEADER, *_rows(4), "0.04,0.1,abc,9.8,0,0,0"], None, "line 6",
                    "column acc_y: 'abc' is not a number"),
    "empty_cell": ([HEADER, *_rows(2), "0.02,0.1,,9.8,0,0,0", *_rows(5)[3:]], None, "line 4",
                   "column acc_y is empty or NaN"),
    "nan_cell": ([HEADER, *_rows(3), "0.03,0.1,0.2,9.8,0,NaN,0"], None, "line 5",
                 "column gyr_y is empty or NaN"),
    "inf_cell": ([HEADER, *_rows(3), "0.03,inf,0.2,9.8,0,0,0"], None, "line 5",
                 "column acc_x is inf"),
    "time_not_increasing": ([HEADER, *_rows(5), "0.02,0,0,9.8,0,0,0"], None, "line 7",
                            "time_s 0.02 does not increase (previous row: 0.04)"),
    "time_repeated": ([HEADER, *_rows(3), "0.02,0,0,9.8,0,0,0"], None, "line 5",
                      "does not increase"),
    "too_many_fields": ([HEADER, *_rows(3), "0.03,0,0,9.8,0,0,0,7"], None, "line 5",
                        "row has 8 fields but the header has 7"),
    "acc_in_g": ([HEADER, *_rows(acc=(0, 0, 1.0))], None, "columns acc_x, acc_y, acc_z",
                 "use --acc-unit g"),
    "acc_in_mps2_declared_g": ([HEADER, *_rows()], ["--acc-unit", "g"],
                               "columns acc_x, acc_y, acc_z", "use --acc-unit mps2"),
    "raw_counts": ([HEADER, *_rows(acc=(0, 0, 16384))], None, "columns acc_x, acc_y, acc_z",
                   "raw counts?"),
    "gyr_in_dps": ([HEADER, *_rows(gyr=(150, 0, 80))], None, "columns gyr_x, gyr_y, gyr_z",
                   "use --gyr-unit dps"),
    "one_row": ([HEADER, *_rows(1)], None, "line 2", "only one data row"),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_csv_via_cli(tmp_path, capsys, case):
    lines, options, where, reason = BAD[case]
    src = tmp_path / f"{case}.csv"
    if lines:
        _write(src, lines)
    else:
        src.write_bytes(b"")
    status = main(["export", str(src), str(tmp_path / "out.psrec"), *(options or [])])
    out, err = capsys.readouterr()
    assert status == 2
    assert "Traceback" not in err + out
    lines_err = err.strip().splitlines()
    assert len(lines_err) == 1, err
    assert lines_err[0] == f"pelviscope export: error: {src}: {where}: " + lines_err[0].split(
        f"{where}: ", 1
    )[1]
    assert reason in lines_err[0]
    assert not (tmp_path / "out.psrec").exists()


def test_bad_csv_subprocess_has_no_traceback(tmp_path):
    import subprocess
    import sys

    from tests.recordings.test_crash import ROOT

    src = _write(tmp_path / "bad.csv", [HEADER, *_rows(3), "0.03,x,0,9.8,0,0,0"])
    proc = subprocess.run(
        [sys.executable, "-m", "pelviscope", "export", str(src), str(tmp_path / "o.psrec")],
        capture_output=True, text=True, cwd=ROOT, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        f"pelviscope export: error: {src}: line 5: column acc_x: 'x' is not a number"
    )


def test_csv_to_recording_and_back(tmp_path, capsys):
    rec = make_recording(400)
    rec.time_s = rec.time_s.copy()
    rec.time_s[200:] += 0.1
    write_csv(tmp_path / "in.csv", rec)
    assert main(["export", str(tmp_path / "in.csv"), str(tmp_path / "a.psrec")]) == 0
    assert "400 samples" in capsys.readouterr().out
    native = read_recording(tmp_path / "a.psrec")
    assert native.n_samples == 400 and native.rate_hz == 100.0 and len(native.gaps) == 1
    assert native.meta["source_file"] == "in.csv"
    assert main(["export", str(tmp_path / "a.psrec"), str(tmp_path / "out.csv")]) == 0
    back = read_csv(tmp_path / "out.csv")
    np.testing.assert_array_equal(back.time_s, rec.time_s)
    np.testing.assert_allclose(back.acc_mps2, rec.acc_mps2, rtol=1e-6)


def test_export_units_and_explicit_format(tmp_path, capsys):
    src = _write(tmp_path / "g.csv", [HEADER, *_rows(acc=(0, 0, 1.0), gyr=(90, 0, 0))])
    out = tmp_path / "g_rec.bin"
    assert main(["export", str(src), str(out), "--acc-unit", "g", "--gyr-unit", "dps",
                 "--to", "rec"]) == 0  # fmt: skip
    got = read_recording(out)
    np.testing.assert_allclose(got.acc_mps2[0], [0, 0, 9.80665], rtol=1e-6)
    np.testing.assert_allclose(got.gyr_rps[0], [math.pi / 2, 0, 0], rtol=1e-6)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["{d}/missing.csv", "{d}/o.csv"], "{d}/missing.csv: file not found"),
        (["{d}", "{d}/o.csv"], "{d}: is a "),  # a directory / folder
        (["{d}/ok.csv", "{d}/o.xyz"], "cannot tell the output format"),
        (["{d}/rec.psrec", "{d}/o.csv", "--acc-unit", "g"], "apply to CSV input"),
        (["{d}/blob.bin", "{d}/o.csv"], "{d}/blob.bin: byte 0: not a pelviscope recording"),
        (["{d}/ok.csv", "{d}/nodir/o.csv"], "nodir does not exist"),
    ],
)
def test_export_usage_errors(tmp_path, capsys, args, message):
    _write(tmp_path / "ok.csv", [HEADER, *_rows()])
    (tmp_path / "blob.bin").write_bytes(bytes(range(256)))
    main(["export", str(tmp_path / "ok.csv"), str(tmp_path / "rec.psrec")])
    capsys.readouterr()
    status = main(["export", *[a.format(d=tmp_path) for a in args]])
    err = capsys.readouterr().err
    assert status == 2 and len(err.strip().splitlines()) == 1
    assert message.format(d=tmp_path) in err


def test_export_damaged_recording_warns_and_repairs(tmp_path, capsys):
    from recordings import write_recording

    write_recording(tmp_path / "a.psrec", make_recording(300))
    data = (tmp_path / "a.psrec").read_bytes()
    (tmp_path / "a.psrec").write_bytes(data[:-400])
    assert main(["export", str(tmp_path / "a.psrec"), str(tmp_path / "fixed.psrec")]) == 0
    err = capsys.readouterr().err
    assert err.startswith("pelviscope export: warning:") and "ends inside a" in err
    assert read_recording(tmp_path / "fixed.psrec").warnings == []
