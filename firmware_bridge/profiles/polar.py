"""Polar Verity Sense and H10 (PMD, Polar Measurement Data) as pelviscope profiles.

Source: ``polarofficial/polar-ble-sdk`` (Android ``BlePMDClient.kt``: UUIDs, control-point
protocol, ``parseDeltaFramesAll``; ``PmdDataFrame.kt``: frame header; ``PmdSetting.kt``:
settings TLV; ``PmdControlPointResponse.kt``; ``model/AccData.kt``, ``model/GyrData.kt``:
frame types and FACTOR; ``PmdTimeStampUtils.kt``: the timestamp is that of the LAST
sample of the frame).

GATT: service ``FB005C80-02E7-F387-1CAD-8ACD2D8DF0C8``, control point ``...5C81``
(read, write, indicate), data ``...5C82`` (notify).

Control point: write ``[op, type, settings...]``; op 1 = get settings, 2 = start,
3 = stop; type 2 = ACC, 5 = GYRO. Settings TLV: ``[setting type, count, value...]``
with type 0 sample rate (u16), 1 resolution (u16), 2 range (u16), 3 range milli-unit
(u32), 4 channels (u8), 5 FACTOR (float32 bits, only in the start response).
Response: ``[0xF0, op, type, status, more, params...]``, status 0 = success.

Data frame: ``[type u8][timestamp u64 ns, last sample][frame type u8][content]``;
bit 7 of the frame type = delta-compressed. Compressed content: a reference sample
(``channels`` x ceil(resolution/8) bytes, signed LE) then blocks
``[delta bit width u8][sample count u8][count x channels deltas, bit-packed LSB first,
signed two's complement]``; every decoded value is multiplied by FACTOR.

- ACC raw frame type 1: int16 x y z in mG (H10; Polar SDK parser). Compressed type 1:
  16-bit reference, values x FACTOR in mG (Verity Sense).
- GYRO compressed type 0: 16-bit reference, values x FACTOR in deg/s (Verity Sense).
  Raw gyro frames are not used by the SDK and not supported here.

Which frame types a given firmware sends is taken from the SDK parsers, not verified
on hardware (uncertain); any other frame type is counted as a bad frame. The timestamp
epoch (2000-01-01) does not matter here: only differences are used.

Verity Sense: ACC and GYRO are two streams of frames with their own timestamps; they
are paired sample by sample on the rate grid (nearest sample within half a period);
samples present in one stream only are dropped and show as a gap. H10: accelerometer
only - recordings have no gyroscope channel (``gyr_rps`` None), which the recording
metadata states; orientation then comes from the accelerometer alone.
"""

from __future__ import annotations

import asyncio
import math
import struct
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from firmware_bridge.profiles.base import DeviceError
from firmware_bridge.profiles.common import DEG2RAD, G_MPS2, VendorProfile
from firmware_bridge.profiles.pelviscope_profile import Frame, FrameError

if TYPE_CHECKING:
    from bleak import BleakClient

SERVICE_UUID = "fb005c80-02e7-f387-1cad-8acd2d8df0c8"
CONTROL_CHAR_UUID = "fb005c81-02e7-f387-1cad-8acd2d8df0c8"
DATA_CHAR_UUID = "fb005c82-02e7-f387-1cad-8acd2d8df0c8"
HEART_RATE_SERVICE_UUID = "0000180d-0000-1000-8000-00805f9b34fb"
OP_GET_SETTINGS, OP_START, OP_STOP = 1, 2, 3
TYPE_ACC, TYPE_GYRO = 2, 5
RESPONSE_CODE = 0xF0
SET_RATE, SET_RESOLUTION, SET_RANGE, SET_RANGE_MILLI, SET_CHANNELS, SET_FACTOR = range(6)
_FIELD_SIZE = {SET_RATE: 2, SET_RESOLUTION: 2, SET_RANGE: 2, SET_RANGE_MILLI: 4,
               SET_CHANNELS: 1, SET_FACTOR: 4}
DELTA_FLAG = 0x80
_HEAD = struct.Struct("<BQB")
MG_TO_MPS2 = G_MPS2 / 1000.0
REPLY_TIMEOUT_S = 3.0


