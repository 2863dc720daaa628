"""What every vendor profile shares: recognition, metadata and the stream decoders.

Vendor sensors differ from our own profile in three ways the stream layer must absorb:

- most carry no sequence number (lost notifications show only as device-time jumps);
- some carry no device clock at all (WitMotion, Thingy:52): their samples are timed from
  host arrival and the nominal rate (:class:`ArrivalTimedDecoder`), marked approximate;
- some deliver nothing for a notification (half of a split packet, or one stream of a
  pair still waiting for the other), and some have no gyroscope (Polar H10).

A profile's ``decode`` therefore returns ``Frame | None`` (``None``: nothing complete
yet) and its ``make_decoder`` builds the matching stream decoder.
"""

from __future__ import annotations

import collections
import dataclasses
import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from firmware_bridge.profiles.pelviscope_profile import (
    SEQ_MODULUS,
    STANDARD_G_MPS2,
    FloatArray,
    Frame,
    FrameError,
)
from firmware_bridge.source import Batch
from firmware_bridge.stream import StreamDecoder
from recordings.data import Gap

if TYPE_CHECKING:
    from bleak import BleakClient

#: ``meta["timing"]`` values (recordings/README.md).
TIMING_DEVICE_CLOCK = "device_clock"
TIMING_HOST_ARRIVAL = "host_arrival_approximate"
DEG2RAD = math.pi / 180.0
G_MPS2 = STANDARD_G_MPS2
#: Device-time modulus the stream decoder unwraps (u32 microseconds).
US_MODULUS = 1 << 32


def sig_uuid(short: int, base: str = "-0000-1000-8000-00805f9b34fb") -> str:
    """A 16-bit UUID on a 128-bit base, lower case (``base`` starts with the first dash)."""
    return f"{short:08x}{base}"


class VendorProfile:
    """Base of the off-the-shelf sensor profiles (see :class:`~.base.Profile`).

    Subclasses set the class attributes and implement :meth:`start`, :meth:`stop` and
    :meth:`decode`. Instances hold per-connection state (rate, factors, reassembly).
    """

    #: Command-line name (``pelviscope record --simulate --device KIND``).
    kind: str = ""
    #: Profile name stored in recordings.
    name: str = ""
    #: Service UUIDs (lower case) that identify the device in advertisements.
    service_uuids: tuple[str, ...] = ()
    #: Advertised-name prefixes that identify the device (case-insensitive).
    name_prefixes: tuple[str, ...] = ()
    #: Human-readable model name.
    model: str = ""
    #: Nominal output data rate requested by default.
    default_rate_hz: float = 100.0
    #: Rates the device accepts.
    rates_hz: tuple[float, ...] = ()
    has_gyr: bool = True
    timing: str = TIMING_DEVICE_CLOCK
    acc_range_g: int = 16
    gyr_range_dps: int = 2000
    #: What pelviscope cannot get from this sensor (stored in the recording metadata).
    limitations: tuple[str, ...] = ()

    def __init__(self, rate_hz: float | None = None) -> None:
        rate = float(rate_hz) if rate_hz is not None else self.default_rate_hz
        if self.rates_hz and rate not in self.rates_hz:
            rate = min(self.rates_hz, key=lambda r: abs(r - rate))
        self.rate_hz = rate

    def matches(self, local_name: str | None, service_uuids: Sequence[str]) -> bool:
        """True if the advertisement carries one of our services or name prefixes."""
        uuids = {u.lower() for u in service_uuids}
        if uuids & set(self.service_uuids):
            return True
        name = (local_name or "").lower()
        return any(name.startswith(p.lower()) for p in self.name_prefixes)

    def make_decoder(self, session_origin_s: float = 0.0) -> StreamDecoder:
        """The stream decoder for this profile's notifications."""
        if self.timing == TIMING_HOST_ARRIVAL:
            return ArrivalTimedDecoder(self, session_origin_s=session_origin_s)
        return VendorStreamDecoder(self, session_origin_s=session_origin_s)

    def describe(self) -> dict[str, Any]:
        """What the client reports about the device once started (status and metadata)."""
        return {
            "profile": self.name,
            "sensor_kind": self.kind,
            "model": self.model,
            "rate_hz": self.rate_hz,
            "acc_range_g": self.acc_range_g,
            "gyr_range_dps": self.gyr_range_dps if self.has_gyr else None,
            "timing": self.timing,
            "channels": ["acc", "gyr"] if self.has_gyr else ["acc"],
            "limitations": list(self.limitations),
        }

    def frame(self, acc_mps2: FloatArray, gyr_rps: FloatArray | None,
              device_time_us: float = 0.0, rate_hz: float | None = None) -> Frame:
        """Wrap decoded samples as a :class:`Frame`.

        Without a gyroscope the frame carries zeros, which the stream decoder drops.
        """
        acc = np.asarray(acc_mps2, dtype=np.float64).reshape(-1, 3)
        gyr = np.zeros_like(acc) if gyr_rps is None else np.asarray(gyr_rps, np.float64)
        return Frame(0, round(float(device_time_us)) % US_MODULUS, rate_hz or self.rate_hz,
                     self.acc_range_g, self.gyr_range_dps, acc, gyr.reshape(-1, 3))

    async def start(self, client: BleakClient,
                    on_data: Callable[[bytes], None]) -> dict[str, Any]:
        """Configure and start streaming (subclasses)."""
        raise NotImplementedError

    async def stop(self, client: BleakClient) -> None:
        """Stop streaming (subclasses; best effort)."""

    def decode(self, notification: bytes) -> Frame | None:
        """Decode one notification; None when it completes no samples yet."""
        raise NotImplementedError


