"""The review window under faults: damaged or planted caches, damaged notes, planted symbolic
links, markup in metadata, damaged recordings (issue 13).

A cache that is damaged, planted or inconsistent is never believed: the session is analysed
afresh and its results equal a fresh analysis. Notes never follow a planted link and a notes
file that cannot be read is kept aside, not lost.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import io
import json
import os
import shutil
import struct
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gui.review import cache
from gui.review.model import open_session
from gui.review.notes import Notes, notes_path, open_notes, save_notes
from recordings import Marker, read_recording, write_recording
from recordings.files import OutputError

pytest.importorskip("pytestqt")

pytestmark = pytest.mark.gui
DEMO = Path(__file__).resolve().parents[2] / "recordings" / "demo" / "clinic_tilted.psrec"


@pytest.fixture(scope="module")
def analysed(tmp_path_factory):  # type: ignore[no-untyped-def]
    """The demo recording analysed once, with its cache and the cache's bytes."""
    folder = tmp_path_factory.mktemp("review_faults")
    path = folder / DEMO.name
    shutil.copy(DEMO, path)
    fresh = open_session(path)
    assert fresh.cache_file is not None and not fresh.cache_note
    return path, fresh, cache.cache_path(path).read_bytes()


def _copy(analysed, tmp_path: Path, cache_bytes: bytes | None = None) -> Path:  # type: ignore[no-untyped-def]
    src, _, good = analysed
    dst = tmp_path / src.name
    shutil.copy2(src, dst)  # same mtime: the cache matches the recording
    cache.cache_path(dst).write_bytes(good if cache_bytes is None else cache_bytes)
    return dst


def _same_results(a, b) -> None:  # type: ignore[no-untyped-def]
    """Equal analysis results (the file they came from apart)."""
    ja, jb = a.result.to_json(), b.result.to_json()
    ja["input"].pop("path"), jb["input"].pop("path")
    assert json.dumps(ja, default=str) == json.dumps(jb, default=str)
    np.testing.assert_array_equal(a.result.activity, b.result.activity)
    np.testing.assert_array_equal(a.result.anterior_tilt_deg, b.result.anterior_tilt_deg)
    assert a.derived.summary_rows == b.derived.summary_rows


def _arrays(cache_bytes: bytes) -> dict[str, np.ndarray]:
    """The arrays of a (valid) cache file's archive."""
    with np.load(io.BytesIO(cache_bytes[cache._HEADER_BYTES:]), allow_pickle=False) as npz:
        return {k: npz[k] for k in npz.files}


def _signed(target: Path, arrays: dict[str, np.ndarray], key: bytes) -> None:
    assert cache._write_signed(target, arrays, key) == target


# ---- damaged caches: only the cache's own error, quickly -------------------------------------
@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_random_damage_to_a_cache_is_detected(analysed, tmp_path_factory, data) -> None:  # type: ignore[no-untyped-def]
    _, _, good = analysed
    damaged = bytearray(good)
    if data.draw(st.booleans(), label="truncate"):
        damaged = damaged[: data.draw(st.integers(0, len(good) - 1), label="length")]
    else:
        i = data.draw(st.integers(0, len(good) - 1), label="offset")
        damaged[i] ^= data.draw(st.integers(1, 255), label="xor")
    path = _copy(analysed, tmp_path_factory.mktemp("flip"), bytes(damaged))
    with pytest.raises(cache.CacheDiscarded) as err:
        cache.load(path, {"acc_unit": "mps2", "gyr_unit": "rps"})
    assert "\n" not in str(err.value) and path.name in str(err.value)