# ---- settings and control point ---------------------------------------------------------
def encode_settings(settings: dict[int, int]) -> bytes:
    """Settings TLV (one value each), e.g. ``{SET_RATE: 52, SET_RESOLUTION: 16}``."""
    out = b""
    for key, value in settings.items():
        out += bytes([key, 1]) + int(value).to_bytes(_FIELD_SIZE[key], "little", signed=False)
    return out


def decode_settings(data: bytes) -> dict[int, list[int]]:
    """Parse a settings TLV into ``{setting type: [values]}`` (FACTOR as raw u32 bits)."""
    out: dict[int, list[int]] = {}
    i = 0
    while i + 2 <= len(data):
        key, count = data[i], data[i + 1]
        size = _FIELD_SIZE.get(key)
        if size is None or i + 2 + count * size > len(data):
            raise FrameError("corrupt", f"bad PMD settings TLV at byte {i}")
        i += 2
        out[key] = [int.from_bytes(data[i + k * size: i + (k + 1) * size], "little")
                    for k in range(count)]
        i += count * size
    return out


def factor_of(settings: dict[int, list[int]]) -> float:
    """FACTOR of a start response (1.0 when absent)."""
    bits = settings.get(SET_FACTOR)
    return struct.unpack("<f", struct.pack("<I", bits[0]))[0] if bits else 1.0


def encode_response(op: int, mtype: int, status: int = 0, params: bytes = b"") -> bytes:
    """``[0xF0, op, type, status, more=0, params]`` (the emulated device)."""
    return bytes([RESPONSE_CODE, op, mtype, status, 0]) + params


# ---- data frames ------------------------------------------------------------------------
def _sign_extend(values: np.ndarray, bits: int) -> np.ndarray:
    v = values.astype(np.int64)
    return np.where(v >= (1 << (bits - 1)), v - (1 << bits), v)


def parse_delta_frames(content: bytes, channels: int, resolution: int) -> np.ndarray:
    """Decode delta-compressed content into an ``(N, channels)`` int64 array.

    Follows ``BlePMDClient.parseDeltaFramesAll``: a reference sample, then blocks of
    bit-packed signed deltas (LSB first), each added to the previous sample.
    """
    ref_bytes = math.ceil(resolution / 8)
    head = channels * ref_bytes
    if len(content) < head:
        raise FrameError("short", "PMD delta frame shorter than its reference sample")
    ref = np.frombuffer(content[:head], np.uint8).reshape(channels, ref_bytes)
    ref_val = (ref.astype(np.int64) << (8 * np.arange(ref_bytes))).sum(axis=1)
    rows = [_sign_extend(ref_val, resolution)[None, :]]
    i = head
    while i < len(content):
        if i + 2 > len(content):
            raise FrameError("short", "PMD delta block header cut off")
        width, count = content[i], content[i + 1]
        i += 2
        nbits = width * count * channels
        nbytes = math.ceil(nbits / 8)
        if width == 0 or width > 32 or i + nbytes > len(content):
            raise FrameError("corrupt", "PMD delta block longer than the frame")
        bits = np.unpackbits(np.frombuffer(content[i:i + nbytes], np.uint8),
                             bitorder="little")[:nbits].reshape(count * channels, width)
        raw = (bits.astype(np.int64) << np.arange(width)).sum(axis=1)
        rows.append(_sign_extend(raw, width).reshape(count, channels))
        i += nbytes
    deltas = np.vstack(rows)
    return np.cumsum(deltas, axis=0)


def encode_delta_frames(samples: np.ndarray, resolution: int, block: int = 16) -> bytes:
    """Delta-compress integer samples ``(N, channels)`` (the emulated device; tests)."""
    s = np.asarray(samples, np.int64)
    ref_bytes = math.ceil(resolution / 8)
    out = b"".join(int(v & ((1 << (8 * ref_bytes)) - 1)).to_bytes(ref_bytes, "little")
                   for v in s[0])
    d = np.diff(s, axis=0)
    for k in range(0, d.shape[0], block):
        chunk = d[k:k + block]
        m = int(np.abs(chunk).max()) if chunk.size else 0
        width = max(2, (m.bit_length() + 1))
        vals = (chunk.reshape(-1) & ((1 << width) - 1)).astype(np.int64)
        bits = ((vals[:, None] >> np.arange(width)) & 1).astype(np.uint8).reshape(-1)
        out += bytes([width, chunk.shape[0]]) + np.packbits(bits, bitorder="little").tobytes()
    return out


