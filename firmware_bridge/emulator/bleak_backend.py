"""A bleak backend that drives a bumble central on the virtual link.

``BleakScanner(backend=BumbleScanner)`` and ``BleakClient(device, backend=BumbleClient)``
talk to the emulated sensor through bumble's real host stack (HCI, L2CAP, ATT with MTU
exchange, GATT discovery, CCCD writes, notifications), so the client code is exactly the
code that runs against BlueZ, CoreBluetooth or WinRT. bleak 3.1 ships no bumble backend
(one exists upstream, unreleased), hence this small one. Use it inside the loop that
runs the :class:`~firmware_bridge.emulator.sensor.EmulatedSensor`.
"""

from __future__ import annotations

import asyncio
import uuid as uuidlib
from typing import Any, Literal

from bleak.args import SizedBuffer
from bleak.assigned_numbers import CHARACTERISTIC_PROPERTIES
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.client import BaseBleakClient, NotifyCallback
from bleak.backends.descriptor import BleakGATTDescriptor
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData, AdvertisementDataCallback, BaseBleakScanner
from bleak.backends.service import BleakGATTService, BleakGATTServiceCollection
from bleak.exc import BleakDeviceNotFoundError, BleakError
from bumble.core import UUID, AdvertisingData
from bumble.device import Advertisement, Connection, Device, Peer
from bumble.hci import HCI_REMOTE_USER_TERMINATED_CONNECTION_ERROR

from firmware_bridge.client import BackendPair
from firmware_bridge.emulator.air import new_address, retire_device, virtual_device

_BACKGROUND: set[asyncio.Future[None]] = set()

#: ATT MTU the central asks for on connect (what desktop stacks typically negotiate).
DEFAULT_MTU = 247

_UUID_LISTS = (
    AdvertisingData.COMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS,
    AdvertisingData.INCOMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS,
    AdvertisingData.COMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS,
    AdvertisingData.INCOMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS,
)


def uuid_str(u: UUID) -> str:
    """A bumble UUID as bleak's lower-case 128-bit string."""
    return str(uuidlib.UUID(bytes=bytes(reversed(u.to_bytes(force_128=True)))))


class BumbleScanner(BaseBleakScanner):
    """bleak scanner backend: a bumble central scanning the virtual link."""

    def __init__(
        self,
        detection_callback: AdvertisementDataCallback | None,
        service_uuids: list[str] | None,
        scanning_mode: Literal["active", "passive"] = "active",
        **kwargs: Any,
    ) -> None:
        super().__init__(detection_callback, service_uuids)
        self._active = scanning_mode == "active"
        self._device: Device | None = None

    async def start(self) -> None:
        """Start scanning (clears :attr:`seen_devices`)."""
        self.seen_devices = {}
        self._device = virtual_device("scanner", new_address(0xC1))
        self._device.on("advertisement", self._on_advertisement)
        await self._device.power_on()
        await self._device.start_scanning(active=self._active, filter_duplicates=False)

    async def stop(self) -> None:
        """Stop scanning and leave the link."""
        if self._device is not None:
            device, self._device = self._device, None
            await device.stop_scanning()
            await retire_device(device)

    def _on_advertisement(self, adv: Advertisement) -> None:
        data = adv.data
        name = data.get(AdvertisingData.COMPLETE_LOCAL_NAME) or data.get(
            AdvertisingData.SHORTENED_LOCAL_NAME
        )
        uuids: list[str] = []
        for kind in _UUID_LISTS:
            listed = data.get(kind)  # typed per AD type only for literal types: narrow here
            if isinstance(listed, list):
                uuids.extend(uuid_str(u) for u in listed)
        if not self.is_allowed_uuid(uuids):
            return
        address = str(adv.address).split("/")[0]
        ad = AdvertisementData(
            local_name=name if isinstance(name, str) else None,
            manufacturer_data={},
            service_data={},
            service_uuids=uuids,
            tx_power=None,
            rssi=int(adv.rssi),
            platform_data=(adv,),
        )
        device = self.create_or_update_device(address, address, ad.local_name, adv.address, ad)
        self.call_detection_callbacks(device, ad)


