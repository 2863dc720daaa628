"""``pelviscope history``: subjects, their sessions and their progress (the history database).

SQLite in ``$XDG_DATA_HOME/pelviscope/history.sqlite`` unless ``--db URL`` (or
``$PELVISCOPE_DB``) names another, e.g. ``postgresql://user@host/db``. Subject ids are
pseudonyms; nothing here writes them to a log.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from pelviscope.cli import UsageError, add_overwrite, number_in, positive_int, say

if TYPE_CHECKING:
    from history.db import Database

SIDES = ("left", "right", "both", "none")
KINDS = ("monitoring", "test", "exercise")


def _db_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--db",
        metavar="URL",
        help="database: a SQLAlchemy URL (postgresql://user@host/db) or a SQLite file "
        "(default: $PELVISCOPE_DB, else ~/.local/share/pelviscope/history.sqlite)",
    )


def register(parser: argparse.ArgumentParser) -> None:
    """Add this sub-command's arguments."""
    sub = parser.add_subparsers(
        dest="action", metavar="ACTION", required=True, parser_class=type(parser)
    )

    def action(name: str, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        _db_option(p)
        return p

    p = action("add-subject", "Add a subject under a pseudonymous id (no names).")
    p.add_argument("subject", metavar="SUBJECT", help="pseudonymous id, e.g. P017")
    p.add_argument("--height-m", type=number_in(0.3, 2.8), metavar="M")
    p.add_argument("--leg-length-m", type=number_in(0.2, 1.6), metavar="M")
    p.add_argument("--affected-side", choices=SIDES)
    p.add_argument("--notes", help="free text (keep it free of names)")

    p = action("import", "Analyse recordings of a subject and store their results.")
    p.add_argument("inputs", nargs="+", type=Path, metavar="FOLDER", help="folders or files")
    p.add_argument("--subject", required=True, metavar="SUBJECT")
    p.add_argument("--kind", choices=KINDS, default="monitoring", help="(default monitoring)")
    p.add_argument("--jobs", type=positive_int, default=1, help="analyses at once (default 1)")

    action("subjects", "List the subjects.")

    p = action("sessions", "List a subject's sessions, with recordings moved or changed.")
    p.add_argument("subject", metavar="SUBJECT")
    p.add_argument("--verify", action="store_true", help="hash every recording again")

    p = action("trends", "A subject's key results: first, last and changes.")
    p.add_argument("subject", metavar="SUBJECT")

    p = action("export", "Export every session (or one subject's) as CSV or Parquet.")
    out = p.add_mutually_exclusive_group(required=True)
    out.add_argument("--csv", type=Path, metavar="OUT")
    out.add_argument("--parquet", type=Path, metavar="OUT")
    p.add_argument("--subject", metavar="SUBJECT", help="only this subject")
    add_overwrite(p)

    p = action("delete", "Erase a subject and everything stored about them.")
    p.add_argument("subject", metavar="SUBJECT")
    p.add_argument("--yes", action="store_true", help="confirm the erasure (required)")

    p = action("reanalyse", "Re-analyse sessions stored by another analysis version.")
    p.add_argument("subject", nargs="?", metavar="SUBJECT", help="only this subject")
    p.add_argument("--force", action="store_true", help="also sessions of this version")

    p = action("report", "Write a subject's progress report (self-contained HTML).")
    p.add_argument("subject", metavar="SUBJECT")
    p.add_argument("--out", type=Path, required=True, metavar="OUT.html")
    add_overwrite(p)


def run(args: argparse.Namespace) -> int:
    """Run the sub-command."""
    from sqlalchemy.exc import SQLAlchemyError

    from history.db import DatabaseError, open_database, reason, shown
    from history.store import HistoryError

    for out in (getattr(args, "csv", None), getattr(args, "parquet", None),
                getattr(args, "out", None)):  # fmt: skip
        if out is not None:
            from pelviscope.common import check_output

            check_output(out, overwrite=args.overwrite)  # before any work
    if args.action == "delete" and not args.yes:
        raise UsageError(f"delete {args.subject}: erases every session of it; add --yes")
    try:
        db = open_database(args.db)
    except DatabaseError as exc:
        raise UsageError(str(exc)) from None
    try:
        with db:
            return ACTIONS[args.action](db, args)
    except HistoryError as exc:
        raise UsageError(str(exc)) from None
    except SQLAlchemyError as exc:  # the server went away, a disk filled, ...
        raise UsageError(f"{shown(db.url)}: {reason(exc)}") from None


def _add_subject(db: Database, args: argparse.Namespace) -> int:
    from history.models import Side
    from history.store import add_subject

    add_subject(
        db,
        args.subject,
        height_m=args.height_m,
        leg_length_m=args.leg_length_m,
        affected_side=None if args.affected_side is None else Side(args.affected_side),
        notes=args.notes,
    )
    print(f"added subject {args.subject}")
    return 0


def _import(db: Database, args: argparse.Namespace) -> int:
    from history.models import SessionKind
    from history.store import ImportResult, Outcome, find_recordings, import_files

    for p in args.inputs:
        if not p.exists():
            raise UsageError(f"{p}: no such file or folder")
    files = find_recordings(args.inputs)

    def progress(done: int, total: int, r: ImportResult) -> None:
        detail = f": {r.reason}" if r.reason else ""
        say(f"pelviscope history: [{done}/{total}] {Path(r.path).name}: {r.outcome.value}{detail}")

    results = import_files(
        db, args.subject, files, kind=SessionKind(args.kind), jobs=args.jobs, progress=progress
    )
    counts = {o: sum(r.outcome == o for r in results) for o in Outcome}
    print(", ".join(f"{n} {o.value}" for o, n in counts.items() if n) or "no recordings found")
    return 2 if counts[Outcome.FAILED] or counts[Outcome.OTHER_SUBJECT] else 0


def _subjects(db: Database, args: argparse.Namespace) -> int:
    from history.store import list_subjects

    print(f"{'subject':<16} {'side':<6} {'sessions':>8}  first       last")
    for r in list_subjects(db):
        first = f"{r.first_utc:%Y-%m-%d}" if r.first_utc else "-"
        last = f"{r.last_utc:%Y-%m-%d}" if r.last_utc else "-"
        print(f"{r.code:<16} {r.affected_side or '-':<6} {r.sessions:>8}  {first:<10}  {last}")
    return 0


def _sessions(db: Database, args: argparse.Namespace) -> int:
    from analysis.session import ANALYSIS_VERSION
    from history.store import FileState, file_state, list_sessions

    rows = list_sessions(db, args.subject)
    print(f"{'recorded (UTC)':<17} {'kind':<10} {'minutes':>7} {'file':<8} analysis  path")
    flagged = 0
    for s in rows:
        state = file_state(s, rehash=args.verify)
        flagged += state != FileState.OK
        version = "current" if s.analysis_version == ANALYSIS_VERSION else "OLD"
        print(
            f"{s.recorded_utc:%Y-%m-%d %H:%M} {s.kind:<10} {s.duration_s / 60:7.1f} "
            f"{state.value:<8} {version:<9} {s.path}"
        )
    if flagged:
        say(f"pelviscope history: {flagged} recording(s) missing or changed since import")
    return 0


def _trends(db: Database, args: argparse.Namespace) -> int:
    from history.trends import findings, fmt_value, load_trends

    trends = load_trends(db, args.subject)
    print(f"subject {args.subject}: {len(trends.recorded_utc)} sessions")
    print(
        f"{'result':<44} {'n':>4} {'first':>10} {'last':>10} {'since 1st':>10} {'since prev':>10}"
    )
    for t in trends.metrics:
        if t.count == 0:
            continue
        m = t.metric
        cells = [fmt_value(v, m.unit) for v in (t.first, t.last, t.since_first, t.since_previous)]
        marks = ["*" if t.beyond_mdc(c) else "" for c in (t.since_first, t.since_previous)]
        cells[2] += marks[0]
        cells[3] += marks[1]
        print(f"{m.label:<44} {t.count:>4} " + " ".join(f"{c:>10}" for c in cells))
    for sentence in findings(trends):
        print(f"- {sentence}")
    return 0


def _export(db: Database, args: argparse.Namespace) -> int:
    from history.store import sessions_table
    from recordings.files import atomic_output

    table = sessions_table(db, args.subject)
    if args.csv is not None:
        with atomic_output(args.csv, overwrite=args.overwrite, mode="w") as f:
            table.to_csv(f, index=False, lineterminator="\n")
    else:
        with atomic_output(args.parquet, overwrite=args.overwrite) as fb:
            table.to_parquet(fb, index=False)
    print(f"wrote {args.csv or args.parquet}: {len(table)} sessions")
    return 0


def _delete(db: Database, args: argparse.Namespace) -> int:
    from history.store import delete_subject

    n, scrubbed = delete_subject(db, args.subject)
    print(f"erased subject {args.subject} and {n} session(s)")
    if not scrubbed:
        say(
            "pelviscope history: the database is busy: the erased rows may stay in its "
            "files until the server's next vacuum"
        )
    return 0


def _reanalyse(db: Database, args: argparse.Namespace) -> int:
    from history.store import ReanalyseResult, reanalyse

    def progress(done: int, total: int, r: ReanalyseResult) -> None:
        state = "re-analysed" if r.done else f"skipped: {r.reason}"
        say(f"pelviscope history: [{done}/{total}] {Path(r.path).name}: {state}")

    results = reanalyse(db, args.subject, force=args.force, progress=progress)
    failed = sum(not r.done for r in results)
    print(f"{len(results) - failed} of {len(results)} session(s) re-analysed")
    return 2 if failed else 0


def _report(db: Database, args: argparse.Namespace) -> int:
    from history.report import render_progress_html
    from history.trends import load_trends
    from recordings.files import atomic_output

    html = render_progress_html(load_trends(db, args.subject))
    with atomic_output(args.out, overwrite=args.overwrite, mode="w") as f:
        f.write(html)
    print(f"wrote {args.out}")
    return 0


ACTIONS = {
    "add-subject": _add_subject,
    "import": _import,
    "subjects": _subjects,
    "sessions": _sessions,
    "trends": _trends,
    "export": _export,
    "delete": _delete,
    "reanalyse": _reanalyse,
    "report": _report,
}
