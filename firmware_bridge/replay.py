"""A recording played back through the :class:`~firmware_bridge.source.SampleSource` interface.

The live dashboard, the recorder and their tests take a :class:`ReplaySource` exactly as
they take the BLE client: the same batches (times, gaps before a batch, device time),
the same status. Two paces:

* ``speed=None`` (tests, batch tools): each :meth:`ReplaySource.poll` hands out the next
  ``batches_per_poll`` batches at once - deterministic, no real time involved;
* ``speed=x``: batches come when their samples would have arrived, ``x`` times faster
  than real time, on the given clock (a demo of a recorded session in the live window).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from firmware_bridge.source import Batch, SourceStatus, State
from recordings.data import Recording
from recordings.units import DEG_TO_RAD, G_MPS2


class ReplaySource:
    """Play ``recording`` as a live source.

    Parameters
    ----------
    recording : Recording
        What to play (its gaps are reported before the first sample after each).
    batch_samples : int
        Samples per batch (a BLE notification carries a handful).
    speed : float or None
        None: as fast as polled (``batches_per_poll`` per poll); else this many times
        real time.
    batches_per_poll : int
        Batches per poll when ``speed`` is None.
    clock : callable
        Seconds, monotonic (for ``speed``).
    """

    def __init__(
        self,
        recording: Recording,
        *,
        batch_samples: int = 10,
        speed: float | None = None,
        batches_per_poll: int = 10,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if batch_samples < 1 or batches_per_poll < 1:
            raise ValueError("batch_samples and batches_per_poll must be at least 1")
        if speed is not None and not speed > 0:
            raise ValueError(f"speed must be positive, got {speed}")
        self.recording = recording
        self.batch_samples = batch_samples
        self.speed = speed
        self.batches_per_poll = batches_per_poll
        self.clock = clock
        self._next = 0  # index of the next sample to hand out
        self._started_at: float | None = None
        self._state = State.IDLE
        self._gap_ends = np.array([g.end_s for g in recording.gaps], dtype=float)
        # A batch never spans a gap: batches also start at each gap's first sample after.
        self._cuts = np.unique(
            np.searchsorted(recording.time_s, self._gap_ends - 1e-9).astype(np.int64)
        )

    @property
    def done(self) -> bool:
        """Every sample has been handed out."""
        return self._next >= self.recording.n_samples

    def start(self) -> None:
        """Start (the replay clock starts now)."""
        self._started_at = self.clock()
        self._state = State.STREAMING

    def stop(self) -> None:
        """Stop; idempotent."""
        if self._state is not State.IDLE:
            self._state = State.DISCONNECTED

    def poll(self) -> list[Batch]:
        """The batches due since the last call (never blocks)."""
        if self._state is not State.STREAMING or self._started_at is None:
            return []
        rec = self.recording
        if self.speed is None:
            stop = self._next + self.batches_per_poll * self.batch_samples
        else:
            due_s = rec.time_s[0] + (self.clock() - self._started_at) * self.speed
            stop = int(np.searchsorted(rec.time_s, due_s, side="right"))
        stop = min(stop, rec.n_samples)
        out = []
        a = self._next
        while a < stop:
            cut = self._cuts[np.searchsorted(self._cuts, a, side="right") :]
            b = min(a + self.batch_samples, stop, int(cut[0]) if cut.size else stop)
            out.append(self._batch(a, b))
            a = b
        self._next = max(self._next, stop)
        if self.done:
            self._state = State.DISCONNECTED
        return out

    def _batch(self, a: int, b: int) -> Batch:
        rec = self.recording
        t = rec.time_s[a:b]
        # Gaps that end at this batch's first sample (between the previous sample and it).
        before = rec.time_s[a - 1] if a else -np.inf
        gaps = tuple(
            g for g, end in zip(rec.gaps, self._gap_ends, strict=True)
            if before < end <= t[0] + 1e-9
        )  # fmt: skip
        return Batch(
            time_s=t,
            acc_mps2=rec.acc_mps2[a:b],
            gyr_rps=None if rec.gyr_rps is None else rec.gyr_rps[a:b],
            rate_hz=rec.rate_hz,
            device_time_s=None if rec.device_time_s is None else rec.device_time_s[a:b],
            gaps=gaps,
        )

    @property
    def status(self) -> SourceStatus:
        """Samples handed out and lost so far; the recording's device as the device."""
        rec = self.recording
        played_to = rec.time_s[self._next - 1] if self._next else -np.inf
        lost = sum(g.lost_samples for g in rec.gaps if g.end_s <= played_to)
        device = replayed_device(rec)
        return SourceStatus(
            state=self._state,
            rate_hz=rec.rate_hz if self._state is State.STREAMING else 0.0,
            samples=self._next,
            lost_samples=lost,
            device=device,
        )


def replayed_device(rec: Recording) -> dict[str, object]:
    """What a source would have said about the device that made ``rec`` (its header)."""
    meta = rec.meta
    stated = meta.get("device")
    device: dict[str, object] = (
        dict(stated) if isinstance(stated, dict) else {"name": str(stated or "replay")}
    )
    device["rate_hz"] = rec.rate_hz
    for key in ("profile", "firmware", "timing", "sensor_kind", "limitations", "clock_sync"):
        if meta.get(key):
            device[key] = meta[key]
    ranges = meta.get("ranges")
    if isinstance(ranges, dict):
        acc_g, gyr_dps = ranges.get("acc_g"), ranges.get("gyr_dps")
        if acc_g is None and ranges.get("acc_mps2") is not None:
            acc_g = float(ranges["acc_mps2"]) / G_MPS2
        if gyr_dps is None and ranges.get("gyr_rps") is not None:
            gyr_dps = float(ranges["gyr_rps"]) / DEG_TO_RAD
        device["acc_range_g"], device["gyr_range_dps"] = acc_g, gyr_dps
    if rec.gyr_rps is None:
        device["channels"] = ["acc"]
    return device