def _count_bad(decoder: StreamDecoder, exc: FrameError) -> None:
    attr = {"short": "short_frames", "version": "unknown_version_frames"}
    name = attr.get(exc.kind, "corrupt_frames")
    setattr(decoder.counters, name, getattr(decoder.counters, name) + 1)


def _decode_counting_bad(
    decoder: StreamDecoder, profile: VendorProfile, payload: bytes | bytearray
) -> Frame | None:
    """``profile.decode(payload)``; a bad frame is counted on ``decoder`` and gives None."""
    try:
        return profile.decode(bytes(payload))
    except FrameError as exc:
        _count_bad(decoder, exc)
        return None


class VendorStreamDecoder(StreamDecoder):
    """Stream decoder for vendor sensors that stamp samples with their own clock.

    Vendor frames carry no sequence number: each decoded frame gets the next number of a
    local counter, so lost notifications are found only from device-time jumps (their
    sample count is exact; ``lost_packets`` is estimated from it and the frame size).

    Parameters
    ----------
    profile : VendorProfile
        The profile whose ``decode`` turns notifications into frames.
    session_origin_s : float
        Host time that is ``time_s == 0``.
    """

    def __init__(self, profile: VendorProfile, *, session_origin_s: float = 0.0) -> None:
        self._pending: Frame | None = None
        super().__init__(self._take, session_origin_s=session_origin_s)
        self.profile = profile
        self._local_seq = 0

    def _take(self, _payload: bytes) -> Frame:
        assert self._pending is not None
        return self._pending

    def feed(self, payload: bytes | bytearray, host_s: float) -> Batch | None:
        """Decode one notification received at host time ``host_s``."""
        frame = _decode_counting_bad(self, self.profile, payload)
        if frame is None:
            return None
        self._pending = dataclasses.replace(frame, seq=self._local_seq)
        self._local_seq = (self._local_seq + 1) % SEQ_MODULUS
        batch = super().feed(payload, host_s)
        if batch is None:
            return None
        for g in batch.gaps:
            if g.reason == "packet_loss":
                self.counters.lost_packets += math.ceil(g.lost_samples / frame.n_samples)
        if not self.profile.has_gyr:
            batch = dataclasses.replace(batch, gyr_rps=None)
        return batch


