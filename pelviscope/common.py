"""Helpers the sub-commands share: output files, finite JSON, saved calibrations."""

from __future__ import annotations

import contextlib
import json
import math
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO, Any

#: A calibration file is a few hundred bytes; anything far larger is not one.
CALIBRATION_MAX_BYTES = 1_000_000


def finite_json(obj: Any) -> Any:
    """``obj`` with every non-finite float replaced by None (DESIGN section 4).

    Numpy scalars and arrays become plain Python values, so the document always
    serialises with ``json.dumps(..., allow_nan=False)``.
    """
    import numpy as np

    if isinstance(obj, dict):
        return {str(k): finite_json(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [finite_json(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return finite_json(obj.tolist())
    if isinstance(obj, np.generic):
        return finite_json(obj.item())
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if obj is None or isinstance(obj, bool | int | str):
        return obj
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    raise TypeError(f"cannot write a {type(obj).__name__} to JSON")


def json_text(doc: Any) -> str:
    """``doc`` as indented JSON text with null for every value that is not a finite number."""
    return json.dumps(finite_json(doc), indent=1, allow_nan=False) + "\n"


def distinct_outputs(named: Iterable[tuple[str, Path | None]], inputs: Iterable[Path]) -> None:
    """Refuse two outputs on one file, or an output on an input (before any work).

    Parameters
    ----------
    named : iterable of (option, path or None)
        The outputs asked for, e.g. ``("--json", Path("r.json"))``.
    inputs : iterable of Path
        The files read.
    """
    from pelviscope.cli import UsageError

    seen: dict[str, str] = {os.path.realpath(p): "the input" for p in inputs}
    for option, path in named:
        if path is None:
            continue
        key = os.path.realpath(path)
        if key in seen:
            raise UsageError(f"{option} {path}: the same file as {seen[key]}")
        seen[key] = option


def check_output(path: Path, *, overwrite: bool) -> None:
    """:func:`recordings.files.check_writable`, also refusing to replace a non-regular file.

    ``--overwrite`` replaces files, never a device (``/dev/full``), pipe or socket.

    Raises
    ------
    recordings.files.OutputError
        One line naming the file and why it cannot be written.
    """
    import stat

    from recordings.files import OutputError, check_writable

    with contextlib.suppress(OSError):
        mode = os.lstat(path).st_mode
        if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode) or stat.S_ISLNK(mode)):
            raise OutputError(path, "not a regular file (a device, pipe or socket); not replaced")
    check_writable(path, overwrite=overwrite)


def write_output(path: Path, write: Callable[[IO[str]], object], *, overwrite: bool) -> None:
    """Write a text output atomically (O_EXCL temporary, no symlink followed, then moved in).

    Raises
    ------
    recordings.files.OutputError
        The file exists (without ``overwrite``) or cannot be written; nothing is left behind.
    """
    from recordings.files import atomic_output

    with atomic_output(path, overwrite=overwrite, mode="w") as f:
        write(f)


def write_each(
    jobs: Iterable[tuple[Path, Callable[[IO[str]], object]]], *, overwrite: bool
) -> list[tuple[int, str]]:
    """Write every output independently; return ``(status, message)`` of those that failed.

    One output failing (disk full, a folder in the way, a bug in one writer) does not
    stop the others.
    """
    from pelviscope.cli import classify

    failed: list[tuple[int, str]] = []
    for path, write in jobs:
        try:
            write_output(path, write, overwrite=overwrite)
        except Exception as exc:
            failed.append(classify(exc, str(path)))
    return failed


def check_input_file(path: Path) -> None:
    """Refuse an input that is missing, a folder, or not a regular file (a pipe would block).

    Raises
    ------
    recordings.InputError
        One line naming the file and what it is instead.
    """
    import stat

    from recordings.errors import InputError

    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise InputError(str(path), "", "file not found") from None
    if stat.S_ISDIR(mode):
        raise InputError(str(path), "", "is a folder, expected a recording or CSV file")
    if not stat.S_ISREG(mode):
        raise InputError(str(path), "", "not a regular file (a device, pipe or socket)")


def load_calibration(path: Path) -> Any:
    """Read a saved calibration file (``analyze --save-calibration``).

    Raises
    ------
    recordings.InputError
        One line naming the file when it is not a readable calibration.
    """
    from analysis.calibration import Calibration, CalibrationError
    from analysis.checks import check_standing_tilt_deg
    from recordings.errors import InputError

    name = str(path)
    if path.is_dir():
        raise InputError(name, "", "is a folder, expected a calibration file (.json)")
    check_input_file(path)
    if path.stat().st_size > CALIBRATION_MAX_BYTES:
        raise InputError(name, "", "too large for a calibration file (.json)")
    try:
        doc = json.loads(path.read_bytes().decode("utf-8"))
    except UnicodeDecodeError:
        raise InputError(name, "", "not a calibration file (not UTF-8 text)") from None
    except json.JSONDecodeError as exc:
        raise InputError(
            name, f"line {exc.lineno} column {exc.colno}", f"not valid JSON ({exc.msg})"
        ) from None
    except RecursionError:
        raise InputError(name, "", "not a calibration file (nested too deeply)") from None
    if not isinstance(doc, dict):
        kind = {list: "a list", str: "a string", bool: "true/false", type(None): "null"}.get(
            type(doc), "a number"
        )
        raise InputError(name, "", f"not a calibration file: it holds {kind}, not an object")
    try:
        calibration = Calibration.from_dict(doc)
    except CalibrationError as exc:
        raise InputError(name, "", str(exc)) from None
    except KeyError as exc:
        raise InputError(name, "", f"not a calibration file: no {exc.args[0]!r} entry") from None
    except (TypeError, ValueError, AttributeError) as exc:
        raise InputError(name, "", f"not a valid calibration ({exc})") from None
    try:
        check_standing_tilt_deg(calibration.standing_tilt_deg)
    except InputError as exc:
        raise InputError(name, "standing_tilt_deg", exc.reason) from None
    return calibration
