"""The native recording format (``.psrec``): writer, reader and sniffing.

The byte layout is specified in ``recordings/README.md``; this module is its reference
implementation. In short: a 12-byte preamble (8-byte magic, ``u16`` major and minor
version), then chunks ``[tag 4s][length u32][crc32 u32][payload]``, all little-endian.
The CRC covers the tag, the length and the payload. Chunks: ``HEAD`` (JSON metadata,
always first), ``DATA`` (a batch table and packed sample records), ``GAP `` and ``MARK``
(JSON), ``META`` (a JSON patch merged over the metadata), ``END `` (written by
:meth:`RecordingWriter.close`).
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import heapq
import json
import math
import mmap
import os
import struct
import threading
import time
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from recordings.data import Gap, Marker, Recording
from recordings.errors import InputError

#: First 8 bytes of every recording (PNG-style: a high-bit byte, CR LF, Ctrl-Z, LF
#: so that text-mode transfers and newline conversions are detected).
MAGIC = b"\x89PSR\r\n\x1a\n"
#: Format version written by this module; readers accept any minor of the same major.
VERSION_MAJOR = 1
VERSION_MINOR = 0
#: File extension of native recordings.
EXTENSION = ".psrec"

_PREAMBLE = struct.Struct("<8sHH")
_CHUNK = struct.Struct("<4sII")
_DATA_HEAD = struct.Struct("<II")
_BATCH_DTYPE = np.dtype([("sample_offset", "<u4"), ("seq", "<u4"), ("host_time_s", "<f8")])
#: ``seq`` value meaning "unknown".
SEQ_UNKNOWN = 0xFFFFFFFF
_INDEX_DTYPE = np.dtype([("sample_index", "<i8"), ("seq", "<i8"), ("host_time_s", "<f8")])

TAG_HEAD = b"HEAD"
TAG_DATA = b"DATA"
TAG_GAP = b"GAP "
TAG_MARK = b"MARK"
TAG_META = b"META"
TAG_END = b"END "
_KNOWN_TAGS = (TAG_HEAD, TAG_DATA, TAG_GAP, TAG_MARK, TAG_META, TAG_END)
#: Largest payload a reader accepts (guards against garbage lengths).
MAX_PAYLOAD = 1 << 28
#: Samples per DATA chunk at most (a writer seals a chunk when it reaches this).
MAX_CHUNK_SAMPLES = 65536

#: Header keys the writer owns; ``meta`` and ``update_meta`` cannot set them.
STRUCTURAL_KEYS = frozenset({"format", "format_version", "rate_hz", "channels", "record_fields"})
#: Descriptive keys every header carries (null when unknown).
DESCRIPTIVE_KEYS = (
    "device", "profile", "firmware", "ranges", "start_time_utc", "subject_id",
    "session_id", "calibration", "notes", "timing",
)  # fmt: skip
_TYPES = {"f4", "f8", "i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8"}


def record_fields(*, has_gyr: bool, has_mag: bool) -> list[dict[str, Any]]:
    """Describe the per-sample record of a recording (the header's ``record_fields``)."""
    fields: list[dict[str, Any]] = [
        {"name": "time_s", "type": "f8", "count": 1, "unit": "s"},
        {"name": "device_time_s", "type": "f8", "count": 1, "unit": "s"},
        {"name": "acc_mps2", "type": "f4", "count": 3, "unit": "m/s^2"},
    ]
    if has_gyr:
        fields.append({"name": "gyr_rps", "type": "f4", "count": 3, "unit": "rad/s"})
    if has_mag:
        fields.append({"name": "mag", "type": "f4", "count": 3, "unit": "uT"})
    return fields


def _dtype_of(fields: Sequence[dict[str, Any]]) -> np.dtype[Any]:
    """Little-endian packed numpy dtype of the records described by ``fields``."""
    spec: list[Any] = []
    for f in fields:
        name, kind, count = f["name"], f["type"], int(f["count"])
        if not isinstance(name, str) or kind not in _TYPES or count < 1:
            raise ValueError(f"bad record field {f!r}")
        spec.append((name, "<" + kind) if count == 1 else (name, "<" + kind, (count,)))
    return np.dtype(spec)


def _jsonable(obj: Any) -> Any:
    """Convert ``obj`` to plain JSON types (numpy -> Python, non-finite floats -> None)."""
    if obj is None or (isinstance(obj, (bool, str, int)) and not isinstance(obj, np.generic)):
        return obj
    if isinstance(obj, (float, np.floating)):
        return float(obj) if math.isfinite(obj) else None
    if isinstance(obj, np.generic):
        return _jsonable(obj.item())
    if isinstance(obj, np.ndarray):
        return _jsonable(obj.tolist())
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, (_dt.datetime, _dt.date)):
        return obj.isoformat()
    raise ValueError(f"cannot store {type(obj).__name__} {obj!r} in recording metadata")


