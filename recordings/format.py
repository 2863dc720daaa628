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
from typing import IO, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from recordings.data import Gap, Marker, Recording
from recordings.errors import InputError
from recordings.files import OutputError, atomic_output, create_exclusive, output_error
from recordings.json_safe import finite_json
from recordings.plausibility import drop_implausible

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
#: Samples per DATA chunk at most, whatever the rate (files of any writer stay readable
#: with bigger chunks; see :data:`MAX_CHUNK_S`).
MAX_CHUNK_SAMPLES = 65536
#: Session time a DATA chunk holds at most: one damaged byte loses at most this much.
MAX_CHUNK_S = 1.0

#: Header keys the writer owns; ``meta`` and ``update_meta`` cannot set them.
STRUCTURAL_KEYS = frozenset({"format", "format_version", "rate_hz", "channels", "record_fields"})
#: Descriptive keys every header carries (null when unknown).
DESCRIPTIVE_KEYS = (
    "device", "profile", "firmware", "ranges", "start_time_utc", "subject_id",
    "session_id", "calibration", "notes", "timing",
)  # fmt: skip
_TYPES = {"f4", "f8", "i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8"}


def chunk_samples(rate_hz: float) -> int:
    """Samples a writer puts in one DATA chunk at most at ``rate_hz`` (about 1 s)."""
    return max(1, min(MAX_CHUNK_SAMPLES, math.ceil(rate_hz * MAX_CHUNK_S)))


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


#: Values per record field at most (a guard against absurd layouts).
_MAX_FIELD_COUNT = 1024
#: Fields every reader relies on: name -> (count, types allowed).
_REQUIRED_FIELDS = {"time_s": (1, ("f8",)), "acc_mps2": (3, ("f4", "f8"))}
#: Optional fields with a meaning: their layout is checked when present.
_KNOWN_FIELDS = {
    "device_time_s": (1, ("f4", "f8")), "gyr_rps": (3, ("f4", "f8")), "mag": (3, ("f4", "f8")),
}  # fmt: skip


def _dtype_of(fields: Sequence[dict[str, Any]]) -> np.dtype[Any]:
    """Little-endian packed numpy dtype of the records described by ``fields``."""
    spec: list[Any] = []
    for f in fields:
        name, kind, count = f["name"], f["type"], f["count"]
        if (
            not isinstance(name, str) or kind not in _TYPES or not isinstance(count, int)
            or isinstance(count, bool) or not 1 <= count <= _MAX_FIELD_COUNT
        ):  # fmt: skip
            raise ValueError(
                f"bad record field {f!r}: expected a name, a type ({', '.join(sorted(_TYPES))}) "
                f"and a count from 1 to {_MAX_FIELD_COUNT}"
            )
        spec.append((name, "<" + kind) if count == 1 else (name, "<" + kind, (count,)))
    return np.dtype(spec)


def _check_layout(fields: Any) -> np.dtype[Any]:
    """The record dtype of a header's ``record_fields``; ValueError naming what is wrong."""
    if not isinstance(fields, list) or not all(isinstance(f, dict) for f in fields):
        raise ValueError("record_fields is not a list of field descriptions")
    try:
        dtype = _dtype_of(fields)
    except (KeyError, TypeError) as exc:
        raise ValueError(f"a record field lacks name, type or count ({exc})") from None
    described = {f["name"]: f for f in fields}
    for name, (count, kinds) in (_REQUIRED_FIELDS | _KNOWN_FIELDS).items():
        f = described.get(name)
        if f is None:
            if name in _REQUIRED_FIELDS:
                raise ValueError(f"record_fields has no {name} field")
            continue
        if f["count"] != count or f["type"] not in kinds:
            raise ValueError(
                f"record field {name} is {f['count']} x {f['type']}, expected {count} x "
                f"{' or '.join(kinds)}"
            )
    return dtype


def _no_constant(text: str) -> Any:
    raise ValueError(f"{text} is not valid JSON")


def _strict_json(payload: bytes) -> Any:
    """Parse RFC 8259 JSON: NaN and Infinity (which Python accepts) are errors."""
    return json.loads(payload, parse_constant=_no_constant)