# ---- each bad cache: the session opens with the results of a fresh analysis -------------------
def _planted_huge(target: Path, key: bytes) -> None:
    """A valid archive whose time array declares 10^12 samples (8 TB) but holds 8 bytes."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z, z.open("time_s.npy", "w") as m:
        np.lib.format.write_array_header_1_0(
            m, {"descr": "<f8", "fortran_order": False, "shape": (10**12,)})
        m.write(bytes(8))
    payload = buf.getvalue()
    mac = hmac.new(key, cache.MAGIC + payload, hashlib.sha256).digest()
    target.write_bytes(cache.MAGIC + mac + payload)


def _plain_npz(target: Path, arrays: dict[str, np.ndarray]) -> None:
    with open(target, "wb") as f:
        np.savez(f, **arrays)


BAD_CACHES = {
    "truncated": lambda good, path: cache.cache_path(path).write_bytes(good[: len(good) // 2]),
    "random bytes": lambda good, path: cache.cache_path(path).write_bytes(
        np.random.default_rng(1).bytes(len(good))),
    "empty": lambda good, path: cache.cache_path(path).write_bytes(b""),
    "another key": lambda good, path: _signed(cache.cache_path(path), _arrays(good), bytes(32)),
    "no signature (plain npz)": lambda good, path: _plain_npz(
        cache.cache_path(path), _arrays(good)),
    "huge declared array, planted": lambda good, path: _planted_huge(
        cache.cache_path(path), bytes(range(32))),
    "huge declared array, signed": lambda good, path: _planted_huge(
        cache.cache_path(path), cache.user_key()),
    "signed, time array missing": lambda good, path: _signed(
        cache.cache_path(path), {k: v for k, v in _arrays(good).items() if k != "time_s"},
        cache.user_key()),
    "signed, wrong shape": lambda good, path: _signed(
        cache.cache_path(path), {**_arrays(good), "activity": _arrays(good)["activity"][:-7]},
        cache.user_key()),
    "signed, wrong dtype": lambda good, path: _signed(
        cache.cache_path(path),
        {**_arrays(good), "lateral_tilt_deg": _arrays(good)["lateral_tilt_deg"].astype("U8")},
        cache.user_key()),
    "signed, unknown codes": lambda good, path: _signed(
        cache.cache_path(path), {**_arrays(good), "activity": _arrays(good)["activity"] + 50},
        cache.user_key()),
    "signed, suppressed count not a whole number": lambda good, path: _signed(
        cache.cache_path(path), _with_doc(good, hip_hike_suppressed={"too short": "3"}),
        cache.user_key()),
    "signed, suppressed counts not an object": lambda good, path: _signed(
        cache.cache_path(path), _with_doc(good, hip_hike_suppressed=[["too short", 3]]),
        cache.user_key()),
    "signed, episode without confidence": lambda good, path: _signed(
        cache.cache_path(path), _with_doc(good, episodes=[
            {k: v for k, v in e.items() if k != "confidence"} for e in _doc(good)["episodes"]]),
        cache.user_key()),
    "signed, episode confidence beyond 1": lambda good, path: _signed(
        cache.cache_path(path), _with_doc(good, episodes=[
            {**e, "confidence": 7.0} for e in _doc(good)["episodes"]]),
        cache.user_key()),
    "signed, turn without its angle": lambda good, path: _signed(
        cache.cache_path(path), _with_doc(good, turns=[{"start_s": 1.0, "end_s": 2.5}]),
        cache.user_key()),
    "signed, turn angle not a number": lambda good, path: _signed(
        cache.cache_path(path),
        _with_doc(good, turns=[{"start_s": 1.0, "end_s": 2.5, "angle_deg": "90"}]),
        cache.user_key()),
    "signed, turn ending before it starts": lambda good, path: _signed(
        cache.cache_path(path),
        _with_doc(good, turns=[{"start_s": 3.0, "end_s": 2.5, "angle_deg": 90.0}]),
        cache.user_key()),
    "signed, turns not a list": lambda good, path: _signed(
        cache.cache_path(path), _with_doc(good, turns={"start_s": 1.0}), cache.user_key()),
    "signed, document not JSON": lambda good, path: _signed(
        cache.cache_path(path), {**_arrays(good), "doc": np.frombuffer(b"{nope", np.uint8)},
        cache.user_key()),
}


@pytest.mark.parametrize("kind", list(BAD_CACHES))
def test_bad_cache_opens_as_a_fresh_analysis(analysed, tmp_path, kind) -> None:  # type: ignore[no-untyped-def]
    _, fresh, good = analysed
    path = _copy(analysed, tmp_path)
    BAD_CACHES[kind](good, path)
    session = open_session(path)
    assert not session.from_cache
    assert session.cache_note.startswith("cache not used: ") and "\n" not in session.cache_note
    _same_results(session, fresh)
    # The next open uses the cache re-written in its place.
    again = open_session(path)
    assert again.from_cache and not again.cache_note
    _same_results(again, fresh)


def _doc(good: bytes) -> dict:
    """The JSON document of a (valid) cache file."""
    return json.loads(_arrays(good)["doc"].tobytes())


def _with_doc(good: bytes, **changes: object) -> dict[str, np.ndarray]:
    """The arrays of ``good`` with keys of its document changed (None removes a key)."""
    arrays = _arrays(good)
    doc = json.loads(arrays["doc"].tobytes())
    doc.update(changes)
    doc = {k: v for k, v in doc.items() if v is not None}
    return {**arrays, "doc": np.frombuffer(json.dumps(doc).encode(), np.uint8)}


STALE_CACHES = {
    "other parameters": {"params_sha256": "0" * 64},
    "no parameters key (review-cache/3)": {"params_sha256": None,
                                           "format": "pelviscope.review-cache/3"},
    "no parameters key, current format": {"params_sha256": None},
    "other analysis version": {"analysis_version": "0"},
    # Written before the suppressed counts were stored: it would open without them.
    "no suppressed counts (review-cache/4)": {"hip_hike_suppressed": None,
                                              "format": "pelviscope.review-cache/4"},
    # Written before turns were stored: it would open without them.
    "no turns (review-cache/5)": {"turns": None, "format": "pelviscope.review-cache/5"},
}


@pytest.mark.parametrize("kind", list(STALE_CACHES))
def test_signed_stale_cache_is_quietly_replaced(analysed, tmp_path, kind) -> None:  # type: ignore[no-untyped-def]
    # Signed by the user, intact, but for other parameters or another version: not
    # damaged (no note), just not this analysis - analysed afresh and re-cached.
    _, fresh, good = analysed
    path = _copy(analysed, tmp_path)
    _signed(cache.cache_path(path), _with_doc(good, **STALE_CACHES[kind]), cache.user_key())
    assert cache.load(path, {"acc_unit": "mps2", "gyr_unit": "rps"}) is None
    session = open_session(path)
    assert not session.from_cache and not session.cache_note
    _same_results(session, fresh)
    assert open_session(path).from_cache


def test_symlink_or_fifo_at_the_cache_name_is_not_followed(analysed, tmp_path) -> None:  # type: ignore[no-untyped-def]
    _, fresh, good = analysed
    path = _copy(analysed, tmp_path)
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    target = cache.cache_path(path)
    target.unlink()
    target.symlink_to(victim)
    session = open_session(path)
    assert not session.from_cache and "symbolic link" in session.cache_note
    _same_results(session, fresh)
    assert victim.read_text() == "keep me" and target.is_symlink()
    # Even a symlink to the genuine cache is not read.
    target.unlink()
    genuine = tmp_path / "genuine.pscache"
    genuine.write_bytes(good)
    target.symlink_to(genuine)
    assert not open_session(path).from_cache
    assert genuine.read_bytes() == good
    # A FIFO would block a plain open() forever.
    target.unlink()
    os.mkfifo(target)
    session = open_session(path)
    assert not session.from_cache and "not a regular file" in session.cache_note
    _same_results(session, fresh)


def test_key_is_private_and_a_bad_key_means_no_cache(analysed, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    _, fresh, _ = analysed
    key_file = cache.key_path()
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert key_file.parent.stat().st_mode & 0o077 == 0
    assert len(key_file.read_bytes()) == cache.KEY_BYTES
    # A key others can read is not used, and no unsigned cache is written instead.
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    cache.key_path().parent.mkdir(parents=True)
    cache.key_path().write_bytes(bytes(32))
    os.chmod(cache.key_path(), 0o644)
    path = _copy(analysed, tmp_path)
    cache.cache_path(path).unlink()
    session = open_session(path)
    assert "readable or owned by others" in session.cache_note
    assert session.cache_file is None and not cache.cache_path(path).exists()
    _same_results(session, fresh)
    # The config folder cannot be created (a file in the way): no cache either.
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "a-file"))
    (tmp_path / "a-file").write_text("")
    session = open_session(path)
    assert "cache key" in session.cache_note and "no cache used" in session.cache_note
    assert session.cache_file is None


def test_planted_cache_with_other_results_is_not_shown(analysed, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Someone who can write next to the recording plants plausible, different results."""
    _, fresh, good = analysed
    arrays = _arrays(good)
    doc = json.loads(arrays["doc"].tobytes())
    doc["episodes"] = []
    arrays["doc"] = np.frombuffer(json.dumps(doc).encode(), np.uint8)
    arrays["lateral_tilt_deg"] = arrays["lateral_tilt_deg"] + 20.0
    path = _copy(analysed, tmp_path)
    _signed(cache.cache_path(path), arrays, bytes(range(32)))  # not the user's key
    session = open_session(path)
    assert not session.from_cache and "signature does not match" in session.cache_note
    assert session.result.episodes == fresh.result.episodes and session.result.episodes


