"""The one interface every producer of samples offers (BLE client, emulated sensor, replay).

The GUI and the recorder only see :class:`SampleSource`: ``start()``, ``stop()``,
``poll() -> list[Batch]`` (never blocks) and ``status``. A source runs its own thread
and hands decoded batches over a thread-safe queue.
"""

from __future__ import annotations

import enum
import queue
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

from recordings.data import Gap

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class Batch:
    """Consecutive samples, decoded and timed, plus the gaps just before them.

    Attributes
    ----------
    time_s : ndarray, shape (N,)
        Sample times on the session clock (seconds since the source started).
    acc_mps2 : ndarray, shape (N, 3)
        Specific force in the sensor frame, m/s^2.
    gyr_rps : ndarray, shape (N, 3) or None
        Angular velocity in the sensor frame, rad/s.
    device_time_s : ndarray, shape (N,) or None
        The device clock (unwrapped) for each sample.
    host_time_s : ndarray, shape (N,) or None
        Host receive time of the notification that carried each sample (session clock).
    seq : ndarray, shape (N,), int or None
        Sequence number of the notification that carried each sample.
    rate_hz : float
        Output data rate of these samples.
    gaps : tuple of Gap
        Gaps that end at the first sample of this batch (lost packets, a disconnect).
    """

    time_s: FloatArray
    acc_mps2: FloatArray
    gyr_rps: FloatArray | None
    rate_hz: float
    device_time_s: FloatArray | None = None
    host_time_s: FloatArray | None = None
    seq: NDArray[np.int64] | None = None
    gaps: tuple[Gap, ...] = ()

    @property
    def n_samples(self) -> int:
        """Number of samples."""
        return int(self.time_s.shape[0])


class State(enum.Enum):
    """Connection state of a source."""

    IDLE = "idle"
    SCANNING = "scanning"
    CONNECTING = "connecting"
    STREAMING = "streaming"
    RECONNECTING = "reconnecting"
    DISCONNECTED = "disconnected"
    FAILED = "failed"


@dataclass(frozen=True)
class SourceStatus:
    """Snapshot of a source's health, safe to read from any thread.

    Attributes
    ----------
    state : State
        Connection state.
    rate_hz : float
        Measured sample rate over the last seconds (0 when nothing arrives).
    samples : int
        Samples delivered so far.
    lost_samples, lost_packets : int
        Samples and notifications known to be lost (gaps).
    bad_frames : int
        Notifications that were short, corrupt or of an unknown version (skipped).
    reconnects : int
        Successful reconnections after a drop.
    battery_pct : int or None
        Last battery level read or notified.
    device : dict
        What is known about the device: name, address, manufacturer, model,
        firmware, rate_hz, ranges, mtu.
    error : str
        Last error, as one line (empty when fine).
    """

    state: State = State.IDLE
    rate_hz: float = 0.0
    samples: int = 0
    lost_samples: int = 0
    lost_packets: int = 0
    bad_frames: int = 0
    reconnects: int = 0
    battery_pct: int | None = None
    device: dict[str, Any] = field(default_factory=dict)
    error: str = ""


@runtime_checkable
class SampleSource(Protocol):
    """Anything that produces timed IMU samples for the GUI or the recorder."""

    def start(self) -> None:
        """Start producing (returns at once; work happens in the source's thread)."""

    def stop(self) -> None:
        """Stop and release everything; idempotent."""

    def poll(self) -> list[Batch]:
        """Every batch produced since the last call; never blocks."""
        ...

    @property
    def status(self) -> SourceStatus:
        """A snapshot of the source's health."""
        ...


def drain(q: queue.Queue[Batch]) -> list[Batch]:
    """Take everything currently in ``q`` without blocking."""
    out: list[Batch] = []
    while True:
        try:
            out.append(q.get_nowait())
        except queue.Empty:
            return out
