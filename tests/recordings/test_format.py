from __future__ import annotations

import json
import os

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from recordings import (
    Gap,
    InputError,
    Marker,
    RecordingWriter,
    is_recording,
    read_batch_index,
    read_recording,
    write_recording,
)
from recordings.format import MAGIC, STRUCTURAL_KEYS, chunk_samples
from tests.recordings.conftest import f32, make_recording


@pytest.mark.parametrize(("has_gyr", "has_mag"), [(True, False), (False, False), (True, True)])
def test_round_trip(tmp_path, has_gyr, has_mag):
    rec = make_recording(700, has_gyr=has_gyr, has_mag=has_mag)
    path = tmp_path / "a.psrec"
    write_recording(path, rec)
    got = read_recording(path)
    assert got.warnings == []
    np.testing.assert_array_equal(got.time_s, rec.time_s)
    np.testing.assert_array_equal(got.device_time_s, rec.device_time_s)
    np.testing.assert_array_equal(got.acc_mps2, f32(rec.acc_mps2))
    assert got.acc_mps2.dtype == np.float64
    if has_gyr:
        np.testing.assert_array_equal(got.gyr_rps, f32(rec.gyr_rps))
    else:
        assert got.gyr_rps is None
    if has_mag:
        np.testing.assert_array_equal(got.mag, f32(rec.mag))
        assert got.meta["mag_unit"] == "uT"
    else:
        assert got.mag is None
    assert got.gaps == rec.gaps and got.markers == rec.markers
    assert got.rate_hz == rec.rate_hz
    assert got.meta["subject_id"] == "S01" and got.meta["device"] == {"name": "sim"}
    assert got.meta["format_version"] == "1.0"
    assert got.meta["calibration"] is None  # descriptive keys always present
    assert not list(tmp_path.glob("*.partial"))


def test_empty_recording(tmp_path):
    rec = make_recording(0)
    rec.gaps, rec.markers = [], []
    write_recording(tmp_path / "e.psrec", rec)
    got = read_recording(tmp_path / "e.psrec")
    assert got.n_samples == 0 and got.warnings == [] and got.acc_mps2.shape == (0, 3)


meta_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=8)
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: st.lists(inner, max_size=3)
    | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)  # fmt: skip


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    batches=st.lists(st.integers(1, 70), min_size=0, max_size=12),
    flush_after=st.lists(st.booleans(), min_size=12, max_size=12),
    has_gyr=st.booleans(),
    has_mag=st.booleans(),
    meta=st.dictionaries(st.text(min_size=1, max_size=8), meta_values, max_size=4),
    patch=st.dictionaries(st.text(min_size=1, max_size=8), meta_values, max_size=3),
)
def test_writer_round_trip_any_chunking(
    tmp_path, batches, flush_after, has_gyr, has_mag, meta, patch
):
    patch = {k: v for k, v in patch.items() if k not in STRUCTURAL_KEYS}
    rng = np.random.default_rng(len(batches))
    n = sum(batches)
    time_s = np.cumsum(rng.uniform(0.001, 0.02, n))
    acc, gyr, mag = rng.normal(size=(n, 3)), rng.normal(size=(n, 3)), rng.normal(size=(n, 3))
    path = tmp_path / "h.psrec"
    # hypothesis runs every example in one tmp_path: replace the previous example's file
    with RecordingWriter(path, meta, rate_hz=50.0, has_gyr=has_gyr, has_mag=has_mag,
                         background_flush=False, overwrite=True) as w:  # fmt: skip
        start = 0
        for i, k in enumerate(batches):
            b = slice(start, start + k)
            w.append(time_s[b], acc[b], gyr[b] if has_gyr else None, mag[b] if has_mag else None,
                     device_time_s=time_s[b] * 2, host_time_s=1000.0 + i, seq=10 * i)  # fmt: skip
            if i == 2:
                w.update_meta(patch)
                w.add_marker(Marker(float(time_s[b][-1]), f"m{i}"))
            if flush_after[i]:
                w.flush()
            start += k
    got = read_recording(path)
    assert got.warnings == []
    np.testing.assert_array_equal(got.time_s, time_s)
    np.testing.assert_array_equal(got.acc_mps2, f32(acc))
    assert (got.gyr_rps is not None) == has_gyr
    assert (got.mag is not None) == has_mag
    if n:
        np.testing.assert_array_equal(got.device_time_s, time_s * 2)
    expected = json.loads(json.dumps(meta | (patch if len(batches) > 2 else {})))
    for key, value in expected.items():
        if key not in STRUCTURAL_KEYS:
            assert got.meta[key] == value
    # a batch longer than a DATA chunk (1 s: 50 samples) is listed once per chunk it fills
    per_chunk = chunk_samples(50.0)
    starts = np.cumsum([0, *batches[:-1]]).tolist()[: len(batches)]
    pieces = [(i, a + m) for i, (a, k) in enumerate(zip(starts, batches, strict=True))
              for m in range(0, k, per_chunk)]  # fmt: skip
    index = read_batch_index(path)
    assert index["seq"].tolist() == [10 * i for i, _ in pieces]
    assert index["host_time_s"].tolist() == [1000.0 + i for i, _ in pieces]
    assert index["sample_index"].tolist() == [a for _, a in pieces]