def _json_bytes(obj: Any) -> bytes:
    return json.dumps(_jsonable(obj), ensure_ascii=False, separators=(",", ":")).encode()


def _chunk(tag: bytes, payload: bytes) -> bytes:
    """Encode one chunk: header (tag, length, CRC of tag + length + payload) and payload."""
    head = tag + struct.pack("<I", len(payload))
    crc = zlib.crc32(payload, zlib.crc32(head))
    return head + struct.pack("<I", crc) + payload


def _utc_now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _writer_name() -> str:
    try:
        from importlib.metadata import version

        return f"pelviscope {version('pelviscope')}"
    except Exception:  # not installed: still write a name
        return "pelviscope"


class RecordingWriter:
    """Append samples to a new native recording, crash-safely.

    Samples are buffered in memory and written to the operating system (``write`` +
    ``flush``) at least every ``flush_interval_s`` - by :meth:`append` and by a small
    background thread, so a process killed with SIGKILL loses at most that much.
    ``os.fsync`` runs every ``fsync_interval_s`` and in :meth:`close`; a power loss can
    lose what the OS had not written to the disk yet (up to about that interval).

    Parameters
    ----------
    path : str or Path
        File to create (overwritten if it exists); use the ``.psrec`` extension.
    meta : dict
        Descriptive metadata (see README: ``device``, ``start_time_utc``, ...). Must be
        JSON-serialisable (numpy values are converted, NaN becomes null).
    rate_hz : float
        Nominal output data rate.
    has_gyr, has_mag : bool
        Which channels every sample carries.
    flush_interval_s : float
        Longest time buffered samples stay in memory.
    fsync_interval_s : float or None
        How often to force data to the disk; None only at :meth:`close`.
    background_flush : bool
        Run the flushing thread (so a stalled producer still gets its data written).

    Examples
    --------
    >>> with RecordingWriter(p, {"subject_id": "S01"}, rate_hz=100.0) as w:  # doctest: +SKIP
    ...     w.append(t_s, acc_mps2, gyr_rps)
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        meta: dict[str, Any],
        *,
        rate_hz: float,
        has_gyr: bool = True,
        has_mag: bool = False,
        flush_interval_s: float = 0.5,
        fsync_interval_s: float | None = 5.0,
        background_flush: bool = True,
    ) -> None:
        if not (math.isfinite(rate_hz) and rate_hz > 0):
            raise ValueError(f"rate_hz must be a positive number, got {rate_hz!r}")
        if not (flush_interval_s > 0):
            raise ValueError(f"flush_interval_s must be > 0, got {flush_interval_s!r}")
        self.path = Path(path)
        self.rate_hz = float(rate_hz)
        self.has_gyr = bool(has_gyr)
        self.has_mag = bool(has_mag)
        self.flush_interval_s = float(flush_interval_s)
        self.fsync_interval_s = fsync_interval_s
        fields = record_fields(has_gyr=self.has_gyr, has_mag=self.has_mag)
        self._dtype = _dtype_of(fields)
        header: dict[str, Any] = {k: None for k in DESCRIPTIVE_KEYS}
        header.update({k: v for k, v in meta.items() if k not in STRUCTURAL_KEYS})
        header.update(
            format="pelviscope.recording",
            format_version=f"{VERSION_MAJOR}.{VERSION_MINOR}",
            rate_hz=self.rate_hz,
            channels=["acc"] + ["gyr"] * self.has_gyr + ["mag"] * self.has_mag,
            record_fields=fields,
        )
        header.setdefault("created_utc", _utc_now())
        header.setdefault("writer", _writer_name())
        if self.has_mag:
            header.setdefault("mag_unit", "uT")
        head_bytes = _json_bytes(header)
        self.meta: dict[str, Any] = json.loads(head_bytes)
        self._lock = threading.Lock()
        self._records: list[NDArray[Any]] = []  # batches of the DATA chunk being built
        self._batches: list[tuple[int, int, float]] = []  # (offset, seq, host_time_s)
        self._n_open = 0  # samples in the open DATA chunk
        self._sealed: list[bytes] = []  # encoded chunks waiting to be written
        self._n_samples = 0
        self._last_time_s = -math.inf
        self._closed = False
        self._file = open(self.path, "wb")  # noqa: SIM115 - closed in close()
        self._file.write(_PREAMBLE.pack(MAGIC, VERSION_MAJOR, VERSION_MINOR))
        self._file.write(_chunk(TAG_HEAD, head_bytes))
        self._file.flush()
        os.fsync(self._file.fileno())
        self._last_flush = self._last_fsync = time.monotonic()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        if background_flush:
            self._thread = threading.Thread(
                target=self._flush_loop, name="RecordingWriter-flush", daemon=True
            )
            self._thread.start()

    # -- producer API -----------------------------------------------------------------
    def append(
        self,
        time_s: ArrayLike,
        acc_mps2: ArrayLike,
        gyr_rps: ArrayLike | None = None,
        mag: ArrayLike | None = None,
        *,
        device_time_s: ArrayLike | None = None,
        host_time_s: float | None = None,
        seq: int | None = None,
    ) -> None:
        """Append a batch of N samples (e.g. the content of one BLE packet).

        Parameters
        ----------
        time_s : array_like, shape (N,)
            Session-clock times, strictly increasing and after every earlier sample.
        acc_mps2 : array_like, shape (N, 3)
            Specific force in the sensor frame, m/s^2.
        gyr_rps : array_like, shape (N, 3), optional
            Angular velocity, rad/s; required exactly when the writer has ``has_gyr``.
        mag : array_like, shape (N, 3), optional
            Magnetic field in uT; required exactly when the writer has ``has_mag``.
        device_time_s : array_like, shape (N,), optional
            The device's own unwrapped clock; NaN when absent.
        host_time_s : float, optional
            Host (Unix) time the batch arrived; defaults to now.
        seq : int, optional
            Sequence number of the first packet in the batch (stored modulo 2**32 - 1);
            None when unknown.
        """
        t = np.asarray(time_s, dtype=np.float64).reshape(-1)
        n = t.shape[0]
        if n == 0:
            return
        rec = np.empty(n, dtype=self._dtype)
        rec["time_s"] = t
        rec["device_time_s"] = (
            np.nan if device_time_s is None else self._column(device_time_s, n, "device_time_s")
        )
        rec["acc_mps2"] = self._triple(acc_mps2, n, "acc_mps2")
        for name, value, wanted in (("gyr_rps", gyr_rps, self.has_gyr), ("mag", mag, self.has_mag)):
            if wanted and value is None:
                raise ValueError(f"{name} is required: the writer was created with it")
            if not wanted and value is not None:
                raise ValueError(f"{name} given but the writer was created without it")
            if value is not None:
                rec[name] = self._triple(value, n, name)
        if not np.isfinite(t).all():
            raise ValueError("time_s must be finite")
        if n > 1 and not (np.diff(t) > 0).all():
            raise ValueError("time_s must be strictly increasing within a batch")
        host = time.time() if host_time_s is None else float(host_time_s)
        first_seq = SEQ_UNKNOWN if seq is None else int(seq) % SEQ_UNKNOWN
        with self._lock:
            self._check_open()
            if not t[0] > self._last_time_s:
                last_s = self._last_time_s
                raise ValueError(f"time_s must increase: {float(t[0])!r} follows {last_s!r}")
            self._last_time_s = float(t[-1])
            for start in range(0, n, MAX_CHUNK_SAMPLES):
                part = rec[start : start + MAX_CHUNK_SAMPLES]
                if self._n_open + part.shape[0] > MAX_CHUNK_SAMPLES:
                    self._seal_data()
                self._batches.append((self._n_open, first_seq, host))
                self._records.append(part)
                self._n_open += part.shape[0]
            self._n_samples += n
            if time.monotonic() - self._last_flush >= self.flush_interval_s:
                self._flush_locked()

    def add_gap(self, gap: Gap) -> None:
        """Record a span of lost data."""
        self._add_event(
            TAG_GAP,
            {"start_s": gap.start_s, "end_s": gap.end_s,
             "lost_samples": gap.lost_samples, "reason": gap.reason},
        )  # fmt: skip

    def add_marker(self, marker: Marker) -> None:
        """Record a user marker."""
        self._add_event(
            TAG_MARK, {"time_s": marker.time_s, "label": marker.label, "note": marker.note}
        )

    def update_meta(self, patch: dict[str, Any]) -> None:
        """Change metadata later (e.g. a calibration, the battery level).

        Each top-level key of ``patch`` replaces the previous value when read.
        """
        bad = STRUCTURAL_KEYS.intersection(patch)
        if bad:
            raise ValueError(f"cannot change {sorted(bad)} after the recording started")
        payload = _json_bytes(patch)
        self._add_event(TAG_META, None, payload)
        self.meta.update(json.loads(payload))

    def flush(self) -> None:
        """Write everything buffered to the operating system now."""
        with self._lock:
            self._check_open()
            self._flush_locked()

    def close(self) -> None:
        """Flush, write the end chunk, fsync and close. Safe to call twice."""
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            self._thread = None
        with self._lock:
            if self._closed:
                return
            self._seal_data()
            end = {"n_samples": self._n_samples, "closed_utc": _utc_now()}
            self._sealed.append(_chunk(TAG_END, _json_bytes(end)))
            self._write_sealed()
            os.fsync(self._file.fileno())
            self._file.close()
            self._closed = True

    @property
    def n_samples(self) -> int:
        """Samples appended so far."""
        return self._n_samples

    def __enter__(self) -> RecordingWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- internals --------------------------------------------------------------------
    @staticmethod
    def _column(value: ArrayLike, n: int, name: str) -> NDArray[np.float64]:
        a = np.asarray(value, dtype=np.float64).reshape(-1)
        if a.shape[0] != n:
            raise ValueError(f"{name} has {a.shape[0]} values, time_s has {n}")
        return a

    @staticmethod
    def _triple(value: ArrayLike, n: int, name: str) -> NDArray[np.float64]:
        a = np.asarray(value, dtype=np.float64)
        if a.shape == (3,) and n == 1:
            a = a.reshape(1, 3)
        if a.shape != (n, 3):
            raise ValueError(f"{name} must have shape ({n}, 3), got {a.shape}")
        return a

    def _check_open(self) -> None:
        if self._closed:
            raise ValueError(f"recording {self.path} is closed")

    def _add_event(self, tag: bytes, obj: Any, payload: bytes | None = None) -> None:
        data = _json_bytes(obj) if payload is None else payload
        with self._lock:
            self._check_open()
            self._seal_data()  # keep the file order of data and events
            self._sealed.append(_chunk(tag, data))

    def _seal_data(self) -> None:
        if not self._n_open:
            return
        table = np.zeros(len(self._batches), dtype=_BATCH_DTYPE)
        if self._batches:
            off, seq, host = zip(*self._batches, strict=True)
            table["sample_offset"], table["seq"], table["host_time_s"] = off, seq, host
        records = np.concatenate(self._records)
        payload = b"".join(
            (_DATA_HEAD.pack(self._n_open, len(self._batches)), table.tobytes(), records.tobytes())
        )
        self._sealed.append(_chunk(TAG_DATA, payload))
        self._records, self._batches, self._n_open = [], [], 0

    def _write_sealed(self) -> None:
        if self._sealed:
            self._file.write(b"".join(self._sealed))
            self._sealed = []
        self._file.flush()

    def _flush_locked(self) -> None:
        self._seal_data()
        self._write_sealed()
        now = time.monotonic()
        self._last_flush = now
        if self.fsync_interval_s is not None and now - self._last_fsync >= self.fsync_interval_s:
            os.fsync(self._file.fileno())
            self._last_fsync = now

    def _flush_loop(self) -> None:
        while not self._stop.wait(self.flush_interval_s / 2):
            with self._lock:
                if self._closed:
                    return
                if time.monotonic() - self._last_flush >= self.flush_interval_s / 2:
                    self._flush_locked()


def write_recording(path: str | os.PathLike[str], rec: Recording) -> None:
    """Write a whole :class:`Recording` to ``path`` atomically (temporary file + rename).

    Sample values are stored as float32 (times as float64), as in every recording.
    """
    path = Path(path)
    tmp = path.with_name(path.name + ".partial")
    n = rec.n_samples
    has_gyr, has_mag = rec.gyr_rps is not None, rec.mag is not None
    try:
        with RecordingWriter(
            tmp, rec.meta, rate_hz=rec.rate_hz, has_gyr=has_gyr, has_mag=has_mag,
            flush_interval_s=3600.0, fsync_interval_s=None, background_flush=False,
        ) as w:  # fmt: skip
            for a in range(0, n, MAX_CHUNK_SAMPLES):
                b = slice(a, a + MAX_CHUNK_SAMPLES)
                w.append(
                    rec.time_s[b], rec.acc_mps2[b],
                    rec.gyr_rps[b] if rec.gyr_rps is not None else None,
                    rec.mag[b] if rec.mag is not None else None,
                    device_time_s=None if rec.device_time_s is None else rec.device_time_s[b],
                    host_time_s=math.nan,
                )  # fmt: skip
            for gap in rec.gaps:
                w.add_gap(gap)
            for marker in rec.markers:
                w.add_marker(marker)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def is_recording(path: str | os.PathLike[str]) -> bool:
    """Tell whether ``path`` is a readable file starting with the recording magic."""
    try:
        with open(path, "rb") as f:
            return f.read(len(MAGIC)) == MAGIC
    except OSError:
        return False


# -- reading ---------------------------------------------------------------------------
_Buffer = bytes | mmap.mmap


class _Scan:
    """What one pass over the chunks found (payload positions, events, damage)."""

    def __init__(self) -> None:
        self.meta: dict[str, Any] = {}
        self.data: list[tuple[int, int, int, int]] = []  # (payload start, n, n_batches, end)
        self.gaps: list[Gap] = []
        self.markers: list[Marker] = []
        self.damage: list[tuple[int, int | None, str, int]] = []  # (pos, next, what, n_data)
        self.end: dict[str, Any] | None = None
        self.end_pos = 0
        self.trailing = 0
        self.notes: list[str] = []


def _valid_at(buf: _Buffer, pos: int) -> int:
    """Length of the valid chunk at ``pos`` or -1."""
    n = len(buf)
    if pos + _CHUNK.size > n:
        return -1
    tag, length, crc = _CHUNK.unpack_from(buf, pos)
    end = pos + _CHUNK.size + length
    if length > MAX_PAYLOAD or end > n or not all(0x20 <= c < 0x7F for c in tag):
        return -1
    mv = memoryview(buf)
    if zlib.crc32(mv[pos + _CHUNK.size : end], zlib.crc32(mv[pos : pos + 8])) != crc:
        return -1
    return length


def _resync(buf: _Buffer, start: int) -> int | None:
    """Byte offset of the next valid chunk with a known tag at or after ``start``."""
    heap = [(p, t) for t in _KNOWN_TAGS if (p := buf.find(t, start)) >= 0]
    heapq.heapify(heap)
    while heap:
        p, t = heap[0]
        if _valid_at(buf, p) >= 0:
            return p
        q = buf.find(t, p + 1)
        if q >= 0:
            heapq.heapreplace(heap, (q, t))
        else:
            heapq.heappop(heap)
    return None


def _describe_damage(buf: _Buffer, pos: int) -> str:
    n = len(buf)
    if n - pos < _CHUNK.size:
        return f"the file ends inside a chunk header ({n - pos} of {_CHUNK.size} bytes)"
    tag, length, _ = _CHUNK.unpack_from(buf, pos)
    name = tag.decode("ascii", "replace").strip()
    if tag not in _KNOWN_TAGS:
        return "unrecognisable chunk header"
    if pos + _CHUNK.size + length > n:
        return (
            f"the file ends inside a {name} chunk ({n - pos} of {_CHUNK.size + length} bytes "
            "present): interrupted or truncated"
        )
    return f"{name} chunk fails its CRC check (corrupted)"


def _scan(buf: _Buffer, path: str) -> _Scan:
    n = len(buf)
    if n < _PREAMBLE.size:
        if buf and MAGIC.startswith(buf[: len(MAGIC)]):
            raise InputError(path, f"byte {n}", "recording is truncated inside its preamble")
        raise InputError(path, "byte 0", "not a pelviscope recording (bad magic)")
    magic, major, minor = _PREAMBLE.unpack_from(buf, 0)
    if magic != MAGIC:
        raise InputError(path, "byte 0", "not a pelviscope recording (bad magic)")
    if major != VERSION_MAJOR:
        raise InputError(
            path, "byte 8",
            f"recording format version {major}.{minor} is not supported by this pelviscope "
            f"(reads {VERSION_MAJOR}.x); upgrade pelviscope",
        )  # fmt: skip
    pos = _PREAMBLE.size
    hlen = _valid_at(buf, pos)
    if hlen < 0 or buf[pos : pos + 4] != TAG_HEAD:
        what = "missing" if n == pos else _describe_damage(buf, pos)
        raise InputError(
            path, f"byte {pos}", f"header chunk is unusable ({what}); the data cannot be decoded"
        )
    s = _Scan()
    try:
        s.meta = json.loads(buf[pos + _CHUNK.size : pos + _CHUNK.size + hlen])
        dtype = _dtype_of(s.meta["record_fields"])
        rate_hz = float(s.meta["rate_hz"])
        if not isinstance(s.meta, dict) or "time_s" not in (dtype.names or ()) or not rate_hz > 0:
            raise ValueError("header lacks time_s or rate_hz")
    except (ValueError, KeyError, TypeError) as exc:
        raise InputError(path, f"byte {pos}", f"header chunk is invalid ({exc})") from exc
    s.meta["__dtype__"] = dtype
    rsize = dtype.itemsize
    pos += _CHUNK.size + hlen
    mv = memoryview(buf)
    # the hot loop (one pass per chunk): names bound locally
    unpack, hsize, crc32 = _CHUNK.unpack_from, _CHUNK.size, zlib.crc32
    data_head, dsize, bsize = _DATA_HEAD.unpack_from, _DATA_HEAD.size, _BATCH_DTYPE.itemsize
    add_data, tag_data = s.data.append, TAG_DATA
    while pos < n:
        if s.end is not None:
            s.trailing = n - pos
            break
        ok = False
        if n - pos >= hsize:
            tag, length, crc = unpack(buf, pos)
            p0 = pos + hsize
            end = p0 + length
            ok = end <= n and crc32(mv[p0:end], crc32(mv[pos : pos + 8])) == crc
            if ok and tag == tag_data:
                ns, nb = data_head(buf, p0)
                start = p0 + dsize + nb * bsize
                if start + ns * rsize == end:
                    add_data((start, ns, nb, p0))
                    pos = end
                    continue
                ok = False
        if ok:
            try:
                obj: Any = json.loads(mv[p0:end].tobytes()) if tag in _KNOWN_TAGS else None
                if tag == TAG_GAP:
                    s.gaps.append(Gap(float(obj["start_s"]), float(obj["end_s"]),
                                      int(obj["lost_samples"]), str(obj["reason"])))  # fmt: skip
                elif tag == TAG_MARK:
                    s.markers.append(
                        Marker(float(obj["time_s"]), str(obj["label"]), str(obj["note"]))
                    )
                elif tag == TAG_META:
                    s.meta.update({k: v for k, v in obj.items() if k not in STRUCTURAL_KEYS})
                elif tag == TAG_END:
                    s.end, s.end_pos = dict(obj), pos
                elif tag == TAG_HEAD:
                    s.notes.append(f"byte {pos}: a second header chunk was ignored")
                # any other tag: a chunk of a newer minor version, skipped by design
            except (ValueError, KeyError, TypeError) as exc:
                s.notes.append(f"byte {pos}: {tag.decode('ascii', 'replace')} chunk "
                               f"ignored ({exc})")  # fmt: skip
            pos = end
            continue
        what = _describe_damage(buf, pos)
        nxt = _resync(buf, pos + 1)
        s.damage.append((pos, nxt, what, len(s.data)))
        if nxt is None:
            break
        pos = nxt
    return s


def _load(path: str | os.PathLike[str]) -> tuple[_Buffer, str]:
    """The file's bytes: memory-mapped when large (saves a copy), else read."""
    name = str(path)
    try:
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            if size < (1 << 20):
                return f.read(), name
            return mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ), name
    except IsADirectoryError:
        raise InputError(name, "", "is a directory, not a recording") from None
    except FileNotFoundError:
        raise InputError(name, "", "file not found") from None
    except OSError as exc:
        raise InputError(name, "", f"cannot read ({exc.strerror or exc})") from None


