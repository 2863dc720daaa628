"""The live dashboard's link to the history database (no Qt): subjects, and storing a session.

Both functions block (a database, an analysis): the window runs them in a worker thread.
Storing analyses in this process (``jobs=1``): no worker processes are forked once Qt is
loaded. The database is ``$PELVISCOPE_DB`` or the default SQLite file
(:func:`history.db.open_database`); listing subjects never creates one.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from history.db import DB_ENV, default_path, open_database, reason
from history.models import SessionKind
from history.store import HistoryError, Outcome, add_subject, import_files, list_subjects


def known_subjects(db: str | None = None) -> list[str]:
    """The subject ids in the history database, sorted ([] when there is no database).

    Raises
    ------
    OSError
        The database cannot be used (one line).
    """
    if db is None and not os.environ.get(DB_ENV) and not default_path().exists():
        return []
    try:
        with open_database(db) as database:
            return [row.code for row in list_subjects(database)]
    except SQLAlchemyError as exc:
        raise OSError(f"history database: {reason(exc)}") from None


def store_recording(
    path: str | os.PathLike[str],
    code: str,
    *,
    kind: SessionKind = SessionKind.MONITORING,
    db: str | None = None,
) -> str:
    """Analyse ``path`` and store it as a session of subject ``code`` (created if new).

    Returns
    -------
    str
        One line for the user: what was stored, or why not.
    """
    try:
        with open_database(db) as database:
            if code not in {row.code for row in list_subjects(database)}:
                # Another process may have added it a moment ago: store into it then.
                with contextlib.suppress(HistoryError):
                    add_subject(database, code)
            (res,) = import_files(database, code, [Path(path)], kind=kind, jobs=1)
    except HistoryError as exc:
        return f"not stored in the history: {exc}"
    except SQLAlchemyError as exc:
        return f"not stored in the history: {reason(exc)}"
    if res.outcome == Outcome.ADDED:
        return f"stored in the history of {code}"
    detail = f": {res.reason}" if res.reason else ""
    return f"history of {code}: {res.outcome.value}{detail}"
