"""Our open profile (``PROTOCOL.md``) as a :class:`~firmware_bridge.profiles.base.Profile`."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from firmware_bridge.profiles import pelviscope_profile as pp
from firmware_bridge.profiles.base import DeviceError

if TYPE_CHECKING:
    from bleak import BleakClient

#: Seconds to wait for a control reply.
REPLY_TIMEOUT_S = 3.0


class PelviscopeProfile:
    """Drive a device that speaks the pelviscope open GATT profile.

    Parameters
    ----------
    config : StreamConfig
        Rate, ranges and batch to request.
    """

    name = f"pelviscope/{pp.PROTOCOL_VERSION}"
    service_uuids = (pp.SERVICE_UUID,)

    def __init__(self, config: pp.StreamConfig | None = None) -> None:
        self.config = config or pp.StreamConfig()
        self._pending: dict[int, asyncio.Future[tuple[int, bytes]]] = {}

    def matches(self, local_name: str | None, service_uuids: Sequence[str]) -> bool:
        """Our devices advertise the service UUID (the name is free)."""
        return pp.SERVICE_UUID in [u.lower() for u in service_uuids]

    def decode(self, notification: bytes) -> pp.Frame:
        """Decode one data frame (see :func:`pelviscope_profile.decode_frame`)."""
        return pp.decode_frame(notification)

    def _on_reply(self, _char: Any, data: bytearray) -> None:
        try:
            op, status, payload = pp.decode_reply(data)
        except pp.FrameError:
            return
        fut = self._pending.pop(op, None)
        if fut is not None and not fut.done():
            fut.set_result((status, payload))

    async def command(self, client: BleakClient, opcode: int, payload: bytes = b"") -> bytes:
        """Send one control command and wait for its reply payload.

        Raises
        ------
        DeviceError
            When the device answers with an error status or not at all.
        """
        fut: asyncio.Future[tuple[int, bytes]] = asyncio.get_running_loop().create_future()
        self._pending[opcode] = fut
        await client.write_gatt_char(
            pp.CONTROL_CHAR_UUID, pp.encode_command(opcode, payload), response=True
        )
        try:
            status, reply = await asyncio.wait_for(fut, REPLY_TIMEOUT_S)
        except TimeoutError as exc:
            raise DeviceError(f"no reply to control opcode 0x{opcode:02x}") from exc
        if status != pp.STATUS_OK:
            reason = pp.STATUS_NAMES.get(status, f"status {status}")
            raise DeviceError(f"device refused opcode 0x{opcode:02x}: {reason}")
        return reply

    async def read_info(self, client: BleakClient) -> pp.DeviceInfo:
        """Read and decode the info characteristic."""
        try:
            return pp.DeviceInfo.from_bytes(bytes(await client.read_gatt_char(pp.INFO_CHAR_UUID)))
        except pp.FrameError as exc:
            raise DeviceError(f"unreadable info characteristic: {exc}") from exc

    async def get_device_time_us(self, client: BleakClient) -> int:
        """Device clock now (µs, wrapping u32) via GET_TIME."""
        return int.from_bytes(await self.command(client, pp.OP_GET_TIME)[:4], "little")

    async def start(self, client: BleakClient, on_data: Callable[[bytes], None]) -> dict[str, Any]:
        """Read info, configure, subscribe and START; return the applied settings."""
        await client.start_notify(pp.CONTROL_CHAR_UUID, self._on_reply)
        info = await self.read_info(client)
        if info.protocol_version != pp.PROTOCOL_VERSION:
            raise DeviceError(f"device speaks protocol {info.protocol_version}, "
                              f"this client {pp.PROTOCOL_VERSION}")
        if info.streaming:
            await self.command(client, pp.OP_STOP)
        applied = pp.StreamConfig.from_bytes(
            await self.command(client, pp.OP_SET_CONFIG, self.config.to_bytes())
        )
        await client.start_notify(pp.DATA_CHAR_UUID, lambda _c, data: on_data(bytes(data)))
        await self.command(client, pp.OP_START)
        return {
            "profile": self.name,
            "protocol_version": info.protocol_version,
            "rate_hz": applied.rate_hz,
            "acc_range_g": applied.acc_range_g,
            "gyr_range_dps": applied.gyr_range_dps,
            "batch": applied.batch,
            "supported_rates_hz": list(info.rates_hz),
        }

    async def stop(self, client: BleakClient) -> None:
        """Send STOP (ignored if the link is gone)."""
        if client.is_connected:
            await self.command(client, pp.OP_STOP)
