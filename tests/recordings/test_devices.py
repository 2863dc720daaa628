"""Research wearables' files: Axivity AX3/AX6 .cwa and GENEActiv .bin (recordings.devices)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from datetime import datetime

import numpy as np
import pytest

from recordings import InputError, load
from recordings.devices import day_spans, device_info, iter_chunks, read_span
from recordings.plausibility import G_MPS2
from tests.conftest import ROOT, require_data
from tests.recordings.cwa_synth import ACC_PER_G, GYR_PER_DPS, still_signal, write_ax6

#: The truth files' times are kept to 1e-4 s (their values to 1e-4 / 1e-6), so a
#: correct reader differs by up to half of that plus one float64 step at 1.6e9 s.
TIME_TOL_S = 5e-5 + 2.4e-7
VALUE_TOL = 5e-5


@pytest.mark.data
@pytest.mark.parametrize(
    ("sample", "truth", "rate_hz", "has_gyr"),
    [
        ("ax6_sample.cwa", "ax6_data.npz", 100.0, True),
        ("ax3_sample.cwa", "ax3_data.npz", 200.0, False),
        ("gnactv_sample.bin", "gnactv_data.npz", 50.0, False),
    ],
)
def test_samples_match_their_truth(sample, truth, rate_hz, has_gyr):
    folder = require_data("devices")
    rec = load(folder / sample)
    ref = np.load(folder / truth)
    info = device_info(folder / sample)
    assert rec.rate_hz == rate_hz
    assert rec.has_gyr is has_gyr
    assert rec.n_samples == ref["time"].size
    start = np.datetime64(info.start_local, "ns").astype(np.int64) / 1e9
    assert np.abs(rec.time_s + start - ref["time"]).max() <= TIME_TOL_S
    assert np.abs(rec.acc_mps2 / G_MPS2 - ref["accel"]).max() <= VALUE_TOL
    if has_gyr:
        assert np.abs(np.degrees(rec.gyr_rps) - ref["gyro"]).max() <= VALUE_TOL
    assert rec.meta["timing"] == "device_clock"


@pytest.mark.data
def test_geneactiv_header():
    rec = load(require_data("devices") / "gnactv_sample.bin")
    assert rec.meta["subject_id"] == "0001"
    # "Time Zone:GMT -04:00": the device clock is 4 h behind UTC.
    assert rec.meta["start_time_local"] == "2019-05-21T16:16:43.500000"
    assert rec.meta["start_time_utc"].startswith("2019-05-21T20:16:43.5")
    # Page 1 starts 0.5 s after page 0's 300 samples end: one gap, times kept.
    assert len(rec.gaps) == 1
    assert rec.gaps[0].start_s == pytest.approx(5.98)


def test_synthetic_ax6_round_trip(tmp_path):
    path = tmp_path / "s.cwa"
    n = write_ax6(path, 600.0, start=datetime(2026, 3, 2, 23, 55, 0), subject="P07")
    rec = load(path)
    acc_g, gyr_dps = still_signal(np.arange(n) / 100.0)
    assert rec.n_samples == n
    np.testing.assert_allclose(rec.time_s, np.arange(n) / 100.0, atol=1e-9)
    assert np.abs(rec.acc_mps2 / G_MPS2 - acc_g).max() <= 0.5 / ACC_PER_G + 1e-12
    assert np.abs(np.degrees(rec.gyr_rps) - gyr_dps).max() <= 0.5 / GYR_PER_DPS + 1e-12
    assert rec.meta["subject_id"] == "P07"
    assert rec.meta["device"]["model"] == "AX6"
    assert rec.gaps == []
    days = day_spans(device_info(path))
    assert [d.date for d in days] == ["2026-03-02", "2026-03-03"]
    assert days[0].end_s == pytest.approx(300.0)
    part = read_span(path, 300.0, 400.0)
    assert part.time_s[0] == pytest.approx(300.0)
    assert part.n_samples == 10_000


def test_chunks_join_end_to_end(tmp_path):
    path = tmp_path / "c.cwa"
    n = write_ax6(path, 250.0)
    chunks = list(iter_chunks(path, 60.0))
    assert len(chunks) == 5
    joined = np.concatenate([c.time_s for c in chunks])
    np.testing.assert_allclose(joined, np.arange(n) / 100.0, atol=1e-9)


def test_damaged_files_one_line(tmp_path):
    good = tmp_path / "g.cwa"
    write_ax6(good, 30.0)
    data = good.read_bytes()
    cut = tmp_path / "cut.cwa"
    cut.write_bytes(data[: 1024 + 512 * 5 + 100])
    with pytest.raises(InputError, match="ends inside a 512-byte block") as err:
        load(cut)
    assert "\n" not in str(err.value)
    empty = tmp_path / "empty.cwa"
    empty.write_bytes(data[:1024])
    with pytest.raises(InputError, match="without samples"):
        load(empty)


@pytest.mark.data
def test_truncated_geneactiv_keeps_whole_pages(tmp_path):
    data = (require_data("devices") / "gnactv_sample.bin").read_bytes()
    cut = tmp_path / "cut.bin"
    cut.write_bytes(data[:-1000])
    rec = load(cut)
    assert rec.n_samples == 600
    assert any("cut short" in w for w in rec.warnings)
    bad = tmp_path / "bad.bin"
    bad.write_bytes(data.replace(b"F2202700B000", b"ZZZZZZZZZZZZ", 1))
    with pytest.raises(InputError, match="page 0: data line is not whole hex"):
        load(bad)


_READ_WEEK = textwrap.dedent(
    """
    import resource, sys
    from recordings.devices import iter_chunks
    n, last = 0, -1.0
    for chunk in iter_chunks(sys.argv[1], 3600.0):
        assert chunk.time_s[0] > last
        last = float(chunk.time_s[-1])
        n += chunk.n_samples
    print(n, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
    """
)


@pytest.mark.slow
def test_week_long_ax6_streams_in_bounded_memory(tmp_path):
    """7 days at 100 Hz (60.5 M samples, 774 MB): read hour by hour, peak RSS < 1.5 GB.

    Whole, the samples would take 3.4 GB as float64 (time, acc, gyr).
    """
    path = tmp_path / "week.cwa"
    n = write_ax6(path, 7 * 86400.0)
    assert n == 60_480_000
    out = subprocess.run(
        [sys.executable, "-c", _READ_WEEK, str(path)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        timeout=300,
        env={k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TMPDIR")},
    ).stdout.split()
    assert int(out[0]) == n
    peak_bytes = int(out[1])
    # Alone ~0.2 GB; after the Dask tests in the same pytest run the child peaked at
    # 0.47-1.07 GB (cause not found: not the environment Dask leaves). Either way far below
    # the 3.4 GB of reading the week whole, which is what this test guards against.
    assert peak_bytes < 1.5e9, f"peak RSS {peak_bytes / 1e6:.0f} MB"
