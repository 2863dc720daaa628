"""Stream-level decoding: frames -> timed samples, with gaps, wraps and bad frames accounted.

:class:`StreamDecoder` turns a sequence of notifications (payload, host receive time)
into :class:`~firmware_bridge.source.Batch` es:

- sequence gaps and device-time jumps become explicit :class:`recordings.data.Gap`
  entries with the number of lost samples (counted from the device clock, so frames of
  any size are handled; none is ever invented);
- the wrapping device clock (u32 microseconds) and sequence number (u16) are unwrapped;
- a :class:`~firmware_bridge.timing.ClockModel` maps device time to host time so every
  sample gets ``time_s`` on the session clock; :meth:`StreamDecoder.sync_clock` anchors it
  to a measured device-to-host offset (GET_TIME), which removes the link's minimum
  latency the envelope fit alone cannot see;
- short, corrupt and unknown-version frames are counted and skipped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from firmware_bridge.profiles.pelviscope_profile import (
    DEVICE_TIME_MODULUS_US,
    SEQ_MODULUS,
    Frame,
    FrameError,
    decode_frame,
)
from firmware_bridge.source import Batch
from firmware_bridge.timing import ClockModel, OffsetEstimate, unwrap_counter
from recordings.data import Gap

#: A device-clock jump this much larger than the host elapsed time means the device reset.
RESET_TOLERANCE_S = 2.0
#: How fast an anchor is assumed to go stale (slope uncertainty, ppm): a newer offset
#: estimate replaces the anchor if its error bound is below the old bound plus this
#: times the time between them.
ANCHOR_AGING_PPM = 10.0


@dataclass
class StreamCounters:
    """What a :class:`StreamDecoder` has seen (all counts since creation)."""

    frames: int = 0
    samples: int = 0
    short_frames: int = 0
    unknown_version_frames: int = 0
    corrupt_frames: int = 0
    duplicate_frames: int = 0
    lost_packets: int = 0
    lost_samples: int = 0
    device_resets: int = 0

    @property
    def bad_frames(self) -> int:
        """Frames skipped as short, corrupt or of an unknown version."""
        return self.short_frames + self.unknown_version_frames + self.corrupt_frames


class StreamDecoder:
    """Decode one device's notification stream into timed batches.

    Parameters
    ----------
    decode : callable
        ``payload -> Frame``, raising :class:`FrameError` for bad frames (the profile's
        codec; ours by default).
    session_origin_s : float
        Host time that is ``time_s == 0`` on the session clock.
    clock_model : ClockModel, optional
        Device-to-host time model (a fresh one by default).
    """

    def __init__(
        self,
        decode: Callable[[bytes], Frame] = decode_frame,
        *,
        session_origin_s: float = 0.0,
        clock_model: ClockModel | None = None,
    ) -> None:
        self._decode = decode
        self.session_origin_s = session_origin_s
        self.clock = clock_model or ClockModel()
        self.counters = StreamCounters()
        self._prev: tuple[int, float, int, float] | None = None  # seq, d_first_s, n, rate
        self._last_time_s: float | None = None
        self._last_host_s: float | None = None
        self._interrupted: str | None = None
        self._pending_sync: OffsetEstimate | None = None
        #: The offset estimate the clock model is anchored to (None: envelope only).
        self.time_sync: OffsetEstimate | None = None

    def sync_clock(self, estimate: OffsetEstimate) -> bool:
        """Anchor the clock model to a measured offset (see :func:`timing.estimate_offset`).

        ``estimate.device_s`` is the wrapping device clock (u32 µs, in seconds); it is
        unwrapped onto this stream's device timeline when the next frame arrives (or at
        once if frames were already seen). An estimate replaces the current anchor unless
        the current one is better even after aging by :data:`ANCHOR_AGING_PPM`.

        Returns
        -------
        bool
            True if the estimate was accepted.
        """
        cur = self._pending_sync or self.time_sync
        if cur is not None:
            aged = cur.error_bound_s + ANCHOR_AGING_PPM * 1e-6 * abs(estimate.host_s - cur.host_s)
            if estimate.error_bound_s > aged:
                return False
        self._pending_sync = estimate
        if self._prev is not None and self.clock.n_pairs > 0:
            self._apply_sync(self.clock.to_device(estimate.host_s))
        return True

    def _apply_sync(self, predicted_device_s: float) -> None:
        """Unwrap the pending estimate near ``predicted_device_s`` and anchor the model."""
        est = self._pending_sync
        if est is None:
            return
        us = unwrap_counter(round(est.device_s * 1e6) % DEVICE_TIME_MODULUS_US,
                            predicted_device_s * 1e6, DEVICE_TIME_MODULUS_US)
        self.clock.anchor(us * 1e-6, est.host_s)
        self.time_sync, self._pending_sync = est, None

    def mark_interruption(self, reason: str = "disconnect") -> None:
        """Say that the stream was interrupted (drop, stop); the next gap gets ``reason``."""
        self._interrupted = reason

    def feed_many(self, items: Iterable[tuple[bytes, float]]) -> list[Batch]:
        """Feed several ``(payload, host_s)`` pairs; return the batches produced."""
        return [b for p, h in items if (b := self.feed(p, h)) is not None]

    def feed(self, payload: bytes | bytearray, host_s: float) -> Batch | None:
        """Decode one notification received at host time ``host_s``.

        Returns
        -------
        Batch or None
            None when the frame was skipped (bad or duplicate).
        """
        try:
            frame = self._decode(bytes(payload))
        except FrameError as exc:
            attr = {"short": "short_frames", "version": "unknown_version_frames"}
            name = attr.get(exc.kind, "corrupt_frames")
            setattr(self.counters, name, getattr(self.counters, name) + 1)
            return None
        n, rate = frame.n_samples, frame.rate_hz
        d_first = self._unwrap_time(frame, host_s)
        gaps: list[Gap] = []
        skip = 0
        reason = self._interrupted or "packet_loss"
        if self._prev is not None:
            p_seq, p_first, p_n, p_rate = self._prev
            expected = p_first + p_n / p_rate
            lost = round((d_first - expected) * rate)
            elapsed = host_s - (self._last_host_s or host_s)
            if lost < -n and self._interrupted is None and frame.seq == p_seq:
                self.counters.duplicate_frames += 1
                return None
            if lost < 0 or (d_first - expected) > elapsed + RESET_TOLERANCE_S:
                if self._interrupted is None and lost >= -n and lost < 0:
                    skip = -lost  # overlap with what we already have
                else:  # the device clock went backwards or leapt: it reset
                    self.counters.device_resets += 1
                    self.clock.reset()
                    self.time_sync = None  # the anchor was on the old device timeline
                    d_first = frame.device_time_us * 1e-6
                    est = (host_s - (n - 1) / rate) - (self._last_host_s or host_s)
                    lost, reason = max(0, round(est * rate) - 1), "device_reset"
            if skip >= n:
                self.counters.duplicate_frames += 1
                return None
            if self._interrupted is None:
                self.counters.lost_packets += (frame.seq - p_seq - 1) % SEQ_MODULUS
            if lost > 0:
                gaps.append(Gap(0.0, 0.0, lost_samples=int(lost), reason=reason))
                self.counters.lost_samples += int(lost)
        self._interrupted = None
        self._prev = (frame.seq, d_first, n, rate)
        dev_s = d_first + np.arange(n, dtype=np.float64) / rate
        if self._pending_sync is not None:  # unwrap it next to this frame's device time
            self._apply_sync(float(dev_s[-1]) + (self._pending_sync.host_s - host_s))
        self.clock.add(float(dev_s[-1]), host_s)
        time_s = self.clock.to_host(dev_s) - self.session_origin_s
        if skip:
            dev_s, time_s = dev_s[skip:], time_s[skip:]
        if self._last_time_s is not None and time_s[0] <= self._last_time_s:
            time_s = time_s + (self._last_time_s - time_s[0] + 1e-6)
        if gaps:
            g = gaps[0]
            gaps[0] = Gap(self._last_time_s or 0.0, float(time_s[0]), g.lost_samples, g.reason)
        self._last_time_s = float(time_s[-1])
        self._last_host_s = host_s
        self.counters.frames += 1
        self.counters.samples += n - skip
        m = n - skip
        return Batch(
            time_s=time_s,
            acc_mps2=frame.acc_mps2[skip:],
            gyr_rps=frame.gyr_rps[skip:],
            rate_hz=rate,
            device_time_s=dev_s,
            host_time_s=np.full(m, host_s - self.session_origin_s),
            seq=np.full(m, frame.seq, dtype=np.int64),
            gaps=tuple(gaps),
        )

    def _unwrap_time(self, frame: Frame, host_s: float) -> float:
        """Unwrapped device time of the frame's first sample, in seconds."""
        if self.clock.n_pairs == 0:
            if self._prev is None:
                return frame.device_time_us * 1e-6
            predicted_s = self._prev[1] + (host_s - (self._last_host_s or host_s))
        else:
            predicted_s = self.clock.to_device(host_s) - (frame.n_samples - 1) / frame.rate_hz
        us = unwrap_counter(frame.device_time_us, predicted_s * 1e6, DEVICE_TIME_MODULUS_US)
        return us * 1e-6

    def retime(self, device_time_s: np.ndarray) -> np.ndarray:
        """Session times of device times under the current (latest) clock fit."""
        return self.clock.to_host(device_time_s) - self.session_origin_s
