"""Record any :class:`~firmware_bridge.source.SampleSource` to the native recording format.

The writer (``recordings.format.RecordingWriter``) is crash-safe; the recorder opens it
when the first batch arrives (the device's rate and ranges are known by then), writes
every gap before the samples that follow it, and adds what the source learned (device,
battery, loss counts, clock drift) to the metadata at the end.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from firmware_bridge.sink import RecordingSink, clock_drift_ppm
from firmware_bridge.source import Batch, SampleSource, SourceStatus, State


@dataclass
class RecordSummary:
    """What a recording session produced."""

    path: Path
    samples: int
    duration_s: float
    gaps: int
    lost_samples: int
    status: SourceStatus


def format_status(status: SourceStatus, elapsed_s: float) -> str:
    """One-line live status: state, rate, losses, battery, elapsed time."""
    h, rem = divmod(int(elapsed_s), 3600)
    battery = "?" if status.battery_pct is None else f"{status.battery_pct}%"
    line = (f"{status.state.value:<12} {status.rate_hz:6.1f} Hz  samples {status.samples}  "
            f"lost {status.lost_samples} ({status.lost_packets} pkts, {status.bad_frames} bad)"
            f"  reconnects {status.reconnects}  battery {battery}  {h:02d}:{rem // 60:02d}:"
            f"{rem % 60:02d}")
    return line + (f"  [{status.error}]" if status.error and status.state != State.STREAMING
                   else "")


def record(
    source: SampleSource,
    path: str | Path,
    meta: dict[str, Any],
    *,
    duration_s: float | None = None,
    on_status: Callable[[SourceStatus, float], None] | None = None,
    stop: threading.Event | None = None,
    poll_interval_s: float = 0.1,
    status_interval_s: float = 0.5,
    overwrite: bool = False,
) -> RecordSummary:
    """Record ``source`` into ``path`` until ``duration_s`` of session time, ``stop`` or failure.

    Parameters
    ----------
    source : SampleSource
        Not yet started; started and stopped here.
    path : str or Path
        Output ``.psrec`` file.
    meta : dict
        Descriptive metadata (subject_id, session_id, notes ...); device fields are added.
    duration_s : float, optional
        Stop after this much recorded time (from the first sample); None = until ``stop``.
    on_status : callable, optional
        Called about every ``status_interval_s`` with the status and elapsed seconds.
    stop : threading.Event, optional
        Set it to end the recording early.
    overwrite : bool
        Replace an existing file at ``path``; without it an existing file is an error.

    Returns
    -------
    RecordSummary

    Raises
    ------
    recordings.files.OutputError
        ``path`` exists (without ``overwrite``) or cannot be written - checked before the
        source starts, and again when the file is created (another recorder may have
        taken the name meanwhile: the creation is exclusive).
    """
    sink = RecordingSink(path, meta, overwrite=overwrite)  # checked before connecting
    stop = stop or threading.Event()
    t0 = time.monotonic()
    next_status = t0
    source.start()
    try:
        while not stop.is_set():
            batches: list[Batch] = source.poll()
            status = source.status
            for b in batches:
                sink.append(b, status)
            now = time.monotonic()
            if on_status is not None and now >= next_status:
                on_status(status, now - t0)
                next_status = now + status_interval_s
            if status.state == State.FAILED and not batches:
                break
            # ``duration_s`` of recorded samples (the first arrives after connecting).
            if duration_s is not None and sink.samples and (
                sink.last_time_s - (sink.offset_s or 0.0) >= duration_s
            ):
                break
            time.sleep(poll_interval_s)
    finally:
        source.stop()
        status = source.status
        if sink.writer is not None:
            try:  # the file is closed even when the disk is full
                for b in source.poll():  # whatever arrived while stopping
                    if b.time_s[0] > sink.last_time_s:
                        sink.append(b, status)
            finally:
                sink.close(status, clock_drift_ppm(source))
    return RecordSummary(Path(path), sink.samples, sink.last_time_s, sink.gaps,
                         sink.lost_samples, status)  # fmt: skip
