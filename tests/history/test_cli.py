"""``pelviscope history``: the commands, two imports at once (real processes), privacy."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import func, select, text

from history.db import open_database
from history.models import Session, Subject
from pelviscope.cli import main
from tests.history.conftest import Cohort

ROOT = Path(__file__).resolve().parents[2]


def _run(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "pelviscope", "history", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_new_database_opened_by_three_processes_at_once(db_url: str) -> None:
    """The schema is created once, under the migration lock, whoever comes first."""
    code = (
        "import sys; from history.db import open_database; from history.store import add_subject;"
        "db = open_database(sys.argv[1]); add_subject(db, sys.argv[2]); db.close()"
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code, db_url, f"C{i}"],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(3)
    ]
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    with open_database(db_url) as db, db.session() as s:
        assert sorted(s.scalars(select(Subject.code))) == ["C0", "C1", "C2"]
        assert s.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 1


@pytest.mark.slow
def test_two_imports_at_once(db_url: str, cohort: Cohort, tmp_path: Path) -> None:
    """Two processes open a new database and import the same folder at the same moment."""
    assert main(["history", "add-subject", "P000", "--db", db_url]) == 0
    folder = tmp_path / "recs"
    folder.mkdir()
    for f in sorted(cohort.folders["P000"].glob("*.psrec"))[:4]:
        (folder / f.name).write_bytes(f.read_bytes())
    # One analyses in two worker processes, the other in its own.
    procs = [
        _run("import", str(folder), "--subject", "P000", "--db", db_url, *jobs)
        for jobs in (["--jobs", "2"], [])
    ]
    outs = [p.communicate(timeout=300) for p in procs]
    for p, (_, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0, err
        assert "Traceback" not in err
    added = [int(out.split(" added")[0]) if " added" in out else 0 for out, _ in outs]
    assert sum(added) == 4, outs  # every file stored once, by one of the two
    with open_database(db_url) as db, db.session() as s:
        assert s.scalar(select(func.count()).select_from(Session)) == 4
        assert s.scalar(select(func.count(func.distinct(Session.content_sha256)))) == 4
        assert s.scalar(select(func.count()).select_from(Subject)) == 1


def test_commands(
    tmp_path: Path,
    cohort: Cohort,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.delenv("PELVISCOPE_DB", raising=False)
    code = "ZQ-917"
    assert main(["history", "add-subject", code, "--affected-side", "right"]) == 0
    assert main(["history", "add-subject", code]) == 2  # taken
    assert "exists already" in capsys.readouterr().err
    assert main(["history", "import", str(cohort.folders["P001"]), "--subject", code]) == 0
    captured = capsys.readouterr()
    assert captured.out.strip() == "10 added"
    assert "[10/10] s09.psrec: added" in captured.err
    assert main(["history", "import", str(cohort.folders["P001"]), "--subject", code]) == 0
    assert capsys.readouterr().out.strip() == "10 already imported"
    assert main(["history", "import", str(tmp_path), "--subject", "nobody"]) == 2
    assert "no subject nobody" in capsys.readouterr().err

    assert main(["history", "subjects"]) == 0
    assert code in capsys.readouterr().out
    assert main(["history", "trends", code]) == 0
    out = capsys.readouterr().out
    assert "time with the right side hiked while standing" in out
    assert "- Time with the right side hiked while standing fell from" in out

    out_html = tmp_path / "progress.html"
    assert main(["history", "report", code, "--out", str(out_html)]) == 0
    html = out_html.read_text()
    assert "<svg" in html and "fell from" in html
    for external in ("<script", "<link", "src=", "href=", "url(", "@import"):
        assert external not in html  # self-contained
    assert main(["history", "report", code, "--out", str(out_html)]) == 2  # no overwrite
    capsys.readouterr()

    csv, parquet = tmp_path / "all.csv", tmp_path / "all.parquet"
    assert main(["history", "export", "--csv", str(csv)]) == 0
    assert main(["history", "export", "--parquet", str(parquet), "--subject", code]) == 0
    a, b = pd.read_csv(csv), pd.read_parquet(parquet)
    assert len(a) == len(b) == 10 and set(a["subject"]) == {code}
    assert list(a.columns) == list(b.columns)

    assert main(["history", "delete", code]) == 2  # needs --yes
    assert main(["history", "delete", code, "--yes"]) == 0
    assert "erased subject" in capsys.readouterr().out
    assert main(["history", "sessions", code]) == 2
    db_file = tmp_path / "data" / "pelviscope" / "history.sqlite"
    assert oct(db_file.stat().st_mode & 0o777) == "0o600"
    assert code.encode() not in db_file.read_bytes()


def test_changed_recording_is_shown(
    tmp_path: Path, cohort: Cohort, capsys: pytest.CaptureFixture[str]
) -> None:
    db = f"sqlite:///{tmp_path / 'h.sqlite'}"
    rec = tmp_path / "one.psrec"
    rec.write_bytes(next(cohort.folders["P002"].glob("*.psrec")).read_bytes())
    assert main(["history", "add-subject", "A", "--db", db]) == 0
    assert main(["history", "import", str(rec), "--subject", "A", "--db", db]) == 0
    capsys.readouterr()
    with rec.open("r+b") as f:  # same size, other content
        f.seek(200)
        f.write(b"\0\0\0\0")
    assert main(["history", "sessions", "A", "--db", db]) == 0
    captured = capsys.readouterr()
    assert " changed " in captured.out
    assert "missing or changed since import" in captured.err
    assert main(["history", "import", str(rec), "--subject", "A", "--db", db]) == 0
    assert "changed since its import" in capsys.readouterr().err


def test_bad_database_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["history", "subjects", "--db", str(tmp_path / "no" / "h.sqlite")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "does not exist" in err
    # Nothing listens on port 9 of this machine (discard): refused at once.
    assert main(["history", "subjects", "--db", "postgresql://u:secret@127.0.0.1:9/x"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "secret" not in err and "127.0.0.1" in err


def test_no_subject_id_in_crash_logs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A bug's log names the command, not the people it was about."""
    import history.trends

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(history.trends, "load_trends", broken)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    db = f"sqlite:///{tmp_path / 'h.sqlite'}"
    argv = ["history", "trends", "SECRET-ID-42", "--db", db]
    monkeypatch.setattr(sys, "argv", ["pelviscope", *argv])
    assert main(["history", "add-subject", "SECRET-ID-42", "--db", db]) == 0
    assert main(argv) == 1
    assert "internal error" in capsys.readouterr().err
    logs = list((tmp_path / "state" / "pelviscope" / "logs").glob("*.log"))
    assert len(logs) == 1
    text = logs[0].read_text()
    assert "history trends" in text and "RuntimeError: a bug" in text
    assert "SECRET-ID-42" not in text
