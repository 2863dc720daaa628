"""The byte layout of a recording: magic, version, chunk framing, record fields, JSON."""

from __future__ import annotations

import datetime as _dt
import json
import math
import struct
import zlib
from collections.abc import Sequence
from typing import Any

import numpy as np

from recordings.data import Gap
from recordings.json_safe import finite_json

#: First 8 bytes of every recording (PNG-style: a high-bit byte, CR LF, Ctrl-Z, LF
#: so that text-mode transfers and newline conversions are detected).
MAGIC = b"\x89PSR\r\n\x1a\n"
#: Format version written by this module; readers accept any minor of the same major.
VERSION_MAJOR = 1
VERSION_MINOR = 0
#: File extension of native recordings.
EXTENSION = ".psrec"

PREAMBLE = struct.Struct("<8sHH")
CHUNK = struct.Struct("<4sII")
DATA_HEAD = struct.Struct("<II")
BATCH_DTYPE = np.dtype([("sample_offset", "<u4"), ("seq", "<u4"), ("host_time_s", "<f8")])
#: ``seq`` value meaning "unknown".
SEQ_UNKNOWN = 0xFFFFFFFF
INDEX_DTYPE = np.dtype([("sample_index", "<i8"), ("seq", "<i8"), ("host_time_s", "<f8")])

TAG_HEAD = b"HEAD"
TAG_DATA = b"DATA"
TAG_GAP = b"GAP "
TAG_MARK = b"MARK"
TAG_META = b"META"
TAG_END = b"END "
KNOWN_TAGS = (TAG_HEAD, TAG_DATA, TAG_GAP, TAG_MARK, TAG_META, TAG_END)
#: Largest payload a reader accepts (guards against garbage lengths).
MAX_PAYLOAD = 1 << 28
#: Samples per DATA chunk at most, whatever the rate (files of any writer stay readable
#: with bigger chunks; see :data:`MAX_CHUNK_S`).
MAX_CHUNK_SAMPLES = 65536
#: Session time a DATA chunk holds at most: one damaged byte loses at most this much.
MAX_CHUNK_S = 1.0

#: Header keys the writer owns; ``meta`` and ``update_meta`` cannot set them.
STRUCTURAL_KEYS = frozenset({"format", "format_version", "rate_hz", "channels", "record_fields"})
#: Descriptive keys every header carries (null when unknown).
DESCRIPTIVE_KEYS = (
    "device", "profile", "firmware", "ranges", "start_time_utc", "subject_id",
    "session_id", "calibration", "notes", "timing",
)  # fmt: skip
_TYPES = {"f4", "f8", "i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8"}


def chunk_samples(rate_hz: float) -> int:
    """Samples a writer puts in one DATA chunk at most at ``rate_hz`` (about 1 s)."""
    return max(1, min(MAX_CHUNK_SAMPLES, math.ceil(rate_hz * MAX_CHUNK_S)))


def record_fields(*, has_gyr: bool, has_mag: bool) -> list[dict[str, Any]]:
    """Describe the per-sample record of a recording (the header's ``record_fields``)."""
    fields: list[dict[str, Any]] = [
        {"name": "time_s", "type": "f8", "count": 1, "unit": "s"},
        {"name": "device_time_s", "type": "f8", "count": 1, "unit": "s"},
        {"name": "acc_mps2", "type": "f4", "count": 3, "unit": "m/s^2"},
    ]
    if has_gyr:
        fields.append({"name": "gyr_rps", "type": "f4", "count": 3, "unit": "rad/s"})
    if has_mag:
        fields.append({"name": "mag", "type": "f4", "count": 3, "unit": "uT"})
    return fields


#: Values per record field at most (a guard against absurd layouts).
_MAX_FIELD_COUNT = 1024
#: Fields every reader relies on: name -> (count, types allowed).
_REQUIRED_FIELDS = {"time_s": (1, ("f8",)), "acc_mps2": (3, ("f4", "f8"))}
#: Optional fields with a meaning: their layout is checked when present.
_KNOWN_FIELDS = {
    "device_time_s": (1, ("f4", "f8")), "gyr_rps": (3, ("f4", "f8")), "mag": (3, ("f4", "f8")),
}  # fmt: skip


