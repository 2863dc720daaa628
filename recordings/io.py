"""Load any supported input: a recording (``.psrec``), CSV, or a wearable's raw file.

Research wearables' files (Axivity ``.cwa``, GENEActiv ``.bin``) are read by
:mod:`recordings.devices`.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from recordings.bids import MOTION_SUFFIX, read_bids_motion
from recordings.csv_io import read_csv
from recordings.data import Recording
from recordings.devices import read_span
from recordings.devices import sniff as sniff_device
from recordings.errors import InputError
from recordings.format import MAGIC, Allocator, read_recording

#: What :func:`load` reads, for messages.
INPUT_KINDS = "a recording (.psrec), CSV, Axivity .cwa or GENEActiv .bin file"
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


def check_input_file(path: str | os.PathLike[str], *, expected: str = INPUT_KINDS) -> None:
    """Refuse an input that is missing, a directory, or not a regular file.

    A pipe or a device would block a reader (or never end), so it is refused before
    anything is read.

    Raises
    ------
    InputError
        One line naming the file and what it is instead of ``expected``.
    """
    name = str(path)
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise InputError(name, "", "file not found") from None
    except OSError as exc:
        raise InputError(name, "", f"cannot read ({exc.strerror or exc})") from None
    if stat.S_ISDIR(mode):
        raise InputError(name, "", f"is a directory, expected {expected}")
    if not stat.S_ISREG(mode):
        raise InputError(name, "", "not a regular file (a device, pipe or socket)")


def load(
    path: str | os.PathLike[str],
    *,
    acc_unit: str = "mps2",
    gyr_unit: str = "rps",
    empty: Allocator | None = None,
) -> Recording:
    """Load a recording, a CSV file or a research wearable's file.

    The format is chosen by content: the recording magic means a native recording; a
    name ending in ``_motion.tsv`` a BIDS-motion file (:mod:`recordings.bids`, its
    sidecars next to it); an Axivity or GENEActiv header means that device's file (read
    whole: for multi-day files see :func:`recordings.devices.iter_chunks`); otherwise a
    ``.csv``/``.txt`` extension or text content means CSV.

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
    check_input_file(p)
    try:
        with open(p, "rb") as f:
            head = f.read(4096)
    except FileNotFoundError:
        raise InputError(name, "", "file not found") from None
    except OSError as exc:
        raise InputError(name, "", f"cannot read ({exc.strerror or exc})") from None
    if head.startswith(MAGIC):
        return read_recording(p, empty=empty)
    if p.name.endswith(MOTION_SUFFIX):  # BIDS-motion: its sidecars say the layout and units
        return read_bids_motion(p)
    device = sniff_device(head)
    if device is not None:  # before CSV: a GENEActiv file is text too
        return read_span(p)
    if p.suffix.lower() in CSV_EXTENSIONS or (head and _looks_like_text(head)):
        return read_csv(p, acc_unit=acc_unit, gyr_unit=gyr_unit)
    if not head:
        raise InputError(name, "", "file is empty")
    raise InputError(
        name,
        "byte 0",
        "not a pelviscope recording (.psrec) or a CSV file, "
        "nor an Axivity .cwa or GENEActiv .bin file",
    )
