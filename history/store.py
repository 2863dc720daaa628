"""Subjects and sessions in the database: add, import (analyse and store), list, erase, re-analyse.

A session is identified by the SHA-256 of its recording's content: importing the same
file again adds nothing, also when two imports run at the same time (the unique
constraint decides, the loser counts the file as known). A recording found under a
new path is noted as moved; a file whose content changed since its import is flagged
and not imported again.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from history.db import Database
from history.metrics import key_results
from history.models import Session, SessionKind, Side, Subject

if TYPE_CHECKING:
    import pandas as pd

#: Files an import folder is searched for (recursively).
RECORDING_SUFFIXES = (".psrec", ".csv")


class HistoryError(Exception):
    """A request the database cannot serve (unknown or duplicate subject): one line."""


def utc_now() -> dt.datetime:
    """The current time, UTC, without a zone (every stored time is naive UTC)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def file_sha256(path: str | os.PathLike[str]) -> str:
    """SHA-256 of a file's content, read in blocks (never the whole file in memory)."""
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def _check_code(code: str) -> str:
    code = code.strip()
    if not code or len(code) > 64 or not code.isprintable():
        raise HistoryError("a subject id is 1-64 printable characters")
    return code


def add_subject(
    db: Database,
    code: str,
    *,
    height_m: float | None = None,
    leg_length_m: float | None = None,
    affected_side: Side | None = None,
    notes: str | None = None,
) -> None:
    """Add a subject under a pseudonymous id.

    Raises
    ------
    HistoryError
        The id is taken (also when another process took it a moment ago).
    """
    code = _check_code(code)
    try:
        with db.session() as s:
            if s.scalar(select(Subject.id).where(Subject.code == code)) is not None:
                raise HistoryError(f"subject {code} exists already")
            s.add(
                Subject(
                    code=code,
                    height_m=height_m,
                    leg_length_m=leg_length_m,
                    affected_side=None if affected_side is None else affected_side.value,
                    notes=notes,
                    created_utc=utc_now(),
                )
            )
    except IntegrityError:
        raise HistoryError(f"subject {code} exists already") from None


def subject_id(s: Any, code: str) -> int:
    """Database id of the subject ``code``; :class:`HistoryError` if there is none."""
    found = s.scalar(select(Subject.id).where(Subject.code == code))
    if found is None:
        raise HistoryError(f"no subject {code} (add it with: pelviscope history add-subject)")
    return int(found)


@dataclass(frozen=True)
class SubjectRow:
    """A subject with its session count and date range (for listings)."""

    code: str
    affected_side: str | None
    sessions: int
    first_utc: dt.datetime | None
    last_utc: dt.datetime | None


def list_subjects(db: Database) -> list[SubjectRow]:
    """Every subject, by id, with how many sessions and from when to when."""
    with db.session() as s:
        rows = s.execute(
            select(
                Subject.code,
                Subject.affected_side,
                func.count(Session.id),
                func.min(Session.recorded_utc),
                func.max(Session.recorded_utc),
            )
            .outerjoin(Session)
            .group_by(Subject.id)
            .order_by(Subject.code)
        ).all()
    return [SubjectRow(*row) for row in rows]


def list_sessions(db: Database, code: str) -> list[Session]:
    """The sessions of subject ``code``, oldest first."""
    with db.session() as s:
        sid = subject_id(s, code)
        return list(
            s.scalars(
                select(Session)
                .where(Session.subject_id == sid)
                .order_by(Session.recorded_utc, Session.id)
            )
        )


def delete_subject(db: Database, code: str) -> tuple[int, bool]:
    """Erase a subject and every row about them.

    On SQLite the freed pages are overwritten (``secure_delete``) and the write-ahead
    log is emptied into the file; on PostgreSQL the tables are rewritten without the
    deleted rows (:meth:`Database.scrub`).

    Returns
    -------
    sessions : int
        How many sessions went.
    scrubbed : bool
        Whether no copy is left in the database's files either.
    """
    with db.session() as s:
        sid = subject_id(s, code)
        n = s.scalar(select(func.count()).where(Session.subject_id == sid)) or 0
        s.execute(delete(Session).where(Session.subject_id == sid))
        s.execute(delete(Subject).where(Subject.id == sid))
    return int(n), db.scrub()


# --- the state of a recording file ---------------------------------------------------


class FileState(enum.StrEnum):
    """Where a session's recording stands now."""

    OK = "ok"
    MISSING = "missing"
    CHANGED = "changed"


