"""Recording the live stream to the native format, with markers (no Qt).

A recording never replaces a file: the name is checked when recording starts, and the
file itself is created exclusively (``O_EXCL``) with the first batch, so a second
recorder - or a file that appeared meanwhile - makes this one fail with one line
(:class:`recordings.files.OutputError`) and leaves the other file as it was.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from pathlib import Path
from typing import Any

from firmware_bridge.source import Batch, SourceStatus
from recordings import Gap, Marker, RecordingWriter
from recordings.files import check_writable


def fresh_name(folder: Path, stem: str, suffix: str) -> Path:
    """``folder/stem+suffix``, or with ``-2``, ``-3``, ... appended if that name is taken.

    Only a proposal: the file is still created exclusively, so a name taken meanwhile
    fails instead of being replaced.
    """
    path = folder / f"{stem}{suffix}"
    n = 2
    while os.path.lexists(path):
        path = folder / f"{stem}-{n}{suffix}"
        n += 1
    return path


def device_meta(status: SourceStatus) -> dict[str, Any]:
    """Recording metadata from what the source learned about the device."""
    dev = status.device
    return {
        "device": {k: dev.get(k) for k in ("name", "address", "manufacturer", "model", "mtu")
                   if dev.get(k) is not None},
        "profile": dev.get("profile"),
        "firmware": dev.get("firmware"),
        "ranges": {"acc_g": dev.get("acc_range_g"), "gyr_dps": dev.get("gyr_range_dps")},
    }


class LiveRecording:
    """One recording started from the dashboard.

    Sample times are stored relative to the first recorded sample (the recording starts
    near 0 s); ``meta["live_session_offset_s"]`` keeps the dashboard time of that sample.
    The file is created with the first batch (its rate is known then).

    Parameters
    ----------
    path : str or Path
        Output ``.psrec`` file.
    meta : dict
        Descriptive metadata (subject_id, session_id, notes, calibration ...).

    Raises
    ------
    recordings.files.OutputError
        ``path`` exists already or cannot be written (one line naming it and the reason).
    """

    def __init__(self, path: str | Path, meta: dict[str, Any]) -> None:
        check_writable(path, overwrite=False)
        self.path = Path(path)
        self.meta = {**meta, "start_time_utc": dt.datetime.now(dt.UTC).isoformat()}
        self.writer: RecordingWriter | None = None
        self.offset_s: float | None = None
        self.samples = 0
        self.markers: list[Marker] = []

    @property
    def duration_s(self) -> float:
        """Recorded time so far, s."""
        return self._last_s

    _last_s = 0.0

    def append(self, batch: Batch, status: SourceStatus) -> None:
        """Write one batch (and the gaps before it, if the recording has begun).

        Raises
        ------
        recordings.files.OutputError
            The file cannot be created (it appeared meanwhile, the disk is full, ...).
        OSError
            Writing failed later.
        """
        if self.writer is None:
            self.offset_s = float(batch.time_s[0])
            meta = {**device_meta(status), **self.meta,
                    "live_session_offset_s": self.offset_s}
            self.writer = RecordingWriter(self.path, meta, rate_hz=batch.rate_hz,
                                          has_gyr=batch.gyr_rps is not None, overwrite=False)
            for m in self.markers:  # pressed before the first sample arrived
                self.writer.add_marker(Marker(0.0, m.label, m.note))
        else:
            for g in batch.gaps:
                self.writer.add_gap(Gap(g.start_s - self._off, g.end_s - self._off,
                                        g.lost_samples, g.reason))
        self.writer.append(batch.time_s - self._off, batch.acc_mps2, batch.gyr_rps,
                           device_time_s=batch.device_time_s)
        self.samples += batch.n_samples
        self._last_s = float(batch.time_s[-1]) - self._off

    @property
    def _off(self) -> float:
        return 0.0 if self.offset_s is None else self.offset_s

    def add_marker(self, time_s: float, label: str = "", note: str = "") -> Marker:
        """A marker at dashboard time ``time_s`` (stored on the recording's clock)."""
        marker = Marker(max(0.0, time_s - self._off), label, note)
        self.markers.append(marker)
        if self.writer is not None:
            self.writer.add_marker(marker)
        return marker

    def update_meta(self, patch: dict[str, Any]) -> None:
        """Replace top-level metadata keys (e.g. ``calibration`` after calibrating)."""
        self.meta.update(patch)
        if self.writer is not None:
            self.writer.update_meta(patch)

    def close(self, status: SourceStatus | None = None) -> None:
        """Add the link statistics and close the file."""
        if self.writer is None:
            return
        if status is not None:
            self.writer.update_meta({"stats": {
                "lost_samples": status.lost_samples, "lost_packets": status.lost_packets,
                "bad_frames": status.bad_frames, "reconnects": status.reconnects,
                "battery_pct_end": status.battery_pct,
            }})
        writer, self.writer = self.writer, None
        writer.close()

    def abandon(self) -> None:
        """Close after a write error, keeping what was written; never raises."""
        writer, self.writer = self.writer, None
        if writer is not None:
            # The error that led here is what the user is told.
            with contextlib.suppress(OSError, ValueError):
                writer.close()
