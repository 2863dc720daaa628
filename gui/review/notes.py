"""User annotations saved next to a recording: ``<file>.notes.json`` (no Qt).

The recording itself is never modified. The document holds the user's markers (time,
label, note), a free-text note on the session, and the hip-hike and pelvic-drop thresholds
last used in the review (so a reopened session shows the same episodes)::

    {"format": "pelviscope.review-notes/1",
     "session_note": "...",
     "markers": [{"time_s": 12.5, "label": "pain", "note": "reports pain left"}],
     "hip_hike_params": {...} or null,
     "drop_params": {...} or null}  (absent in older files: the defaults)

The file is written through :func:`recordings.files.atomic_output` (a random ``O_EXCL``
temporary name, never a planted file or symbolic link). A notes file that cannot be read
as such is never overwritten: :func:`set_aside` renames it to
``<file>.notes.json.damaged-<timestamp>`` so the user's words survive for a human to
recover, and the session starts with empty notes.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from analysis.hiphike import HipHikeParams
from analysis.hiphike.params import PelvicDropParams
from recordings import Marker
from recordings.files import OutputError, atomic_output, output_error

NOTES_SUFFIX = ".notes.json"
FORMAT = "pelviscope.review-notes/1"


def notes_path(recording: str | os.PathLike[str]) -> Path:
    """Where the notes of ``recording`` live (``<file>.notes.json``)."""
    p = Path(recording)
    return p.with_name(p.name + NOTES_SUFFIX)


class NotesError(ValueError):
    """The notes file exists but cannot be read; the message names the file and reason."""


@dataclass
class Notes:
    """Markers and notes of one session."""

    markers: list[Marker] = field(default_factory=list)
    session_note: str = ""
    hip_hike_params: dict[str, Any] | None = None
    drop_params: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "format": FORMAT,
            "session_note": self.session_note,
            "markers": [asdict(m) for m in sorted(self.markers, key=lambda m: m.time_s)],
            "hip_hike_params": self.hip_hike_params,
            "drop_params": self.drop_params,
        }

    @classmethod
    def from_dict(cls, doc: Any) -> Notes:
        """Read a notes document (raises ``ValueError``, ``KeyError`` or ``TypeError``)."""
        if not isinstance(doc, dict):
            raise ValueError(f"a JSON {type(doc).__name__}, not an object")
        if doc.get("format") != FORMAT:
            raise ValueError(f"format {doc.get('format')!r}, expected {FORMAT!r}")
        markers_doc = doc.get("markers", [])
        if not isinstance(markers_doc, list) or not all(isinstance(m, dict) for m in markers_doc):
            raise ValueError("markers is not a list of objects")
        markers = []
        for m in markers_doc:
            time_s = m["time_s"]
            if isinstance(time_s, bool) or not isinstance(time_s, int | float):
                raise ValueError(f"marker time {time_s!r} is not a number")
            if not math.isfinite(time_s):
                raise ValueError(f"marker time {time_s!r} is not finite")
            markers.append(Marker(float(time_s), str(m.get("label", "")), str(m.get("note", ""))))
        params = doc.get("hip_hike_params")
        if params is not None:
            if not isinstance(params, dict):
                raise ValueError("hip_hike_params is not an object")
            HipHikeParams.from_dict(params)  # raises ValueError or TypeError on a bad one
        drop = doc.get("drop_params")
        if drop is not None:
            if not isinstance(drop, dict):
                raise ValueError("drop_params is not an object")
            PelvicDropParams.from_dict(drop)
        note = doc.get("session_note", "")
        if not isinstance(note, str):
            raise ValueError("session_note is not text")
        return cls(markers, note, params, drop)


def load_notes(recording: str | os.PathLike[str]) -> Notes:
    """The notes of ``recording`` (empty when there are none).

    Raises
    ------
    NotesError
        The file exists but is not a readable notes document.
    """
    path = notes_path(recording)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Notes()
    except UnicodeDecodeError as exc:
        raise NotesError(f"{path}: byte {exc.start}: not UTF-8 text") from None
    except OSError as exc:
        raise NotesError(f"{path}: cannot read ({exc.strerror or exc})") from None
    try:
        return Notes.from_dict(json.loads(text, parse_constant=_no_constant))
    except json.JSONDecodeError as exc:
        raise NotesError(f"{path}: line {exc.lineno}: not valid JSON") from None
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
        raise NotesError(f"{path}: not a pelviscope notes file ({exc})") from None


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def set_aside(recording: str | os.PathLike[str]) -> Path | None:
    """Rename an unreadable notes file to ``<name>.damaged-<UTC timestamp>``; return it.

    Returns None when there was nothing to move.

    Raises
    ------
    recordings.files.OutputError
        The file cannot be renamed (e.g. a read-only folder); it is left in place.
    """
    path = notes_path(recording)
    if not os.path.lexists(path):
        return None
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    aside = path.with_name(f"{path.name}.damaged-{stamp}")
    try:
        os.link(path, aside, follow_symlinks=False)  # fails rather than replace anything
        os.unlink(path)
    except OSError as exc:
        raise output_error(aside, exc) from None
    return aside


@dataclass
class OpenedNotes:
    """What :func:`open_notes` found.

    Attributes
    ----------
    notes : Notes
        The notes (empty when there were none or they could not be read).
    problem : str
        One line for the user when the file could not be read, else "".
    writable : bool
        False when saving would replace an unreadable file that could not be set aside.
    """

    notes: Notes
    problem: str = ""
    writable: bool = True


def open_notes(recording: str | os.PathLike[str]) -> OpenedNotes:
    """The notes of ``recording``; an unreadable file is set aside, never lost."""
    try:
        return OpenedNotes(load_notes(recording))
    except NotesError as exc:
        problem = str(exc)
    try:
        aside = set_aside(recording)
    except OutputError as exc:
        return OpenedNotes(Notes(), f"{problem}; could not keep it aside ({exc.reason}), "
                                    "so new notes are not saved", writable=False)
    kept = f"; kept as {aside.name}" if aside is not None else ""
    return OpenedNotes(Notes(), f"{problem}{kept}; starting with empty notes")


def save_notes(recording: str | os.PathLike[str], notes: Notes) -> Path:
    """Write the notes next to ``recording`` (atomically); return the path.

    Raises
    ------
    recordings.files.OutputError
        The file cannot be written (read-only folder, full disk, a directory or symbolic
        link at its name); the message is one line naming the file and the reason.
    """
    path = notes_path(recording)
    text = json.dumps(notes.to_dict(), indent=1, allow_nan=False)
    with atomic_output(path, overwrite=True, mode="w") as f:
        f.write(text)
    return path
