"""The one place a stream becomes a recording file: :class:`RecordingSink`.

``pelviscope record`` (:func:`firmware_bridge.recorder.record`) and the live dashboard
both write through it, so a recording states the same things whichever app made it:
device, profile, firmware, ranges, how its samples were timed (``timing``), what the
sensor cannot do (``limitations``, ``gyroscope``), the clock model (``clock_sync``), the
packet sequence numbers, and the link statistics at the end.

The file is created exclusively (``O_EXCL``) with the first batch (the rate is known
then): a second recorder on the same name, or a file that appeared meanwhile, fails with
one line (:class:`recordings.files.OutputError`) and the other file stays as it was.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from pathlib import Path
from typing import Any

from firmware_bridge.source import Batch, SourceStatus
from recordings import Gap, Marker, RecordingWriter
from recordings.files import check_writable


def recording_meta(status: SourceStatus, meta: dict[str, Any]) -> dict[str, Any]:
    """``meta`` plus what the source learned about the device (``meta`` wins)."""
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


def clock_drift_ppm(source: object) -> float | None:
    """The drift of the device clock a BLE source estimated (None for other sources)."""
    clock = getattr(getattr(source, "decoder", None), "clock", None)
    return None if clock is None else round(float(clock.drift_ppm), 2)


class RecordingSink:
    """Batches of one stream into one ``.psrec`` file.

    Parameters
    ----------
    path : str or Path
        Output file (checked at once: it must not exist unless ``overwrite``).
    meta : dict
        Descriptive metadata (subject_id, session_id, notes, calibration ...); the
        device's is added from the source's status with the first batch.
    rebase : bool
        Store times relative to the first recorded sample (a recording started in the
        middle of a live stream); ``meta["live_session_offset_s"]`` keeps the stream time
        of that sample. Gaps before the first recorded sample are then not part of it.
    overwrite : bool
        Replace an existing file.

    Raises
    ------
    recordings.files.OutputError
        ``path`` exists (without ``overwrite``) or cannot be written.
    """

    def __init__(
        self, path: str | Path, meta: dict[str, Any], *, rebase: bool = False,
        overwrite: bool = False,
    ) -> None:  # fmt: skip
        check_writable(path, overwrite=overwrite)
        self.path = Path(path)
        self.meta = {**meta, "start_time_utc": dt.datetime.now(dt.UTC).isoformat()}
        self.rebase = rebase
        self.overwrite = overwrite
        self.writer: RecordingWriter | None = None
        self.offset_s: float | None = None
        self.samples = 0
        self.gaps = 0
        self.lost_samples = 0
        self.markers: list[Marker] = []
        #: Time of the last sample written, on the stream's clock.
        self.last_time_s = 0.0

    @property
    def duration_s(self) -> float:
        """Recorded time so far, s."""
        return max(0.0, self.last_time_s - self._off)

    @property
    def _off(self) -> float:
        return self.offset_s if self.rebase and self.offset_s is not None else 0.0

    def append(self, batch: Batch, status: SourceStatus) -> None:
        """Write one batch and the gaps before it.

        Raises
        ------
        recordings.files.OutputError
            The file cannot be created (it appeared meanwhile, the disk is full, ...).
        OSError
            Writing failed later.
        """
        first = self.writer is None
        if self.writer is None:
            self.offset_s = float(batch.time_s[0])
            meta = recording_meta(status, self.meta)
            if self.rebase:
                meta["live_session_offset_s"] = self.offset_s
            self.writer = RecordingWriter(self.path, meta, rate_hz=batch.rate_hz,
                                          has_gyr=batch.gyr_rps is not None,
                                          overwrite=self.overwrite)  # fmt: skip
            for m in self.markers:  # set before the first sample arrived
                self.writer.add_marker(m)
        if not (first and self.rebase):
            off = self._off
            for g in batch.gaps:
                self.writer.add_gap(Gap(g.start_s - off, g.end_s - off, g.lost_samples, g.reason))
                self.gaps, self.lost_samples = self.gaps + 1, self.lost_samples + g.lost_samples
        self.writer.append(batch.time_s - self._off, batch.acc_mps2, batch.gyr_rps,
                           device_time_s=batch.device_time_s,
                           seq=None if batch.seq is None else int(batch.seq[0]))  # fmt: skip
        self.samples += batch.n_samples
        self.last_time_s = float(batch.time_s[-1])

    def add_marker(self, time_s: float, label: str = "", note: str = "") -> Marker:
        """A marker at stream time ``time_s`` (stored on the recording's clock)."""
        if self.rebase and self.offset_s is None:  # the recording will start with this
            marker = Marker(0.0, label, note)
        else:
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

    def close(self, status: SourceStatus | None = None, drift_ppm: float | None = None) -> None:
        """Add the link statistics and close the file (nothing to do before a first batch)."""
        writer, self.writer = self.writer, None
        if writer is None:
            return
        try:  # the file is closed even when the disk is full
            if status is not None:
                writer.update_meta({"stats": {
                    "lost_samples": status.lost_samples, "lost_packets": status.lost_packets,
                    "bad_frames": status.bad_frames, "reconnects": status.reconnects,
                    "battery_pct_end": status.battery_pct, "clock_drift_ppm": drift_ppm,
                }})  # fmt: skip
        finally:
            writer.close()

    def abandon(self) -> None:
        """Close after a write error, keeping what was written; never raises."""
        writer, self.writer = self.writer, None
        if writer is not None:
            # The error that led here is what the user is told.
            with contextlib.suppress(OSError, ValueError):
                writer.close()
