"""Damaged files: truncation, flipped bytes, garbage, unknown versions, non-recordings."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from recordings import InputError, RecordingWriter, read_recording
from recordings.format import MAGIC

RATE_HZ = 100.0
PER_CHUNK = 4


def _write_chunked(path, n_chunks=6, per_chunk=10, close=True):
    """A small recording with one DATA chunk per flush; return (times, chunk offsets)."""
    time_s = np.arange(n_chunks * per_chunk) / RATE_HZ
    w = RecordingWriter(path, {"subject_id": "S"}, rate_hz=RATE_HZ, background_flush=False)
    offsets = []
    for k in range(n_chunks):
        b = slice(k * per_chunk, (k + 1) * per_chunk)
        offsets.append(path.stat().st_size)
        w.append(time_s[b], np.full((per_chunk, 3), 9.81), np.zeros((per_chunk, 3)))
        w.flush()
    interrupted = path.read_bytes()  # the file as a crash would leave it (no end chunk)
    w.close()
    if not close:
        path.write_bytes(interrupted)
    return time_s, offsets


def _chunks(data: bytes):
    """(offset, tag, total size) of every chunk."""
    out, pos = [], 12
    while pos + 12 <= len(data):
        tag, length, _ = struct.unpack_from("<4sII", data, pos)
        out.append((pos, tag, 12 + length))
        pos += 12 + length
    return out


def test_truncated_at_every_offset(tmp_path):
    src = tmp_path / "full.psrec"
    time_s, _ = _write_chunked(src, n_chunks=4, per_chunk=PER_CHUNK)
    data = src.read_bytes()
    chunks = _chunks(data)
    head_end = chunks[0][0] + chunks[0][2]
    data_ends = [off + size for off, tag, size in chunks if tag == b"DATA"]
    for offset in range(len(data) + 1):
        cut = tmp_path / f"cut{offset}.psrec"  # a new file: truncating one is slow on some FS
        cut.write_bytes(data[:offset])
        if offset < head_end:
            with pytest.raises(InputError) as err:
                read_recording(cut)
            assert str(cut) in str(err.value)
            continue
        got = read_recording(cut)
        complete = sum(1 for end in data_ends if end <= offset)
        n_expected = complete * PER_CHUNK
        assert got.n_samples == n_expected, offset
        assert np.array_equal(got.time_s, time_s[:n_expected]), offset
        if offset == len(data):
            assert got.warnings == []
        else:
            assert len(got.warnings) == 1, got.warnings
            warning = got.warnings[0]
            assert str(cut) in warning and "byte" in warning
            assert ("not closed cleanly" in warning) or ("ends inside" in warning)
            if n_expected:
                assert f"{time_s[n_expected - 1]:.3f} s" in warning


def test_cut_mid_chunk_message(tmp_path):
    src = tmp_path / "a.psrec"
    _, offsets = _write_chunked(src, close=False)
    data = src.read_bytes()
    src.write_bytes(data[: offsets[4] + 30])  # inside the 5th DATA chunk
    got = read_recording(src)
    assert got.n_samples == 40
    (warning,) = got.warnings
    assert f"byte {offsets[4]}" in warning
    assert "ends inside a DATA chunk" in warning and "0.390 s" in warning


def test_flipped_byte_in_data_skips_one_chunk_and_reports_a_gap(tmp_path):
    src = tmp_path / "a.psrec"
    time_s, _ = _write_chunked(src)
    data = src.read_bytes()
    chunks = [c for c in _chunks(data) if c[1] == b"DATA"]
    bad = tmp_path / "bad.psrec"
    rng = np.random.default_rng(3)
    for k, (off, _, size) in enumerate(chunks):
        for pos in [off, off + 4, off + 9, *rng.integers(off + 12, off + size, 6)]:
            flipped = bytearray(data)
            flipped[pos] ^= 0x5A
            bad.write_bytes(bytes(flipped))
            got = read_recording(bad)
            keep = np.ones(time_s.shape[0], bool)
            keep[10 * k : 10 * (k + 1)] = False
            np.testing.assert_array_equal(got.time_s, time_s[keep])
            assert any(f"byte {off}" in w for w in got.warnings), got.warnings
            if 0 < k < len(chunks) - 1:
                gap = [g for g in got.gaps if g.reason == "file_damage"]
                assert gap and gap[0].start_s == time_s[10 * k - 1]
                assert gap[0].end_s == time_s[10 * (k + 1)] and gap[0].lost_samples == 10


def test_every_single_byte_flip_never_crashes(tmp_path):
    src = tmp_path / "a.psrec"
    _write_chunked(src, n_chunks=2, per_chunk=PER_CHUNK)
    data = src.read_bytes()
    head_end = _chunks(data)[0][0] + _chunks(data)[0][2]
    for pos in range(len(data)):
        bad = tmp_path / f"bad{pos}.psrec"
        flipped = bytearray(data)
        flipped[pos] ^= 0xFF
        bad.write_bytes(bytes(flipped))
        if pos < 8 or 12 <= pos < head_end:
            with pytest.raises(InputError):
                read_recording(bad)
            continue
        if pos in (8, 9):  # the major version
            with pytest.raises(InputError, match="version"):
                read_recording(bad)
            continue
        got = read_recording(bad)  # a minor version or a damaged chunk: readable
        assert got.n_samples >= PER_CHUNK or got.warnings


def test_garbage_appended_after_close(tmp_path):
    src = tmp_path / "a.psrec"
    time_s, _ = _write_chunked(src)
    size = src.stat().st_size
    with open(src, "ab") as f:
        f.write(b"\x00garbage" * 50)
    got = read_recording(src)
    np.testing.assert_array_equal(got.time_s, time_s)
    (warning,) = got.warnings
    assert f"byte {size}" in warning and "400 bytes" in warning


def test_garbage_appended_to_interrupted_file(tmp_path):
    src = tmp_path / "a.psrec"
    time_s, _ = _write_chunked(src, close=False)
    size = src.stat().st_size
    with open(src, "ab") as f:
        f.write(bytes(range(256)) * 3)
    got = read_recording(src)
    np.testing.assert_array_equal(got.time_s, time_s)
    (warning,) = got.warnings
    assert f"byte {size}" in warning and "768 bytes were dropped" in warning


def test_garbage_in_the_middle_resyncs(tmp_path):
    src = tmp_path / "a.psrec"
    time_s, offsets = _write_chunked(src)
    data = src.read_bytes()
    src.write_bytes(data[: offsets[2]] + b"DATA\xff\xff" + b"junk" * 25 + data[offsets[2] :])
    got = read_recording(src)
    np.testing.assert_array_equal(got.time_s, time_s)
    assert any(f"byte {offsets[2]}" in w and "skipped 106 bytes" in w for w in got.warnings)


def test_newer_major_version_is_refused(tmp_path):
    src = tmp_path / "a.psrec"
    _write_chunked(src)
    data = bytearray(src.read_bytes())
    data[8:10] = struct.pack("<H", 2)
    src.write_bytes(bytes(data))
    with pytest.raises(InputError, match=r"version 2\.0 is not supported.*upgrade") as err:
        read_recording(src)
    assert str(src) in str(err.value)


def test_newer_minor_version_with_unknown_chunk_is_read(tmp_path):
    import zlib

    src = tmp_path / "a.psrec"
    time_s, _ = _write_chunked(src)
    data = bytearray(src.read_bytes())
    data[10:12] = struct.pack("<H", 7)
    head = b"XTRA" + struct.pack("<I", 3)
    extra = head + struct.pack("<I", zlib.crc32(b"abc", zlib.crc32(head))) + b"abc"
    first_data = _chunks(bytes(data))[1][0]
    src.write_bytes(bytes(data[:first_data]) + extra + bytes(data[first_data:]))
    got = read_recording(src)
    assert got.warnings == []
    np.testing.assert_array_equal(got.time_s, time_s)


@pytest.mark.parametrize(
    "content", [b"", b"hello world, this is text", b"\x89PNG\r\n\x1a\n" + bytes(100), MAGIC[:5]]
)
def test_not_a_recording(tmp_path, content):
    src = tmp_path / "x.psrec"
    src.write_bytes(content)
    with pytest.raises(InputError, match=r"not a pelviscope recording|truncated") as err:
        read_recording(src)
    assert str(err.value).startswith(str(src))
