"""WitMotion BWT901BLE / WT901BLE (BLE 5.0 module) as a pelviscope profile.

Source: WitMotion's public SDK ``WITMOTION/WitBluetooth_BWT901BLE5_0`` (Android example:
``Bwt901bleResolver.java`` parses the notification stream, ``Bwt901bleProcessor.java``
scales it, ``Bwt901ble.java`` builds the commands) and the "Bluetooth 5.0 communication
protocol" page of the WitMotion SDK docs.

GATT (note the base ``...-00805f9a34fb``, not the SIG ``...9b34fb``):

- service ``0000ffe5-0000-1000-8000-00805f9a34fb``
- notify ``0000ffe4-...9a34fb``: the sensor streams as soon as notifications are on;
- write ``0000ffe9-...9a34fb``: 5-byte commands ``FF AA <reg> <lo> <hi>``.

Data packet (verified in ``Bwt901bleResolver``): 20 bytes, ``55 61`` then nine int16
little-endian: ax ay az, gx gy gz, roll pitch yaw. Scale (``Bwt901bleProcessor``):
acc ``/32768*16`` g, gyro ``/32768*2000`` deg/s, angles ``/32768*180`` deg (the angles
are the module's own fusion; pelviscope ignores them). The SDK treats notifications
as a byte stream; this decoder accepts one or several whole 20-byte packets per
notification and skips register-read replies (``55 71 ...``).

Rate: unlock ``FF AA 69 88 B5``, set ``FF AA 03 RR 00``, save ``FF AA 00 00 00``
(unlock/save verified in ``Bwt901ble.java``; the rate command ``setReturnRate``
too). Rate codes 06=10 Hz, 07=20, 08=50, 09=100, 0B=200 Hz come from WitMotion's
protocol document; code 0A is not used here (its meaning differs between documents -
uncertain). The module may deliver fewer packets than the code asks for at 200 Hz
(BLE throughput, one sample per packet) - uncertain, not measured here.

Axes: the sensor frame printed on the case (right-handed, z out of the lid).

Limits: no timestamp and no counter. Samples are timed from host arrival and the
nominal rate (``timing = "host_arrival_approximate"``); a lost packet shorter than the
gap threshold cannot be detected. Ranges are fixed at +-16 g and +-2000 deg/s.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from firmware_bridge.profiles.common import (
    DEG2RAD,
    G_MPS2,
    TIMING_HOST_ARRIVAL,
    VendorProfile,
)
from firmware_bridge.profiles.pelviscope_profile import Frame, FrameError

if TYPE_CHECKING:
    from bleak import BleakClient

_BASE = "-0000-1000-8000-00805f9a34fb"
SERVICE_UUID = "0000ffe5" + _BASE
NOTIFY_CHAR_UUID = "0000ffe4" + _BASE
WRITE_CHAR_UUID = "0000ffe9" + _BASE
PACKET_SIZE = 20
HEADER = b"\x55\x61"
READ_REPLY = b"\x55\x71"
CMD_UNLOCK = bytes.fromhex("FFAA6988B5")
CMD_SAVE = bytes.fromhex("FFAA000000")
#: Output rate codes of register 0x03 (Hz -> code).
RATE_CODES = {10.0: 0x06, 20.0: 0x07, 50.0: 0x08, 100.0: 0x09, 200.0: 0x0B}
ACC_SCALE_MPS2 = 16.0 * G_MPS2 / 32768.0
GYR_SCALE_RPS = 2000.0 * DEG2RAD / 32768.0
ANGLE_SCALE_DEG = 180.0 / 32768.0


def rate_command(rate_hz: float) -> bytes:
    """``FF AA 03 RR 00`` for one of :data:`RATE_CODES`."""
    return bytes([0xFF, 0xAA, 0x03, RATE_CODES[rate_hz], 0x00])


def decode_packets(data: bytes) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Decode whole ``55 61`` packets into acc (m/s^2), gyr (rad/s) and angles (deg).

    Raises
    ------
    FrameError
        When the notification is not a whole number of 20-byte packets or holds no
        data packet.
    """
    if len(data) == 0 or len(data) % PACKET_SIZE:
        raise FrameError("short" if len(data) < PACKET_SIZE else "corrupt",
                         f"WitMotion notification of {len(data)} bytes (20 per packet)")
    raw = np.frombuffer(data, dtype=np.uint8).reshape(-1, PACKET_SIZE)
    is_data = (raw[:, 0] == 0x55) & (raw[:, 1] == 0x61)
    is_reply = (raw[:, 0] == 0x55) & (raw[:, 1] == 0x71)
    if not (is_data | is_reply).all():
        raise FrameError("corrupt", "WitMotion packet without a 55 61 / 55 71 header")
    if not is_data.any():
        raise FrameError("corrupt", "WitMotion notification without a data packet")
    counts = raw[is_data, 2:].copy().view("<i2").reshape(-1, 9).astype(np.float64)
    return (counts[:, 0:3] * ACC_SCALE_MPS2, counts[:, 3:6] * GYR_SCALE_RPS,
            counts[:, 6:9] * ANGLE_SCALE_DEG)