def encode_frame(mtype: int, timestamp_ns: int, frame_type: int, content: bytes) -> bytes:
    """``[type][u64 ns timestamp of the last sample][frame type][content]``."""
    return _HEAD.pack(mtype, timestamp_ns, frame_type) + content


def decode_frame(data: bytes) -> tuple[int, int, int, bool, bytes]:
    """Split a PMD data notification: (type, timestamp ns, frame type, compressed, content)."""
    if len(data) < _HEAD.size + 1:
        raise FrameError("short", f"PMD frame of {len(data)} bytes")
    mtype, ts, ftype = _HEAD.unpack_from(data)
    return mtype, ts, ftype & 0x7F, bool(ftype & DELTA_FLAG), data[_HEAD.size:]


def decode_values(data: bytes, factor: float = 1.0) -> tuple[int, int, np.ndarray]:
    """Decode ACC or GYRO frames to (type, last timestamp ns, values in mG or deg/s)."""
    mtype, ts, ftype, compressed, content = decode_frame(data)
    if mtype == TYPE_ACC and not compressed and ftype == 1:
        if len(content) == 0 or len(content) % 6:
            raise FrameError("corrupt", "PMD raw ACC content not a whole number of samples")
        return mtype, ts, np.frombuffer(content, "<i2").reshape(-1, 3).astype(np.float64)
    if compressed and ((mtype == TYPE_ACC and ftype == 1) or (mtype == TYPE_GYRO and ftype == 0)):
        vals = parse_delta_frames(content, 3, 16).astype(np.float64)
        return mtype, ts, vals * factor if factor != 1.0 else vals
    raise FrameError("corrupt", f"unsupported PMD frame (type {mtype}, frame type {ftype}"
                                f"{', compressed' if compressed else ''})")