def _release(buf: _Buffer) -> None:
    if isinstance(buf, mmap.mmap):
        # a view may still be referenced (e.g. by a traceback): then the GC closes it
        with contextlib.suppress(BufferError):
            buf.close()


#: Allocates a float64 array for a recording field: ``empty(field_name, shape)``.
Allocator = Callable[[str, tuple[int, ...]], NDArray[np.float64]]


def read_recording(path: str | os.PathLike[str], *, empty: Allocator | None = None) -> Recording:
    """Read a native recording, keeping everything up to any damage.

    Parameters
    ----------
    path : str or Path
        A ``.psrec`` file.
    empty : callable, optional
        Allocates the per-sample arrays (default ``numpy.empty``), e.g. in memory that
        other processes share.

    Returns
    -------
    Recording
        Samples as float64 arrays. Damage (truncation, corruption, a missing end chunk)
        is described in ``Recording.warnings``; spans lost to damage become gaps with
        reason ``"file_damage"``.

    Raises
    ------
    InputError
        Not a recording, an unsupported version, or an unusable header chunk.
    """
    buf, name = _load(path)
    try:
        return _decode(buf, name, empty or (lambda _name, shape: np.empty(shape)))
    finally:
        _release(buf)


def _decode(buf: _Buffer, name: str, empty: Allocator) -> Recording:
    s = _scan(buf, name)
    dtype: np.dtype[Any] = s.meta.pop("__dtype__")
    counts = np.cumsum([0] + [d[1] for d in s.data])
    # Every field as float64, converted chunk by chunk straight from the file's bytes
    # (chunks are cache-sized; joining them first would copy the whole file once more).
    fields: dict[str, NDArray[np.float64]] = {
        f: empty(f, (int(counts[-1]), *dtype[f].shape)) for f in dtype.names or ()
    }
    for k, (a, ns, _, _) in enumerate(s.data):
        chunk = np.frombuffer(buf, dtype=dtype, count=ns, offset=a)
        for f, out in fields.items():
            out[counts[k] : counts[k + 1]] = chunk[f]
    time_s = fields["time_s"]
    warnings = [f"{name}: {note}" for note in s.notes]
    gaps = list(s.gaps)
    keep = None
    if time_s.shape[0] > 1 and not (np.diff(time_s) > 0).all():
        prev_max = np.maximum.accumulate(time_s)[:-1]
        keep = np.concatenate([[True], time_s[1:] > prev_max])
        warnings.append(f"{name}: {int((~keep).sum())} samples with non-increasing time dropped")

    def channel(field: str) -> NDArray[np.float64] | None:
        if field not in fields:
            return None
        col = fields[field]
        if keep is not None:
            col = col[keep]
        if col.size and np.isnan(col.flat[0]) and np.isnan(col).all():
            return None
        return col

    rate_hz = float(s.meta["rate_hz"])
    for pos, nxt, what, k in s.damage:
        before = float(time_s[counts[k] - 1]) if counts[k] > 0 else None
        after = float(time_s[counts[k]]) if counts[k] < time_s.shape[0] else None
        kept = "no data before it" if before is None else f"data kept up to {before:.3f} s"
        if nxt is None:
            warnings.append(
                f"{name}: byte {pos}: {what}; the last {len(buf) - pos} bytes were dropped, "
                f"{kept} ({time_s.shape[0]} samples)"
            )
        else:
            lost = "" if after is None else f"; data resumes at {after:.3f} s"
            warnings.append(
                f"{name}: byte {pos}: {what}; skipped {nxt - pos} bytes to the next valid chunk "
                f"at byte {nxt}, {kept}{lost}"
            )
            if before is not None and after is not None:
                lost_n = max(round((after - before) * rate_hz) - 1, 0)
                gaps.append(Gap(before, after, lost_n, "file_damage"))
    if s.end is None and not any(d[1] is None for d in s.damage):
        dur = float(time_s[-1] - time_s[0]) if time_s.shape[0] else 0.0
        warnings.append(
            f"{name}: byte {len(buf)}: no end chunk - the recording was not closed cleanly "
            f"(interrupted?); kept {time_s.shape[0]} samples, {dur:.3f} s"
        )
    if s.trailing:
        warnings.append(
            f"{name}: byte {len(buf) - s.trailing}: {s.trailing} bytes of unexpected data after "
            "the end chunk were ignored"
        )
    if s.end is not None and s.end.get("n_samples") not in (None, time_s.shape[0]):
        warnings.append(
            f"{name}: end chunk lists {s.end['n_samples']} samples but {time_s.shape[0]} were read"
        )
    if keep is not None:
        time_s = time_s[keep]
    acc = channel("acc_mps2")
    if acc is None:
        acc = np.empty((time_s.shape[0], 3))
    return Recording(
        time_s=time_s,
        acc_mps2=acc,
        gyr_rps=channel("gyr_rps"),
        rate_hz=rate_hz,
        mag=channel("mag"),
        device_time_s=channel("device_time_s"),
        gaps=sorted(gaps, key=lambda g: g.start_s),
        markers=sorted(s.markers, key=lambda m: m.time_s),
        meta=s.meta,
        warnings=warnings,
    )


def read_batch_index(path: str | os.PathLike[str]) -> NDArray[Any]:
    """Per-batch timing of a recording: where each appended batch starts.

    Returns
    -------
    ndarray
        Structured array with fields ``sample_index`` (int64, index into the samples of
        :func:`read_recording`), ``seq`` (int64, first packet sequence number or -1) and
        ``host_time_s`` (float64, host Unix time the batch arrived, NaN if unknown).
    """
    buf, name = _load(path)
    try:
        s = _scan(buf, name)
        parts: list[NDArray[Any]] = [np.empty(0, _INDEX_DTYPE)]
        base = 0
        for _start, ns, nb, p0 in s.data:
            table = np.frombuffer(buf, _BATCH_DTYPE, count=nb, offset=p0 + _DATA_HEAD.size)
            part = np.empty(nb, _INDEX_DTYPE)
            part["sample_index"] = table["sample_offset"].astype(np.int64) + base
            part["seq"] = np.where(table["seq"] == SEQ_UNKNOWN, -1, table["seq"])
            part["host_time_s"] = table["host_time_s"]
            parts.append(part)
            base += ns
            del table  # release the view of the mapped file
        return np.concatenate(parts)
    finally:
        _release(buf)
