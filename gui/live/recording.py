"""Recording the live stream (no Qt): :class:`LiveRecording` and a fresh file name.

The writing is :class:`firmware_bridge.sink.RecordingSink`'s, shared with ``pelviscope
record``: a recording never replaces a file, and states the same metadata whichever app
made it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from firmware_bridge.sink import RecordingSink


def fresh_name(folder: Path, stem: str, suffix: str) -> Path:
    """``folder/stem+suffix``, or with ``-2``, ``-3``, ... appended if that name is taken.

    Only a proposal: the file is still created exclusively, so a name taken meanwhile
    fails instead of being replaced.
    """
    path = folder / f"{stem}{suffix}"
    n = 2
    while os.path.lexists(path):
        path = folder / f"{stem}-{n}{suffix}"
        n += 1
    return path


class LiveRecording(RecordingSink):
    """A recording started from the dashboard: times from its first recorded sample.

    The same sink as ``pelviscope record`` (same metadata whichever app records);
    ``meta["live_session_offset_s"]`` keeps the dashboard time of the first sample.
    """

    def __init__(self, path: str | Path, meta: dict[str, Any]) -> None:
        super().__init__(path, meta, rebase=True)
