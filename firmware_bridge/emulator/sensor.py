"""Emulated sensor firmware: a bumble peripheral that speaks the pelviscope profile exactly.

It streams given sample arrays at their rate in (optionally scaled) real time, with a
device clock that runs ``clock_ppm`` fast, wrapping sequence numbers and device time,
batched notifications sized to the negotiated ATT MTU, and fault injection (dropped or
corrupt notifications, hang-ups, vanishing). All bumble objects are created in
:meth:`EmulatedSensor.start`, inside the running loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from bumble import gatt
from bumble.core import UUID, AdvertisingData
from bumble.device import Connection, Device
from bumble.hci import HCI_REMOTE_USER_TERMINATED_CONNECTION_ERROR
from bumble.profiles.battery_service import BatteryService
from bumble.profiles.device_information_service import DeviceInformationService
from numpy.typing import NDArray

from firmware_bridge.emulator.air import ScaledClock, retire_device, virtual_device
from firmware_bridge.profiles import pelviscope_profile as pp

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class FaultConfig:
    """Faults the emulated firmware injects.

    Attributes
    ----------
    drop_rate : float
        Fraction of data notifications silently not sent (their sequence numbers are
        still consumed, like a radio loss).
    corrupt_rate : float
        Fraction of data notifications sent truncated (a malformed frame).
    disconnect_every_s : float or None
        Hang up the link after this many seconds of streaming, again and again.
    vanish_s : float
        After each hang-up, stop advertising for this long (the device "vanishes").
    seed : int
        Seed of the fault random generator.
    """

    drop_rate: float = 0.0
    corrupt_rate: float = 0.0
    disconnect_every_s: float | None = None
    vanish_s: float = 0.0
    seed: int = 0


class EmulatedSensor:
    """A virtual pelvis IMU on this loop's bumble link.

    Parameters
    ----------
    acc_mps2, gyr_rps : ndarray, shape (N, 3)
        Signal to stream (looped when it runs out), sampled at ``rate_hz``.
    rate_hz : float
        Rate of the arrays; also the default output data rate.
    name : str
        Advertised name (at most 8 characters fit beside the 128-bit UUID).
    address : str
        Bluetooth address.
    clock_ppm : float
        Device crystal error; positive = the device clock runs fast.
    device_time_start_us, seq_start : int
        Device clock and sequence number at power-on (set close to 2**32 / 2**16 to
        exercise wrap-around).
    faults : FaultConfig
        Injected faults.
    clock : callable
        Host clock (seconds); a :class:`ScaledClock` makes the session run faster.
    battery_pct : int
        Initial battery level; drops 1 % per 60 s of streaming, notified.
    """

    def __init__(
        self,
        acc_mps2: FloatArray,
        gyr_rps: FloatArray,
        *,
        rate_hz: float,
        name: str = "PelviIMU",
        address: str = "F0:5E:00:00:00:01",
        clock_ppm: float = 0.0,
        device_time_start_us: int = 0,
        seq_start: int = 0,
        faults: FaultConfig | None = None,
        clock: Callable[[], float] | None = None,
        battery_pct: int = 87,
    ) -> None:
        self.acc_mps2 = np.asarray(acc_mps2, dtype=np.float64)
        self.gyr_rps = np.asarray(gyr_rps, dtype=np.float64)
        if self.acc_mps2.shape != self.gyr_rps.shape or self.acc_mps2.ndim != 2:
            raise ValueError("acc_mps2 and gyr_rps must both have shape (N, 3)")
        self.signal_rate_hz = float(rate_hz)
        self.name, self.address = name, address
        self.clock_ppm = clock_ppm
        self.faults = faults or FaultConfig()
        self.clock: Callable[[], float] = clock or ScaledClock(1.0)
        self._scale = float(getattr(self.clock, "scale", 1.0))
        self.config = pp.StreamConfig(rate_hz=float(rate_hz))
        self.rates_hz = tuple(sorted({25.0, 50.0, 100.0, 200.0, 400.0, 1000.0, float(rate_hz)}))
        self.battery_pct = battery_pct
        self._d0_us = device_time_start_us
        self._seq = seq_start
        self._rng = np.random.default_rng(self.faults.seed)
        self._boot_host_s = 0.0
        self.device: Device | None = None
        self._conn: Connection | None = None
        self._stream_task: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._vanished = False
        self._corrupt_next = 0
        #: Counters of what the firmware did (for tests).
        self.sent_frames = self.dropped_frames = self.corrupted_frames = self.hangups = 0

    # ---- device clock ---------------------------------------------------------------------
    def device_time_us(self, host_s: float) -> float:
        """Unwrapped device clock (µs) at host time ``host_s``."""
        return self._d0_us + (host_s - self._boot_host_s) * (1 + self.clock_ppm * 1e-6) * 1e6

    def host_time_of(self, device_time_s: FloatArray) -> FloatArray:
        """True host time at which the device took samples stamped ``device_time_s``.

        ``device_time_s`` is unwrapped from the device clock at power-on (the value a
        client gets by unwrapping from the first frame it receives).
        """
        d_us = np.asarray(device_time_s, dtype=np.float64) * 1e6
        return self._boot_host_s + (d_us - self._d0_us) / (1 + self.clock_ppm * 1e-6) / 1e6

    # ---- lifecycle --------------------------------------------------------------------------
    async def start(self) -> None:
        """Power on and advertise (call inside the running loop)."""
        self._boot_host_s = self.clock()
        dev = self.device = virtual_device(self.name, self.address)
        dev.add_services(self._build_services())
        dev.on("connection", self._on_connection)
        await dev.power_on()
        await self._advertise()

    def _build_services(self) -> list[gatt.Service]:
        """The GATT services of this firmware (a personality overrides this)."""
        self._data_char = gatt.Characteristic(
            pp.DATA_CHAR_UUID, gatt.Characteristic.Properties.NOTIFY,
            gatt.Characteristic.READABLE, b"",
        )
        self._control_char: gatt.Characteristic[bytes] = gatt.Characteristic(
            pp.CONTROL_CHAR_UUID,
            gatt.Characteristic.Properties.WRITE | gatt.Characteristic.Properties.NOTIFY,
            gatt.Characteristic.WRITEABLE,
            gatt.CharacteristicValue(write=self._on_control_write),
        )
        self._info_char: gatt.Characteristic[bytes] = gatt.Characteristic(
            pp.INFO_CHAR_UUID, gatt.Characteristic.Properties.READ,
            gatt.Characteristic.READABLE, gatt.CharacteristicValue(read=self._read_info),
        )
        self._battery = BatteryService(lambda _conn: self.battery_pct)
        return [
            gatt.Service(pp.SERVICE_UUID, [self._data_char, self._control_char, self._info_char]),
            DeviceInformationService(
                manufacturer_name="pelviscope", model_number="emulated-imu",
                firmware_revision="emu-1.0",
            ),
            self._battery,
        ]

    def _advertising_data(self) -> bytes:
        """Advertising data: flags, name and the service UUID (a personality overrides this).

        The virtual controller echoes it as the scan response, so everything a scanner
        needs must fit here (31 bytes).
        """
        return bytes(AdvertisingData([
            (AdvertisingData.FLAGS, bytes([0x06])),
            (AdvertisingData.COMPLETE_LOCAL_NAME, self.name.encode()[:8]),
            (AdvertisingData.COMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS,
             bytes(UUID(pp.SERVICE_UUID))),
        ]))

    async def stop(self) -> None:
        """Stop streaming, drop any connection and leave the air."""
        self._stop_stream()
        for task in list(self._tasks):
            task.cancel()
        if self.device is not None:
            self._vanished = True
            with contextlib.suppress(Exception):
                await self.device.stop_advertising()
            if self._conn is not None:
                with contextlib.suppress(Exception):
                    await self._conn.disconnect(HCI_REMOTE_USER_TERMINATED_CONNECTION_ERROR)
            await retire_device(self.device)
            self.device = None

    async def _advertise(self) -> None:
        assert self.device is not None
        await self.device.start_advertising(advertising_data=self._advertising_data(),
                                            advertising_interval_min=20.0,
                                            advertising_interval_max=20.0)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _on_connection(self, connection: Connection) -> None:
        self._conn = connection
        connection.on("disconnection", lambda _reason: self._on_disconnection(connection))

    def _on_disconnection(self, connection: Connection) -> None:
        if self._conn is connection:
            self._conn = None
        self._stop_stream()
        if not self._vanished and self.device is not None:
            self._spawn(self._advertise())

    # ---- faults -----------------------------------------------------------------------------
    async def hang_up(self) -> None:
        """Drop the link from the device side (it keeps advertising)."""
        if self._conn is not None:
            self.hangups += 1
            await self._conn.disconnect(HCI_REMOTE_USER_TERMINATED_CONNECTION_ERROR)

    async def vanish(self, duration_s: float) -> None:
        """Stop advertising, drop the link, and come back after ``duration_s`` (host clock)."""
        self._vanished = True
        if self.device is not None:
            with contextlib.suppress(Exception):
                await self.device.stop_advertising()
        await self.hang_up()
        await asyncio.sleep(duration_s / self._scale)
        self._vanished = False
        if self.device is not None:
            await self._advertise()

    def corrupt_next(self, count: int = 1) -> None:
        """Send the next ``count`` data frames truncated."""
        self._corrupt_next += count

    # ---- GATT handlers ------------------------------------------------------------------------
    def _read_info(self, _conn: Connection) -> bytes:
        info = pp.DeviceInfo(
            protocol_version=pp.PROTOCOL_VERSION, max_frame_version=pp.FRAME_VERSION,
            capabilities=pp.CAP_ACC | pp.CAP_GYR | pp.CAP_GET_TIME | pp.CAP_BATTERY,
            config=self.config, streaming=self._stream_task is not None, rates_hz=self.rates_hz,
        )
        return info.to_bytes()

    def _on_control_write(self, connection: Connection, value: bytes) -> None:
        reply = self._handle_command(connection, bytes(value))
        self._spawn(self._notify(connection, self._control_char, reply))

    async def _notify(self, connection: Connection, char: gatt.Characteristic, value: Any) -> None:
        if self.device is not None and self._conn is connection:
            with contextlib.suppress(Exception):
                await self.device.notify_subscriber(connection, char, value)

    def _handle_command(self, connection: Connection, cmd: bytes) -> bytes:
        if not cmd:
            return pp.encode_reply(0, pp.STATUS_BAD_LENGTH)
        op, payload = cmd[0], cmd[1:]
        if op == pp.OP_START:
            if pp.samples_per_frame(connection.att_mtu) == 0:
                return pp.encode_reply(op, pp.STATUS_MTU_TOO_SMALL)
            if self._stream_task is None:
                self._stream_task = asyncio.ensure_future(self._stream(connection))
            return pp.encode_reply(op, pp.STATUS_OK)
        if op == pp.OP_STOP:
            self._stop_stream()
            return pp.encode_reply(op, pp.STATUS_OK)
        if op == pp.OP_SET_CONFIG:
            if len(payload) != 6:
                return pp.encode_reply(op, pp.STATUS_BAD_LENGTH)
            if self._stream_task is not None:
                return pp.encode_reply(op, pp.STATUS_BUSY)
            cfg = pp.StreamConfig.from_bytes(payload)
            if (cfg.rate_hz not in self.rates_hz or cfg.acc_range_g not in pp.ACC_RANGES_G
                    or cfg.gyr_range_dps not in pp.GYR_RANGES_DPS):
                return pp.encode_reply(op, pp.STATUS_INVALID_PARAMETER)
            self.config = cfg
            return pp.encode_reply(op, pp.STATUS_OK, cfg.to_bytes())
        if op == pp.OP_GET_TIME:
            t_us = int(self.device_time_us(self.clock())) % pp.DEVICE_TIME_MODULUS_US
            return pp.encode_reply(op, pp.STATUS_OK, t_us.to_bytes(4, "little"))
        return pp.encode_reply(op, pp.STATUS_UNKNOWN_OPCODE)

    # ---- streaming -------------------------------------------------------------------------------
    def _stop_stream(self) -> None:
        if self._stream_task is not None:
            self._stream_task.cancel()
            self._stream_task = None

    # Both personalities (ours and the vendors') stream through these, so that sample
    # timing and fault injection are the same whatever the profile.
    def _first_tick(self, rate_hz: float) -> int:
        """Index of the device's next sample tick at ``rate_hz`` (ticks from ``_d0_us``)."""
        return math.ceil((self.device_time_us(self.clock()) - self._d0_us) / (1e6 / rate_hz))

    async def _next_samples(
        self, g: int, n: int, rate_hz: float
    ) -> tuple[FloatArray, NDArray[np.int64]]:
        """Wait until ticks ``g .. g + n - 1`` are taken; their device times (us) and rows."""
        d_us = self._d0_us + (g + np.arange(n, dtype=np.float64)) * (1e6 / rate_hz)
        due = float(self.host_time_of(d_us[-1:] * 1e-6)[0])
        now = self.clock()
        if due > now:
            await asyncio.sleep((due - now) / self._scale)
        idx = np.rint((g + np.arange(n)) * self.signal_rate_hz / rate_hz).astype(np.int64)
        idx %= self.acc_mps2.shape[0]
        return d_us, idx

    def _corrupt_this(self) -> bool:
        """Whether to corrupt this frame (asked for, or at ``corrupt_rate``); counted."""
        if self._corrupt_next or self._rng.random() < self.faults.corrupt_rate:
            self._corrupt_next = max(0, self._corrupt_next - 1)
            self.corrupted_frames += 1
            return True
        return False

    def _drop_this(self) -> bool:
        """Whether to drop this frame (at ``drop_rate``); counted."""
        if self._rng.random() < self.faults.drop_rate:
            self.dropped_frames += 1
            return True
        return False

    def _hang_up_when_due(self, streamed_s: float, due_s: float | None) -> float | None:
        """Hang up (or vanish) once ``streamed_s`` reaches ``due_s``; the next due time."""
        if due_s is None or streamed_s < due_s:
            return due_s
        if self.faults.vanish_s > 0:
            self._spawn(self.vanish(self.faults.vanish_s))
        else:
            self._spawn(self.hang_up())
        return due_s + (self.faults.disconnect_every_s or 0.0)

    async def _stream(self, connection: Connection) -> None:
        cfg = self.config
        rate = cfg.rate_hz
        g = self._first_tick(rate)
        t_stream0 = self.clock()
        next_hangup = self.faults.disconnect_every_s
        next_battery_s = 60.0
        while True:
            n = cfg.batch or pp.samples_per_frame(connection.att_mtu)
            n = min(n, pp.samples_per_frame(connection.att_mtu))
            d_us, idx = await self._next_samples(g, n, rate)
            frame = pp.encode_frame(
                self._seq, int(d_us[0]), self.acc_mps2[idx], self.gyr_rps[idx], rate_hz=rate,
                acc_range_g=cfg.acc_range_g, gyr_range_dps=cfg.gyr_range_dps,
            )
            self._seq = (self._seq + 1) % pp.SEQ_MODULUS
            g += n
            if self._corrupt_this():
                frame = frame[: len(frame) - 5]
            if not self._drop_this() and self.device is not None:
                self.sent_frames += 1
                await self.device.notify_subscriber(connection, self._data_char, frame)
            streamed_s = self.clock() - t_stream0
            if streamed_s >= next_battery_s:
                next_battery_s += 60.0
                self.battery_pct = max(0, self.battery_pct - 1)
                self._spawn(self._notify(connection, self._battery.battery_level_characteristic,
                                         self.battery_pct))
            next_hangup = self._hang_up_when_due(streamed_s, next_hangup)
