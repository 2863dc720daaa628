import pytest

from pelviscope.cli import main
from recordings.format import read_recording


@pytest.mark.parametrize("argv", [
    ["record", "--out", "x.csv", "--simulate"],
    ["record", "--out", "x.psrec", "--drop-rate", "0.1"],
    ["record", "--out", "x.psrec", "--simulate", "--drop-rate", "1.5"],
    ["record", "--out", "x.psrec", "--simulate", "--duration", "-1"],
    ["record", "--out", "/no/such/dir/x.psrec", "--simulate"],
    ["scan", "--timeout", "0"],
])
def test_bad_usage_is_one_line_and_exit_2(argv, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err


@pytest.mark.ble
def test_record_simulate_writes_a_recording_with_gaps(tmp_path, capsys):
    out = tmp_path / "s.psrec"
    argv = ["record", "--simulate", "--drop-rate", "0.1", "--out", str(out), "--duration", "2",
            "--subject", "S7", "--session", "A", "--notes", "bench"]
    assert main(argv) == 0
    rec = read_recording(out)
    assert rec.duration_s >= 1.5 and rec.meta["subject_id"] == "S7"
    assert rec.meta["stats"]["lost_samples"] == sum(g.lost_samples for g in rec.gaps)
    assert "wrote" in capsys.readouterr().out


@pytest.mark.ble
def test_scan_simulate_lists_the_emulated_sensor(capsys):
    assert main(["scan", "--simulate", "--timeout", "0.3"]) == 0
    assert "PelviIMU" in capsys.readouterr().out
