"""Where the dashboard's samples come from: a scanned BLE sensor or the emulated one (no Qt).

Both are :class:`~firmware_bridge.client.BleSource` objects; the emulated sensor runs on
the bumble stack behind the same client code as real hardware.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from firmware_bridge.client import BleSource, Found, scan
from firmware_bridge.emulator import EmulatedSensor, FaultConfig, emulated_source
from firmware_bridge.profiles import all_profiles

if TYPE_CHECKING:
    from simulator import Scenario

#: Address shown for the emulated sensor in the device list.
EMULATED_ADDRESS = "emulated"


@dataclass(frozen=True)
class DeviceEntry:
    """One row of the device list."""

    name: str
    kind: str
    address: str
    rssi: int | None

    @classmethod
    def from_found(cls, found: Found) -> DeviceEntry:
        """A row for a device seen by a scan."""
        return cls(found.name or "(no name)", found.profile, found.address, found.rssi)


EMULATED_ENTRY = DeviceEntry("Emulated sensor", "emulated",
                             EMULATED_ADDRESS, None)


def scan_devices(timeout_s: float = 4.0) -> list[DeviceEntry]:
    """Scan for every supported sensor kind (blocking; run it off the GUI thread).

    Raises on adapter errors.
    """
    found = asyncio.run(scan(all_profiles(), timeout_s=timeout_s))
    return [DeviceEntry.from_found(f) for f in found]


def ble_source(address: str | None, rate_hz: float = 200.0) -> BleSource:
    """A client for a real sensor of any supported kind (``address`` None = the first found).

    The profile is chosen from the sensor's advertisement, as ``pelviscope record`` does.
    """
    return BleSource(profiles=all_profiles(rate_hz), address=address)


def simulated_signal(
    scenario: Scenario | None = None, *, rate_hz: float = 200.0, start_s: float = 0.0, seed: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """Sensor-frame signal of a simulated session from ``start_s`` on (clinic protocol default).

    Parameters
    ----------
    scenario : simulator.Scenario, optional
        What the simulated person does; :func:`~simulator.presets.clinic_protocol`
        by default.
    rate_hz : float
        Sampling rate.
    start_s : float
        Stream from this time of the session on (e.g. just before a hip-hike).
    seed : int
        Simulator seed.
    """
    from simulator import sensor_signal
    from simulator.presets import clinic_protocol

    return sensor_signal(scenario or clinic_protocol(), rate_hz=rate_hz, start_s=start_s, seed=seed)


def emulated(
    scenario: Scenario | None = None,
    *,
    rate_hz: float = 200.0,
    start_s: float = 0.0,
    faults: FaultConfig | None = None,
    signal: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[BleSource, EmulatedSensor]:
    """The emulated sensor streaming a simulated session, and the client connected to it."""
    acc, gyr = signal or simulated_signal(scenario, rate_hz=rate_hz, start_s=start_s)
    return emulated_source(acc, gyr, rate_hz=rate_hz, faults=faults,
                           sensor_kwargs={"clock_ppm": 30.0}, scan_timeout_s=2.0)
