"""The in-memory form of a session's raw samples, shared by every producer and consumer."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class Gap:
    """A span without samples (lost packets, a disconnect).

    Attributes
    ----------
    start_s, end_s : float
        Time of the last sample before and the first sample after the gap, on the
        session clock (``time_s``).
    lost_samples : int
        Number of samples known or estimated to be missing.
    reason : str
        ``"packet_loss"``, ``"disconnect"``, ``"time_jump"`` ...
    """

    start_s: float
    end_s: float
    lost_samples: int = 0
    reason: str = "packet_loss"


@dataclass(frozen=True)
class Marker:
    """A user marker (button press, annotation) at a time on the session clock."""

    time_s: float
    label: str = ""
    note: str = ""


@dataclass
class Recording:
    """Raw IMU samples of one session plus everything known about it.

    Attributes
    ----------
    time_s : ndarray, shape (N,)
        Sample times in seconds on the session clock (host-aligned, starts near 0),
        strictly increasing.
    acc_mps2 : ndarray, shape (N, 3)
        Specific force in the SENSOR frame, m/s^2.
    gyr_rps : ndarray, shape (N, 3) or None
        Angular velocity in the SENSOR frame, rad/s; None for accelerometer-only sensors.
    mag : ndarray, shape (N, 3) or None
        Magnetic field, any consistent unit (uT in native recordings), or None.
    device_time_s : ndarray, shape (N,) or None
        The device's own (unwrapped) clock for each sample, if the sensor has one.
    rate_hz : float
        Nominal output data rate.
    gaps : list of Gap
        Every known span of lost data.
    markers : list of Marker
        User markers.
    meta : dict
        Self-describing metadata (see ``recordings/README.md``).
    warnings : list of str
        What went wrong while loading (truncation, corruption) - data up to there is kept.
    """

    time_s: FloatArray
    acc_mps2: FloatArray
    gyr_rps: FloatArray | None
    rate_hz: float
    mag: FloatArray | None = None
    device_time_s: FloatArray | None = None
    gaps: list[Gap] = field(default_factory=list)
    markers: list[Marker] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @property
    def n_samples(self) -> int:
        """Number of samples."""
        return int(self.time_s.shape[0])

    @property
    def duration_s(self) -> float:
        """Time from the first to the last sample."""
        return float(self.time_s[-1] - self.time_s[0]) if self.n_samples else 0.0

    @property
    def has_gyr(self) -> bool:
        """True when angular velocity is available."""
        return self.gyr_rps is not None
