"""Firmware personalities: the emulated sensor speaking a vendor's GATT layout.

:class:`~firmware_bridge.emulator.sensor.EmulatedSensor` is the pelviscope personality.
:class:`VendorSensor` keeps its radio, clock, lifecycle and fault machinery and swaps
in a vendor's services, advertising and packet encoding through a few hooks; each
vendor is a small subclass in :mod:`firmware_bridge.emulator.vendors`.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from bumble import gatt
from bumble.core import UUID, AdvertisingData
from bumble.device import Connection
from bumble.profiles.battery_service import BatteryService
from bumble.profiles.device_information_service import DeviceInformationService

from firmware_bridge.emulator.sensor import EmulatedSensor, FloatArray

#: One notification to send: (characteristic, value, indicate?).
Packet = tuple[gatt.Characteristic, bytes, bool]


class VendorSensor(EmulatedSensor):
    """An emulated sensor with a vendor personality (abstract).

    Subclasses set :attr:`kind`, :attr:`default_name`, :attr:`manufacturer`,
    :attr:`model` and implement :meth:`vendor_services`, :meth:`adv_fields`,
    :meth:`samples_per_notification` and :meth:`encode`. They start the stream with
    :meth:`start_streaming` when the vendor's trigger arrives (a command or a CCCD
    write), at :attr:`stream_rate_hz`.

    Parameters
    ----------
    *args, **kwargs
        As :class:`EmulatedSensor`; ``name`` defaults to :attr:`default_name`.
    """

    kind = ""
    default_name = "Vendor"
    manufacturer = ""
    model = ""
    has_battery = True
    #: Rate the device streams at until told otherwise.
    default_stream_rate_hz = 100.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("name", self.default_name)
        super().__init__(*args, **kwargs)
        self.stream_rate_hz = self.default_stream_rate_hz
        self.sent_notifications = 0

    # ---- hooks ---------------------------------------------------------------------------
    def vendor_services(self) -> list[gatt.Service]:
        """The vendor's own GATT services."""
        raise NotImplementedError

    def adv_fields(self) -> list[tuple[int, bytes]]:
        """Advertising fields after the flags (name, service lists)."""
        raise NotImplementedError

    def samples_per_notification(self, att_mtu: int) -> int:
        """Samples encoded per stream step."""
        return 1

    def encode(self, acc_mps2: FloatArray, gyr_rps: FloatArray,
               device_time_us: FloatArray) -> list[Packet]:
        """Encode one step of samples as the notifications the vendor sends."""
        raise NotImplementedError

    def on_subscription(self, connection: Connection, char: gatt.Characteristic,
                        enabled: bool) -> None:
        """A client (un)subscribed to ``char`` (default: nothing)."""

    # ---- plumbing ------------------------------------------------------------------------
    def _build_services(self) -> list[gatt.Service]:
        assert self.device is not None
        self.device.on("characteristic_subscription", self._on_subscription)
        services = self.vendor_services()
        services.append(DeviceInformationService(
            manufacturer_name=self.manufacturer, model_number=self.model,
            firmware_revision=f"emulated-{self.kind}"))
        if self.has_battery:
            self._battery = BatteryService(lambda _conn: self.battery_pct)
            services.append(self._battery)
        return services

    def _advertising_data(self) -> bytes:
        data = bytes(AdvertisingData([(AdvertisingData.FLAGS, bytes([0x06])),
                                      *self.adv_fields()]))
        if len(data) > 31:
            raise ValueError(f"{self.kind}: advertising data of {len(data)} bytes (max 31)")
        return data

    @staticmethod
    def uuid_bytes(*uuids: str) -> bytes:
        """Advertising-list bytes of UUIDs (SIG-based ones as 16-bit UUIDs)."""
        sig = "-0000-1000-8000-00805f9b34fb"
        return b"".join(bytes(UUID.from_16_bits(int(u[4:8], 16))) if u.endswith(sig)
                        else bytes(UUID(u)) for u in uuids)

    def _on_subscription(self, connection: Any, char: Any, notify: bool, indicate: bool) -> None:
        self.on_subscription(connection, char, bool(notify or indicate))

    def reply(self, connection: Connection, char: gatt.Characteristic, value: bytes,
              indicate: bool = False) -> None:
        """Send a control reply in the background."""
        self._spawn(self._send(connection, char, value, indicate))

    async def _send(self, connection: Connection, char: gatt.Characteristic, value: bytes,
                    indicate: bool = False) -> None:
        if self.device is None or self._conn is not connection:
            return
        with contextlib.suppress(Exception):
            if indicate:
                await self.device.indicate_subscriber(connection, char, value)
            else:
                await self.device.notify_subscriber(connection, char, value)

    def start_streaming(self, connection: Connection) -> None:
        """Start the stream (idempotent)."""
        if self._stream_task is None:
            self._stream_task = asyncio.ensure_future(self._stream(connection))

    def stream_while_subscribed(
        self, connection: Connection, char: Any, stream_char: Any, enabled: bool
    ) -> None:
        """For vendors whose stream runs while ``stream_char``'s notifications are on."""
        if char is stream_char or getattr(char, "uuid", None) == stream_char.uuid:
            if enabled:
                self.start_streaming(connection)
            else:
                self._stop_stream()

    async def _stream(self, connection: Connection) -> None:
        rate = self.stream_rate_hz
        g = self._first_tick(rate)
        t0 = self.clock()
        next_hangup = self.faults.disconnect_every_s
        while True:
            n = self.samples_per_notification(connection.att_mtu)
            d_us, idx = await self._next_samples(g, n, rate)
            packets = self.encode(self.acc_mps2[idx], self.gyr_rps[idx], d_us)
            g += n
            if self._corrupt_this():
                char, value, ind = packets[0]
                packets[0] = (char, value[: max(1, len(value) - 5)], ind)
            if not self._drop_this():
                self.sent_frames += 1
                for char, value, ind in packets:
                    self.sent_notifications += 1
                    await self._send(connection, char, value, ind)
            next_hangup = self._hang_up_when_due(self.clock() - t0, next_hangup)
