"""GENEActiv ``.bin`` files (Activinsights' documented text format), read page by page.

A file is a text header (sections of ``key:value`` lines, with the calibration gains
and offsets) followed by pages: nine ``key:value`` lines (``Page Time``, ``Temperature``,
``Measurement Frequency`` ...) and one line of hex digits, 12 per sample: x, y, z as
12-bit two's complement, then 10 bits of light, the button and a reserved bit.
Acceleration in g is ``(raw * 100 - offset) / gain`` per axis. Sample ``i`` of a page is
at ``Page Time + i / frequency`` (as the vendor's software and GGIR/skdh read it).

No maintained light library reads it (``pygeneactiv`` was last released in 2019), so
this is a vectorised reader of its own; pages are decoded in batches so that a span of
a week-long file is read with memory for that span only.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import IO, Any

import numpy as np

from recordings.data import FloatArray, Recording
from recordings.devices.common import DeviceInfo, gaps_from_times, to_recording
from recordings.errors import InputError

#: Pages decoded together (300 samples each).
_BATCH_PAGES = 2000
_TIME_FORMAT = "%Y-%m-%d %H:%M:%S:%f"
_HEX = re.compile(r"[0-9A-Fa-f]*")
_ZONE = re.compile(r"GMT\s*([+-])(\d{1,2}):(\d{2})")


def sniff_geneactiv(head: bytes) -> bool:
    """True when ``head`` starts like a GENEActiv ``.bin`` file."""
    return head.startswith(b"Device Identity") and b"GENEActiv" in head[:400]


@dataclass(frozen=True)
class _Page:
    time: datetime
    rate_hz: float
    hex: str


def _header(f: IO[str], name: str) -> dict[str, str]:
    """The ``key:value`` lines before the first page (the file is left at the first page)."""
    out: dict[str, str] = {}
    for line in f:
        line = line.strip()
        if line == "Recorded Data":
            return out
        key, sep, value = line.partition(":")
        if sep:
            out.setdefault(key.strip(), value.strip())
    raise InputError(name, "", "a GENEActiv file without data pages")


def _pages(f: IO[str], name: str, warnings: list[str] | None = None) -> Iterator[_Page]:
    """The pages from the current position (just after a ``Recorded Data`` line).

    A damaged data line ends the pages with a warning when it is the file's last line
    (a truncated copy); anywhere else it is an error.
    """
    fields: dict[str, str] = {}
    page = 0
    for raw in f:
        line = raw.strip()
        if line == "Recorded Data" or not line:
            continue
        key, sep, value = line.partition(":")
        if sep:
            fields[key] = value
            continue
        if len(line) % 12 or not _HEX.fullmatch(line):
            if f.readline() == "" and warnings is not None:
                warnings.append(f"{name}: page {page}: cut short (file truncated?); read up to it")
                return
            raise InputError(name, f"page {page}", "data line is not whole hex samples")
        try:
            when = datetime.strptime(fields["Page Time"].strip(), _TIME_FORMAT)
            rate = float(fields["Measurement Frequency"].split()[0])
        except (KeyError, ValueError, IndexError):
            raise InputError(
                name, f"page {page}", "page without a readable Page Time/Frequency"
            ) from None
        yield _Page(when, rate, line)
        fields = {}
        page += 1


def _calibration(header: dict[str, str], name: str) -> tuple[FloatArray, FloatArray, float]:
    try:
        gain = np.array([float(header[f"{a} gain"]) for a in "xyz"])
        offset = np.array([float(header[f"{a} offset"]) for a in "xyz"])
        lux_per_volt = float(header["Lux"]) / float(header["Volts"])
    except (KeyError, ValueError, ZeroDivisionError):
        raise InputError(name, "Calibration Data", "missing or unreadable gains/offsets") from None
    if (gain == 0).any():
        raise InputError(name, "Calibration Data", "a gain of 0")
    return gain, offset, lux_per_volt


def _decode(pages: list[_Page], start: datetime, name: str) -> tuple[FloatArray, FloatArray]:
    """Times (s after ``start``) and raw 12-bit x, y, z (as float) of ``pages``."""
    try:
        raw = np.frombuffer(bytes.fromhex("".join(p.hex for p in pages)), dtype=np.uint8)
    except ValueError:
        raise InputError(name, f"page at {pages[0].time}", "data line is not hex") from None
    counts = [len(p.hex) // 12 for p in pages]
    if sum(counts) * 6 != raw.size:
        raise InputError(name, f"page at {pages[0].time}", "data line not whole samples")
    b = raw.reshape(-1, 6).astype(np.int32)
    xyz = np.empty((b.shape[0], 3))
    xyz[:, 0] = (b[:, 0] << 4) | (b[:, 1] >> 4)
    xyz[:, 1] = ((b[:, 1] & 0x0F) << 8) | b[:, 2]
    xyz[:, 2] = (b[:, 3] << 4) | (b[:, 4] >> 4)
    xyz[xyz >= 2048] -= 4096
    first = np.array([(p.time - start).total_seconds() for p in pages])
    rates = np.array([p.rate_hz for p in pages])
    page_of = np.repeat(np.arange(len(pages)), counts)
    within = np.arange(page_of.size) - np.repeat(np.cumsum(counts) - counts, counts)
    time_s: FloatArray = first[page_of] + within / rates[page_of]
    return time_s, xyz


def _zone(header: dict[str, str]) -> timezone | None:
    m = _ZONE.search(header.get("Time Zone", ""))
    if not m:
        return None
    sign = -1 if m.group(1) == "-" else 1
    return timezone(sign * timedelta(hours=int(m.group(2)), minutes=int(m.group(3))))


def _open(path: str | os.PathLike[str]) -> IO[str]:
    return open(path, encoding="latin-1", newline=None)


def _last_page(path: str | os.PathLike[str]) -> tuple[datetime, int] | None:
    """Time and sample count of the file's last page (read from its end)."""
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        f.seek(max(0, size - 16384))
        tail = f.read().decode("latin-1")
    i = tail.rfind("Page Time:")
    if i < 0:
        return None
    lines = tail[i:].splitlines()
    try:
        when = datetime.strptime(lines[0].partition(":")[2].strip(), _TIME_FORMAT)
    except ValueError:
        return None
    data = [ln.strip() for ln in lines[1:] if ln.strip() and ":" not in ln]
    return when, (len(data[0]) // 12 if data else 0)


def geneactiv_info(path: str | os.PathLike[str]) -> DeviceInfo:
    """What the header and the first/last pages say about a GENEActiv file.

    Raises
    ------
    InputError
        Not a GENEActiv file, or no data pages in it.
    """
    name = str(path)
    with _open(path) as f:
        header = _header(f, name)
        first = next(_pages(f, name, []), None)
    if first is None:
        raise InputError(name, "", "a GENEActiv file without data pages")
    last = _last_page(path)
    duration = 0.0
    if last is not None:
        duration = (last[0] - first.time).total_seconds() + (last[1] - 1) / first.rate_hz
    zone = _zone(header)
    acc_range = re.findall(r"\d+", header.get("Accelerometer Range", ""))
    meta: dict[str, Any] = {
        "device": {
            "name": "GENEActiv",
            "model": header.get("Device Model"),
            "serial": header.get("Device Unique Serial Code"),
        },
        "profile": "geneactiv-bin",
        "firmware": header.get("Device Firmware Version"),
        "ranges": {"acc_g": float(acc_range[-1])} if acc_range else None,
        "start_time_local": first.time.isoformat(),
        "start_time_utc": (
            first.time.replace(tzinfo=zone).astimezone(UTC).isoformat()
            if zone is not None
            else None
        ),
        "subject_id": header.get("Subject Code") or None,
        "session_id": header.get("Study Code") or None,
        "timing": "device_clock",
        "source_format": "geneactiv",
        "body_location": header.get("Device Location Code") or None,
    }
    return DeviceInfo(
        kind="geneactiv",
        rate_hz=first.rate_hz,
        start_local=first.time,
        duration_s=duration,
        has_gyr=False,
        meta=meta,
    )


def read_geneactiv(
    path: str | os.PathLike[str],
    start_s: float | None = None,
    end_s: float | None = None,
    *,
    info: DeviceInfo | None = None,
) -> Recording:
    """Samples of a GENEActiv file, whole or the span ``[start_s, end_s)``.

    Parameters
    ----------
    path : path
        A GENEActiv ``.bin`` file.
    start_s, end_s : float, optional
        The span, seconds after the file's first sample.
    info : DeviceInfo, optional
        :func:`geneactiv_info` of the file, when already known.

    Returns
    -------
    Recording
        Calibrated acceleration in m/s^2, no gyroscope, ``time_s`` from the file's first
        sample, gaps where pages are further apart than their samples last.

    Raises
    ------
    InputError
        Not a GENEActiv file, or a page that cannot be decoded.
    """
    name = str(path)
    info = info or geneactiv_info(path)
    assert info.start_local is not None
    lo = -np.inf if start_s is None else start_s
    hi = np.inf if end_s is None else end_s
    times: list[FloatArray] = []
    values: list[FloatArray] = []
    warnings: list[str] = []
    with _open(path) as f:
        gain, offset, _ = _calibration(_header(f, name), name)
        batch: list[_Page] = []

        def flush() -> None:
            t, xyz = _decode(batch, info.start_local, name)  # type: ignore[arg-type]
            keep = (t >= lo) & (t < hi)
            times.append(t[keep])
            values.append((xyz[keep] * 100.0 - offset) / gain)
            batch.clear()

        for page in _pages(f, name, warnings):
            page_s = (page.time - info.start_local).total_seconds()
            if page_s >= hi:
                break
            if page_s + len(page.hex) / 12 / page.rate_hz < lo:
                continue
            batch.append(page)
            if len(batch) >= _BATCH_PAGES:
                flush()
        if batch:
            flush()
    time_s = np.concatenate(times) if times else np.empty(0)
    acc_g = np.concatenate(values) if values else np.empty((0, 3))
    # A page whose clock starts before the previous page ended: keep time increasing.
    keep = np.concatenate(([True], np.diff(time_s) > 0))
    if not keep.all():
        time_s, acc_g = time_s[keep], acc_g[keep]
    rec = to_recording(name, time_s, acc_g, None, info, gaps_from_times(time_s, info.rate_hz))
    rec.warnings.extend(warnings)
    if not keep.all():
        rec.warnings.append(
            f"{name}: {int((~keep).sum())} sample(s) dropped where a page's clock "
            "overlapped the previous page"
        )
    return rec
