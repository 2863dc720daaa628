"""Movesense with the ``gatt_sensordata_app`` sample firmware as a pelviscope profile.

Source: Movesense device library, ``samples/gatt_sensordata_app`` (its README and its
Python/bleak client ``python_client``); the IMU SBEM layout is the one that client
parses (``[type, ref, u32 timestamp, N x acc xyz, N x gyro xyz(, N x magn xyz)]``,
arrays one after the other, float32 little-endian); the resource paths are
``/Meas/IMU6/{rate}`` from the Movesense ``meas/imu.yaml`` API.

GATT: service ``34802252-7185-4d5d-b431-630e7050e8f0``; write ``34800001-...``;
notify ``34800002-...``. Commands: subscribe ``[0x01, ref, "/Meas/IMU6/104"]``,
unsubscribe ``[0x02, ref]``. Notifications: ``[0x01 command response, ref, ...]``,
``[0x02 data, ref, u32 ms timestamp of the first sample, N x 3 float32 acc m/s^2,
N x 3 float32 gyro deg/s]``; a data packet longer than the MTU is split into a
``0x02`` part and a ``0x03`` part (``DATA_PART2``, seen in the vendor client for IMU9)
that are concatenated (without the second type/ref). The reassembly rule used here
(a ``0x02`` part whose payload is not a whole number of samples waits for its ``0x03``)
is our reading of that client - uncertain. The command-response payload (a u16 status
after ``ref``) is not documented in the sources we read: we do not rely on it.

Axes: Movesense sensor frame (right-handed, as printed in the Movesense docs).
Rates: 13, 26, 52, 104, 208, 416, 833, 1666 Hz. Ranges: firmware defaults (+-8 g,
+-2000 deg/s per the Movesense defaults - uncertain).

Limits: the timestamp is in ms (1 ms resolution; the stream decoder's clock fit smooths
it); no sequence number, so lost packets are found from timestamp jumps only.
The newer official GSP protocol (firmware >= 2.3) is a superset; only the sample app's
layout is implemented.
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

SERVICE_UUID = "34802252-7185-4d5d-b431-630e7050e8f0"
WRITE_CHAR_UUID = "34800001-7185-4d5d-b431-630e7050e8f0"
NOTIFY_CHAR_UUID = "34800002-7185-4d5d-b431-630e7050e8f0"
#: Movesense's SIG-assigned 16-bit service (advertised by stock firmware).
MOVESENSE_SIG_UUID = "0000fdf3-0000-1000-8000-00805f9b34fb"
OP_SUBSCRIBE, OP_UNSUBSCRIBE = 0x01, 0x02
PKT_RESPONSE, PKT_DATA, PKT_DATA_PART2 = 0x01, 0x02, 0x03
SAMPLE_SIZE = 24  # 3 float32 acc + 3 float32 gyro
HEAD = struct.Struct("<BBI")
RATES_HZ = (13.0, 26.0, 52.0, 104.0, 208.0, 416.0, 833.0, 1666.0)
DATA_REF = 99


def subscribe_command(ref: int, rate_hz: float) -> bytes:
    """``[0x01, ref, "/Meas/IMU6/<rate>"]``."""
    return bytes([OP_SUBSCRIBE, ref]) + f"/Meas/IMU6/{round(rate_hz)}".encode()


def encode_data(ref: int, timestamp_ms: int, acc_mps2: np.ndarray,
                gyr_rps: np.ndarray) -> bytes:
    """One IMU6 data packet (before any MTU split)."""
    acc = np.asarray(acc_mps2, "<f4").reshape(-1, 3)
    gyr = (np.asarray(gyr_rps, np.float64).reshape(-1, 3) / DEG2RAD).astype("<f4")
    return HEAD.pack(PKT_DATA, ref, timestamp_ms % (1 << 32)) + acc.tobytes() + gyr.tobytes()


def decode_data(body: bytes) -> tuple[int, np.ndarray, np.ndarray]:
    """``[type, ref, ts, acc..., gyr...]`` -> (timestamp ms, acc m/s^2, gyr rad/s)."""
    if len(body) < HEAD.size + SAMPLE_SIZE:
        raise FrameError("short", f"Movesense data packet of {len(body)} bytes")
    if (len(body) - HEAD.size) % SAMPLE_SIZE:
        raise FrameError("corrupt", "Movesense IMU6 payload not a whole number of samples")
    n = (len(body) - HEAD.size) // SAMPLE_SIZE
    ts = HEAD.unpack_from(body)[2]
    f = np.frombuffer(body, "<f4", offset=HEAD.size).astype(np.float64)
    return ts, f[: 3 * n].reshape(n, 3), f[3 * n:].reshape(n, 3) * DEG2RAD


class MovesenseProfile(VendorProfile):
    """Movesense (gatt_sensordata_app) IMU6 stream."""

    kind = "movesense"
    name = "movesense/gatt_sensordata_app"
    service_uuids = (SERVICE_UUID, MOVESENSE_SIG_UUID)
    name_prefixes = ("Movesense",)
    model = "Movesense (gatt_sensordata_app)"
    default_rate_hz = 104.0
    rates_hz = RATES_HZ
    acc_range_g = 8
    gyr_range_dps = 2000
    limitations = ("device timestamps have 1 ms resolution",)

    def __init__(self, rate_hz: float | None = None) -> None:
        super().__init__(rate_hz)
        self._part1: bytes | None = None

    async def start(self, client: BleakClient,
                    on_data: Callable[[bytes], None]) -> dict[str, Any]:
        """Subscribe to notifications, then to ``/Meas/IMU6/<rate>``."""
        self._part1 = None
        await client.start_notify(NOTIFY_CHAR_UUID, lambda _c, d: on_data(bytes(d)))
        await client.write_gatt_char(WRITE_CHAR_UUID, subscribe_command(DATA_REF, self.rate_hz),
                                     response=True)
        return self.describe()

    async def stop(self, client: BleakClient) -> None:
        """Unsubscribe the data stream."""
        if client.is_connected:
            await client.write_gatt_char(WRITE_CHAR_UUID, bytes([OP_UNSUBSCRIBE, DATA_REF]),
                                         response=True)

    def decode(self, notification: bytes) -> Frame | None:
        """Decode a data packet (reassembling a split one); responses give None."""
        if len(notification) < 2:
            raise FrameError("short", "Movesense notification shorter than 2 bytes")
        kind, ref = notification[0], notification[1]
        if kind == PKT_RESPONSE or ref != DATA_REF:
            return None
        if kind == PKT_DATA_PART2:
            if self._part1 is None:
                raise FrameError("corrupt", "Movesense DATA_PART2 without its first part")
            body, self._part1 = self._part1 + notification[2:], None
        elif kind == PKT_DATA:
            self._part1 = None
            if (len(notification) - HEAD.size) % SAMPLE_SIZE:
                self._part1 = notification  # a split packet: wait for DATA_PART2
                return None
            body = notification
        else:
            raise FrameError("corrupt", f"unknown Movesense packet type {kind}")
        ts_ms, acc, gyr = decode_data(body)
        return self.frame(acc, gyr, device_time_us=ts_ms * 1000.0)
