"""Our open profile (``PROTOCOL.md``) as a :class:`~firmware_bridge.profiles.base.Profile`."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from firmware_bridge.profiles import pelviscope_profile as pp
from firmware_bridge.profiles.base import DeviceError
from firmware_bridge.timing import TimeExchange

if TYPE_CHECKING:
    from bleak import BleakClient

#: Seconds to wait for a control reply.
REPLY_TIMEOUT_S = 3.0


class PelviscopeProfile:
    """Drive a device that speaks the pelviscope open GATT profile.

    Also a :class:`~firmware_bridge.profiles.base.ClockSyncProfile`: GET_TIME gives the
    client the device clock on request (when the device sets the capability bit).

    Parameters
    ----------
    config : StreamConfig
        Rate, ranges and batch to request.
    """

    name: str = f"pelviscope/{pp.PROTOCOL_VERSION}"
    service_uuids: tuple[str, ...] = (pp.SERVICE_UUID,)

    def __init__(self, config: pp.StreamConfig | None = None) -> None:
        self.config = config or pp.StreamConfig()
        self._pending: dict[int, asyncio.Future[tuple[int, bytes, float]]] = {}
        #: Host clock that stamps control replies (set by :meth:`time_exchanges`).
        self._reply_clock: Callable[[], float] = time.monotonic
        #: The client whose control characteristic is subscribed, and its device's info.
        self._control_client: BleakClient | None = None
        self._info: pp.DeviceInfo | None = None

    def matches(self, local_name: str | None, service_uuids: Sequence[str]) -> bool:
        """Our devices advertise the service UUID (the name is free)."""
        return pp.SERVICE_UUID in [u.lower() for u in service_uuids]

    def decode(self, notification: bytes) -> pp.Frame:
        """Decode one data frame (see :func:`pelviscope_profile.decode_frame`)."""
        return pp.decode_frame(notification)

    def _on_reply(self, _char: Any, data: bytearray) -> None:
        received_s = self._reply_clock()  # first thing: the arrival time of the reply
        try:
            op, status, payload = pp.decode_reply(data)
        except pp.FrameError:
            return
        fut = self._pending.pop(op, None)
        if fut is not None and not fut.done():
            fut.set_result((status, payload, received_s))

    async def _command_timed(
        self, client: BleakClient, opcode: int, payload: bytes = b""
    ) -> tuple[bytes, float]:
        """Send one control command; return its reply payload and host arrival time."""
        fut: asyncio.Future[tuple[int, bytes, float]] = (
            asyncio.get_running_loop().create_future()
        )
        self._pending[opcode] = fut
        await client.write_gatt_char(
            pp.CONTROL_CHAR_UUID, pp.encode_command(opcode, payload), response=True
        )
        try:
            status, reply, received_s = await asyncio.wait_for(fut, REPLY_TIMEOUT_S)
        except TimeoutError as exc:
            raise DeviceError(f"no reply to control opcode 0x{opcode:02x}") from exc
        if status != pp.STATUS_OK:
            reason = pp.STATUS_NAMES.get(status, f"status {status}")
            raise DeviceError(f"device refused opcode 0x{opcode:02x}: {reason}")
        return reply, received_s

    async def command(self, client: BleakClient, opcode: int, payload: bytes = b"") -> bytes:
        """Send one control command and wait for its reply payload.

        Raises
        ------
        DeviceError
            When the device answers with an error status or not at all.
        """
        reply, _ = await self._command_timed(client, opcode, payload)
        return reply

    async def _subscribe_control(self, client: BleakClient) -> None:
        """Subscribe to control replies (once per connection)."""
        if self._control_client is not client:
            self._info = None
            await client.start_notify(pp.CONTROL_CHAR_UUID, self._on_reply)
            self._control_client = client

    async def _device_info(self, client: BleakClient, *, fresh: bool = False) -> pp.DeviceInfo:
        """The connected device's info (read once per connection unless ``fresh``)."""
        await self._subscribe_control(client)
        if fresh or self._info is None:
            self._info = await self.read_info(client)
        return self._info

    async def read_info(self, client: BleakClient) -> pp.DeviceInfo:
        """Read and decode the info characteristic."""
        try:
            return pp.DeviceInfo.from_bytes(bytes(await client.read_gatt_char(pp.INFO_CHAR_UUID)))
        except pp.FrameError as exc:
            raise DeviceError(f"unreadable info characteristic: {exc}") from exc

    async def get_device_time_us(self, client: BleakClient) -> int:
        """Device clock now (µs, wrapping u32) via GET_TIME."""
        await self._subscribe_control(client)
        reply = await self.command(client, pp.OP_GET_TIME)
        return int.from_bytes(reply[:4], "little")

    async def time_exchanges(
        self, client: BleakClient, clock: Callable[[], float], count: int
    ) -> list[TimeExchange]:
        """``count`` GET_TIME round trips stamped on ``clock`` (empty without the capability).

        The send time is taken just before the write, the receive time in the reply's
        notification callback (where the client stamps data notifications). Device times
        are the wrapping u32 µs clock in seconds (the stream decoder unwraps them).
        """
        info = await self._device_info(client)
        if not info.capabilities & pp.CAP_GET_TIME:
            return []
        self._reply_clock = clock
        out: list[TimeExchange] = []
        for _ in range(count):
            sent_s = clock()
            reply, received_s = await self._command_timed(client, pp.OP_GET_TIME)
            if len(reply) < 4:
                raise DeviceError(f"GET_TIME reply too short ({len(reply)} bytes)")
            device_us = int.from_bytes(reply[:4], "little")
            out.append(TimeExchange(sent_s, device_us * 1e-6, received_s))
        return out

    async def start(self, client: BleakClient, on_data: Callable[[bytes], None]) -> dict[str, Any]:
        """Read info, configure, subscribe and START; return the applied settings."""
        info = await self._device_info(client, fresh=True)
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
