"""History tests: the same tests on SQLite and on a real PostgreSQL server; simulated cohorts.

PostgreSQL comes from ``PELVISCOPE_TEST_PG_URL`` (``.ci/setup.d/postgresql.sh`` starts a
throw-away server and sets it). Without it the PostgreSQL half skips, or fails when
``PELVISCOPE_REQUIRE_DATA=1`` (CI). Each test gets a database of its own.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

PG_ENV = "PELVISCOPE_TEST_PG_URL"
SUBJECTS = 10
SESSIONS_PER_SUBJECT = 10
FIRST_DAY = dt.datetime(2026, 1, 5, 9, 0)


def pg_server_url() -> str:
    """The test server's URL; skip (or fail in CI) without one."""
    url = os.environ.get(PG_ENV)
    if not url:
        msg = f"no PostgreSQL server: {PG_ENV} unset (source .ci/setup.d/postgresql.sh)"
        if os.environ.get("PELVISCOPE_REQUIRE_DATA") == "1":
            pytest.fail(msg)
        pytest.skip(msg)
    return url


def _pg_database() -> Iterator[str]:
    """A fresh database on the test server, dropped afterwards."""
    from sqlalchemy import create_engine, text

    from history.db import resolve_url

    server = resolve_url(pg_server_url())
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    name = f"pelviscope_t_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A new empty database: a SQLite file, or a database on the PostgreSQL test server."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'history.sqlite'}"
    else:
        yield from _pg_database()


@dataclass(frozen=True)
class Cohort:
    """Simulated recordings: ``folders[code]`` holds that subject's sessions."""

    root: Path
    folders: dict[str, Path]

    @property
    def files(self) -> list[Path]:
        return sorted(self.root.rglob("*.psrec"))


def hike_seconds(session: int) -> float:
    """Right static hip-hike while standing: 24 s in the first session, less each week."""
    return max(0.0, 24.0 - 3.0 * session)


def write_session(path: Path, *, seed: int, hike_s: float, start: dt.datetime) -> None:
    """A ~60-85 s simulated session: calibration, walking, standing with a right hike, sitting."""
    from recordings import write_recording
    from simulator import Scenario, Sit, Stand, Walk, simulate

    phases = [Stand(8), Walk(15, cadence_spm=100 + seed % 7), Stand(12)]
    if hike_s >= 5.0:
        phases.append(Stand(hike_s, lateral_deg=-6.0))
    phases += [Stand(10), Sit(15)]
    rec = simulate(Scenario(phases), rate_hz=50.0, seed=seed).recording
    rec.meta["start_time_utc"] = start.isoformat(timespec="milliseconds") + "Z"
    write_recording(path, rec)


_ANALYSED: dict[str, object] = {}


@pytest.fixture
def analyse_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Analyse each recording once per test run (the second backend reuses the results).

    The database is what the PostgreSQL half tests; the analysis is the same on both.
    """
    import history.store

    real = history.store.analyse_file

    def cached(path: str, sha256: str, workers: int | None = None) -> history.store.Analysed:
        hit = _ANALYSED.get(sha256)
        if not isinstance(hit, history.store.Analysed):
            hit = _ANALYSED[sha256] = real(path, sha256, workers)
        return dataclasses.replace(hit, path=path)

    monkeypatch.setattr(history.store, "analyse_file", cached)


@pytest.fixture(scope="session")
def cohort(tmp_path_factory: pytest.TempPathFactory) -> Cohort:
    """10 subjects x 10 weekly sessions (simulated once per test run)."""
    root = tmp_path_factory.mktemp("cohort")
    folders: dict[str, Path] = {}
    for subject in range(SUBJECTS):
        code = f"P{subject:03d}"
        folder = root / f"group{subject}"  # folder names carry no subject id
        folder.mkdir()
        folders[code] = folder
        for k in range(SESSIONS_PER_SUBJECT):
            write_session(
                folder / f"s{k:02d}.psrec",
                seed=100 * subject + k,
                hike_s=hike_seconds(k),
                start=FIRST_DAY + dt.timedelta(days=7 * k, hours=subject),
            )
    return Cohort(root, folders)
