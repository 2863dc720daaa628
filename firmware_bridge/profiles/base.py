"""The device-profile seam: what a kind of BLE IMU must tell the client.

A profile knows how to recognise its device in advertisements, how to configure and
start it over a connected :class:`bleak.BleakClient`, and how to decode one data
notification into a :class:`~firmware_bridge.profiles.pelviscope_profile.Frame` (samples
in SI units). Our open profile is :class:`~firmware_bridge.profiles.pelviscope.PelviscopeProfile`;
vendor profiles (WitMotion, Thingy:52, Movesense, Polar, Movella DOT) plug in the same way.

A profile whose device can report its clock on request also implements
:class:`ClockSyncProfile` (ours does, through GET_TIME); the client then measures the
device-to-host clock offset NTP-style (:func:`firmware_bridge.timing.estimate_offset`).
Profiles without it keep the envelope-only timing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from firmware_bridge.profiles.pelviscope_profile import Frame
from firmware_bridge.timing import TimeExchange

if TYPE_CHECKING:
    from bleak import BleakClient


class DeviceError(RuntimeError):
    """The device refused or did not answer a profile operation (one-line message)."""


@runtime_checkable
class Profile(Protocol):
    """How to find, start and decode one kind of BLE IMU."""

    #: Short profile name stored in recordings (``"pelviscope/1"``, ``"witmotion"`` ...).
    name: str
    #: Service UUIDs (lower case) that identify the device in advertisements.
    service_uuids: tuple[str, ...]

    def matches(self, local_name: str | None, service_uuids: Sequence[str]) -> bool:
        """True if an advertisement belongs to a device of this profile."""
        ...

    async def start(
        self, client: BleakClient, on_data: Callable[[bytes], None]
    ) -> dict[str, Any]:
        """Configure and start streaming; route every data notification to ``on_data``.

        Returns
        -------
        dict
            What the device reported (``rate_hz``, ``acc_range_g``, ``gyr_range_dps``, ...).
        """
        ...

    async def stop(self, client: BleakClient) -> None:
        """Stop streaming (best effort; the link may already be gone)."""
        ...

    def decode(self, notification: bytes) -> Frame:
        """Decode one data notification; raise ``FrameError`` for a bad one."""
        ...


@runtime_checkable
class ClockSyncProfile(Protocol):
    """Optional capability of a :class:`Profile`: read the device clock on request."""

    async def time_exchanges(
        self, client: BleakClient, clock: Callable[[], float], count: int
    ) -> list[TimeExchange]:
        """Ask the device for its clock ``count`` times, one request after the other.

        Parameters
        ----------
        client : BleakClient
            A connected client (streaming or not).
        clock : callable
            The host clock (seconds) the client stamps data notifications with; the
            reply must be stamped with it at the same point (the notification callback).
        count : int
            Requests to make.

        Returns
        -------
        list of TimeExchange
            One per answered request; empty if the connected device cannot do it.
        """
        ...