# ---- notes ------------------------------------------------------------------------------------
def test_notes_never_follow_a_planted_symlink(tmp_path) -> None:
    rec = tmp_path / "s.psrec"
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    old_tmp = notes_path(rec).with_name(notes_path(rec).name + ".tmp")
    old_tmp.symlink_to(victim)  # the name the notes used to be written through
    notes = Notes([Marker(1.0, "a", "b")], "note")
    assert save_notes(rec, notes) == notes_path(rec)
    assert victim.read_text() == "keep me" and not notes_path(rec).is_symlink()
    assert open_notes(rec).notes == notes
    notes_path(rec).unlink()
    notes_path(rec).symlink_to(victim)  # at the notes' own name: refused, not followed
    with pytest.raises(OutputError, match="symbolic link"):
        save_notes(rec, notes)
    assert victim.read_text() == "keep me"
    assert [p.name for p in tmp_path.iterdir() if ".partial" in p.name] == []


BAD_NOTES = {
    "not JSON": b'{"format": "pelviscope.review-notes/1", "markers": [',
    "a list": b"[1, 2, 3]",
    "wrong format": b'{"format": "something else"}',
    "marker time is text": b'{"format": "pelviscope.review-notes/1", "markers": [{"time_s": "x"}]}',
    "marker time NaN": b'{"format": "pelviscope.review-notes/1", "markers": [{"time_s": NaN}]}',
    "markers not a list": b'{"format": "pelviscope.review-notes/1", "markers": 3}',
    "not UTF-8": b'{"format": "\xff\xfe"}',
    "bad thresholds": b'{"format": "pelviscope.review-notes/1", '
                      b'"hip_hike_params": {"static_threshold_deg": [1]}}',
    "deeply nested": b"[" * 100_000 + b"]" * 100_000,
}


