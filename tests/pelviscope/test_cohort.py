"""Cohort batches: tidy Parquet tables agree with the per-file JSON; day-by-day analysis."""

from __future__ import annotations

import io
import json
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pelviscope.cli import main
from pelviscope.cohort.tables import SCHEMA
from recordings import load, write_recording
from recordings.plausibility import G_MPS2
from simulator import simulate
from simulator.presets import mixed_day
from tests.recordings.cwa_synth import write_ax6


def simulated(path: Path, seed: int, duration_s: float = 240.0, subject: str | None = None) -> None:
    rec = simulate(mixed_day(duration_s, seed=seed), rate_hz=50.0, seed=seed).recording
    if subject:
        rec.meta["subject_id"] = subject
    write_recording(path, rec)


def ax6_from(rec_path: Path, out: Path, duration_s: float, start: datetime, subject: str) -> None:
    """An AX6 file that repeats a simulated session (resampled by index) for ``duration_s``."""
    rec = load(rec_path)
    acc_g, gyr_dps = rec.acc_mps2 / G_MPS2, np.degrees(rec.gyr_rps)
    n = rec.n_samples

    def signal(t_s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        i = np.round(t_s * rec.rate_hz).astype(int) % n
        return acc_g[i], gyr_dps[i]

    write_ax6(out, duration_s, start=start, rate_hz=50, signal=signal, subject=subject)


@pytest.fixture(scope="module")
def cohort(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("cohort")
    simulated(folder / "a.psrec", 1, subject="S1")
    simulated(folder / "b.psrec", 2, subject="S2")
    simulated(folder / "c.psrec", 3)  # no subject
    (folder / "notes.bin").write_bytes(b"not a GENEActiv file")  # not picked up
    return folder


def test_parquet_agrees_with_the_json(cohort, tmp_path, capsys):
    out, pq = tmp_path / "out", tmp_path / "pq"
    rc = main(["analyze", str(cohort), "--jobs", "2", "--out-dir", str(out), "--parquet", str(pq),
               "-q"])  # fmt: skip
    captured = capsys.readouterr()
    assert rc == 0, captured.err
    assert captured.err.strip().splitlines()[-1] == "3 of 3 files analysed"
    assert sorted(p.name for p in (pq / "sessions").iterdir()) == [
        "subject=S1", "subject=S2", "subject=unknown"
    ]  # fmt: skip
    tables = {t: pd.read_parquet(pq / t) for t in SCHEMA}
    for t, frame in tables.items():
        assert set(frame.columns) == set(SCHEMA[t]), t
    sessions = tables["sessions"].set_index("name")
    assert sorted(sessions.index) == ["a", "b", "c"]
    for name in ("a", "b", "c"):
        doc = json.loads((out / f"{name}.json").read_text())
        row = sessions.loc[name]
        assert row["file"] == doc["input"]["path"]
        assert row["duration_s"] == doc["input"]["duration_s"]
        assert row["samples"] == doc["input"]["samples"]
        assert row["steps"] == doc["gait"]["steps"] == len(doc["steps"])
        assert row["episodes"] == len(doc["hip_hike_episodes"])
        assert row["cadence_spm"] == pytest.approx(doc["gait"]["cadence_spm"], nan_ok=True)
        for act, s in doc["summary"].items():
            assert row[f"{act}_s"] == s["duration_s"]
            assert row[f"{act}_lateral_tilt_deg_mean"] == pytest.approx(
                s["lateral_tilt_deg"]["mean"], nan_ok=True
            )
        for table, items in (("steps", doc["steps"]), ("bouts", doc["gait"]["bouts"]),
                             ("episodes", doc["hip_hike_episodes"])):  # fmt: skip
            mine = tables[table][tables[table]["name"] == name]
            assert len(mine) == len(items), table
        steps = tables["steps"][tables["steps"]["name"] == name].sort_values("time_s")
        np.testing.assert_array_equal(steps["time_s"], [s["time_s"] for s in doc["steps"]])
        assert list(steps["side"]) == [s["side"] for s in doc["steps"]]
    assert sessions.loc["c", "subject"] == "unknown"


def test_duckdb_reads_the_dataset(cohort, tmp_path):
    duckdb = pytest.importorskip("duckdb")
    pq = tmp_path / "pq"
    assert main(["analyze", str(cohort / "a.psrec"), str(cohort / "c.psrec"), "--jobs", "1",
                 "--parquet", str(pq), "-q"]) == 0  # fmt: skip
    glob = str(pq / "steps" / "**" / "*.parquet")
    rows = duckdb.sql(
        f"SELECT subject, count(*) AS n FROM read_parquet('{glob}', hive_partitioning=true) "
        "GROUP BY subject ORDER BY subject"
    ).fetchall()
    assert [r[0] for r in rows] == ["S1", "unknown"] and all(r[1] > 0 for r in rows)


def test_parquet_is_not_overwritten_unless_asked(cohort, tmp_path, capsys):
    pq = tmp_path / "pq"
    pq.mkdir()
    rc = main(["analyze", str(cohort / "a.psrec"), "--parquet", str(pq), "-q"])
    assert rc == 2 and "exists already" in capsys.readouterr().err
    rc = main(["analyze", str(cohort / "a.psrec"), "--parquet", str(pq), "-q", "--overwrite"])
    assert rc == 0 and (pq / "sessions" / "subject=S1").is_dir()


def test_a_recording_across_midnight_day_by_day(cohort, tmp_path, capsys):
    """An AX6 file of 20 min from 23:50: two days and the whole, in the table and Parquet."""
    wear = tmp_path / "wear.cwa"
    ax6_from(cohort / "a.psrec", wear, 1200.0, datetime(2026, 3, 2, 23, 50, 0), "P9")
    pq = tmp_path / "pq"
    rc = main(["analyze", str(wear), "--per-day", "--parquet", str(pq), "-q"])
    captured = capsys.readouterr()
    assert rc == 0, captured.err
    table = pd.read_csv(io.StringIO(captured.out), keep_default_na=False)
    assert list(table["day"]) == ["2026-03-02", "2026-03-03", "all"]
    days, whole = table.iloc[:2], table.iloc[2]
    assert whole["steps"] == days["steps"].sum() > 0
    assert whole["duration_s"] == pytest.approx(days["duration_s"].sum())
    assert days["duration_s"].tolist() == pytest.approx([600.0, 600.0], abs=0.1)
    parquet_days = pd.read_parquet(pq / "days")
    assert sorted(parquet_days["day"]) == ["2026-03-02", "2026-03-03"]
    session = pd.read_parquet(pq / "sessions").iloc[0]
    assert session["name"] == "wear" and session["subject"] == "P9"
    assert session["steps"] == parquet_days["steps"].sum()
    # Steps stay on the file's clock: the second day's start after 600 s.
    steps = pd.read_parquet(pq / "steps")
    assert (steps.loc[steps["day"] == "2026-03-03", "time_s"] >= 600.0).all()


def test_files_longer_than_a_day_are_split_without_asking(tmp_path):
    import argparse

    from pelviscope.cohort.batch import plan_units

    long, short = tmp_path / "long.cwa", tmp_path / "short.cwa"
    write_ax6(long, 25 * 3600.0, start=datetime(2026, 3, 2, 12, 0, 0), rate_hz=25)
    write_ax6(short, 600.0, rate_hz=25)
    units = plan_units([long, short], ["long", "short"], argparse.Namespace(per_day=False))
    assert [(u.name, u.day) for u in units] == [
        ("long_2026-03-02", "2026-03-02"),
        ("long_2026-03-03", "2026-03-03"),
        ("short", None),
    ]
    assert units[0].end_s == units[1].start_s == 12 * 3600.0
    assert all(u.workers == 1 for u in units)  # the batch is the parallel unit
