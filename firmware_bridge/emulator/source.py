"""Build a :class:`~firmware_bridge.client.BleSource` that reaches an emulated sensor.

The emulated sensor runs in the client's own loop (a companion) and the client talks to
it through the bumble bleak backend: exactly the client code used with real hardware.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from firmware_bridge.client import BleSource
from firmware_bridge.emulator.air import ScaledClock
from firmware_bridge.emulator.bleak_backend import BUMBLE_BACKEND
from firmware_bridge.emulator.sensor import EmulatedSensor, FaultConfig
from firmware_bridge.profiles.base import Profile
from firmware_bridge.profiles.pelviscope import PelviscopeProfile
from firmware_bridge.profiles.pelviscope_profile import StreamConfig
from recordings.units import G_MPS2

FloatArray = NDArray[np.float64]


def synthetic_signal(duration_s: float, rate_hz: float) -> tuple[FloatArray, FloatArray]:
    """A simple synthetic IMU signal: gravity plus slow sinusoids (m/s^2, rad/s)."""
    t = np.arange(round(duration_s * rate_hz)) / rate_hz
    acc = np.column_stack([0.8 * np.sin(2 * np.pi * 0.9 * t), 0.5 * np.cos(2 * np.pi * 1.8 * t),
                           G_MPS2 + 0.3 * np.sin(2 * np.pi * 0.9 * t)])
    gyr = np.column_stack([0.4 * np.sin(2 * np.pi * 0.9 * t), 0.2 * np.cos(2 * np.pi * 0.45 * t),
                           0.1 * np.sin(2 * np.pi * 0.3 * t)])
    return acc, gyr


def emulated_source(
    acc_mps2: FloatArray,
    gyr_rps: FloatArray,
    *,
    rate_hz: float,
    faults: FaultConfig | None = None,
    time_scale: float = 1.0,
    sensor_kwargs: dict[str, Any] | None = None,
    kind: str = "pelviscope",
    **source_kwargs: Any,
) -> tuple[BleSource, EmulatedSensor]:
    """An emulated sensor streaming these arrays, and a client connected to it.

    Parameters
    ----------
    acc_mps2, gyr_rps : ndarray, shape (N, 3)
        The signal (looped), sampled at ``rate_hz``.
    rate_hz : float
        Rate of the arrays and the rate the client asks for.
    faults : FaultConfig, optional
        Faults the emulated firmware injects.
    time_scale : float
        Run the session this many times faster than real time (tests).
    sensor_kwargs : dict, optional
        More :class:`EmulatedSensor` arguments (``clock_ppm``, ``seq_start``, ...).
    kind : str
        Firmware personality: a key of :data:`firmware_bridge.emulator.vendors.SENSORS`
        (``"pelviscope"``, ``"witmotion"``, ``"polar-h10"`` ...); the client uses the
        matching profile, asking for the supported rate nearest ``rate_hz``.
    **source_kwargs
        More :class:`BleSource` arguments.

    Returns
    -------
    (BleSource, EmulatedSensor)
        Call ``source.start()``; the sensor is powered on inside the client's loop.
    """
    from firmware_bridge.emulator.vendors import SENSORS
    from firmware_bridge.profiles import make_profile

    if kind not in SENSORS:
        raise ValueError(f"unknown emulated sensor {kind!r}; known: {', '.join(SENSORS)}")
    clock = ScaledClock(time_scale)
    sensor = SENSORS[kind](acc_mps2, gyr_rps, rate_hz=rate_hz, faults=faults, clock=clock,
                           **(sensor_kwargs or {}))
    profile: Profile = (PelviscopeProfile(StreamConfig(rate_hz=rate_hz))
                        if kind == "pelviscope" else make_profile(kind, rate_hz))
    source = BleSource(profile=profile, backend=BUMBLE_BACKEND, companions=[sensor],
                       clock=clock, **source_kwargs)
    return source, sensor