def encode_packet(acc_mps2: np.ndarray, gyr_rps: np.ndarray,
                  angles_deg: np.ndarray | None = None) -> bytes:
    """Encode samples as ``55 61`` packets (the emulated module; tests)."""
    acc = np.asarray(acc_mps2, dtype=np.float64).reshape(-1, 3)
    gyr = np.asarray(gyr_rps, dtype=np.float64).reshape(-1, 3)
    ang = np.zeros_like(acc) if angles_deg is None else np.asarray(angles_deg).reshape(-1, 3)
    counts = np.hstack([acc / ACC_SCALE_MPS2, gyr / GYR_SCALE_RPS, ang / ANGLE_SCALE_DEG])
    words = np.clip(np.rint(counts), -32768, 32767).astype("<i2")
    head = np.tile(np.frombuffer(HEADER, np.uint8), (acc.shape[0], 1))
    return np.hstack([head, words.view(np.uint8).reshape(-1, 18)]).tobytes()


class WitMotionProfile(VendorProfile):
    """WitMotion BWT901BLE / WT901BLE (BLE 5.0)."""

    kind = "witmotion"
    name = "witmotion/ble5"
    service_uuids = (SERVICE_UUID,)
    name_prefixes = ("WT901", "BWT901", "WT9011")
    model = "WitMotion BWT901BLE / WT901BLE"
    default_rate_hz = 100.0
    rates_hz = tuple(RATE_CODES)
    timing = TIMING_HOST_ARRIVAL
    acc_range_g = 16
    gyr_range_dps = 2000
    limitations = (
        "no device timestamp or counter: time_s from host arrival and the nominal rate "
        "(approximate); short packet losses are not detectable",
    )

    async def start(self, client: BleakClient,
                    on_data: Callable[[bytes], None]) -> dict[str, Any]:
        """Unlock, set the rate, save, then enable notifications (streaming starts)."""
        for cmd in (CMD_UNLOCK, rate_command(self.rate_hz), CMD_SAVE):
            await client.write_gatt_char(WRITE_CHAR_UUID, cmd, response=False)
            await asyncio.sleep(0.05)  # the module needs a moment between writes
        await client.start_notify(NOTIFY_CHAR_UUID, lambda _c, d: on_data(bytes(d)))
        return self.describe()

    async def stop(self, client: BleakClient) -> None:
        """Disable notifications (the module has no stop command)."""
        if client.is_connected:
            await client.stop_notify(NOTIFY_CHAR_UUID)

    def decode(self, notification: bytes) -> Frame | None:
        """Decode one or more 20-byte data packets (register replies are skipped)."""
        acc, gyr, _angles = decode_packets(notification)
        return self.frame(acc, gyr)
