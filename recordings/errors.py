"""Errors raised for bad user input (files, units, arguments)."""

from __future__ import annotations


class InputError(ValueError):
    """A user-supplied file or value is unusable.

    The message names the file, the position and the reason in one line, so the
    command line can print it as is (DESIGN section 5).

    Parameters
    ----------
    path : str
        The file (or argument) at fault.
    position : str
        Where in it, e.g. ``"row 12"``, ``"byte 4096"``, ``"column acc_x"``; may be empty.
    reason : str
        What is wrong, as a sentence a user understands.
    """

    def __init__(self, path: str, position: str, reason: str) -> None:
        self.path = str(path)
        self.position = position
        self.reason = reason
        where = f"{self.path}: {position}" if position else self.path
        super().__init__(f"{where}: {reason}")
