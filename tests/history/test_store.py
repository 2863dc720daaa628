"""The history database on SQLite and PostgreSQL: import, idempotence, erasure, changes, speed."""

from __future__ import annotations

import datetime as dt
import logging
import os
import shutil
import stat
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from history.db import HEAD_REVISION, open_database
from history.models import Session, Subject
from history.report import render_progress_html
from history.store import (
    FileState,
    Outcome,
    add_subject,
    delete_subject,
    file_state,
    find_recordings,
    import_files,
    list_sessions,
    list_subjects,
    reanalyse,
    sessions_table,
)
from history.trends import findings, load_trends
from tests.history.conftest import SESSIONS_PER_SUBJECT, SUBJECTS, Cohort


def _counts(db_url: str) -> tuple[int, int]:
    with open_database(db_url) as db, db.session() as s:
        return (
            int(s.scalar(select(func.count()).select_from(Subject)) or 0),
            int(s.scalar(select(func.count()).select_from(Session)) or 0),
        )


@pytest.mark.slow
@pytest.mark.usefixtures("analyse_once")
def test_cohort_import_reimport_erase(
    db_url: str, cohort: Cohort, caplog: pytest.LogCaptureFixture
) -> None:
    # Every SQL statement logged (as a user's logging set-up might): no subject id in them.
    caplog.set_level(logging.DEBUG)
    with open_database(db_url) as db:
        for code, folder in cohort.folders.items():
            add_subject(db, code, affected_side=None)
            results = import_files(db, code, find_recordings([folder]))
            assert [r.outcome for r in results] == [Outcome.ADDED] * SESSIONS_PER_SUBJECT
    assert _counts(db_url) == (SUBJECTS, SUBJECTS * SESSIONS_PER_SUBJECT)

    with open_database(db_url) as db:
        # Exactly them: every file once, under its subject, dated by its recording.
        table = sessions_table(db)
        assert sorted(table["path"]) == sorted(str(p.resolve()) for p in cohort.files)
        for code, folder in cohort.folders.items():
            mine = table[table["subject"] == code]
            assert set(mine["path"]) == {str(p.resolve()) for p in folder.glob("*.psrec")}
        assert (table["recorded_from"] == "recording").all()
        assert table["hike_right_standing_pct"].notna().all()

        # Re-import adds nothing.
        again = import_files(db, "P000", find_recordings([cohort.root / "group0"]))
        assert {r.outcome for r in again} == {Outcome.KNOWN}
        # The same files under another subject are refused, not duplicated.
        other = import_files(db, "P001", find_recordings([cohort.root / "group0"])[:2])
        assert {r.outcome for r in other} == {Outcome.OTHER_SUBJECT}
    assert _counts(db_url) == (SUBJECTS, SUBJECTS * SESSIONS_PER_SUBJECT)

    with open_database(db_url) as db:
        trends = load_trends(db, "P003")
        hike = trends.of("hike_right_standing_pct")
        assert hike.first > 25 and hike.last < 1, hike.values
        said = findings(trends)
        assert any(
            s.startswith("Time with the right side hiked while standing fell from")
            and "over 9 weeks" in s
            for s in said
        ), said
        assert delete_subject(db, "P003") == (SESSIONS_PER_SUBJECT, True)
    with open_database(db_url) as db, db.session() as s:
        assert (
            s.scalar(select(func.count()).select_from(Subject).where(Subject.code == "P003")) == 0
        )
        assert s.scalar(
            select(func.count()).select_from(Session).where(Session.path.like("%group3%"))
        ) == 0  # fmt: skip
    assert _counts(db_url) == (SUBJECTS - 1, (SUBJECTS - 1) * SESSIONS_PER_SUBJECT)

    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "sessions" in logged  # the SQL was logged ...
    assert not any(f"P{i:03d}" in logged for i in range(SUBJECTS))  # ... without anyone's id

    # Erased for real: the id is nowhere in the database's files (SQLite: the file and its
    # write-ahead log; PostgreSQL: the database's table and index files after a checkpoint).
    if db_url.startswith("sqlite"):
        path = Path(db_url.removeprefix("sqlite:///"))
        files = [f for f in (path, path.with_name(path.name + "-wal")) if f.exists()]
    else:
        with open_database(db_url) as db, db.engine.connect() as conn:
            data = conn.execute(text("SHOW data_directory")).scalar()
            oid = conn.execute(
                text("SELECT oid FROM pg_database WHERE datname = current_database()")
            ).scalar()
            conn.execute(text("CHECKPOINT"))
        files = [f for f in Path(f"{data}/base/{oid}").iterdir() if f.is_file()]
    content = b"".join(f.read_bytes() for f in files)
    assert b"P004" in content and b"P003" not in content