def file_state(session: Session, *, rehash: bool = False) -> FileState:
    """Whether the recording is still at its path with the same content.

    Size and modification time are compared first; only when they differ (or with
    ``rehash``) is the content hashed again.
    """
    if session.file_status == FileState.CHANGED:
        return FileState.CHANGED
    try:
        st = os.stat(session.path)
    except OSError:
        return FileState.MISSING
    if st.st_size != session.size_bytes:
        return FileState.CHANGED
    if rehash or st.st_mtime_ns != session.mtime_ns:
        try:
            same = file_sha256(session.path) == session.content_sha256
        except OSError:
            return FileState.MISSING
        return FileState.OK if same else FileState.CHANGED
    return FileState.OK


# --- analysing and storing ------------------------------------------------------------


@dataclass
class Analysed:
    """A recording analysed and reduced to what the database keeps (picklable)."""

    path: str
    sha256: str
    size_bytes: int
    mtime_ns: int
    recorded_utc: dt.datetime
    recorded_from: str
    analysis_version: str
    results: dict[str, float | int | None] = field(default_factory=dict)


def _recorded_utc(doc: dict[str, Any], mtime_ns: int) -> tuple[dt.datetime, str]:
    """The recording's start time (UTC), else the file's modification time."""
    start = (doc.get("input") or {}).get("start_time_utc")
    if isinstance(start, str):
        try:
            when = dt.datetime.fromisoformat(start.replace("Z", "+00:00"))
        except ValueError:
            pass
        else:
            if when.tzinfo is not None:
                when = when.astimezone(dt.UTC).replace(tzinfo=None)
            return when, "recording"
    return dt.datetime.fromtimestamp(mtime_ns / 1e9, dt.UTC).replace(tzinfo=None), "file"


def analyse_file(path: str, sha256: str, workers: int | None = None) -> Analysed:
    """Analyse one recording and keep its key results (runs in a worker process too).

    Raises
    ------
    recordings.InputError
        The file is not a readable recording.
    """
    from analysis.session import ANALYSIS_VERSION, analyze

    st = os.stat(path)
    doc = analyze(path, workers=workers).to_json()
    recorded, source = _recorded_utc(doc, st.st_mtime_ns)
    return Analysed(
        path=path,
        sha256=sha256,
        size_bytes=st.st_size,
        mtime_ns=st.st_mtime_ns,
        recorded_utc=recorded,
        recorded_from=source,
        analysis_version=str(doc.get("analysis_version") or ANALYSIS_VERSION),
        results=key_results(doc),
    )


def _fill(row: Session, a: Analysed) -> None:
    row.path = a.path
    row.size_bytes = a.size_bytes
    row.mtime_ns = a.mtime_ns
    row.file_status = FileState.OK
    row.recorded_utc = a.recorded_utc
    row.recorded_from = a.recorded_from
    row.analysis_version = a.analysis_version
    row.analysed_utc = utc_now()
    for name, value in a.results.items():
        setattr(row, name, value)


class Outcome(enum.StrEnum):
    """What importing one file did."""

    ADDED = "added"
    KNOWN = "already imported"
    MOVED = "already imported (moved: path updated)"
    CHANGED = "changed since its import: not imported again"
    OTHER_SUBJECT = "already imported for another subject"
    FAILED = "failed"


@dataclass(frozen=True)
class ImportResult:
    """One file of an import: what happened and, for a failure, why."""

    path: str
    outcome: Outcome
    reason: str = ""


def find_recordings(folders: Iterable[Path]) -> list[Path]:
    """Recordings and CSVs in ``folders`` (recursively) or given as files, each once."""
    files: list[Path] = []
    seen: set[str] = set()
    for p in folders:
        found = (
            sorted(
                f for f in p.rglob("*") if f.suffix.lower() in RECORDING_SUFFIXES and f.is_file()
            )
            if p.is_dir()
            else [p]
        )
        for f in found:
            key = os.path.realpath(f)
            if key not in seen:
                seen.add(key)
                files.append(Path(key))
    return files


def _triage(db: Database, sid: int, path: str, sha: str) -> Outcome | None:
    """The outcome for a file already known by content or path; None if it is new."""
    with db.session() as s:
        same = s.scalar(select(Session).where(Session.content_sha256 == sha))
        if same is not None:
            if same.subject_id != sid:
                return Outcome.OTHER_SUBJECT
            if same.path == path:
                return Outcome.KNOWN
            if file_state(same, rehash=True) == FileState.OK:
                return Outcome.KNOWN  # a copy of a file still in place
            st = os.stat(path)
            same.path, same.size_bytes, same.mtime_ns = path, st.st_size, st.st_mtime_ns
            same.file_status = FileState.OK
            return Outcome.MOVED
        at_path = s.scalar(select(Session).where(Session.path == path).limit(1))
        if at_path is not None:
            at_path.file_status = FileState.CHANGED
            return Outcome.CHANGED
    return None


def _store(db: Database, sid: int, analysed: Analysed, kind: SessionKind) -> Outcome:
    try:
        with db.session() as s:
            row = Session(subject_id=sid, content_sha256=analysed.sha256, kind=kind.value)
            _fill(row, analysed)
            s.add(row)
    except IntegrityError:  # another import stored it in the meantime
        return Outcome.KNOWN
    return Outcome.ADDED