class PolarProfile(VendorProfile):
    """Polar PMD accelerometer (+ gyroscope on the Verity Sense)."""

    kind = "polar-verity"
    name = "polar/pmd"
    service_uuids = (SERVICE_UUID,)
    name_prefixes = ("Polar Sense",)
    model = "Polar Verity Sense"
    default_rate_hz = 52.0
    rates_hz: tuple[float, ...] = (26.0, 52.0, 104.0, 208.0, 416.0)
    acc_range_g = 8
    gyr_range_dps = 2000
    limitations = ("ACC and GYRO arrive as separate streams and are paired by timestamp",)

    def __init__(self, rate_hz: float | None = None) -> None:
        super().__init__(rate_hz)
        self.factors = {TYPE_ACC: 1.0, TYPE_GYRO: 1.0}
        self._replies: asyncio.Queue[bytes] | None = None
        self._reset_pairing()

    def matches(self, local_name: str | None, service_uuids: Sequence[str]) -> bool:
        """By name (the H10 and the Verity Sense share the PMD service)."""
        name = (local_name or "").lower()
        return any(name.startswith(p.lower()) for p in self.name_prefixes)

    def _reset_pairing(self) -> None:
        self._t0_ns: int | None = None
        self._pend = {TYPE_ACC: (np.empty(0, np.int64), np.empty((0, 3))),
                      TYPE_GYRO: (np.empty(0, np.int64), np.empty((0, 3)))}

    # ---- control point --------------------------------------------------------------
    def _on_cp(self, _char: Any, data: bytearray) -> None:
        if self._replies is not None and data and data[0] == RESPONSE_CODE:
            self._replies.put_nowait(bytes(data))

    async def _command(self, client: BleakClient, payload: bytes) -> bytes:
        assert self._replies is not None
        await client.write_gatt_char(CONTROL_CHAR_UUID, payload, response=True)
        try:
            reply = await asyncio.wait_for(self._replies.get(), REPLY_TIMEOUT_S)
        except TimeoutError as exc:
            raise DeviceError(f"no PMD reply to op {payload[0]}") from exc
        if len(reply) < 4 or reply[1] != payload[0] or reply[3] != 0:
            raise DeviceError(f"PMD op {payload[0]} type {payload[1]} refused "
                                f"(status {reply[3] if len(reply) > 3 else '?'})")
        return reply[5:]

    def _streams(self) -> tuple[int, ...]:
        return (TYPE_ACC, TYPE_GYRO) if self.has_gyr else (TYPE_ACC,)

    def _settings(self, mtype: int) -> dict[int, int]:
        rng = self.acc_range_g if mtype == TYPE_ACC else self.gyr_range_dps
        return {SET_RATE: round(self.rate_hz), SET_RESOLUTION: 16, SET_RANGE: rng,
                SET_CHANNELS: 3}

    async def start(self, client: BleakClient,
                    on_data: Callable[[bytes], None]) -> dict[str, Any]:
        """Enable CP indications and data notifications, then start each stream."""
        self._replies = asyncio.Queue()
        self._reset_pairing()
        await client.start_notify(CONTROL_CHAR_UUID, self._on_cp)
        await client.start_notify(DATA_CHAR_UUID, lambda _c, d: on_data(bytes(d)))
        for mtype in self._streams():
            with_settings = await self._command(client, bytes([OP_GET_SETTINGS, mtype]))
            rates = decode_settings(with_settings).get(SET_RATE, [])
            if rates and round(self.rate_hz) not in rates:
                self.rate_hz = float(min(rates, key=lambda r: abs(r - self.rate_hz)))
            params = await self._command(
                client, bytes([OP_START, mtype]) + encode_settings(self._settings(mtype)))
            self.factors[mtype] = factor_of(decode_settings(params))
        return self.describe()

    async def stop(self, client: BleakClient) -> None:
        """Stop each stream."""
        if client.is_connected:
            for mtype in self._streams():
                await self._command(client, bytes([OP_STOP, mtype]))

    # ---- data -----------------------------------------------------------------------
    def decode(self, notification: bytes) -> Frame | None:
        """Decode one PMD frame; with a gyroscope, return the newly paired samples."""
        mtype, ts_ns, vals = decode_values(notification, self.factors.get(notification[0], 1.0))
        scale = MG_TO_MPS2 if mtype == TYPE_ACC else DEG2RAD
        period_ns = 1e9 / self.rate_hz
        n = vals.shape[0]
        t_ns = ts_ns - (n - 1 - np.arange(n)) * period_ns  # the last sample has ts_ns
        if not self.has_gyr:
            return self.frame(vals * scale, None, device_time_us=t_ns[0] / 1000.0)
        if self._t0_ns is None:
            self._t0_ns = int(t_ns[0])
        k = np.rint((t_ns - self._t0_ns) / period_ns).astype(np.int64)
        old_k, old_v = self._pend[mtype]
        self._pend[mtype] = (np.concatenate([old_k, k]), np.vstack([old_v, vals * scale]))
        return self._pair(period_ns)

    def _pair(self, period_ns: float) -> Frame | None:
        ka, va = self._pend[TYPE_ACC]
        kg, vg = self._pend[TYPE_GYRO]
        common, ia, ig = np.intersect1d(ka, kg, assume_unique=False, return_indices=True)
        if common.size == 0:
            return None
        run = int(np.argmax(np.diff(common) != 1)) + 1 if np.any(np.diff(common) != 1) \
            else common.size
        last = common[run - 1]
        acc, gyr = va[ia[:run]], vg[ig[:run]]
        keep_a, keep_g = ka > last, kg > last
        self._pend[TYPE_ACC] = (ka[keep_a], va[keep_a])
        self._pend[TYPE_GYRO] = (kg[keep_g], vg[keep_g])
        assert self._t0_ns is not None
        t_first_us = (self._t0_ns + common[0] * period_ns) / 1000.0
        return self.frame(acc, gyr, device_time_us=t_first_us)



class PolarH10Profile(PolarProfile):
    """Polar H10 chest strap: PMD accelerometer only (no gyroscope)."""

    kind = "polar-h10"
    name = "polar/pmd-acc"
    name_prefixes = ("Polar H10",)
    model = "Polar H10"
    default_rate_hz = 50.0
    rates_hz = (25.0, 50.0, 100.0, 200.0)
    has_gyr = False
    acc_range_g = 8
    gyr_range_dps = 0
    limitations = ("accelerometer only: no gyroscope channel; orientation and tilt come "
                   "from the accelerometer alone (less accurate while walking)",)

