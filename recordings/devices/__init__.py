"""Research wearables' raw files: Axivity AX3/AX6 ``.cwa`` and GENEActiv ``.bin``.

:func:`recordings.load` opens them like any other input; for long files read a span
(:func:`read_span`), iterate in bounded chunks (:func:`iter_chunks`) or by calendar day
(:func:`day_spans`). Units are converted at this edge: m/s^2 from g, rad/s from deg/s.
AX3 and GENEActiv have no gyroscope: their recordings have ``gyr_rps = None`` and the
analysis runs on the accelerometer alone (see ``recordings/README.md``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

from recordings.data import Recording
from recordings.devices.common import DaySpan, DeviceInfo, day_spans
from recordings.devices.cwa import cwa_info, read_cwa, sniff_cwa
from recordings.devices.geneactiv import geneactiv_info, read_geneactiv, sniff_geneactiv
from recordings.errors import InputError

#: File name endings of the device formats (for folder searches).
DEVICE_SUFFIXES = frozenset({".cwa", ".bin"})

__all__ = [
    "DEVICE_SUFFIXES",
    "DaySpan",
    "DeviceInfo",
    "day_spans",
    "device_info",
    "iter_chunks",
    "read_device",
    "read_span",
    "sniff",
]


def sniff(head: bytes) -> str | None:
    """``"cwa"``, ``"geneactiv"`` or None, from the first bytes of a file."""
    if sniff_cwa(head):
        return "cwa"
    if sniff_geneactiv(head):
        return "geneactiv"
    return None


def _kind(path: str | os.PathLike[str]) -> str:
    try:
        with open(path, "rb") as f:
            head = f.read(1024)
    except OSError as exc:
        raise InputError(str(path), "", f"cannot read ({exc.strerror or exc})") from None
    kind = sniff(head)
    if kind is None:
        raise InputError(str(path), "byte 0", "not an Axivity .cwa or GENEActiv .bin file")
    return kind


def device_info(path: str | os.PathLike[str]) -> DeviceInfo:
    """Rate, start, duration, channels and metadata of a device file, without its samples."""
    return cwa_info(path) if _kind(path) == "cwa" else geneactiv_info(path)


def read_span(
    path: str | os.PathLike[str],
    start_s: float | None = None,
    end_s: float | None = None,
    *,
    info: DeviceInfo | None = None,
) -> Recording:
    """Samples in ``[start_s, end_s)`` (seconds after the first sample) of a device file."""
    info = info or device_info(path)
    reader = read_cwa if info.kind == "cwa" else read_geneactiv
    return reader(path, start_s, end_s, info=info)


def read_device(path: str | os.PathLike[str]) -> Recording:
    """A whole device file as a :class:`Recording` (multi-day files: :func:`iter_chunks`)."""
    return read_span(path)


def iter_chunks(path: str | os.PathLike[str], chunk_s: float = 3600.0) -> Iterator[Recording]:
    """A device file in consecutive spans of ``chunk_s`` seconds, memory bounded by one span.

    Every chunk's ``time_s`` counts from the file's first sample, so the chunks join
    end to end; a span without samples (the logger stopped) is skipped.
    """
    if not chunk_s > 0:
        raise ValueError("chunk_s must be positive")
    info = device_info(path)
    start = 0.0
    end = info.duration_s + 1.0 / info.rate_hz
    while start < end:
        try:
            yield read_span(path, start, start + chunk_s, info=info)
        except InputError as exc:
            if "no samples" not in str(exc):
                raise
        start += chunk_s