def test_writer_events_and_meta_updates(tmp_path):
    path = tmp_path / "w.psrec"
    with RecordingWriter(path, {"calibration": None, "battery": 90}, rate_hz=100.0) as w:
        w.append(np.arange(10) / 100, np.ones((10, 3)), np.zeros((10, 3)))
        w.add_gap(Gap(0.09, 0.2, 10, "disconnect"))
        w.update_meta({"calibration": {"sensor_to_pelvis_quat_wxyz": [1, 0, 0, 0]}})
        w.append(np.arange(20, 30) / 100, np.ones((10, 3)), np.zeros((10, 3)), seq=7)
        w.update_meta({"battery": np.int64(80), "quality": np.float64(np.nan)})
        w.add_marker(Marker(0.25, "hike", "left"))
        assert w.meta["battery"] == 80
    got = read_recording(path)
    assert got.meta["calibration"] == {"sensor_to_pelvis_quat_wxyz": [1, 0, 0, 0]}
    assert got.meta["battery"] == 80 and got.meta["quality"] is None
    assert got.gaps == [Gap(0.09, 0.2, 10, "disconnect")]
    assert got.markers == [Marker(0.25, "hike", "left")]
    assert got.n_samples == 20 and got.warnings == []


def test_writer_rejects_bad_input(tmp_path):
    with RecordingWriter(tmp_path / "x.psrec", {}, rate_hz=100.0, has_gyr=False) as w:
        w.append([0.0, 0.01], np.zeros((2, 3)))
        with pytest.raises(ValueError, match="increase"):
            w.append([0.01], np.zeros((1, 3)))
        with pytest.raises(ValueError, match="strictly increasing"):
            w.append([0.5, 0.4], np.zeros((2, 3)))
        with pytest.raises(ValueError, match="shape"):
            w.append([1.0, 1.1], np.zeros((3, 3)))
        with pytest.raises(ValueError, match="gyr_rps given"):
            w.append([1.0], np.zeros(3), np.zeros(3))
        with pytest.raises(ValueError, match="cannot change"):
            w.update_meta({"rate_hz": 5})
        with pytest.raises(ValueError, match="cannot store"):
            w.update_meta({"x": object()})
        w.append([2.0], [0.0, 0.0, 9.8])  # a single sample as a (3,) vector
    with pytest.raises(ValueError, match="closed"):
        w.append([3.0], np.zeros((1, 3)))
    w.close()  # twice is fine
    assert read_recording(tmp_path / "x.psrec").n_samples == 3
    with pytest.raises(ValueError, match="rate_hz"):
        RecordingWriter(tmp_path / "y.psrec", {}, rate_hz=0.0)


def test_flush_makes_data_visible_before_close(tmp_path):
    path = tmp_path / "f.psrec"
    w = RecordingWriter(path, {}, rate_hz=100.0, background_flush=False, flush_interval_s=100)
    w.append(np.arange(5) / 100, np.ones((5, 3)), np.zeros((5, 3)))
    assert read_recording(path).n_samples == 0
    w.flush()
    got = read_recording(path)
    assert got.n_samples == 5
    assert len(got.warnings) == 1 and "not closed cleanly" in got.warnings[0]
    w.close()
    assert read_recording(path).warnings == []


def test_background_thread_flushes_a_stalled_producer(tmp_path):
    import time

    path = tmp_path / "b.psrec"
    with RecordingWriter(path, {}, rate_hz=100.0, flush_interval_s=0.1) as w:
        w.append(np.arange(5) / 100, np.ones((5, 3)), np.zeros((5, 3)))
        deadline = time.monotonic() + 5
        while read_recording(path).n_samples < 5 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert read_recording(path).n_samples == 5


def test_is_recording(tmp_path):
    write_recording(tmp_path / "a.psrec", make_recording(10))
    (tmp_path / "b.csv").write_text("time_s\n")
    assert is_recording(tmp_path / "a.psrec")
    assert not is_recording(tmp_path / "b.csv")
    assert not is_recording(tmp_path / "missing.psrec")
    assert not is_recording(tmp_path)
    assert (tmp_path / "a.psrec").read_bytes().startswith(MAGIC)


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(InputError, match="file not found"):
        read_recording(tmp_path / "nope.psrec")
    with pytest.raises(InputError, match="directory"):
        read_recording(tmp_path)


def test_large_file_is_memory_mapped_and_closed(tmp_path):
    rec = make_recording(40_000)
    path = tmp_path / "big.psrec"
    write_recording(path, rec)
    assert os.path.getsize(path) > (1 << 20)
    got = read_recording(path)
    np.testing.assert_array_equal(got.time_s, rec.time_s)
    path.unlink()  # nothing keeps the file mapped
