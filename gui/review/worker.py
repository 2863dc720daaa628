"""Run a slow job (opening, re-calibrating) off the GUI thread, reporting progress."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6 import QtCore

from recordings import InputError

Progress = Callable[[float, str], None]


Partial = Callable[[Any], None]


class Task(QtCore.QThread):
    """A function ``fn(progress, partial)`` run in its own thread.

    Signals are delivered to the GUI thread: ``progress(fraction, stage)`` and
    ``partial(value)`` (a first result, e.g. the tilt before the rest of the analysis)
    as the job calls them, then either ``done(result)`` or ``failed(message)``.
    """

    progress = QtCore.Signal(float, str)
    partial = QtCore.Signal(object)
    done = QtCore.Signal(object)
    failed = QtCore.Signal(str)

    def __init__(
        self, fn: Callable[[Progress, Partial], Any], parent: QtCore.QObject | None = None
    ) -> None:
        super().__init__(parent)
        self._fn = fn

    def run(self) -> None:
        """Thread body."""
        try:
            result = self._fn(self._report, self.partial.emit)
        except (InputError, ValueError, OSError) as exc:
            self.failed.emit(str(exc))
            return
        except Exception as exc:  # a bug must not kill the window silently
            self.failed.emit(f"unexpected error: {type(exc).__name__}: {exc}")
            return
        self.done.emit(result)

    def _report(self, fraction: float, stage: str) -> None:
        self.progress.emit(float(fraction), stage)
