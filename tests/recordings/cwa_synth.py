"""Write valid Axivity AX6 ``.cwa`` files (Open Movement specification) for the tests.

A 1024-byte ``MD`` header, then 512-byte ``AX`` data blocks of 40 samples each
(gyroscope x, y, z then accelerometer x, y, z as int16; 2048 per g at +-16 g,
16.384 per deg/s at +-2000 deg/s), a whole-second packed timestamp valid at sample
``timestampOffset`` of the block (no fractional time: ``deviceFractional`` holds the
device id, top bit clear; the start is a whole second) and the checksum making the
block's 16-bit words sum to zero. Written block-vectorised, an hour at a
time, so a week-long file costs memory for an hour only.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import numpy as np

SAMPLES_PER_BLOCK = 40
ACC_PER_G = 2048.0
GYR_PER_DPS = 32768.0 / 2000.0
_RATE_CODES = {25: 0x08, 50: 0x09, 100: 0x0A, 200: 0x0B}

Signal = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]
"""``signal(t_s) -> (acc_g (n, 3), gyr_dps (n, 3))`` at sample times after the start."""

_BLOCK = np.dtype(
    [
        ("header", "S2"),
        ("length", "<u2"),
        ("fractional", "<u2"),
        ("session", "<u4"),
        ("sequence", "<u4"),
        ("timestamp", "<u4"),
        ("light_scale", "<u2"),
        ("temperature", "<u2"),
        ("events", "u1"),
        ("battery", "u1"),
        ("rate", "u1"),
        ("axes_bps", "u1"),
        ("offset", "<i2"),
        ("count", "<u2"),
        ("samples", "<i2", (SAMPLES_PER_BLOCK, 6)),
        ("checksum", "<u2"),
    ]
)
assert _BLOCK.itemsize == 512


def _packed(when: np.ndarray) -> np.ndarray:
    """CWA packed timestamps of whole-second ``datetime64[s]`` values."""
    years = when.astype("M8[Y]")
    months = when.astype("M8[M]")
    days = when.astype("M8[D]")
    year = years.astype(np.int64) + 1970
    month = (months - years).astype(np.int64) + 1
    day = (days - months).astype(np.int64) + 1
    sec = (when - days).astype(np.int64)
    hour, minute, second = sec // 3600, (sec // 60) % 60, sec % 60
    return (
        ((year - 2000) & 0x3F) << 26
        | (month & 0x0F) << 22
        | (day & 0x1F) << 17
        | (hour & 0x1F) << 12
        | (minute & 0x3F) << 6
        | (second & 0x3F)
    ).astype(np.uint32)


def _header(start: datetime, rate_code: int, subject: str | None) -> bytes:
    head = bytearray(b"\xff" * 1024)
    head[0:2] = b"MD"
    head[2:4] = (1020).to_bytes(2, "little")
    head[4] = 0x64  # AX6
    head[5:7] = (4242).to_bytes(2, "little")  # device id
    head[7:11] = (7).to_bytes(4, "little")  # session id
    head[11:13] = (0).to_bytes(2, "little")
    head[13:17] = b"\x00\x00\x00\x00"  # logging start: always
    head[17:21] = b"\xff\xff\xff\xff"  # logging end: never
    head[35] = 0x02  # sensor config: gyroscope +-2000 deg/s
    head[36] = rate_code
    stamp = _packed(np.array([np.datetime64(start, "s")]))[0]
    head[37:41] = int(stamp).to_bytes(4, "little")  # last change
    head[41] = 53  # firmware
    annotation = (f"?_sc={subject}" if subject else "").encode("ascii").ljust(448, b" ")
    head[64:512] = annotation
    return bytes(head)


def still_signal(t_s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Gravity on z with a little deterministic wobble, no rotation (any length)."""
    acc = np.zeros((t_s.size, 3))
    acc[:, 0] = 0.02 * np.sin(2 * np.pi * 0.5 * t_s)
    acc[:, 2] = 1.0
    gyr = np.zeros((t_s.size, 3))
    gyr[:, 1] = 3.0 * np.cos(2 * np.pi * 0.5 * t_s)
    return acc, gyr


def write_ax6(
    path: Path,
    duration_s: float,
    *,
    start: datetime = datetime(2026, 3, 2, 9, 0, 0),
    rate_hz: int = 100,
    signal: Signal = still_signal,
    subject: str | None = None,
    hour_blocks: int | None = None,
) -> int:
    """Write an AX6 file of ``duration_s`` seconds; returns the number of samples written.

    ``signal`` is asked for an hour's samples at a time (``hour_blocks`` blocks).
    """
    if start.microsecond:
        raise ValueError("start must be a whole second (no fractional timestamps written)")
    n_blocks = int(np.ceil(duration_s * rate_hz / SAMPLES_PER_BLOCK))
    per_write = hour_blocks or max(1, int(3600 * rate_hz / SAMPLES_PER_BLOCK))
    start64 = np.datetime64(start, "ns")
    period_ns = 1e9 / rate_hz
    with open(path, "wb") as f:
        f.write(_header(start, _RATE_CODES[rate_hz], subject))
        for b0 in range(0, n_blocks, per_write):
            nb = min(per_write, n_blocks - b0)
            seq = np.arange(b0, b0 + nb, dtype=np.int64)
            first_ns = np.round(seq * SAMPLES_PER_BLOCK * period_ns).astype(np.int64)
            when = start64 + first_ns.astype("m8[ns]")
            # The next whole second at or after the block's first sample, and its index.
            whole = (when + np.timedelta64(999_999_999, "ns")).astype("M8[s]")
            offset = np.round((whole - when).astype(np.int64) * rate_hz / 1e9).astype(np.int16)
            t_s = (seq[:, None] * SAMPLES_PER_BLOCK + np.arange(SAMPLES_PER_BLOCK)) / rate_hz
            acc_g, gyr_dps = signal(t_s.ravel())
            blocks = np.zeros(nb, dtype=_BLOCK)
            blocks["header"] = b"AX"
            blocks["length"] = 508
            blocks["fractional"] = 4242  # device id (top bit clear: no fraction)
            blocks["session"] = 7
            blocks["sequence"] = seq.astype(np.uint32)
            blocks["timestamp"] = _packed(whole)
            blocks["light_scale"] = (3 << 13) | (2 << 10) | 100  # 2048/g, 2000 deg/s, light
            blocks["temperature"] = 300
            blocks["battery"] = 200
            blocks["rate"] = _RATE_CODES[rate_hz]
            blocks["axes_bps"] = 0x62  # 6 axes, 16-bit
            blocks["offset"] = offset
            blocks["count"] = SAMPLES_PER_BLOCK
            samples = np.empty((nb * SAMPLES_PER_BLOCK, 6))
            samples[:, :3] = gyr_dps * GYR_PER_DPS
            samples[:, 3:] = acc_g * ACC_PER_G
            blocks["samples"] = np.round(samples).clip(-32768, 32767).reshape(nb, -1, 6)
            words = blocks.view(np.uint16).reshape(nb, 256)
            total = words[:, :255].sum(axis=1, dtype=np.uint64)
            blocks["checksum"] = ((-total.astype(np.int64)) & 0xFFFF).astype(np.uint16)
            f.write(blocks.tobytes())
    return n_blocks * SAMPLES_PER_BLOCK
