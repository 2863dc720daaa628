"""Codec of the pelviscope open GATT profile (see ``firmware_bridge/PROTOCOL.md``).

This module is the ONE place where raw counts of our own profile become SI units
(m/s^2, rad/s). It is pure: bytes in, numpy arrays out (and back, for the emulated
firmware). Everything is little-endian.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from recordings.units import G_MPS2 as STANDARD_G_MPS2

FloatArray = NDArray[np.float64]

#: GATT UUIDs of the profile (lower case, as bleak normalises them).
SERVICE_UUID = "0f5e0001-8c3a-4a0b-9c6e-2b7d1e5a3c90"
DATA_CHAR_UUID = "0f5e0002-8c3a-4a0b-9c6e-2b7d1e5a3c90"
CONTROL_CHAR_UUID = "0f5e0003-8c3a-4a0b-9c6e-2b7d1e5a3c90"
INFO_CHAR_UUID = "0f5e0004-8c3a-4a0b-9c6e-2b7d1e5a3c90"
#: Standard SIG services and characteristics the firmware also exposes.
DEVICE_INFO_SERVICE_UUID = "0000180a-0000-1000-8000-00805f9b34fb"
MANUFACTURER_CHAR_UUID = "00002a29-0000-1000-8000-00805f9b34fb"
MODEL_CHAR_UUID = "00002a24-0000-1000-8000-00805f9b34fb"
FIRMWARE_REV_CHAR_UUID = "00002a26-0000-1000-8000-00805f9b34fb"
BATTERY_SERVICE_UUID = "0000180f-0000-1000-8000-00805f9b34fb"
BATTERY_LEVEL_CHAR_UUID = "00002a19-0000-1000-8000-00805f9b34fb"

PROTOCOL_VERSION = 1
FRAME_VERSION = 1
#: Channel flags of a data frame (byte 1).
CHANNELS_ACC_GYR = 0x03
#: Data frame header: version, channels, seq, t_first_us, odr_dhz, acc_fs_g, gyr_fs_dps, n.
_HEADER = struct.Struct("<BBHIHBHB")
HEADER_SIZE = _HEADER.size  # 14
SAMPLE_SIZE = 12  # six int16
MAX_SAMPLES_PER_FRAME = 255
SEQ_MODULUS = 1 << 16
DEVICE_TIME_MODULUS_US = 1 << 32

ACC_RANGES_G = (2, 4, 8, 16)
GYR_RANGES_DPS = (125, 250, 500, 1000, 2000, 4000)

# Control opcodes (write to the control characteristic; reply = opcode | 0x80, by notify).
OP_START = 0x01
OP_STOP = 0x02
OP_SET_CONFIG = 0x03
OP_GET_TIME = 0x04
OP_REPLY_FLAG = 0x80
# Reply status codes.
STATUS_OK = 0x00
STATUS_UNKNOWN_OPCODE = 0x01
STATUS_INVALID_PARAMETER = 0x02
STATUS_BAD_LENGTH = 0x03
STATUS_BUSY = 0x04
STATUS_MTU_TOO_SMALL = 0x05
STATUS_NAMES = {
    STATUS_OK: "ok",
    STATUS_UNKNOWN_OPCODE: "unknown opcode",
    STATUS_INVALID_PARAMETER: "invalid parameter",
    STATUS_BAD_LENGTH: "bad length",
    STATUS_BUSY: "busy (stop the stream first)",
    STATUS_MTU_TOO_SMALL: "ATT MTU too small for one sample",
}
# Capability bits of the info characteristic.
CAP_ACC = 1 << 0
CAP_GYR = 1 << 1
CAP_GET_TIME = 1 << 2
CAP_BATTERY = 1 << 3

_CONFIG = struct.Struct("<HBHB")  # odr_dhz, acc_fs_g, gyr_fs_dps, batch_n
_INFO_HEAD = struct.Struct("<BBI")  # protocol version, max frame version, capabilities


class FrameError(ValueError):
    """A notification that is not a valid data frame.

    Attributes
    ----------
    kind : str
        ``"short"`` (shorter than its header or its declared samples), ``"version"``
        (unknown frame version) or ``"corrupt"`` (inconsistent fields).
    """

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True)
class Frame:
    """One decoded data frame.

    Attributes
    ----------
    seq : int
        Sequence number, 0..65535 (wraps).
    device_time_us : int
        Device clock at the first sample, microseconds, 0..2**32-1 (wraps).
    rate_hz : float
        Output data rate the samples were taken at.
    acc_range_g, gyr_range_dps : int
        Full-scale ranges the samples were taken with.
    acc_mps2, gyr_rps : ndarray, shape (N, 3)
        Specific force in m/s^2 and angular velocity in rad/s, sensor frame.
    """

    seq: int
    device_time_us: int
    rate_hz: float
    acc_range_g: int
    gyr_range_dps: int
    acc_mps2: FloatArray
    gyr_rps: FloatArray

    @property
    def n_samples(self) -> int:
        """Number of samples in the frame."""
        return int(self.acc_mps2.shape[0])


@dataclass(frozen=True)
class StreamConfig:
    """Acquisition settings (the SET_CONFIG payload).

    Attributes
    ----------
    rate_hz : float
        Output data rate; sent in units of 0.1 Hz.
    acc_range_g : int
        Accelerometer full scale, one of :data:`ACC_RANGES_G`.
    gyr_range_dps : int
        Gyroscope full scale, one of :data:`GYR_RANGES_DPS`.
    batch : int
        Samples per notification; 0 lets the firmware pick the most that fit ATT_MTU-3.
    """

    rate_hz: float = 200.0
    acc_range_g: int = 8
    gyr_range_dps: int = 2000
    batch: int = 0

    def to_bytes(self) -> bytes:
        """Encode as the 6-byte configuration block."""
        return _CONFIG.pack(
            round(self.rate_hz * 10), self.acc_range_g, self.gyr_range_dps, self.batch
        )

    @classmethod
    def from_bytes(cls, data: bytes, offset: int = 0) -> StreamConfig:
        """Decode a 6-byte configuration block."""
        odr_dhz, acc, gyr, batch = _CONFIG.unpack_from(data, offset)
        return cls(rate_hz=odr_dhz / 10.0, acc_range_g=acc, gyr_range_dps=gyr, batch=batch)


@dataclass(frozen=True)
class DeviceInfo:
    """Content of the info characteristic.

    Attributes
    ----------
    protocol_version, max_frame_version : int
        Versions the firmware speaks.
    capabilities : int
        ``CAP_*`` bits.
    config : StreamConfig
        Current configuration.
    streaming : bool
        True while data frames are being sent.
    rates_hz : tuple of float
        Supported output data rates.
    """

    protocol_version: int
    max_frame_version: int
    capabilities: int
    config: StreamConfig
    streaming: bool
    rates_hz: tuple[float, ...]

    def to_bytes(self) -> bytes:
        """Encode the info characteristic value."""
        out = _INFO_HEAD.pack(self.protocol_version, self.max_frame_version, self.capabilities)
        out += self.config.to_bytes() + bytes([int(self.streaming), len(self.rates_hz)])
        return out + b"".join(struct.pack("<H", round(r * 10)) for r in self.rates_hz)

    @classmethod
    def from_bytes(cls, data: bytes) -> DeviceInfo:
        """Decode the info characteristic value; raises :class:`FrameError` if malformed."""
        fixed = _INFO_HEAD.size + _CONFIG.size + 2
        if len(data) < fixed:
            raise FrameError("short", f"info value of {len(data)} bytes, need >= {fixed}")
        proto, max_frame, caps = _INFO_HEAD.unpack_from(data, 0)
        config = StreamConfig.from_bytes(data, _INFO_HEAD.size)
        streaming, n_rates = data[fixed - 2], data[fixed - 1]
        if len(data) < fixed + 2 * n_rates:
            raise FrameError("short", "info value shorter than its list of rates")
        rates = struct.unpack_from(f"<{n_rates}H", data, fixed)
        return cls(proto, max_frame, caps, config, bool(streaming), tuple(r / 10 for r in rates))


def acc_scale_mps2(acc_range_g: int) -> float:
    """Metres per second squared per count at a full scale of ``acc_range_g``."""
    return acc_range_g * STANDARD_G_MPS2 / 32768.0


def gyr_scale_rps(gyr_range_dps: int) -> float:
    """Radians per second per count at a full scale of ``gyr_range_dps``."""
    return gyr_range_dps * math.pi / 180.0 / 32768.0


def samples_per_frame(att_mtu: int) -> int:
    """Most samples one notification can carry at ``att_mtu`` (0 if none fits)."""
    return max(0, min(MAX_SAMPLES_PER_FRAME, (att_mtu - 3 - HEADER_SIZE) // SAMPLE_SIZE))


def decode_frame(payload: bytes | bytearray | memoryview) -> Frame:
    """Decode one data-characteristic notification.

    Parameters
    ----------
    payload : bytes-like
        The notification value.

    Returns
    -------
    Frame
        Samples in SI units plus the frame header.

    Raises
    ------
    FrameError
        When the frame is short, of an unknown version, or inconsistent. Never returns
        invented samples.
    """
    data = bytes(payload)
    if len(data) < 1:
        raise FrameError("short", "empty notification")
    if data[0] != FRAME_VERSION:
        raise FrameError("version", f"unknown frame version {data[0]}")
    if len(data) < HEADER_SIZE:
        raise FrameError("short", f"frame of {len(data)} bytes, header needs {HEADER_SIZE}")
    _ver, channels, seq, t_us, odr_dhz, acc_fs, gyr_fs, n = _HEADER.unpack_from(data, 0)
    if channels != CHANNELS_ACC_GYR:
        raise FrameError("corrupt", f"unsupported channel flags 0x{channels:02x}")
    if n == 0 or odr_dhz == 0 or acc_fs not in ACC_RANGES_G or gyr_fs not in GYR_RANGES_DPS:
        raise FrameError("corrupt", "invalid header field (n, rate or range)")
    expected = HEADER_SIZE + n * SAMPLE_SIZE
    if len(data) != expected:
        kind = "short" if len(data) < expected else "corrupt"
        raise FrameError(kind, f"frame of {len(data)} bytes, header says {expected}")
    counts = np.frombuffer(data, dtype="<i2", count=6 * n, offset=HEADER_SIZE).reshape(n, 6)
    acc = counts[:, :3] * acc_scale_mps2(acc_fs)
    gyr = counts[:, 3:] * gyr_scale_rps(gyr_fs)
    return Frame(seq, t_us, odr_dhz / 10.0, acc_fs, gyr_fs, acc, gyr)


def encode_frame(
    seq: int,
    device_time_us: int,
    acc_mps2: FloatArray,
    gyr_rps: FloatArray,
    *,
    rate_hz: float,
    acc_range_g: int,
    gyr_range_dps: int,
) -> bytes:
    """Encode samples as one data frame (used by the emulated firmware and tests).

    Parameters
    ----------
    seq : int
        Sequence number; taken modulo 2**16.
    device_time_us : int
        Device clock at the first sample; taken modulo 2**32.
    acc_mps2, gyr_rps : ndarray, shape (N, 3)
        Samples in SI units; rounded to counts and clipped to the int16 range.
    rate_hz : float
        Output data rate (sent in 0.1 Hz units).
    acc_range_g, gyr_range_dps : int
        Full-scale ranges used to quantise.

    Returns
    -------
    bytes
        The notification value.
    """
    acc = np.asarray(acc_mps2, dtype=np.float64).reshape(-1, 3)
    gyr = np.asarray(gyr_rps, dtype=np.float64).reshape(-1, 3)
    n = acc.shape[0]
    if n != gyr.shape[0] or not 1 <= n <= MAX_SAMPLES_PER_FRAME:
        raise ValueError(f"need 1..255 samples with acc and gyr of equal length, got {n}")
    counts = np.empty((n, 6), dtype=np.float64)
    counts[:, :3] = acc / acc_scale_mps2(acc_range_g)
    counts[:, 3:] = gyr / gyr_scale_rps(gyr_range_dps)
    raw = np.clip(np.rint(counts), -32768, 32767).astype("<i2")
    header = _HEADER.pack(
        FRAME_VERSION,
        CHANNELS_ACC_GYR,
        seq % SEQ_MODULUS,
        device_time_us % DEVICE_TIME_MODULUS_US,
        round(rate_hz * 10),
        acc_range_g,
        gyr_range_dps,
        n,
    )
    return header + raw.tobytes()


def encode_command(opcode: int, payload: bytes = b"") -> bytes:
    """Encode a control-characteristic write."""
    return bytes([opcode]) + payload


def decode_reply(data: bytes | bytearray) -> tuple[int, int, bytes]:
    """Split a control reply into ``(opcode, status, payload)``.

    Raises
    ------
    FrameError
        When the reply is shorter than two bytes or lacks the reply flag.
    """
    if len(data) < 2 or not data[0] & OP_REPLY_FLAG:
        raise FrameError("corrupt", f"malformed control reply {bytes(data).hex()}")
    return data[0] & ~OP_REPLY_FLAG & 0xFF, data[1], bytes(data[2:])


def encode_reply(opcode: int, status: int, payload: bytes = b"") -> bytes:
    """Encode a control reply (firmware side)."""
    return bytes([opcode | OP_REPLY_FLAG, status]) + payload