def dtype_of(fields: Sequence[dict[str, Any]]) -> np.dtype[Any]:
    """Little-endian packed numpy dtype of the records described by ``fields``."""
    spec: list[Any] = []
    for f in fields:
        name, kind, count = f["name"], f["type"], f["count"]
        if (
            not isinstance(name, str) or kind not in _TYPES or not isinstance(count, int)
            or isinstance(count, bool) or not 1 <= count <= _MAX_FIELD_COUNT
        ):  # fmt: skip
            raise ValueError(
                f"bad record field {f!r}: expected a name, a type ({', '.join(sorted(_TYPES))}) "
                f"and a count from 1 to {_MAX_FIELD_COUNT}"
            )
        spec.append((name, "<" + kind) if count == 1 else (name, "<" + kind, (count,)))
    return np.dtype(spec)


def check_layout(fields: Any) -> np.dtype[Any]:
    """The record dtype of a header's ``record_fields``; ValueError naming what is wrong."""
    if not isinstance(fields, list) or not all(isinstance(f, dict) for f in fields):
        raise ValueError("record_fields is not a list of field descriptions")
    try:
        dtype = dtype_of(fields)
    except (KeyError, TypeError) as exc:
        raise ValueError(f"a record field lacks name, type or count ({exc})") from None
    described = {f["name"]: f for f in fields}
    for name, (count, kinds) in (_REQUIRED_FIELDS | _KNOWN_FIELDS).items():
        f = described.get(name)
        if f is None:
            if name in _REQUIRED_FIELDS:
                raise ValueError(f"record_fields has no {name} field")
            continue
        if f["count"] != count or f["type"] not in kinds:
            raise ValueError(
                f"record field {name} is {f['count']} x {f['type']}, expected {count} x "
                f"{' or '.join(kinds)}"
            )
    return dtype


def _no_constant(text: str) -> Any:
    raise ValueError(f"{text} is not valid JSON")


def strict_json(payload: bytes) -> Any:
    """Parse RFC 8259 JSON: NaN and Infinity (which Python accepts) are errors."""
    return json.loads(payload, parse_constant=_no_constant)


def finite_number(value: Any, what: str) -> float:
    """``value`` as a finite float; ValueError naming ``what`` otherwise."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{what} is not a number")
    x = float(value)
    if not math.isfinite(x):
        raise ValueError(f"{what} is not finite")
    return x


def gap_of(obj: Any) -> Gap:
    """A :class:`Gap` from its JSON object (GAP chunk), checked."""
    start_s = finite_number(obj["start_s"], "start_s")
    end_s = finite_number(obj["end_s"], "end_s")
    lost = obj["lost_samples"]
    if isinstance(lost, bool) or not isinstance(lost, int) or not 0 <= lost < 2**53:
        raise ValueError("lost_samples is not a count")
    if not end_s > start_s:
        raise ValueError(f"it ends ({end_s!r} s) before it starts ({start_s!r} s)")
    return Gap(start_s, end_s, lost, str(obj["reason"]))


def _jsonable(obj: Any) -> Any:
    """Convert ``obj`` to plain JSON types (numpy -> Python, non-finite floats -> None)."""
    try:
        return finite_json(obj)
    except TypeError as exc:
        raise ValueError(f"cannot store it in recording metadata ({exc})") from None


def json_bytes(obj: Any) -> bytes:
    """Compact UTF-8 JSON of ``obj`` (numpy values as plain numbers)."""
    return json.dumps(_jsonable(obj), ensure_ascii=False, separators=(",", ":")).encode()


def chunk(tag: bytes, payload: bytes) -> bytes:
    """Encode one chunk: header (tag, length, CRC of tag + length + payload) and payload."""
    head = tag + struct.pack("<I", len(payload))
    crc = zlib.crc32(payload, zlib.crc32(head))
    return head + struct.pack("<I", crc) + payload


def utc_now() -> str:
    """The time now in UTC, ISO 8601 with milliseconds and ``Z``."""
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def writer_name() -> str:
    """``pelviscope <version>``: the software that wrote a recording."""
    try:
        from importlib.metadata import version

        return f"pelviscope {version('pelviscope')}"
    except Exception:  # not installed: still write a name
        return "pelviscope"