def test_moved_and_changed_recordings(db_url: str, cohort: Cohort, tmp_path: Path) -> None:
    folder = tmp_path / "recs"
    shutil.copytree(cohort.folders["P000"], folder)
    files = sorted(folder.glob("*.psrec"))[:3]
    with open_database(db_url) as db:
        add_subject(db, "S1")
        import_files(db, "S1", files)
        # One file changes (a byte flipped), one moves.
        data = bytearray(files[0].read_bytes())
        data[-100] ^= 0xFF
        files[0].write_bytes(bytes(data))
        moved = tmp_path / "moved.psrec"
        files[1].rename(moved)
        states = {s.path: file_state(s) for s in list_sessions(db, "S1")}
        assert states[str(files[0])] == FileState.CHANGED
        assert states[str(files[1])] == FileState.MISSING
        assert states[str(files[2])] == FileState.OK

        again = {r.path: r.outcome for r in import_files(db, "S1", [files[0], moved, files[2]])}
        assert again == {
            str(files[0]): Outcome.CHANGED,
            str(moved): Outcome.MOVED,
            str(files[2]): Outcome.KNOWN,
        }
        rows = {s.path: s for s in list_sessions(db, "S1")}
        assert len(rows) == 3 and str(moved) in rows
        assert rows[str(files[0])].file_status == "changed"  # stays flagged
        assert file_state(rows[str(moved)]) == FileState.OK

        # Re-analysis after a new analysis version: stale rows only, changed files skipped.
        with db.session() as s:
            s.execute(text("UPDATE sessions SET analysis_version = 'old'"))
        done = {r.path: r.done for r in reanalyse(db, "S1")}
        assert done == {str(files[0]): False, str(moved): True, str(files[2]): True}
        assert [r.path for r in reanalyse(db, "S1")] == [str(files[0])]  # only it is stale


def test_trends_of_1000_sessions_under_a_second(db_url: str) -> None:
    """Results inserted directly (analysing 1,000 sessions is not what is timed)."""
    with open_database(db_url) as db:
        add_subject(db, "BIG")
        with db.session() as s:
            sid = s.scalar(select(Subject.id).where(Subject.code == "BIG"))
            now = dt.datetime(2026, 1, 1)
            s.add_all(
                Session(
                    subject_id=sid,
                    content_sha256=f"{i:064x}",
                    path=f"/data/{i}.psrec",
                    size_bytes=1,
                    mtime_ns=0,
                    recorded_utc=now + dt.timedelta(hours=6 * i),
                    recorded_from="recording",
                    kind="monitoring",
                    analysis_version="5",
                    analysed_utc=now,
                    duration_s=3600.0,
                    hike_right_standing_pct=30.0 * (1 - i / 1000),
                    standing_obliquity_deg=-2.0 + i / 1000,
                    cadence_spm=100 + (i % 7),
                    gait_speed_mps=None if i % 3 else 1.0 + i / 2000,
                    hike_episodes_per_h=5.0,
                )
                for i in range(1000)
            )
    t0 = time.perf_counter()
    with open_database(db_url) as db:
        trends = load_trends(db, "BIG")
        said = findings(trends)
        html = render_progress_html(trends)
    elapsed = time.perf_counter() - t0
    print(
        f"\ntrends + findings + report of 1,000 sessions ({db_url.split(':')[0]}): {elapsed:.3f} s"
    )
    assert elapsed < 1.0
    assert len(trends.recorded_utc) == 1000 and trends.of("gait_speed_mps").count == 334
    assert any("gait speed rose" in s.lower() for s in said)
    assert "<svg" in html


def test_schema_is_the_newest_migration(db_url: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.config import Config
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from history.models import Base

    config = Config()
    config.set_main_option("script_location", "history:migrations")
    assert ScriptDirectory.from_config(config).get_current_head() == HEAD_REVISION
    with open_database(db_url) as db, db.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0001"


def test_default_database_is_private(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.delenv("PELVISCOPE_DB", raising=False)
    with open_database() as db:
        add_subject(db, "X1")
        assert [r.code for r in list_subjects(db)] == ["X1"]
    folder = tmp_path / "data" / "pelviscope"
    assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700
    for f in folder.iterdir():  # the database and its -wal/-shm files
        assert stat.S_IMODE(os.stat(f).st_mode) == 0o600, f
    assert (folder / "history.sqlite").exists()


def test_review_window_model(db_url: str, cohort: Cohort, tmp_path: Path) -> None:
    from history.model import history_for_recording

    files = []
    for f in sorted(cohort.folders["P004"].glob("*.psrec"))[:3]:
        files.append(tmp_path / f.name)
        shutil.copyfile(f, files[-1])
    other = tmp_path / "never_imported.psrec"
    other.write_bytes(files[0].read_bytes()[:-7])
    with open_database(db_url) as db:
        add_subject(db, "R1")
        import_files(db, "R1", files)
        assert history_for_recording(db, other) is None
        h = history_for_recording(db, files[1])
        assert h is not None and h.code == "R1"
        assert h.current_index == 1 and [s.path for s in h.sessions] == [str(f) for f in files]
        assert h.trends.of("hike_right_standing_pct").count == 3
        files[2].unlink()
        h = history_for_recording(db, files[0])
        assert h is not None and h.current_index == 0
        assert h.openable(1) == str(files[1]) and h.openable(2) is None  # gone
