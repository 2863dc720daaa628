"""Fault injection: damaged bytes, crafted files, impossible values (issue 13).

Every writer bounds what one damaged byte loses (a DATA chunk holds at most ~1 s); the
reader raises nothing but :class:`InputError`, never invents data (no negative gaps, no
non-increasing time, no value beyond the sensor's range) and says what it dropped.
"""

from __future__ import annotations

import json
import math
import struct
import time
import zlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from recordings import InputError, Recording, RecordingWriter, load, read_recording
from recordings import write_recording as write_whole
from recordings.format import MAGIC, chunk_samples, record_fields
from recordings.plausibility import DEFAULT_MAX_ACC_MPS2, limits
from tests.recordings.conftest import f32, make_recording

RATE_HZ = 100.0
N_SAMPLES = 30_000  # 5 minutes at 100 Hz
PACKET = 5  # samples per appended batch, as from a BLE packet
FLUSH_EVERY = 50  # 0.5 s, the recorder's default flush interval
_FAST = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _five_minutes() -> Recording:
    rec = make_recording(N_SAMPLES, RATE_HZ, seed=3)
    rec.gaps, rec.markers = [], []
    return rec


def _write_streaming(path: Path, rec: Recording) -> None:
    """Write like the recorder: packets of 5 samples, a flush every 0.5 s."""
    with RecordingWriter(path, rec.meta, rate_hz=rec.rate_hz, background_flush=False) as w:
        for a in range(0, rec.n_samples, PACKET):
            b = slice(a, a + PACKET)
            w.append(rec.time_s[b], rec.acc_mps2[b], rec.gyr_rps[b], seq=a // PACKET)
            if (a + PACKET) % FLUSH_EVERY == 0:
                w.flush()


def _chunks(data: bytes) -> list[tuple[int, int, bytes, int]]:
    """(start, end, tag, samples) of every chunk of an undamaged file."""
    out, pos = [], len(MAGIC) + 4
    while pos + 12 <= len(data):
        tag, length, _ = struct.unpack_from("<4sII", data, pos)
        n = struct.unpack_from("<I", data, pos + 12)[0] if tag == b"DATA" else 0
        out.append((pos, pos + 12 + length, tag, n))
        pos += 12 + length
    return out


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    """The same 5-minute session as written by each writer: name -> (bytes, chunks)."""
    d = tmp_path_factory.mktemp("faults")
    rec = _five_minutes()
    write_whole(d / "whole.psrec", rec)
    _write_streaming(d / "live.psrec", rec)
    return rec, {
        name: ((d / f"{name}.psrec").read_bytes(), _chunks((d / f"{name}.psrec").read_bytes()))
        for name in ("whole", "live")
    }


def _read_bytes(path: Path, data: bytes | bytearray) -> Recording:
    path.write_bytes(data)
    return read_recording(path)


@pytest.mark.parametrize("writer", ["whole", "live"])
def test_every_writer_bounds_a_data_chunk_to_one_second(written, writer):
    _, files = written
    _, chunks = files[writer]
    sizes = [n for _, _, tag, n in chunks if tag == b"DATA"]
    assert sum(sizes) == N_SAMPLES
    assert max(sizes) <= chunk_samples(RATE_HZ) == round(RATE_HZ * 1.0)


@pytest.mark.parametrize("writer", ["whole", "live"])
@_FAST
@given(data=st.data())
def test_a_flipped_byte_loses_only_its_chunk(tmp_path, written, writer, data):
    rec, files = written
    raw, chunks = files[writer]
    offset = data.draw(st.integers(chunks[0][1], len(raw) - 1), label="offset")  # after HEAD
    flip = data.draw(st.integers(1, 255), label="xor")
    damaged = bytearray(raw)
    damaged[offset] ^= flip
    got = _read_bytes(tmp_path / "flip.psrec", damaged)
    hit = next(c for c in chunks if c[0] <= offset < c[1])
    # every sample outside the damaged chunk is kept, exactly
    expected = np.ones(N_SAMPLES, dtype=bool)
    if hit[2] == b"DATA":
        first = sum(n for start, _, _, n in chunks if start < hit[0])
        expected[first : first + hit[3]] = False
    assert got.n_samples == int(expected.sum()) >= 0.99 * N_SAMPLES
    np.testing.assert_array_equal(got.time_s, rec.time_s[expected])
    np.testing.assert_array_equal(got.acc_mps2, f32(rec.acc_mps2[expected]))
    assert got.warnings  # damage is never silent
    if hit[2] == b"DATA" and first > 0 and first + hit[3] < N_SAMPLES:
        (gap,) = [g for g in got.gaps if g.reason == "file_damage"]
        assert gap.lost_samples == hit[3]


@pytest.mark.parametrize("writer", ["whole", "live"])
@_FAST
@given(data=st.data())
def test_a_truncation_keeps_every_complete_chunk(tmp_path, written, writer, data):
    rec, files = written
    raw, chunks = files[writer]
    cut = data.draw(st.integers(chunks[0][1], len(raw) - 1), label="cut")
    got = _read_bytes(tmp_path / "cut.psrec", raw[:cut])
    complete = sum(n for _, end, _, n in chunks if end <= cut)
    assert got.n_samples == complete
    np.testing.assert_array_equal(got.time_s, rec.time_s[:complete])
    # at most one chunk (1 s) of what was before the cut is lost
    started = sum(n for start, _, _, n in chunks if start < cut)
    assert started - complete <= chunk_samples(RATE_HZ)
    assert len(got.warnings) == 1


@pytest.fixture(scope="module")
def small_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("small") / "s.psrec"
    _write_streaming(path, make_recording(400, RATE_HZ))
    return path.read_bytes()


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_random_mutations_raise_only_input_error(tmp_path, small_file, data):
    buf = bytearray(small_file)
    for _ in range(data.draw(st.integers(1, 6), label="mutations")):
        kind = data.draw(st.sampled_from(["flip", "set", "insert", "delete", "cut", "copy"]))
        at = data.draw(st.integers(0, max(len(buf) - 1, 0)))
        if kind == "flip" and buf:
            buf[at] ^= data.draw(st.integers(1, 255))
        elif kind == "set":
            buf[at : at + 8] = data.draw(st.binary(min_size=1, max_size=8))
        elif kind == "insert":
            buf[at:at] = data.draw(st.binary(min_size=1, max_size=64))
        elif kind == "delete":
            del buf[at : at + data.draw(st.integers(1, 64))]
        elif kind == "cut":
            del buf[at:]
        else:  # a piece of the file again elsewhere (a duplicated chunk, a bad copy)
            b = data.draw(st.integers(at, min(at + 600, len(buf))))
            buf[data.draw(st.integers(0, len(buf))) :][:0] = buf[at:b]
    try:
        got = _read_bytes(tmp_path / "m.psrec", buf)
    except InputError as exc:
        assert str(tmp_path / "m.psrec") in str(exc) and "\n" not in str(exc)
        return
    _assert_sane(got)


def _assert_sane(got: Recording) -> None:
    """What every loaded recording guarantees, however damaged the file was."""
    n = got.n_samples
    assert got.acc_mps2.shape == (n, 3)
    assert np.isfinite(got.time_s).all() and (np.diff(got.time_s) > 0).all()
    acc_lim, gyr_lim = limits(got.meta)
    assert (np.abs(got.acc_mps2) <= acc_lim).all()
    if got.gyr_rps is not None:
        assert got.gyr_rps.shape == (n, 3) and (np.abs(got.gyr_rps) <= gyr_lim).all()
    assert all(g.end_s > g.start_s and g.lost_samples >= 0 for g in got.gaps)
    assert all(math.isfinite(m.time_s) for m in got.markers)


# -- crafted files: every CRC valid, the content hostile ------------------------------
def _chunk(tag: bytes, payload: bytes) -> bytes:
    head = tag + struct.pack("<I", len(payload))
    return head + struct.pack("<I", zlib.crc32(payload, zlib.crc32(head))) + payload


def _head(**changes) -> bytes:
    meta = {"rate_hz": RATE_HZ, "record_fields": record_fields(has_gyr=True, has_mag=False)}
    meta.update(changes)
    return _chunk(b"HEAD", json.dumps(meta).encode())


_DTYPE = np.dtype([("time_s", "<f8"), ("device_time_s", "<f8"), ("acc_mps2", "<f4", (3,)),
                   ("gyr_rps", "<f4", (3,))])  # fmt: skip


def _data(time_s, acc=None, gyr=None, *, n_samples=None, n_batches=1) -> bytes:
    rec = np.zeros(len(time_s), _DTYPE)
    rec["time_s"] = time_s
    rec["device_time_s"] = np.nan
    rec["acc_mps2"] = (0.0, 0.0, 9.81) if acc is None else acc
    rec["gyr_rps"] = 0.0 if gyr is None else gyr
    # the table written holds at most one entry whatever n_batches claims
    table = np.zeros(min(n_batches, 1), [("o", "<u4"), ("s", "<u4"), ("h", "<f8")]).tobytes()
    ns = len(time_s) if n_samples is None else n_samples
    return _chunk(b"DATA", struct.pack("<II", ns, n_batches) + table + rec.tobytes())


def _file(*chunks: bytes, head: bytes | None = None) -> bytes:
    return MAGIC + struct.pack("<HH", 1, 0) + (_head() if head is None else head) + b"".join(chunks)


def _seconds(a: float, b: float) -> np.ndarray:
    return np.arange(round(a * RATE_HZ), round(b * RATE_HZ)) / RATE_HZ


@pytest.mark.parametrize(
    ("head", "reason"),
    [
        (_head(record_fields=[{"name": "time_s", "type": "f8", "count": 1}]), "no acc_mps2"),
        (_head(record_fields=record_fields(has_gyr=True, has_mag=False)[1:]), "no time_s"),
        (
            _head(
                record_fields=[
                    {"name": "time_s", "type": "f8", "count": 1},
                    {"name": "acc_mps2", "type": "f4", "count": 2},
                ]
            ),
            "acc_mps2 is 2",
        ),
        (
            _head(
                record_fields=[
                    {"name": "time_s", "type": "i8", "count": 1},
                    {"name": "acc_mps2", "type": "f4", "count": 3},
                ]
            ),
            "time_s is 1 x i8",
        ),
        (_head(record_fields=[{"name": "time_s", "type": "f8", "count": "1"}]), "bad record field"),
        (_head(record_fields=[{"name": 5, "type": "f8", "count": 1}]), "bad record field"),
        (_head(record_fields=[{"name": "x", "type": "f8", "count": 10**12}]), "bad record field"),
        (_head(record_fields=[["time_s", "f8", 1]]), "not a list of field descriptions"),
        (_head(record_fields="time_s"), "not a list of field descriptions"),
        (_head(rate_hz="fast"), "rate_hz"),
        (_head(rate_hz=-5), "rate_hz"),
        (_head(rate_hz=None), "rate_hz"),
        (_chunk(b"HEAD", b"[1, 2, 3]"), "not a JSON object"),
        (_head(rate_hz=float("nan")), "rate_hz"),
        (_head(rate_hz=10**400), "rate_hz"),
        (_chunk(b"HEAD", b"[" * 100_000 + b"]" * 100_000), "header chunk is unusable"),
        (_chunk(b"HEAD", b"\xff\xfe not utf-8"), "header chunk is unusable"),
    ],
)
def test_an_unusable_header_is_one_input_error(tmp_path, head, reason):
    path = tmp_path / "h.psrec"
    path.write_bytes(_file(_data(_seconds(0, 1)), head=head))
    with pytest.raises(InputError) as err:
        read_recording(path)
    message = str(err.value)
    assert message.startswith(f"{path}: byte 12: header chunk is unusable")
    assert reason in message and "\n" not in message


@pytest.mark.parametrize(
    "chunks",
    [
        [_data(_seconds(0, 1), n_samples=2**32 - 1)],  # huge n_samples, valid CRC
        [_data(_seconds(0, 1), n_batches=2**31)],  # batch table larger than the file
        [_data(_seconds(0, 1), n_batches=0)],
        [_chunk(b"DATA", b"\x01\x00")],  # shorter than its own header
        [_chunk(b"DATA", b"")],
        [_chunk(b"END ", b"[]"), _data(_seconds(0, 1))],
        [_chunk(b"META", b"[1]"), _chunk(b"META", b'{"x": NaN}'), _chunk(b"MARK", b"{}")],
        [_chunk(b"GAP ", b'{"start_s": 1, "end_s": 1e400, "lost_samples": 5, "reason": "x"}')],
        [_chunk(b"GAP ", b'{"start_s": 1, "end_s": 2, "lost_samples": 1e400, "reason": "x"}')],
        [_chunk(b"MARK", b'{"time_s": Infinity, "label": "", "note": ""}')],
        [_chunk(b"MARK", b'{"time_s": 1' + b"0" * 400 + b', "label": "", "note": ""}')],
        [_chunk(b"GAP ", b'{"start_s": 1' + b"0" * 400 + b', "end_s": 2, "lost_samples": 1}')],
        [_chunk(b"META", b"[" * 50_000 + b"]" * 50_000)],
        [_chunk(b"XTRA", b"\x00" * 40), _data(_seconds(0, 1))],  # a newer minor's chunk
    ],
)
def test_crafted_chunks_with_valid_crc_are_never_a_crash(tmp_path, chunks):
    path = tmp_path / "c.psrec"
    path.write_bytes(_file(_data(_seconds(0, 2)), *chunks))
    got = read_recording(path)
    _assert_sane(got)
    assert got.n_samples >= 200  # the valid first chunk is always kept


@pytest.mark.parametrize(
    ("gap", "why"),
    [
        ('{"start_s": NaN, "end_s": 2, "lost_samples": 5, "reason": "packet_loss"}', "NaN"),
        ('{"start_s": 1, "end_s": Infinity, "lost_samples": 5, "reason": "x"}', "Infinity"),
        ('{"start_s": 3, "end_s": 2, "lost_samples": 5, "reason": "packet_loss"}', "before it"),
        ('{"start_s": "1", "end_s": 2, "lost_samples": 5, "reason": "x"}', "not a number"),
        ('{"start_s": 1, "end_s": 2, "lost_samples": -4, "reason": "x"}', "not a count"),
        ('{"start_s": 1, "end_s": 2, "reason": "x"}', "lost_samples"),
    ],
)
def test_invalid_gap_chunks_are_ignored_with_a_warning(tmp_path, gap, why):
    path = tmp_path / "g.psrec"
    end = _chunk(b"END ", b'{"n_samples": 200}')
    path.write_bytes(
        _file(_data(_seconds(0, 1)), _chunk(b"GAP ", gap.encode()), _data(_seconds(1, 2)), end)
    )
    got = read_recording(path)
    assert got.gaps == [] and got.n_samples == 200
    (warning,) = got.warnings
    assert warning.startswith(f"{path}: byte ") and "GAP chunk ignored" in warning
    assert why in warning


def test_duplicated_chunks_give_no_negative_gap_and_no_repeated_time(tmp_path):
    parts = [_data(_seconds(k, k + 1)) for k in range(20)]
    order = [*parts[:10], parts[9], parts[5], *parts[10:]]  # a chunk twice, an old one again
    path = tmp_path / "dup.psrec"
    path.write_bytes(_file(*order))
    got = read_recording(path)
    np.testing.assert_array_equal(got.time_s, _seconds(0, 20))
    assert got.gaps == []
    assert any("200 sample(s) whose time does not increase" in w for w in got.warnings)


def test_a_moved_run_of_chunks_is_reported_as_the_time_it_is_missing(tmp_path):
    parts = [_data(_seconds(k, k + 1)) for k in range(30)]
    # ten seconds of data stored after later data (a bad copy): they cannot be put back
    path = tmp_path / "moved.psrec"
    path.write_bytes(_file(*parts[:10], *parts[20:], *parts[10:20]))
    got = read_recording(path)
    _assert_sane(got)
    (gap,) = got.gaps
    assert gap.start_s == pytest.approx(9.99) and gap.end_s == pytest.approx(20.0)
    assert gap.lost_samples == 1000 and gap.reason == "file_damage"
    assert got.n_samples == 2000


def test_one_nan_time_loses_only_that_sample(tmp_path):
    time_s = _seconds(0, 300)
    time_s[10] = np.nan
    path = tmp_path / "nan.psrec"
    path.write_bytes(_file(*[_data(time_s[a : a + 100]) for a in range(0, 30_000, 100)]))
    got = read_recording(path)
    assert got.n_samples == 30_000 - 1
    assert any("1 sample(s) with an invalid time" in w for w in got.warnings)


def test_time_jumping_to_inf_or_back_does_not_cut_the_recording(tmp_path):
    time_s = _seconds(0, 10)
    time_s[[300, 600]] = [np.inf, -np.inf]
    time_s[700] = time_s[100]  # a repeated old time
    path = tmp_path / "jump.psrec"
    path.write_bytes(_file(_data(time_s)))
    got = read_recording(path)
    assert got.n_samples == 1000 - 3
    _assert_sane(got)


# -- physical range --------------------------------------------------------------------
def _with_values(tmp_path, where, value, channel="acc", n=30_000) -> Recording:
    time_s = _seconds(0, n / RATE_HZ)
    acc = np.tile([0.0, 0.0, 9.81], (n, 1))
    gyr = np.zeros((n, 3))
    (acc if channel == "acc" else gyr)[where, 0] = value
    path = tmp_path / "v.psrec"
    path.write_bytes(_file(*[_data(time_s[a : a + 100], acc[a : a + 100], gyr[a : a + 100])
                             for a in range(0, n, 100)]))  # fmt: skip
    return read_recording(path)


def test_one_impossible_acceleration_becomes_a_one_sample_gap(tmp_path):
    got = _with_values(tmp_path, [12_345], 1e10)
    assert got.n_samples == 30_000 - 1
    (gap,) = got.gaps
    assert (gap.start_s, gap.end_s) == (123.44, 123.46)
    assert gap.lost_samples == 1 and gap.reason == "out_of_range"
    (warning,) = [w for w in got.warnings if "range" in w]
    assert warning.startswith(f"{tmp_path / 'v.psrec'}: 1 sample(s)")
    assert "123.450 s" in warning and "1e+10" in warning


def test_eleven_samples_near_float32_max_disappear(tmp_path):
    where = [100, 5000, 5001, 5002, 9000, 12000, 15000, 20000, 25000, 29000, 29500]
    got = _with_values(tmp_path, where, 3.0e38)
    assert got.n_samples == 30_000 - 11
    assert sum(g.lost_samples for g in got.gaps) == 11 and len(got.gaps) == 9
    assert np.abs(got.acc_mps2).max() < 10


@pytest.mark.parametrize("value", [np.nan, np.inf, 1e6])
def test_impossible_rotation_rates_become_gaps(tmp_path, value):
    got = _with_values(tmp_path, [50, 51, 52], value, channel="gyr")
    assert got.n_samples == 30_000 - 3
    assert [(g.lost_samples, g.reason) for g in got.gaps] == [(3, "out_of_range")]


def test_a_stated_range_is_the_limit_and_values_within_it_are_kept(tmp_path):
    n = 500
    rec = make_recording(n, RATE_HZ)
    rec.acc_mps2[10] = [0.0, 0.0, 15.5 * 9.81]  # saturating a 16 g sensor: real, kept
    rec.acc_mps2[20] = [0.0, 0.0, 25.0 * 9.81]  # beyond 16 g: impossible for this sensor
    rec.meta["ranges"] = {"acc_g": 16, "gyr_dps": 2000}
    write_whole(tmp_path / "r.psrec", rec)
    got = read_recording(tmp_path / "r.psrec")
    assert got.n_samples == n - 1 and got.acc_mps2[10, 2] == pytest.approx(15.5 * 9.81)
    # without a stated range the defaults are generous: both are kept
    del rec.meta["ranges"]
    write_whole(tmp_path / "d.psrec", rec)
    assert read_recording(tmp_path / "d.psrec").n_samples == n
    assert DEFAULT_MAX_ACC_MPS2 > 25.0 * 9.81


def test_a_csv_value_beyond_float32_loads_as_a_gap_and_exports_without_inf(tmp_path):
    rec = make_recording(300, RATE_HZ)
    lines = ["time_s,acc_x,acc_y,acc_z,gyr_x,gyr_y,gyr_z"]
    for i in range(rec.n_samples):
        acc = "1e300,0,9.81" if i == 150 else ",".join(map(repr, rec.acc_mps2[i].tolist()))
        gyr = ",".join(map(repr, rec.gyr_rps[i].tolist()))
        lines.append(f"{float(rec.time_s[i])!r},{acc},{gyr}")
    src = tmp_path / "big.csv"
    src.write_text("\n".join(lines) + "\n")
    got = load(src)
    assert got.n_samples == 299 and [g.reason for g in got.gaps] == ["out_of_range"]
    assert any("1e+300" in w for w in got.warnings)
    write_whole(tmp_path / "big.psrec", got)
    back = read_recording(tmp_path / "big.psrec")
    assert back.warnings == [] and np.isfinite(back.acc_mps2).all() and back.n_samples == 299


@pytest.mark.parametrize("name", ["clinic.psrec", "clinic_tilted.psrec"])
def test_real_recordings_keep_every_sample(name):
    path = Path(__file__).resolve().parents[2] / "recordings" / "demo" / name
    got = read_recording(path)
    assert not [w for w in got.warnings if "range" in w]
    assert not [g for g in got.gaps if g.reason == "out_of_range"]


# -- CSV input -------------------------------------------------------------------------
CSV_HEADER = b"time_s,acc_x,acc_y,acc_z,gyr_x,gyr_y,gyr_z\n"
CSV_ROWS = b"".join(b"%r,0.1,-0.2,9.81,0.01,0.02,0.03\n" % (i / 100) for i in range(300))


def test_a_huge_file_without_line_ends_is_not_read_as_a_header(tmp_path):
    path = tmp_path / "zeros.csv"
    with open(path, "wb") as f:
        f.truncate(2 * 1024**3)  # 2 GiB of NUL bytes, sparse: no disk used
    t0 = time.monotonic()
    with pytest.raises(InputError) as err:
        load(path)
    assert time.monotonic() - t0 < 1.0
    assert str(err.value) == (
        f"{path}: line 1: not a text CSV header (no line end in the first 64 KiB)"
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\x00" * 100 + b"\n" + CSV_ROWS, "line 1: not a text CSV header (it holds NUL bytes"),
        (CSV_HEADER + CSV_ROWS + b"3.0,\xff\xfe,0,9.81,0,0,0\n", "line 302: not a UTF-8 text"),
        (CSV_HEADER + CSV_ROWS + b"3.0," + b"1" * 3_000_000 + b",0,9.81,0,0,0\n",
         "a line is too long for a table of samples"),
        (CSV_HEADER + b"\x00" * 3_000_000, "a line is too long for a table of samples"),
    ],
)  # fmt: skip
def test_csv_errors_speak_plain_words(tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(InputError) as err:
        load(path)
    text = str(err.value)
    assert text.startswith(f"{path}: ") and message in text and "\n" not in text
    for jargon in ("straddl", "block", "conversion error", "Arrow", "CSV parse error"):
        assert jargon not in text


@pytest.mark.parametrize(
    ("row", "channel"),
    [(b"1.5,0,0,9.81,1e6,0,0\n", "gyr_rps"), (b"1.5,1e10,0,9.81,0,0,0\n", "acc_mps2")],
)
def test_one_impossible_csv_sample_is_a_gap(tmp_path, row, channel):
    rows = CSV_ROWS.splitlines(keepends=True)
    rows[150] = row
    path = tmp_path / "spike.csv"
    path.write_bytes(CSV_HEADER + b"".join(rows))
    got = load(path)
    assert got.n_samples == 299 and got.rate_hz == 100.0
    assert [(g.start_s, g.end_s, g.lost_samples, g.reason) for g in got.gaps] == [
        (1.49, 1.51, 1, "out_of_range")
    ]
    (warning,) = got.warnings
    assert (
        warning.startswith(f"{path}: 1 sample(s)") and channel in warning and "1.500 s" in warning
    )


def test_a_value_beyond_float32_is_written_as_is_and_read_as_a_gap(tmp_path):
    rec = make_recording(300, RATE_HZ)
    rec.acc_mps2[100] = [1e300, 0.0, 9.81]
    rec.gyr_rps[200] = [-1e39, 0.0, 0.0]
    write_whole(tmp_path / "o.psrec", rec)  # no overflow warning, no error
    got = read_recording(tmp_path / "o.psrec")
    assert got.n_samples == 298 and np.isfinite(got.acc_mps2).all()
    dropped = [(g.start_s, g.lost_samples) for g in got.gaps if g.reason == "out_of_range"]
    assert dropped == [(0.99, 1), (1.99, 1)]


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=6),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "start_s",
                    "end_s",
                    "lost_samples",
                    "reason",
                    "time_s",
                    "label",
                    "note",
                    "rate_hz",
                    "record_fields",
                    "n_samples",
                    "ranges",
                    "name",
                    "type",
                ]
            ),
            inner,
            max_size=5,
        )
    ),
    max_leaves=10,
)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_random_payloads_with_valid_crc_raise_only_input_error(tmp_path, small_file, data):
    """Damage a chunk's content and recompute its CRC: what a buggy or hostile writer makes."""
    chunks = _chunks(small_file)
    out = bytearray(small_file[: chunks[0][0]])
    for start, end, tag, _ in chunks:
        payload = bytearray(small_file[start + 12 : end])
        if data.draw(st.integers(0, 3), label="touch") == 0:
            kind = data.draw(st.sampled_from(["bytes", "number", "json", "tag"]), label="kind")
            if kind == "bytes" and payload:
                at = data.draw(st.integers(0, len(payload) - 1))
                payload[at : at + 8] = data.draw(st.binary(min_size=1, max_size=8))
            elif kind == "number" and tag == b"DATA" and len(payload) >= 8:
                payload[:8] = struct.pack(
                    "<II", *data.draw(st.tuples(*[st.integers(0, 2**32 - 1)] * 2))
                )
            elif kind == "json":
                payload = bytearray(json.dumps(data.draw(_json_values), allow_nan=True).encode())
            else:
                tag = data.draw(
                    st.sampled_from([b"HEAD", b"DATA", b"GAP ", b"MARK", b"META", b"END "])
                )
        out += _chunk(tag, bytes(payload))
    if data.draw(st.booleans(), label="shuffle"):
        # chunks in another order (a bad copy): the header stays first
        body = [_chunk(tag, small_file[s + 12 : e]) for s, e, tag, _ in chunks[1:]]
        order = data.draw(st.permutations(range(len(body))))
        out = out[: chunks[1][0]] + b"".join(body[i] for i in order)
    try:
        got = _read_bytes(tmp_path / "v.psrec", out)
    except InputError as exc:
        assert "\n" not in str(exc)
        return
    _assert_sane(got)
