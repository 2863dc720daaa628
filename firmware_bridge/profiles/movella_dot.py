"""Movella DOT (formerly Xsens DOT) real-time streaming as a pelviscope profile.

Source: Movella DOT BLE Services Specification (XD0506P) as implemented by Xsens'
own example server ``xsens/xsens_dot_server`` (``bleHandler.js``: control
``15172001-...``, medium payload ``15172003-...``, start ``[0x01, 0x01, mode]``, stop
``[0x01, 0x00, mode]``, u32 little-endian timestamp in microseconds at byte 0,
``getAcceleration``/``getAngularVelocity`` float32 at bytes 4 and 16 for payload mode
20 "rate quantities (with mag)"; ``global.js``: mode ids). Base UUID
``1517xxxx-4947-11E9-8646-D663BD873D93``.

Payload mode 20 (verified in that code): u32 timestamp us, 3 float32 calibrated
acceleration m/s^2 (specific force, gravity included), 3 float32 angular velocity
deg/s, 3 int16 magnetic field (/2**12, arbitrary units) - 34 bytes, one sample per
notification. Mode 21 "rate quantities" (same without mag, 28 bytes) is in the
specification's table but not in that code; 28-byte values are decoded too.

Rate: the real-time output rate is a Device Control setting (1, 4, 10, 12, 15, 20, 30,
60, 120 Hz; default 60 Hz); pelviscope does not write it (uncertain layout of that
32-byte structure). The profile assumes 60 Hz and switches to the rate seen in the
timestamps (median spacing of the first samples, snapped to the list above).

Axes: the DOT sensor frame (right-handed, printed on the housing).
Limits: medium-payload real-time streaming is limited to 60 Hz by Movella; the
device clock wraps every 71.6 min (unwrapped by the stream decoder).
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from firmware_bridge.profiles.common import DEG2RAD, VendorProfile
from firmware_bridge.profiles.pelviscope_profile import Frame, FrameError

if TYPE_CHECKING:
    from bleak import BleakClient


def dot_uuid(short: int) -> str:
    """A Movella DOT UUID from its 16-bit part."""
    return f"1517{short:04x}-4947-11e9-8646-d663bd873d93"


MEASUREMENT_SERVICE_UUID = dot_uuid(0x2000)
CONTROL_CHAR_UUID = dot_uuid(0x2001)
MEDIUM_PAYLOAD_CHAR_UUID = dot_uuid(0x2003)
MODE_RATE_QUANTITIES_WITH_MAG = 20
MODE_RATE_QUANTITIES = 21
RATES_HZ = (1.0, 4.0, 10.0, 12.0, 15.0, 20.0, 30.0, 60.0, 120.0)
_BODY = struct.Struct("<I6f")


def start_command(mode: int = MODE_RATE_QUANTITIES_WITH_MAG, enable: bool = True) -> bytes:
    """``[0x01, 0x01 start / 0x00 stop, payload mode]``."""
    return bytes([0x01, 0x01 if enable else 0x00, mode])


def encode_rate_quantities(timestamp_us: int, acc_mps2: np.ndarray, gyr_rps: np.ndarray,
                           mag: np.ndarray | None = None) -> bytes:
    """One mode-20 value (34 bytes); without ``mag`` a mode-21 value (28 bytes)."""
    acc = np.asarray(acc_mps2, np.float64).reshape(3)
    gyr = np.asarray(gyr_rps, np.float64).reshape(3) / DEG2RAD
    out = _BODY.pack(timestamp_us % (1 << 32), *acc, *gyr)
    if mag is not None:
        out += np.clip(np.rint(np.asarray(mag) * 4096), -32768, 32767).astype("<i2").tobytes()
    return out


class MovellaDotProfile(VendorProfile):
    """Movella DOT, payload mode 20 (rate quantities with mag)."""

    kind = "movella-dot"
    name = "movella-dot/rate-quantities"
    service_uuids = (MEASUREMENT_SERVICE_UUID, dot_uuid(0x1000))
    name_prefixes = ("Xsens DOT", "Movella DOT")
    model = "Movella DOT"
    default_rate_hz = 60.0
    rates_hz = RATES_HZ
    acc_range_g = 16
    gyr_range_dps = 2000
    limitations = ("real-time output rate is the device setting (60 Hz by default); "
                   "pelviscope does not change it",)

    def __init__(self, rate_hz: float | None = None) -> None:
        super().__init__(self.default_rate_hz)  # the rate is not ours to set
        self.requested_rate_hz = rate_hz
        self._deltas: list[int] = []
        self._last_ts: int | None = None

    async def start(self, client: BleakClient,
                    on_data: Callable[[bytes], None]) -> dict[str, Any]:
        """Subscribe to the medium payload, then start mode 20."""
        self._deltas, self._last_ts = [], None
        await client.start_notify(MEDIUM_PAYLOAD_CHAR_UUID, lambda _c, d: on_data(bytes(d)))
        await client.write_gatt_char(CONTROL_CHAR_UUID, start_command(), response=True)
        return self.describe()

    async def stop(self, client: BleakClient) -> None:
        """Stop measuring."""
        if client.is_connected:
            await client.write_gatt_char(CONTROL_CHAR_UUID, start_command(enable=False),
                                         response=True)

    def decode(self, notification: bytes) -> Frame | None:
        """Decode one rate-quantities value (34 or 28 bytes)."""
        if len(notification) not in (28, 34):
            kind = "short" if len(notification) < 28 else "corrupt"
            raise FrameError(kind, f"DOT payload of {len(notification)} bytes (28 or 34)")
        ts, *vals = _BODY.unpack_from(notification)
        self._learn_rate(ts)
        v = np.asarray(vals, np.float64)
        return self.frame(v[:3], v[3:] * DEG2RAD, device_time_us=ts)

    def _learn_rate(self, ts: int) -> None:
        if self._last_ts is not None and len(self._deltas) < 10:
            delta = (ts - self._last_ts) % (1 << 32)
            if delta > 0:
                self._deltas.append(delta)
                seen = 1e6 / float(np.median(self._deltas))
                self.rate_hz = min(RATES_HZ, key=lambda r: abs(r - seen))
        self._last_ts = ts
