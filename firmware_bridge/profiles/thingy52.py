"""Nordic Thingy:52 (stock firmware v2.x) motion service as a pelviscope profile.

Source: ``NordicSemiconductor/Nordic-Thingy52-FW`` - ``include/ble_services/ble_tms.h``
(UUID 0x0400, ``ble_tms_raw_t``, ``ble_tms_config_t`` and its limits) and
``source/modules/m_motion.c`` (``RAW_Q_FORMAT_ACC_INTEGER_BITS 6``, ``_GYR_ 11``,
``_CMP_ 12``, i.e. Q6.10, Q11.5 and Q12.4 fixed point).

GATT: base ``EF68xxxx-9B35-4933-9B10-52FFA9740042``; motion service ``0400``;
configuration ``0401`` (read/write, 9 bytes: u16 pedometer interval ms, u16 temperature
compensation interval ms, u16 magnetometer compensation interval ms, u16 motion
processing frequency Hz 1..200, u8 wake-on-motion); raw data ``0406`` (notify, 18
bytes: int16 acc x y z in Q6.10 g, gyro x y z in Q11.5 deg/s, compass x y z in Q12.4
uT). One sample per notification.

Axes: the MPU-9250 axes as mounted on the Thingy board (right-handed); the stock
firmware passes them through unchanged as far as we read m_motion.c (not checked on
hardware).

Limits: no timestamp or counter in the raw characteristic: samples are timed from host
arrival and the nominal rate (``timing = "host_arrival_approximate"``). At 100-200 Hz
one notification per sample is close to what a BLE link delivers; 50-100 Hz is the
practical range (uncertain, not measured here). Ranges are the firmware's defaults
(uncertain: +-4 g / +-2000 deg/s is not documented in the sources we read; the Q
formats alone bound them to +-32 g and +-1024 deg/s).
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from firmware_bridge.profiles.common import DEG2RAD, G_MPS2, TIMING_HOST_ARRIVAL, VendorProfile
from firmware_bridge.profiles.pelviscope_profile import Frame, FrameError

if TYPE_CHECKING:
    from bleak import BleakClient


def thingy_uuid(short: int) -> str:
    """A Thingy:52 UUID from its 16-bit part."""
    return f"ef68{short:04x}-9b35-4933-9b10-52ffa9740042"


CONFIG_SERVICE_UUID = thingy_uuid(0x0100)  # what the Thingy advertises
MOTION_SERVICE_UUID = thingy_uuid(0x0400)
MOTION_CONFIG_CHAR_UUID = thingy_uuid(0x0401)
RAW_DATA_CHAR_UUID = thingy_uuid(0x0406)
_CONFIG = struct.Struct("<HHHHB")
RAW_SIZE = 18
ACC_SCALE_MPS2 = G_MPS2 / 1024.0  # Q6.10 g
GYR_SCALE_RPS = DEG2RAD / 32.0  # Q11.5 deg/s
CMP_SCALE_UT = 1.0 / 16.0  # Q12.4 uT
MOTION_HZ_MIN, MOTION_HZ_MAX = 1, 200


def encode_config(motion_hz: int, *, pedo_ms: int = 1000, temp_ms: int = 500,
                  compass_ms: int = 500, wake_on_motion: int = 0) -> bytes:
    """The 9-byte motion configuration value."""
    return _CONFIG.pack(pedo_ms, temp_ms, compass_ms, motion_hz, wake_on_motion)


def decode_config(value: bytes) -> tuple[int, int, int, int, int]:
    """``(pedo_ms, temp_ms, compass_ms, motion_hz, wake_on_motion)``."""
    if len(value) != _CONFIG.size:
        raise FrameError("short", f"Thingy config of {len(value)} bytes, need 9")
    pedo, temp, comp, hz, wom = _CONFIG.unpack(value)
    return pedo, temp, comp, hz, wom


def decode_raw(data: bytes) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Decode raw-data notifications (18 bytes each) to acc m/s^2, gyr rad/s, mag uT."""
    if len(data) == 0 or len(data) % RAW_SIZE:
        raise FrameError("short" if len(data) < RAW_SIZE else "corrupt",
                         f"Thingy raw value of {len(data)} bytes (18 per sample)")
    c = np.frombuffer(data, dtype="<i2").reshape(-1, 9).astype(np.float64)
    return c[:, 0:3] * ACC_SCALE_MPS2, c[:, 3:6] * GYR_SCALE_RPS, c[:, 6:9] * CMP_SCALE_UT


def encode_raw(acc_mps2: np.ndarray, gyr_rps: np.ndarray,
               mag_ut: np.ndarray | None = None) -> bytes:
    """Encode one raw-data value per sample (the emulated firmware; tests)."""
    acc = np.asarray(acc_mps2, np.float64).reshape(-1, 3)
    mag = np.zeros_like(acc) if mag_ut is None else np.asarray(mag_ut).reshape(-1, 3)
    counts = np.hstack([acc / ACC_SCALE_MPS2, np.asarray(gyr_rps).reshape(-1, 3) / GYR_SCALE_RPS,
                        mag / CMP_SCALE_UT])
    return np.clip(np.rint(counts), -32768, 32767).astype("<i2").tobytes()


class Thingy52Profile(VendorProfile):
    """Nordic Thingy:52 raw motion data."""

    kind = "thingy52"
    name = "nordic-thingy52/tms"
    service_uuids = (CONFIG_SERVICE_UUID, MOTION_SERVICE_UUID)
    name_prefixes = ("Thingy",)
    model = "Nordic Thingy:52"
    default_rate_hz = 50.0
    rates_hz = tuple(float(r) for r in (10, 20, 25, 50, 100, 200))
    timing = TIMING_HOST_ARRIVAL
    acc_range_g = 32
    gyr_range_dps = 1000
    limitations = (
        "no device timestamp or counter: time_s from host arrival and the nominal rate "
        "(approximate); short packet losses are not detectable",
        "one sample per notification: rates above 100 Hz may not be delivered",
    )

    async def start(self, client: BleakClient,
                    on_data: Callable[[bytes], None]) -> dict[str, Any]:
        """Write the motion frequency (keeping the other settings), then subscribe."""
        try:
            pedo, temp, comp, _hz, wom = decode_config(
                bytes(await client.read_gatt_char(MOTION_CONFIG_CHAR_UUID)))
        except FrameError:
            pedo, temp, comp, wom = 1000, 500, 500, 0
        await client.write_gatt_char(
            MOTION_CONFIG_CHAR_UUID,
            encode_config(round(self.rate_hz), pedo_ms=pedo, temp_ms=temp, compass_ms=comp,
                          wake_on_motion=wom),
            response=True)
        await client.start_notify(RAW_DATA_CHAR_UUID, lambda _c, d: on_data(bytes(d)))
        return self.describe()

    async def stop(self, client: BleakClient) -> None:
        """Disable raw-data notifications."""
        if client.is_connected:
            await client.stop_notify(RAW_DATA_CHAR_UUID)

    def decode(self, notification: bytes) -> Frame | None:
        """Decode one raw-data notification (the compass is ignored)."""
        acc, gyr, _mag = decode_raw(notification)
        return self.frame(acc, gyr)