@pytest.mark.parametrize("kind", list(BAD_NOTES))
def test_unreadable_notes_are_kept_aside(tmp_path, kind) -> None:  # type: ignore[no-untyped-def]
    rec = tmp_path / "s.psrec"
    notes_path(rec).write_bytes(BAD_NOTES[kind])
    opened = open_notes(rec)
    assert opened.notes == Notes() and opened.writable
    assert "\n" not in opened.problem and "kept as" in opened.problem
    aside = [p for p in tmp_path.iterdir() if ".damaged-" in p.name]
    assert len(aside) == 1 and aside[0].read_bytes() == BAD_NOTES[kind]
    assert not notes_path(rec).exists()
    save_notes(rec, Notes(session_note="new"))
    assert aside[0].read_bytes() == BAD_NOTES[kind]


def test_window_shows_damaged_notes_and_keeps_them(qtbot, analysed, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from gui.review.window import ReviewWindow

    path = _copy(analysed, tmp_path)
    notes_path(path).write_text("[not, notes")
    w = ReviewWindow()
    qtbot.addWidget(w)
    with qtbot.waitSignal(w.loaded, timeout=30_000):
        w.open_path(path)
    assert "not valid JSON" in w.statusBar().currentMessage()
    assert "kept as" in w.statusBar().currentMessage()
    w.add_marker_at_centre()  # saves the new notes beside the kept damaged file
    assert len(open_notes(path).notes.markers) == 1
    aside = [p for p in tmp_path.iterdir() if ".damaged-" in p.name]
    assert len(aside) == 1 and aside[0].read_text() == "[not, notes"
    w.close()


# ---- markup in metadata, damage warnings -------------------------------------------------------
def _data_chunks(buf: bytes) -> list[tuple[int, int]]:
    """(payload start, payload end) of each DATA chunk of a recording."""
    out, pos = [], 12
    while pos + 12 <= len(buf):
        tag, length, _crc = struct.unpack_from("<4sII", buf, pos)
        if tag == b"DATA":
            out.append((pos + 12, pos + 12 + length))
        pos += 12 + length
    return out


@pytest.fixture(scope="module")
def damaged(tmp_path_factory):  # type: ignore[no-untyped-def]
    """The demo rewritten by ``write_recording`` with markup in its metadata, then one byte
    flipped inside a DATA chunk in the middle."""
    folder = tmp_path_factory.mktemp("damaged")
    rec = read_recording(DEMO)
    rec.meta["subject_id"] = "<b>x</b><img src=/etc/passwd>"
    rec.meta["session_id"] = "<a href='http://example.org'>click</a>"
    path = folder / "damaged.psrec"
    write_recording(path, rec)
    buf = bytearray(path.read_bytes())
    chunks = _data_chunks(bytes(buf))
    a, b = chunks[len(chunks) // 2]
    buf[(a + b) // 2] ^= 0x10
    path.write_bytes(bytes(buf))
    return path, rec


def test_window_shows_markup_as_text_and_the_damage(qtbot, damaged, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from PySide6 import QtGui

    from gui.review.window import ReviewWindow

    src, rec = damaged
    path = tmp_path / src.name
    shutil.copy2(src, path)
    for attempt in ("analysis", "cache"):
        w = ReviewWindow()
        qtbot.addWidget(w)
        w.show()
        with qtbot.waitSignal(w.loaded, timeout=30_000):
            w.open_path(path)
        assert w.model.session.from_cache == (attempt == "cache")
        doc = QtGui.QTextDocument()
        doc.setHtml(w.header.text())
        shown = doc.toPlainText()
        assert rec.meta["subject_id"] in shown and rec.meta["session_id"] in shown
        assert "<img" not in w.header.text() and "<a " not in w.header.text()
        # The damage: in the model, in the visible strip, hatched in the plots.
        warnings = w.model.session.warnings
        assert warnings and any("byte" in x for x in warnings)
        assert w.warnings == warnings
        assert w.warning_strip.isVisible()
        assert f"{len(warnings)} warning" in w.warning_label.text()
        assert html.escape(warnings[0]) in w.warning_strip.toolTip()
        spans = w.model.damage_spans
        assert spans and w.plots.damage_regions() == [pytest.approx(s) for s in spans]
        lost = sum(b - a for a, b in spans)
        assert 0.0 < lost <= 2.5  # one chunk of about 1 s (plus the sample on each side)
        assert "warning" in w.statusBar().currentMessage()
        w.close()


def test_full_disk_no_cache_notes_not_saved(qtbot, analysed, small_disk) -> None:  # type: ignore[no-untyped-def]
    from gui.review.window import ReviewWindow

    src, fresh, _ = analysed
    disk = small_disk(2048, 2048)
    path = disk / src.name
    shutil.copy2(src, path)
    filler = disk / "filler"
    filler.unlink()
    free = shutil.disk_usage(disk).free
    filler.write_bytes(bytes(max(0, free - 16384)))  # room for a little, not for the cache
    w = ReviewWindow()
    qtbot.addWidget(w)
    with qtbot.waitSignal(w.loaded, timeout=30_000):
        w.open_path(path)
    session = w.model.session
    assert not session.from_cache and session.cache_file is None
    _same_results(session, fresh)
    assert "cache not written" in session.cache_note and "disk is full" in session.cache_note
    assert session.cache_note in w.statusBar().currentMessage()
    fd = os.open(filler, os.O_WRONLY | os.O_APPEND)
    try:  # now nothing at all is left
        with pytest.raises(OSError):
            while True:
                os.write(fd, bytes(4096))
    finally:
        os.close(fd)
    w.add_marker_at_centre()
    status = w.markers.status.text()
    assert status.startswith("Not saved: ") and "disk is full" in status and "\n" not in status
    # Nothing half-written left behind.
    assert sorted(p.name for p in disk.iterdir()) == sorted(["filler", src.name])
    w.close()