class BumbleClient(BaseBleakClient):
    """bleak client backend: a bumble central connecting over the virtual link.

    Extra keyword: ``mtu`` (int), the ATT MTU to request on connect (default 247).
    """

    def __init__(self, address_or_ble_device: BLEDevice | str, **kwargs: Any) -> None:
        super().__init__(
            address_or_ble_device,
            disconnected_callback=kwargs.get("disconnected_callback"),
            timeout=kwargs.get("timeout", 10.0),
        )
        self._mtu_request = int(kwargs.get("mtu", DEFAULT_MTU))
        self._device: Device | None = None
        self._connection: Connection | None = None
        self._peer: Peer | None = None
        self._name = ""
        self._closing = False

    @property
    def name(self) -> str:
        """Device name (the GAP name if read, else the address)."""
        return self._name or self.address

    @property
    def mtu_size(self) -> int:
        """Negotiated ATT MTU."""
        return self._connection.att_mtu if self._connection is not None else 23

    @property
    def is_connected(self) -> bool:
        """True while the link is up."""
        return self._connection is not None

    async def connect(self, pair: bool, **kwargs: Any) -> None:
        """Connect, exchange the MTU and discover every service, characteristic, descriptor."""
        self._closing = False
        self._device = virtual_device("central", new_address(0xC2))
        await self._device.power_on()
        try:
            conn = await asyncio.wait_for(self._device.connect(self.address), self._timeout)
        except (TimeoutError, Exception) as exc:
            await retire_device(self._device)
            self._device = None
            if isinstance(exc, TimeoutError):
                raise BleakDeviceNotFoundError(self.address, "connection timed out") from exc
            raise BleakError(f"connection to {self.address} failed: {exc}") from exc
        self._connection = conn
        conn.on("disconnection", self._on_disconnection)
        self._peer = Peer(conn)
        await self._peer.request_mtu(self._mtu_request)
        self.services = await self._discover()

    async def _discover(self) -> BleakGATTServiceCollection:
        assert self._peer is not None
        collection = BleakGATTServiceCollection()
        await self._peer.discover_services()
        for svc in self._peer.services:
            bsvc = BleakGATTService(svc, svc.handle, uuid_str(svc.uuid))
            collection.add_service(bsvc)
            await svc.discover_characteristics()
            for ch in svc.characteristics:
                await ch.discover_descriptors()
                props = [name for bit, name in CHARACTERISTIC_PROPERTIES.items()
                         if int(ch.properties) & bit]
                bch = BleakGATTCharacteristic(
                    ch, ch.handle, uuid_str(ch.uuid), props, lambda: self.mtu_size - 3, bsvc
                )
                collection.add_characteristic(bch)
                for desc in ch.descriptors:
                    collection.add_descriptor(
                        BleakGATTDescriptor(desc, desc.handle, uuid_str(desc.type), bch)
                    )
        return collection

    def _on_disconnection(self, _reason: int) -> None:
        self._connection = None
        self._peer = None
        device, self._device = self._device, None
        if device is not None:
            task = asyncio.ensure_future(retire_device(device))
            _BACKGROUND.add(task)
            task.add_done_callback(_BACKGROUND.discard)
        if not self._closing and self._disconnected_callback is not None:
            self._disconnected_callback()

    async def disconnect(self) -> None:
        """Disconnect (no disconnected callback for a requested disconnect)."""
        self._closing = True
        conn = self._connection
        if conn is not None:
            try:
                await conn.disconnect(HCI_REMOTE_USER_TERMINATED_CONNECTION_ERROR)
            except Exception:  # the link may already be gone
                self._on_disconnection(0)
        elif self._device is not None:
            device, self._device = self._device, None
            await retire_device(device)

    async def pair(self, *args: Any, **kwargs: Any) -> None:
        """Pairing is not needed by the emulated sensor (no-op)."""

    async def unpair(self) -> None:
        """Nothing to unpair (no-op)."""

    def _require(self) -> Peer:
        if self._peer is None:
            raise BleakError("Not connected")
        return self._peer

    async def read_gatt_char(
        self, characteristic: BleakGATTCharacteristic, *, use_cached: bool = False, **kwargs: Any
    ) -> bytearray:
        """Read a characteristic value (long reads included)."""
        self._require()
        return bytearray(await characteristic.obj.read_value())

    async def read_gatt_descriptor(
        self, descriptor: BleakGATTDescriptor, *, use_cached: bool = False, **kwargs: Any
    ) -> bytearray:
        """Read a descriptor value."""
        self._require()
        return bytearray(await descriptor.obj.read_value())

    async def write_gatt_char(
        self, characteristic: BleakGATTCharacteristic, data: SizedBuffer, response: bool
    ) -> None:
        """Write a characteristic value, with or without response."""
        self._require()
        await characteristic.obj.write_value(bytes(data), with_response=response)

    async def write_gatt_descriptor(
        self, descriptor: BleakGATTDescriptor, data: SizedBuffer
    ) -> None:
        """Write a descriptor value."""
        self._require()
        await descriptor.obj.write_value(bytes(data), with_response=True)

    async def start_notify(
        self, characteristic: BleakGATTCharacteristic, callback: NotifyCallback, **kwargs: Any
    ) -> None:
        """Enable notifications (CCCD write) and route them to ``callback``."""
        peer = self._require()
        await peer.subscribe(characteristic.obj, lambda value: callback(bytearray(value)))

    async def stop_notify(self, characteristic: BleakGATTCharacteristic) -> None:
        """Disable notifications."""
        peer = self._require()
        await peer.unsubscribe(characteristic.obj)


#: Pass to the pelviscope client to reach the emulated sensor.
BUMBLE_BACKEND = BackendPair(BumbleScanner, BumbleClient)
