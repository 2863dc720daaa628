"""User annotations saved next to a recording: ``<file>.notes.json`` (no Qt).

The recording itself is never modified. The document holds the user's markers (time,
label, note), a free-text note on the session, and the hip-hike thresholds last used in
the review (so a reopened session shows the same episodes)::

    {"format": "pelviscope.review-notes/1",
     "session_note": "...",
     "markers": [{"time_s": 12.5, "label": "pain", "note": "reports pain left"}],
     "hip_hike_params": {...} or null}
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from recordings import Marker

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

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "format": FORMAT,
            "session_note": self.session_note,
            "markers": [asdict(m) for m in sorted(self.markers, key=lambda m: m.time_s)],
            "hip_hike_params": self.hip_hike_params,
        }

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> Notes:
        """Read a notes document (raises ``KeyError``/``TypeError`` on a bad one)."""
        if doc.get("format") != FORMAT:
            raise ValueError(f"format {doc.get('format')!r}, expected {FORMAT!r}")
        markers = [
            Marker(float(m["time_s"]), str(m.get("label", "")), str(m.get("note", "")))
            for m in doc.get("markers", [])
        ]
        return cls(markers, str(doc.get("session_note", "")), doc.get("hip_hike_params"))


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
    except OSError as exc:
        raise NotesError(f"{path}: cannot read ({exc.strerror or exc})") from None
    try:
        return Notes.from_dict(json.loads(text))
    except json.JSONDecodeError as exc:
        raise NotesError(f"{path}: line {exc.lineno}: not valid JSON") from None
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise NotesError(f"{path}: not a pelviscope notes file ({exc})") from None


def save_notes(recording: str | os.PathLike[str], notes: Notes) -> Path:
    """Write the notes next to ``recording`` (atomically); return the path.

    Raises
    ------
    OSError
        The folder cannot be written (the caller tells the user).
    """
    path = notes_path(recording)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(notes.to_dict(), indent=1), encoding="utf-8")
    os.replace(tmp, path)
    return path