class ArrivalTimedDecoder(StreamDecoder):
    """Time samples of a sensor without a clock from host arrival and the nominal rate.

    Samples are spaced at the nominal rate and anchored to the *earliest* arrivals (a
    lower envelope): when the timeline runs ahead of an arrival, the spacing of that
    notification is compressed (at most by half); when every arrival of the last
    ``window_s`` came later than the timeline, it is stretched (at most by a quarter).
    An arrival later than ``gap_threshold_s`` behind the timeline is a gap whose lost
    samples are *estimated* from the delay. Shorter losses cannot be told from latency
    jitter: they are absorbed by the stretching. Everything is approximate, and said so
    (``meta["timing"] = "host_arrival_approximate"``).

    Parameters
    ----------
    profile : VendorProfile
        The profile whose ``decode`` turns notifications into frames.
    session_origin_s : float
        Host time that is ``time_s == 0``.
    gap_threshold_s : float, optional
        Delay behind the timeline that counts as lost data (default ``max(0.2 s, 3
        periods)``).
    window_s : float
        Window of the earliest-arrival tracking.
    """

    def __init__(self, profile: VendorProfile, *, session_origin_s: float = 0.0,
                 gap_threshold_s: float | None = None, window_s: float = 2.0) -> None:
        super().__init__(session_origin_s=session_origin_s)
        self.profile = profile
        self.gap_threshold_s = gap_threshold_s
        self.window_s = window_s
        self._t_last: float | None = None
        self._lags: collections.deque[tuple[float, float]] = collections.deque()

    def feed(self, payload: bytes | bytearray, host_s: float) -> Batch | None:
        """Decode one notification received at host time ``host_s``."""
        frame = _decode_counting_bad(self, self.profile, payload)
        if frame is None:
            return None
        n, rate = frame.n_samples, frame.rate_hz
        period = 1.0 / rate
        h = host_s - self.session_origin_s
        gaps: list[Gap] = []
        offsets = np.arange(1, n + 1, dtype=np.float64) * period
        if self._t_last is None or self._interrupted is not None:
            times = h - offsets[::-1] + period
            if self._t_last is not None:
                lost = max(0, round((times[0] - self._t_last) * rate) - 1)
                gaps.append(Gap(self._t_last, float(times[0]), lost, self._interrupted or ""))
                self.counters.lost_samples += lost
                times = np.maximum(times, self._t_last + offsets * 1e-3)
            self._lags.clear()
        else:
            threshold = self.gap_threshold_s or max(0.2, 3 * period)
            lag = h - (self._t_last + n * period)
            if lag > threshold:
                lost = max(0, round(lag * rate))
                times = self._t_last + offsets + lost * period
                gaps.append(Gap(self._t_last, float(times[0]), lost, "packet_loss"))
                self.counters.lost_samples += lost
                self.counters.lost_packets += math.ceil(lost / n)
                self._lags.clear()
            elif lag < 0:
                times = self._t_last + offsets * (1.0 - min(-lag / (n * period), 0.5))
            else:
                while self._lags and self._lags[0][0] < h - self.window_s:
                    self._lags.popleft()
                span = h - self._lags[0][0] if self._lags else 0.0
                min_lag = min([lag, *(g for _, g in self._lags)])
                stretch = 0.0
                if span > self.window_s / 2:
                    stretch = min(max(min_lag, 0.0) / (n * period), 0.25)
                times = self._t_last + offsets * (1.0 + stretch)
            self._lags.append((h, h - float(times[-1])))
        self._interrupted = None
        self._t_last = float(times[-1])
        self.counters.frames += 1
        self.counters.samples += n
        return Batch(
            time_s=times,
            acc_mps2=frame.acc_mps2,
            gyr_rps=frame.gyr_rps if self.profile.has_gyr else None,
            rate_hz=rate,
            device_time_s=None,
            host_time_s=np.full(n, h),
            seq=None,
            gaps=tuple(gaps),
        )