def _finite(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{what} is not a number")
    x = float(value)
    if not math.isfinite(x):
        raise ValueError(f"{what} is not finite")
    return x


def _gap_of(obj: Any) -> Gap:
    start_s, end_s = _finite(obj["start_s"], "start_s"), _finite(obj["end_s"], "end_s")
    lost = obj["lost_samples"]
    if isinstance(lost, bool) or not isinstance(lost, int) or not 0 <= lost < 2**53:
        raise ValueError("lost_samples is not a count")
    if not end_s > start_s:
        raise ValueError(f"it ends ({end_s!r} s) before it starts ({start_s!r} s)")
    return Gap(start_s, end_s, lost, str(obj["reason"]))


def _jsonable(obj: Any) -> Any:
    """Convert ``obj`` to plain JSON types (numpy -> Python, non-finite floats -> None)."""
    try:
        return finite_json(obj)
    except TypeError as exc:
        raise ValueError(f"cannot store it in recording metadata ({exc})") from None


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
    background thread, so a process killed with SIGKILL loses at most that much. A DATA
    chunk holds at most about 1 s of samples (:func:`chunk_samples`), so a damaged byte
    later loses at most that much.
    ``os.fsync`` runs every ``fsync_interval_s`` and in :meth:`close`; a power loss can
    lose what the OS had not written to the disk yet (up to about that interval).

    Parameters
    ----------
    path : str or Path
        File to create, with the ``.psrec`` extension. The creation is exclusive: an
        existing file (or one another writer is creating) raises :class:`OutputError`.
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
    overwrite : bool
        Replace an existing regular file at ``path`` (never a symlink or a directory).
    file : binary file, optional
        Write into this open file instead of creating ``path`` (which then only names
        the file in messages); it is flushed but neither synced nor closed here.

    Raises
    ------
    OutputError
        ``path`` exists (without ``overwrite``) or cannot be written (disk full, a
        read-only folder, ...), here or later in :meth:`append`, :meth:`flush` or
        :meth:`close`; the message is one line naming the file.

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
        overwrite: bool = False,
        file: IO[bytes] | None = None,
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
        self._chunk_samples = chunk_samples(self.rate_hz)
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
        self._failure: OutputError | None = None  # a write error met by the flush thread
        self._owns_file = file is None
        self._file = create_exclusive(self.path, overwrite=overwrite) if file is None else file
        try:
            self._sealed.append(_PREAMBLE.pack(MAGIC, VERSION_MAJOR, VERSION_MINOR))
            self._sealed.append(_chunk(TAG_HEAD, head_bytes))
            self._write_sealed()
            self._sync()
        except BaseException:
            if self._owns_file:
                self._file.close()
                # the file is ours (created exclusively): no half-written header is left
                with contextlib.suppress(OSError):
                    os.unlink(self.path)
            raise
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
        # A value beyond float32 is stored as inf, which every reader turns into a gap
        # (recordings.plausibility): recorded as it came, never used as data.
        with np.errstate(over="ignore", invalid="ignore"):
            rec["device_time_s"] = (
                np.nan if device_time_s is None
                else self._column(device_time_s, n, "device_time_s")
            )  # fmt: skip
            rec["acc_mps2"] = self._triple(acc_mps2, n, "acc_mps2")
            for name, value, wanted in (
                ("gyr_rps", gyr_rps, self.has_gyr), ("mag", mag, self.has_mag)
            ):  # fmt: skip
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
            limit = self._chunk_samples
            for start in range(0, n, limit):
                part = rec[start : start + limit]
                if self._n_open + part.shape[0] > limit:
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
        """Flush, write the end chunk, fsync and close. Safe to call twice.

        Raises
        ------
        OutputError
            The last data could not be written (the file is closed all the same).
        """
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            self._thread = None
        with self._lock:
            if self._closed:
                return
            self._closed = True
            try:
                self._raise_failure()
                self._seal_data()
                end = {"n_samples": self._n_samples, "closed_utc": _utc_now()}
                self._sealed.append(_chunk(TAG_END, _json_bytes(end)))
                self._write_sealed()
                self._sync()
            finally:
                self._sealed = []
                if self._owns_file:
                    with contextlib.suppress(OSError):
                        self._file.close()

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
        self._raise_failure()

    def _raise_failure(self) -> None:
        if self._failure is not None:
            raise self._failure

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
        try:
            if self._sealed:
                self._file.write(b"".join(self._sealed))
                self._sealed = []
            self._file.flush()
        except OSError as exc:
            self._failure = output_error(self.path, exc)
            raise self._failure from None

    def _sync(self) -> None:
        if not self._owns_file:
            return  # the owner of the file syncs it (atomic_output)
        try:
            os.fsync(self._file.fileno())
        except OSError as exc:
            self._failure = output_error(self.path, exc)
            raise self._failure from None

    def _flush_locked(self) -> None:
        self._seal_data()
        self._write_sealed()
        now = time.monotonic()
        self._last_flush = now
        if self.fsync_interval_s is not None and now - self._last_fsync >= self.fsync_interval_s:
            self._sync()
            self._last_fsync = now

    def _flush_loop(self) -> None:
        while not self._stop.wait(self.flush_interval_s / 2):
            with self._lock:
                if self._closed or self._failure is not None:
                    return  # the failure is raised to the producer by its next call
                if time.monotonic() - self._last_flush >= self.flush_interval_s / 2:
                    with contextlib.suppress(OutputError):
                        self._flush_locked()


def write_recording(
    path: str | os.PathLike[str], rec: Recording, *, overwrite: bool = False
) -> None:
    """Write a whole :class:`Recording` to ``path`` atomically.

    The file is written under a fresh temporary name in the same folder and moved into
    place when complete (:func:`recordings.files.atomic_output`). Sample values are
    stored as float32 (times as float64), as in every recording; DATA chunks hold about
    1 s of samples each, as a live recording's do.

    Parameters
    ----------
    path : str or Path
        The ``.psrec`` file to create.
    rec : Recording
        What to write.
    overwrite : bool
        Replace an existing file; without it an existing ``path`` is an error.

    Raises
    ------
    OutputError
        ``path`` exists (without ``overwrite``), is a directory, or cannot be written
        (disk full, read-only folder, ...). Nothing is left behind.
    """
    n = rec.n_samples
    has_gyr, has_mag = rec.gyr_rps is not None, rec.mag is not None
    with atomic_output(path, overwrite=overwrite) as f:
        w = RecordingWriter(
            path, rec.meta, rate_hz=rec.rate_hz, has_gyr=has_gyr, has_mag=has_mag,
            flush_interval_s=3600.0, fsync_interval_s=None, background_flush=False, file=f,
        )  # fmt: skip
        for a in range(0, n, MAX_CHUNK_SAMPLES):
            b = slice(a, a + MAX_CHUNK_SAMPLES)
            w.append(
                rec.time_s[b], rec.acc_mps2[b],
                rec.gyr_rps[b] if rec.gyr_rps is not None else None,
                rec.mag[b] if rec.mag is not None else None,
                device_time_s=None if rec.device_time_s is None else rec.device_time_s[b],
                host_time_s=math.nan,
            )  # fmt: skip
            w.flush()
        for gap in rec.gaps:
            w.add_gap(gap)
        for marker in rec.markers:
            w.add_marker(marker)
        w.close()


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
        # NaN in a descriptive field (another tool's file) is not worth losing the file
        meta = json.loads(
            buf[pos + _CHUNK.size : pos + _CHUNK.size + hlen], parse_constant=lambda _: None
        )
        if not isinstance(meta, dict):
            raise ValueError("it is not a JSON object")
        dtype = _check_layout(meta.get("record_fields"))
        rate_hz = meta.get("rate_hz")
        if isinstance(rate_hz, bool) or not isinstance(rate_hz, (int, float)):
            raise ValueError("rate_hz is missing or not a number")
        try:
            finite = math.isfinite(rate_hz)
        except OverflowError:  # an integer beyond any float
            finite = False
        if not (finite and rate_hz > 0):
            raise ValueError("rate_hz is not a positive finite number")
        s.meta = meta
    except (ValueError, RecursionError, OverflowError) as exc:
        raise InputError(path, f"byte {pos}", f"header chunk is unusable: {exc}") from None
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
                if length >= dsize:
                    ns, nb = data_head(buf, p0)
                    start = p0 + dsize + nb * bsize
                    if start + ns * rsize == end:
                        add_data((start, ns, nb, p0))
                        pos = end
                        continue
                ok = False
        if ok:
            try:
                obj: Any = None
                if tag in (TAG_GAP, TAG_MARK, TAG_META, TAG_END):
                    obj = _strict_json(mv[p0:end].tobytes())
                    if not isinstance(obj, dict):
                        raise ValueError("it is not a JSON object")
                if tag == TAG_GAP:
                    s.gaps.append(_gap_of(obj))
                elif tag == TAG_MARK:
                    s.markers.append(Marker(_finite(obj["time_s"], "time_s"),
                                            str(obj["label"]), str(obj["note"])))  # fmt: skip
                elif tag == TAG_META:
                    s.meta.update({k: v for k, v in obj.items() if k not in STRUCTURAL_KEYS})
                elif tag == TAG_END:
                    s.end, s.end_pos = obj, pos
                elif tag == TAG_HEAD:
                    s.notes.append(f"byte {pos}: a second header chunk was ignored")
                # any other tag: a chunk of a newer minor version, skipped by design
            except (ValueError, KeyError, TypeError, RecursionError, OverflowError) as exc:
                what = f"missing {exc}" if isinstance(exc, KeyError) else str(exc)
                s.notes.append(f"byte {pos}: {tag.decode('ascii', 'replace').strip()} chunk "
                               f"ignored (invalid content: {what})")  # fmt: skip
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
        reason ``"file_damage"``. Samples with a time that is not finite or does not
        increase are dropped, and samples beyond the sensor's range become gaps with
        reason ``"out_of_range"`` (:func:`recordings.plausibility.drop_implausible`),
        each with a warning.

    Raises
    ------
    InputError
        Not a recording, an unsupported version, or an unusable header chunk.
    """
    buf, name = _load(path)
    try:
        rec = _decode(buf, name, empty or (lambda _name, shape: np.empty(shape)))
    finally:
        _release(buf)
    return drop_implausible(rec, name)


#: Bytes of records converted per step when decoding (cache-sized, few numpy calls).
_DECODE_BYTES = 1 << 20


def _fill(
    buf: _Buffer, data: list[tuple[int, int, int, int]], dtype: np.dtype[Any],
    fields: dict[str, NDArray[np.float64]],
) -> None:  # fmt: skip
    """Convert the DATA chunks' records into ``fields``, a cache-sized group at a time."""
    mv = memoryview(buf)
    rsize = dtype.itemsize
    done = 0
    k = 0
    while k < len(data):
        # Small chunks (about 1 s each) are joined into one block so that numpy is called
        # per MiB, not per chunk; a big chunk is converted straight from the file's bytes.
        group = [data[k]]
        size = data[k][1] * rsize
        k += 1
        while k < len(data) and size < _DECODE_BYTES:
            group.append(data[k])
            size += data[k][1] * rsize
            k += 1
        if len(group) == 1:
            a, ns = group[0][0], group[0][1]
            block = np.frombuffer(buf, dtype=dtype, count=ns, offset=a)
        else:
            joined = b"".join([mv[a : a + ns * rsize] for a, ns, _, _ in group])
            block = np.frombuffer(joined, dtype=dtype)
        n = block.shape[0]
        for f, out in fields.items():
            out[done : done + n] = block[f]
        done += n
        del block


def _kept_times(time_s: NDArray[np.float64]) -> NDArray[np.bool_] | None:
    """Which samples to keep so that time is finite and strictly increasing (None: all)."""
    n = time_s.shape[0]
    if n == 0 or (
        math.isfinite(time_s[0]) and math.isfinite(time_s[-1]) and (np.diff(time_s) > 0).all()
    ):
        return None
    finite = np.isfinite(time_s)
    t = np.where(finite, time_s, -np.inf)
    # the running maximum of all earlier finite times is the last kept time
    keep = finite.copy()
    keep[1:] &= t[1:] > np.maximum.accumulate(t)[:-1]
    return keep


def _decode(buf: _Buffer, name: str, empty: Allocator) -> Recording:
    s = _scan(buf, name)
    dtype: np.dtype[Any] = s.meta.pop("__dtype__")
    counts = np.cumsum([0] + [d[1] for d in s.data])
    n_read = int(counts[-1])
    # Every field as float64 (into memory ``empty`` chose, e.g. shared with workers).
    fields: dict[str, NDArray[np.float64]] = {
        f: empty(f, (n_read, *dtype[f].shape)) for f in dtype.names or ()
    }
    _fill(buf, s.data, dtype, fields)
    raw_time_s = fields["time_s"]
    warnings = [f"{name}: {note}" for note in s.notes]
    gaps = list(s.gaps)
    keep = _kept_times(raw_time_s)
    if keep is None:
        kept_index = None
        time_s = raw_time_s
    else:
        kept_index = np.flatnonzero(keep)
        time_s = raw_time_s[kept_index]
        n_nonfinite = int((~np.isfinite(raw_time_s)).sum())
        n_order = n_read - kept_index.shape[0] - n_nonfinite
        if n_nonfinite:
            warnings.append(f"{name}: {n_nonfinite} sample(s) with an invalid time (not a "
                            "finite number) were dropped")  # fmt: skip
        if n_order:
            first = int(np.flatnonzero(~keep & np.isfinite(raw_time_s))[0])
            warnings.append(
                f"{name}: {n_order} sample(s) whose time does not increase (duplicated or "
                f"out-of-order data) were dropped, the first at {raw_time_s[first]:.3f} s"
            )

    def kept_position(raw: int) -> int:
        """Position in the kept samples of the first kept sample at raw index >= ``raw``."""
        return raw if kept_index is None else int(np.searchsorted(kept_index, raw))

    rate_hz = float(s.meta["rate_hz"])
    n = time_s.shape[0]
    damage_at: set[int] = set()
    for pos, nxt, what, k in s.damage:
        j = kept_position(int(counts[k]))
        before = float(time_s[j - 1]) if j > 0 else None
        after = float(time_s[j]) if j < n else None
        kept = "no data before it" if before is None else f"data kept up to {before:.3f} s"
        if nxt is None:
            warnings.append(
                f"{name}: byte {pos}: {what}; the last {len(buf) - pos} bytes were dropped, "
                f"{kept} ({n} samples)"
            )
        else:
            lost = "" if after is None else f"; data resumes at {after:.3f} s"
            warnings.append(
                f"{name}: byte {pos}: {what}; skipped {nxt - pos} bytes to the next valid chunk "
                f"at byte {nxt}, {kept}{lost}"
            )
            if before is not None and after is not None and j not in damage_at:
                damage_at.add(j)
                lost_n = max(round((after - before) * rate_hz) - 1, 0)
                gaps.append(Gap(before, after, lost_n, "file_damage"))
    if keep is not None and kept_index is not None and n > 1:
        # Dropped samples leave holes: where their time belonged (a chunk stored after
        # later data) or where they were (a sample without a valid time). A duplicate
        # falls on a kept time and leaves none.
        late = ~keep & np.isfinite(raw_time_s)
        holes = np.searchsorted(time_s, raw_time_s[late]).tolist()
        holes += (np.flatnonzero(np.diff(kept_index) > 1) + 1).tolist()
        known = {(g.start_s, g.end_s) for g in gaps}
        for j in sorted(set(holes) - damage_at):
            if 0 < j < n:
                before, after = float(time_s[j - 1]), float(time_s[j])
                lost_n = round((after - before) * rate_hz) - 1
                if lost_n >= 1 and (before, after) not in known:
                    gaps.append(Gap(before, after, lost_n, "file_damage"))
    if s.end is None and not any(d[1] is None for d in s.damage):
        dur = float(time_s[-1] - time_s[0]) if n else 0.0
        warnings.append(
            f"{name}: byte {len(buf)}: no end chunk - the recording was not closed cleanly "
            f"(interrupted?); kept {n} samples, {dur:.3f} s"
        )
    if s.trailing:
        warnings.append(
            f"{name}: byte {len(buf) - s.trailing}: {s.trailing} bytes of unexpected data after "
            "the end chunk were ignored"
        )
    if s.end is not None and s.end.get("n_samples") not in (None, n_read):
        warnings.append(
            f"{name}: end chunk lists {s.end['n_samples']!r} samples but {n_read} were read"
        )

    def column(field: str) -> NDArray[np.float64]:
        return fields[field] if kept_index is None else fields[field][kept_index]

    def channel(field: str) -> NDArray[np.float64] | None:
        if field not in fields:
            return None
        col = column(field)
        if col.size and np.isnan(col.flat[0]) and np.isnan(col).all():
            return None  # a channel the sensor does not have
        return col

    return Recording(
        time_s=time_s,
        acc_mps2=column("acc_mps2"),  # required by the header check, never dropped as absent
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
