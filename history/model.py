"""A Qt-free view of a subject's history for the apps (the review window's history panel).

The review window opens a recording; :func:`history_for_recording` finds its session
by content hash and returns the subject's sessions around it, ready to list and plot
(the view only draws it), and the path of any earlier session to open.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass

from sqlalchemy import select

from history.db import Database
from history.models import Session, Subject
from history.store import FileState, file_sha256, file_state, list_sessions
from history.trends import SubjectTrends, findings, load_trends


@dataclass(frozen=True)
class SessionEntry:
    """One row of the history list."""

    recorded_utc: dt.datetime
    kind: str
    duration_s: float
    path: str
    file: FileState
    current: bool


@dataclass(frozen=True)
class SubjectHistory:
    """What the history panel shows for one subject.

    Attributes
    ----------
    code : str
        The subject's pseudonymous id.
    sessions : list of SessionEntry
        Oldest first; ``current`` marks the session on screen.
    trends : SubjectTrends
        Per-metric values for the plots (``trends.days`` on x).
    findings : list of str
        Plain-language changes since the first session.
    """

    code: str
    sessions: list[SessionEntry]
    trends: SubjectTrends
    findings: list[str]

    @property
    def current_index(self) -> int | None:
        """Index of the session on screen in :attr:`sessions`, if it is stored."""
        return next((i for i, s in enumerate(self.sessions) if s.current), None)

    def openable(self, index: int) -> str | None:
        """Path of session ``index`` if its recording is still there unchanged."""
        entry = self.sessions[index]
        return entry.path if entry.file == FileState.OK else None


def subject_of_recording(db: Database, path: str | os.PathLike[str]) -> str | None:
    """The subject a recording was imported for (by its content), or None."""
    sha = file_sha256(path)
    with db.session() as s:
        code = s.scalar(select(Subject.code).join(Session).where(Session.content_sha256 == sha))
    return None if code is None else str(code)


def subject_history(db: Database, code: str, *, current_path: str | None = None) -> SubjectHistory:
    """The history panel's content for subject ``code``.

    Parameters
    ----------
    current_path : str, optional
        The recording on screen (marked ``current`` when it is one of the sessions).
    """
    current = os.path.realpath(current_path) if current_path else None
    rows = list_sessions(db, code)
    entries = [
        SessionEntry(
            recorded_utc=r.recorded_utc,
            kind=r.kind,
            duration_s=r.duration_s,
            path=r.path,
            file=file_state(r),
            current=current is not None and os.path.realpath(r.path) == current,
        )
        for r in rows
    ]
    trends = load_trends(db, code)
    return SubjectHistory(code, entries, trends, findings(trends))


def history_for_recording(db: Database, path: str | os.PathLike[str]) -> SubjectHistory | None:
    """The history of the subject a recording belongs to (None if it was never imported)."""
    code = subject_of_recording(db, path)
    return None if code is None else subject_history(db, code, current_path=os.fspath(path))
