"""Writing recordings: :class:`RecordingWriter` (crash-safe, streaming), :func:`write_recording`."""

from __future__ import annotations

import contextlib
import json
import math
import os
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from recordings.data import Gap, Marker, Recording
from recordings.files import OutputError, atomic_output, create_exclusive, output_error
from recordings.format.layout import (
    BATCH_DTYPE,
    DATA_HEAD,
    DESCRIPTIVE_KEYS,
    MAGIC,
    MAX_CHUNK_SAMPLES,
    PREAMBLE,
    SEQ_UNKNOWN,
    STRUCTURAL_KEYS,
    TAG_DATA,
    TAG_END,
    TAG_GAP,
    TAG_HEAD,
    TAG_MARK,
    TAG_META,
    VERSION_MAJOR,
    VERSION_MINOR,
    chunk,
    chunk_samples,
    dtype_of,
    json_bytes,
    record_fields,
    utc_now,
    writer_name,
)


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
        self._dtype = dtype_of(fields)
        header: dict[str, Any] = {k: None for k in DESCRIPTIVE_KEYS}
        header.update({k: v for k, v in meta.items() if k not in STRUCTURAL_KEYS})
        header.update(
            format="pelviscope.recording",
            format_version=f"{VERSION_MAJOR}.{VERSION_MINOR}",
            rate_hz=self.rate_hz,
            channels=["acc"] + ["gyr"] * self.has_gyr + ["mag"] * self.has_mag,
            record_fields=fields,
        )
        header.setdefault("created_utc", utc_now())
        header.setdefault("writer", writer_name())
        if self.has_mag:
            header.setdefault("mag_unit", "uT")
        head_bytes = json_bytes(header)
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
            self._sealed.append(PREAMBLE.pack(MAGIC, VERSION_MAJOR, VERSION_MINOR))
            self._sealed.append(chunk(TAG_HEAD, head_bytes))
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
        payload = json_bytes(patch)
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
                end = {"n_samples": self._n_samples, "closed_utc": utc_now()}
                self._sealed.append(chunk(TAG_END, json_bytes(end)))
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
        data = json_bytes(obj) if payload is None else payload
        with self._lock:
            self._check_open()
            self._seal_data()  # keep the file order of data and events
            self._sealed.append(chunk(tag, data))

    def _seal_data(self) -> None:
        if not self._n_open:
            return
        table = np.zeros(len(self._batches), dtype=BATCH_DTYPE)
        if self._batches:
            off, seq, host = zip(*self._batches, strict=True)
            table["sample_offset"], table["seq"], table["host_time_s"] = off, seq, host
        records = np.concatenate(self._records)
        payload = b"".join(
            (DATA_HEAD.pack(self._n_open, len(self._batches)), table.tobytes(), records.tobytes())
        )
        self._sealed.append(chunk(TAG_DATA, payload))
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
