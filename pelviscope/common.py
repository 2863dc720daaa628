"""Helpers the sub-commands share: output files, finite JSON, saved calibrations."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:  # the analysis is imported when a command runs, not at start-up
    from analysis.calibration import Calibration


def json_text(doc: Any) -> str:
    """``doc`` as indented JSON text with null for every value that is not a finite number."""
    from recordings.json_safe import finite_json

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
    """Fail before any work if ``path`` cannot be written (:func:`recordings.files.check_writable`).

    ``--overwrite`` replaces regular files, never a device (``/dev/full``), pipe or socket.

    Raises
    ------
    recordings.files.OutputError
        One line naming the file and why it cannot be written.
    """
    from recordings.files import check_writable

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


def check_input_file(path: Path, *, expected: str = "a recording or CSV file") -> None:
    """Refuse an input that is missing, a folder, or not a regular file (a pipe would block).

    :func:`recordings.io.check_input_file`, with the command line's word for a folder.

    Raises
    ------
    recordings.InputError
        One line naming the file and what it is instead.
    """
    from recordings.errors import InputError
    from recordings.io import check_input_file

    if path.is_dir():
        raise InputError(str(path), "", f"is a folder, expected {expected}")
    check_input_file(path, expected=expected)


def load_calibration(path: Path) -> Calibration:
    """Read a saved calibration file (``analyze --save-calibration``).

    Raises
    ------
    recordings.InputError
        One line naming the file when it is not a readable calibration.
    """
    from analysis.calibration import load_calibration

    check_input_file(path, expected="a calibration file (.json)")  # a pipe would block
    return load_calibration(path)
