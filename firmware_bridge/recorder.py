"""Record any :class:`~firmware_bridge.source.SampleSource` to the native recording format.

The writer (``recordings.format.RecordingWriter``) is crash-safe; the recorder opens it
when the first batch arrives (the device's rate and ranges are known by then), writes
every gap before the samples that follow it, and adds what the source learned (device,
battery, loss counts, clock drift) to the metadata at the end.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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


def _meta_from_status(status: SourceStatus, meta: dict[str, Any]) -> dict[str, Any]:
    dev = status.device
    out = dict(meta)
    out.setdefault("device", {k: dev.get(k) for k in ("name", "address", "manufacturer", "model",
                                                      "mtu") if dev.get(k) is not None})
    out.setdefault("profile", dev.get("profile"))
    out.setdefault("firmware", dev.get("firmware"))
    out.setdefault("ranges", {"acc_g": dev.get("acc_range_g"), "gyr_dps": dev.get("gyr_range_dps")})
    # recordings/README.md: "device_clock" (minimum-delay fit of device time to host time)
    # or "host_arrival_approximate" (sensors without a clock); the profile says which.
    out.setdefault("timing", dev.get("timing") or "device_clock")
    for key in ("sensor_kind", "limitations", "clock_sync"):
        if dev.get(key):
            out.setdefault(key, dev[key])
    if dev.get("channels") == ["acc"]:
        out.setdefault("gyroscope", "unavailable: accelerometer-only sensor")
    return out


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
        Stop after this much recorded time (session clock); None = until ``stop``.
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
    from recordings.files import check_writable
    from recordings.format import RecordingWriter

    path = Path(path)
    check_writable(path, overwrite=overwrite)  # before connecting: fail at once
    stop = stop or threading.Event()
    writer: RecordingWriter | None = None
    samples = gaps = lost = 0
    last_time_s = 0.0
    t0 = time.monotonic()
    next_status = t0
    meta = {**meta, "start_time_utc": dt.datetime.now(dt.UTC).isoformat()}
    source.start()
    try:
        while not stop.is_set():
            batches: list[Batch] = source.poll()
            status = source.status
            for b in batches:
                if writer is None:
                    writer = RecordingWriter(path, _meta_from_status(status, meta),
                                             rate_hz=b.rate_hz, has_gyr=b.gyr_rps is not None,
                                             overwrite=overwrite)
                for g in b.gaps:
                    writer.add_gap(g)
                    gaps, lost = gaps + 1, lost + g.lost_samples
                writer.append(b.time_s, b.acc_mps2, b.gyr_rps, device_time_s=b.device_time_s,
                              seq=None if b.seq is None else int(b.seq[0]))
                samples += b.n_samples
                last_time_s = float(b.time_s[-1])
            now = time.monotonic()
            if on_status is not None and now >= next_status:
                on_status(status, now - t0)
                next_status = now + status_interval_s
            if status.state == State.FAILED and not batches:
                break
            if duration_s is not None and writer is not None and last_time_s >= duration_s:
                break
            time.sleep(poll_interval_s)
    finally:
        source.stop()
        status = source.status
        if writer is not None:
            try:  # the file is closed even when the disk is full
                for b in source.poll():  # whatever arrived while stopping
                    if b.time_s[0] > last_time_s:
                        for g in b.gaps:
                            writer.add_gap(g)
                            gaps, lost = gaps + 1, lost + g.lost_samples
                        writer.append(b.time_s, b.acc_mps2, b.gyr_rps,
                                      device_time_s=b.device_time_s)
                        samples += b.n_samples
                        last_time_s = float(b.time_s[-1])
                drift = getattr(getattr(source, "decoder", None), "clock", None)
                writer.update_meta({"stats": {
                    "lost_samples": status.lost_samples, "lost_packets": status.lost_packets,
                    "bad_frames": status.bad_frames, "reconnects": status.reconnects,
                    "battery_pct_end": status.battery_pct,
                    "clock_drift_ppm": None if drift is None else round(drift.drift_ppm, 2),
                }})
            finally:
                writer.close()
    return RecordSummary(path, samples, last_time_s, gaps, lost, status)