Progress = Callable[[int, int, ImportResult], None]


def import_files(
    db: Database,
    code: str,
    files: list[Path],
    *,
    kind: SessionKind = SessionKind.MONITORING,
    jobs: int = 1,
    progress: Progress | None = None,
) -> list[ImportResult]:
    """Analyse and store recordings of subject ``code``; files known already are skipped.

    Each file is stored in its own transaction, so an interrupted import keeps what it
    finished. With ``jobs`` > 1 the analyses run in that many processes.

    Parameters
    ----------
    progress : callable, optional
        ``progress(done, total, result)`` after each file.
    """
    from recordings.errors import InputError

    with db.session() as s:
        sid = subject_id(s, code)
    results: list[ImportResult] = []
    todo: list[tuple[str, str]] = []

    def done(result: ImportResult) -> None:
        results.append(result)
        if progress is not None:
            progress(len(results), len(files), result)

    for f in files:
        path = str(f)
        try:
            sha = file_sha256(path)
        except OSError as exc:
            done(ImportResult(path, Outcome.FAILED, exc.strerror or str(exc)))
            continue
        outcome = _triage(db, sid, path, sha)
        if outcome is None:
            todo.append((path, sha))
        else:
            done(ImportResult(path, outcome))

    def analysed_all() -> Iterator[tuple[str, Analysed | BaseException]]:
        if jobs <= 1 or len(todo) <= 1:
            for path, sha in todo:
                try:
                    yield path, analyse_file(path, sha)
                except (InputError, OSError, ValueError) as exc:
                    yield path, exc
            return
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            futures = [(p, pool.submit(analyse_file, p, sha, 1)) for p, sha in todo]
            for path, future in futures:
                try:
                    yield path, future.result()
                except (InputError, OSError, ValueError) as exc:
                    yield path, exc

    for path, item in analysed_all():
        if isinstance(item, BaseException):
            done(ImportResult(path, Outcome.FAILED, str(item)))
        else:
            done(ImportResult(path, _store(db, sid, item, kind)))
    return results


@dataclass(frozen=True)
class ReanalyseResult:
    """One session considered for re-analysis."""

    path: str
    done: bool
    reason: str = ""


def reanalyse(
    db: Database,
    code: str | None = None,
    *,
    force: bool = False,
    progress: Callable[[int, int, ReanalyseResult], None] | None = None,
) -> list[ReanalyseResult]:
    """Re-derive stored results whose analysis version is not the current one.

    Parameters
    ----------
    code : str, optional
        Only this subject (default: everyone).
    force : bool
        Re-analyse also sessions of the current version.
    """
    from analysis.session import ANALYSIS_VERSION
    from recordings.errors import InputError

    with db.session() as s:
        query = select(Session)
        if code is not None:
            query = query.where(Session.subject_id == subject_id(s, code))
        if not force:
            query = query.where(Session.analysis_version != ANALYSIS_VERSION)
        rows = list(s.scalars(query.order_by(Session.id)))
    out: list[ReanalyseResult] = []
    for row in rows:
        state = file_state(row, rehash=True)
        if state != FileState.OK:
            result = ReanalyseResult(row.path, False, f"recording {state.value}")
        else:
            try:
                analysed = analyse_file(row.path, row.content_sha256)
            except (InputError, OSError, ValueError) as exc:
                result = ReanalyseResult(row.path, False, str(exc))
            else:
                with db.session() as s:
                    fresh = s.get(Session, row.id)
                    if fresh is not None:
                        _fill(fresh, analysed)
                result = ReanalyseResult(row.path, True)
        out.append(result)
        if progress is not None:
            progress(len(out), len(rows), result)
    return out


#: Columns of an export, in order (then every metric).
EXPORT_COLUMNS = (
    "subject", "recorded_utc", "recorded_from", "kind", "duration_s", "path",
    "content_sha256", "file_status", "analysis_version", "analysed_utc",
)  # fmt: skip


def sessions_table(db: Database, code: str | None = None) -> pd.DataFrame:
    """Every session (or one subject's) as one table: one row per session, for export."""
    import pandas as pd

    from history.metrics import METRICS

    names = [c for c in EXPORT_COLUMNS if c != "subject"] + [m.name for m in METRICS]
    with db.session() as s:
        query = select(Subject.code, *(getattr(Session, n) for n in names)).join(Subject)
        if code is not None:
            query = query.where(Session.subject_id == subject_id(s, code))
        rows = s.execute(query.order_by(Subject.code, Session.recorded_utc, Session.id)).all()
    return pd.DataFrame([tuple(r) for r in rows], columns=["subject", *names])
