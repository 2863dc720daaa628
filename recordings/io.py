"""Load any supported input: a native recording (``.psrec``) or a CSV file."""

from __future__ import annotations

import os
from pathlib import Path

from recordings.csv_io import read_csv
from recordings.data import Recording
from recordings.errors import InputError
from recordings.format import MAGIC, Allocator, read_recording

#: Extensions read as CSV without sniffing.
CSV_EXTENSIONS = frozenset({".csv", ".txt"})


def _looks_like_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start >= len(head) - 3  # a multi-byte character cut by the sniff window
    return True


def load(
    path: str | os.PathLike[str],
    *,
    acc_unit: str = "mps2",
    gyr_unit: str = "rps",
    empty: Allocator | None = None,
) -> Recording:
    """Load a recording or a CSV file.

    The format is chosen by content: the recording magic means a native recording;
    otherwise a ``.csv``/``.txt`` extension or text content means CSV.

    Parameters
    ----------
    path : str or Path
        The input file.
    acc_unit, gyr_unit : str
        Units of a CSV input (``"mps2"``/``"g"``, ``"rps"``/``"dps"``); native
        recordings are always in m/s^2 and rad/s.
    empty : callable, optional
        Allocates a native recording's per-sample arrays (see :func:`read_recording`).

    Returns
    -------
    Recording
        Damage found in a native recording is listed in ``warnings``; in both formats
        samples that are not finite or beyond the sensor's range are gaps with reason
        ``"out_of_range"`` and a warning (:mod:`recordings.plausibility`).

    Raises
    ------
    InputError
        Missing file, a directory, an unreadable or unrecognised file, or bad content.
    """
    name = str(path)
    p = Path(path)
    if p.is_dir():
        raise InputError(name, "", "is a directory, expected a recording (.psrec) or CSV file")
    try:
        with open(p, "rb") as f:
            head = f.read(4096)
    except FileNotFoundError:
        raise InputError(name, "", "file not found") from None
    except OSError as exc:
        raise InputError(name, "", f"cannot read ({exc.strerror or exc})") from None
    if head.startswith(MAGIC):
        return read_recording(p, empty=empty)
    if p.suffix.lower() in CSV_EXTENSIONS or (head and _looks_like_text(head)):
        return read_csv(p, acc_unit=acc_unit, gyr_unit=gyr_unit)
    if not head:
        raise InputError(name, "", "file is empty")
    raise InputError(name, "byte 0", "not a pelviscope recording (.psrec) or a CSV file")
