"""Axivity AX3 / AX6 ``.cwa`` files (Open Movement format) through ``cwa_reader_rs``.

``cwa_reader_rs`` is Mobilise-D's reader of the open CWA specification (Rust, wheels on
PyPI, needs only numpy and pandas). It decodes both packings (AX3's 3x10-bit, AX6's
16-bit gyroscope + accelerometer), the fractional timestamps and the per-block
``timestampOffset``, and reads a span of a long file without the rest (``seconds``
cut), which is what :func:`read_cwa` streams with.

Times: the device clock of a CWA file is the local time the logger was set to; it has
no zone. ``time_s`` counts from the file's first sample; ``meta["start_time_local"]``
is that sample's device-clock time.
"""

from __future__ import annotations

import os
import urllib.parse
from datetime import datetime
from typing import Any

import numpy as np

from recordings.data import FloatArray, Recording
from recordings.devices.common import (
    DeviceInfo,
    gaps_from_times,
    to_recording,
)
from recordings.errors import InputError

#: Bytes of a data block and of the metadata header at the start of the file.
BLOCK_BYTES = 512
HEADER_BYTES = 1024
_HARDWARE = {0x00: "AX3", 0x17: "AX3", 0xFF: "AX3", 0x64: "AX6", 0x65: "AX6"}


def sniff_cwa(head: bytes) -> bool:
    """True when ``head`` starts like a CWA file: ``MD`` and the header's length 1020."""
    return len(head) >= 4 and head[:2] == b"MD" and int.from_bytes(head[2:4], "little") == 1020


def _reader_error(name: str, exc: Exception) -> InputError:
    reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if "Incomplete CWA sector" in reason:
        reason = "it ends inside a 512-byte block: the copy is incomplete"
    return InputError(name, "", f"not a readable Axivity .cwa file ({reason})")


def _subject(annotation: str) -> str | None:
    """The subject code of OM Studio's annotation (``_sc=...`` in a query string)."""
    text = annotation.strip().lstrip("?")
    if "=" not in text:
        return None
    values = urllib.parse.parse_qs(text)
    code = values.get("_sc") or values.get("subject")
    return code[0].strip() if code and code[0].strip() else None


def cwa_info(path: str | os.PathLike[str]) -> DeviceInfo:
    """What the header and the first/last samples say about a CWA file.

    Raises
    ------
    InputError
        Not a CWA file, or no data in it.
    """
    import cwa_reader_rs

    name = str(path)
    try:
        md: dict[str, Any] = cwa_reader_rs.read_metadata(name)
    except (RuntimeError, ValueError, OSError) as exc:
        raise _reader_error(name, exc) from None
    first, last = md.get("start_from_data_raw"), md.get("end_from_data_raw")
    rate = md.get("sample_rate_hz")
    if not first or not last or not rate:
        raise InputError(name, "", "an Axivity .cwa file without samples")
    start = datetime.fromisoformat(first)
    model = str(md.get("hardware_type") or "AX3")
    gyr_range = md.get("gyro_range")
    ranges: dict[str, float] = {"acc_g": float(md.get("accel_range") or 16)}
    if gyr_range:
        ranges["gyr_dps"] = float(gyr_range)
    meta: dict[str, Any] = {
        "device": {
            "name": f"Axivity {model}",
            "model": model,
            "serial": str(md.get("device_id")),
        },
        "profile": "axivity-cwa",
        "firmware": str(md.get("firmware_revision")),
        "ranges": ranges,
        "start_time_utc": None,  # the device clock has no zone
        "start_time_local": start.isoformat(),
        "subject_id": _subject(str(md.get("annotation") or "")),
        "session_id": str(md.get("session_id")),
        "timing": "device_clock",
        "source_format": "cwa",
    }
    return DeviceInfo(
        kind="cwa",
        rate_hz=float(rate),
        start_local=start,
        duration_s=(datetime.fromisoformat(last) - start).total_seconds(),
        has_gyr=bool(gyr_range),
        meta=meta,
    )


def read_cwa(
    path: str | os.PathLike[str],
    start_s: float | None = None,
    end_s: float | None = None,
    *,
    info: DeviceInfo | None = None,
) -> Recording:
    """Samples of a CWA file, whole or the span ``[start_s, end_s)`` after its first sample.

    Parameters
    ----------
    path : path
        An AX3 or AX6 ``.cwa`` file.
    start_s, end_s : float, optional
        The span, seconds after the file's first sample (None: from the start / to the end).
    info : DeviceInfo, optional
        :func:`cwa_info` of the file, when already known (chunked reading).

    Returns
    -------
    Recording
        Acceleration in m/s^2 (from g), angular rate in rad/s (from deg/s; None for an
        AX3), ``time_s`` counted from the file's first sample (also for a span), gaps
        where the logger's clock jumps.

    Raises
    ------
    InputError
        Not a CWA file, or it cannot be decoded.
    """
    import cwa_reader_rs

    name = str(path)
    info = info or cwa_info(path)
    cut = None
    if start_s is not None or end_s is not None:
        cut = cwa_reader_rs.seconds(start_s, end_s)
    try:
        frame = cwa_reader_rs.read_cwa_file(
            name,
            cut=cut,
            include_magnetometer=False,
            include_temperature=False,
            include_light=False,
            include_battery=False,
        )
    except (RuntimeError, ValueError, OSError) as exc:
        raise _reader_error(name, exc) from None
    assert info.start_local is not None
    start_ns = np.datetime64(info.start_local, "ns").astype(np.int64)
    time_ns = frame.index.to_numpy(dtype="datetime64[ns]").astype(np.int64)
    time_s: FloatArray = (time_ns - start_ns) / 1e9
    del time_ns
    acc_g = _columns(frame, ("acc_x", "acc_y", "acc_z"))
    gyr_dps = _columns(frame, ("gyro_x", "gyro_y", "gyro_z")) if info.has_gyr else None
    del frame
    return to_recording(
        name,
        time_s,
        acc_g,
        gyr_dps,
        info,
        gaps_from_times(time_s, info.rate_hz),
    )


def _columns(frame: Any, names: tuple[str, str, str]) -> FloatArray | None:
    if not all(n in frame.columns for n in names):
        return None
    out = np.empty((len(frame), 3))
    for i, n in enumerate(names):
        out[:, i] = frame[n].to_numpy()
    return out
