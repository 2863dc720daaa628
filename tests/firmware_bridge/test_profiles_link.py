"""Each vendor personality over the bumble link, through ``pelviscope record --simulate``."""

import numpy as np
import pytest

import pelviscope.commands.record as record_cmd
from firmware_bridge.emulator import synthetic_signal
from pelviscope.cli import main
from recordings.format import read_recording

pytestmark = pytest.mark.ble

#: kind -> (rate asked for, rate the device streams at, timing, has gyroscope)
CASES = {
    "witmotion": (50.0, 50.0, "host_arrival_approximate", True),
    "thingy52": (50.0, 50.0, "host_arrival_approximate", True),
    "movesense": (104.0, 104.0, "device_clock", True),
    "polar-verity": (52.0, 52.0, "device_clock", True),
    "polar-h10": (50.0, 50.0, "device_clock", False),
    "movella-dot": (60.0, 60.0, "device_clock", True),
    "pelviscope": (100.0, 100.0, "device_clock", True),
}


@pytest.fixture(autouse=True)
def quick_signal(monkeypatch):
    """A short synthetic signal instead of simulating a whole day (keeps the tests short)."""
    monkeypatch.setattr(record_cmd, "_simulated_signal",
                        lambda rate_hz: synthetic_signal(20.0, rate_hz))


@pytest.mark.parametrize("kind", list(CASES))
def test_record_simulate_device(kind, tmp_path, capsys):
    rate, device_rate, timing, has_gyr = CASES[kind]
    out = tmp_path / f"{kind}.psrec"
    assert main(["record", "--simulate", "--device", kind, "--rate-hz", str(rate),
                 "--duration", "1.5", "--out", str(out)]) == 0
    rec = read_recording(out)
    meta = rec.meta
    assert meta["timing"] == timing
    assert meta["rate_hz"] == pytest.approx(device_rate)
    assert rec.duration_s >= 1.0
    assert rec.n_samples >= 0.6 * device_rate * rec.duration_s
    assert (rec.gyr_rps is not None) == has_gyr
    if not has_gyr:
        assert "unavailable" in meta["gyroscope"] and meta["limitations"]
    if timing == "host_arrival_approximate":
        assert any("approximate" in note for note in meta["limitations"])
    assert np.all(np.diff(rec.time_s) > 0)
    # the synthetic signal: gravity along +z of the sensor, within the codec's resolution
    assert np.median(rec.acc_mps2[:, 2]) == pytest.approx(9.8, abs=0.5)
    assert meta["stats"]["lost_samples"] == sum(g.lost_samples for g in rec.gaps) == 0
    printed = capsys.readouterr().out
    assert "wrote" in printed
    if kind != "pelviscope":
        assert meta["profile"] and meta["sensor_kind"] == kind and "sensor:" in printed


def test_unknown_device_kind_is_a_usage_error(capsys):
    assert main(["record", "--simulate", "--device", "fitbit", "--out", "x.psrec"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "witmotion" in err


def test_scan_simulate_names_kinds_and_lists_unsupported(capsys):
    assert main(["scan", "--simulate", "--timeout", "0.5"]) == 0
    out = capsys.readouterr().out
    for kind in CASES:
        assert kind in out
    assert "unsupported" in out and "0000180d-0000-1000-8000-00805f9b34fb" in out
