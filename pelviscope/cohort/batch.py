"""The batch path of ``pelviscope analyze``: units of work, executors, outputs.

A unit is a file, or one calendar day of a long research-wearable file (``--per-day``,
automatic beyond 24 h). Units run in this process (``--jobs 1``), in a local process
pool (default) or as Dask tasks (``--scheduler``). Workers only compute: they return
the row of the summary table, the texts of the outputs and the rows of the tidy
tables; this process writes every file, once per unit, atomically.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import sys
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from pelviscope.cli import UsageError, report, say
from pelviscope.cohort.tables import Rows, combine_days, doc_tables, write_dataset

if TYPE_CHECKING:
    from analysis.calibration import Calibration
    from analysis.hiphike import HipHikeParams

#: A recording longer than this is analysed day by day even without ``--per-day``.
AUTO_DAYS_S = 86400.0
_CSV_ACTIVITIES = ("standing", "sitting", "walking", "lying")


@dataclass(frozen=True)
class Unit:
    """One piece of work: a file, or the span of one calendar day of it."""

    path: Path
    name: str
    day: str | None = None
    start_s: float | None = None
    end_s: float | None = None
    workers: int | None = None


@dataclass(frozen=True)
class Options:
    """Everything a unit's task needs besides the unit (picklable)."""

    args: argparse.Namespace
    calibration: Calibration | None
    params: HipHikeParams
    outputs: bool
    tables: bool


def plan_units(files: list[Path], names: list[str], args: argparse.Namespace) -> list[Unit]:
    """One unit per file; one per day for device files asked or long enough to split."""
    from recordings.devices import DEVICE_SUFFIXES, day_spans, device_info
    from recordings.errors import InputError

    units: list[Unit] = []
    several = len(files) > 1
    for path, name in zip(files, names, strict=True):
        spans = []
        if path.suffix.lower() in DEVICE_SUFFIXES:
            try:
                info = device_info(path)
            except (InputError, OSError):
                info = None  # the unit fails with its own one-line error
            if info is not None and (args.per_day or info.duration_s > AUTO_DAYS_S):
                spans = day_spans(info)
        if len(spans) > 1 or (spans and args.per_day):
            units += [Unit(path, f"{name}_{d.date}", d.date, d.start_s, d.end_s, 1) for d in spans]
        else:
            units.append(Unit(path, name, workers=1 if several else None))
    return units


def _csv_row(result: Any) -> dict[str, Any]:
    summary = result.summary()
    g = result.gait_summary()
    row: dict[str, Any] = {
        "duration_s": round(result.duration_s, 2),
        "calibration": result.calibration.method if result.calibration else "none",
        "gaps": len(result.gaps),
        "steps": g["steps"],
        "cadence_spm": g["cadence_spm"],
        "episodes": len(result.episodes),
        "episodes_static": sum(e["kind"] == "static" for e in result.episodes),
        "episodes_gait": sum(e["kind"] == "gait" for e in result.episodes),
        "hip_hike_s": round(sum(e["end_s"] - e["start_s"] for e in result.episodes), 2),
    }
    for act in _CSV_ACTIVITIES:
        s = summary.get(act)
        row[f"{act}_s"] = round(s["duration_s"], 2) if s else 0.0
        row[f"{act}_anterior_tilt_deg"] = s["anterior_tilt_deg"]["mean"] if s else None
        row[f"{act}_lateral_tilt_deg"] = s["lateral_tilt_deg"]["mean"] if s else None
    return row


def unit_task(unit: Unit, opts: Options) -> dict[str, Any]:
    """Analyse one unit; never raises for a bad file (nor for a bug). Writes nothing.

    Returns the summary row (``_status``, ``_warnings``, ``_files`` - (path, text) to
    write - and ``_tables`` besides the CSV columns).
    """
    from pelviscope.cli import classify
    from pelviscope.commands import analyze as cmd

    path, args = unit.path, opts.args
    base: dict[str, Any] = {"file": str(path), "error": "", "outputs": "", "_status": 0}
    if unit.day is not None:
        base["day"] = unit.day
    span = None if unit.day is None else (unit.start_s, unit.end_s)
    try:
        result = cmd._analyze_one(
            path, args, opts.calibration, opts.params, span=span, workers=unit.workers
        )
    except Exception as exc:
        status, message = classify(exc, str(path))
        message = message.removeprefix("error: ")
        if not message.startswith(str(path)):
            message = f"{path}: {message}"
        return {**base, "error": message, "_status": status, "_warnings": []}
    base["_warnings"] = cmd._warnings(result, path)
    doc = result.to_json()
    if opts.outputs:
        from analysis.report import render_html
        from pelviscope.common import json_text

        out = args.out_dir
        base["_files"] = [
            (out / f"{unit.name}.json", json_text(doc)),
            (out / f"{unit.name}.html", render_html(result)),
        ]
    if opts.tables:
        meta = result.meta
        keys = {
            "subject": meta.get("subject_id"),
            "file": str(path),
            "name": unit.name,
            "day": unit.day or str(meta.get("start_time_local") or "")[:10],
        }
        tables = doc_tables(doc, keys)
        tables["days"][0]["start_time_local"] = meta.get("start_time_local")
        base["_tables"] = tables
    return {**base, **_csv_row(result)}


def safe_task(unit: Unit, opts: Options) -> dict[str, Any]:
    """:func:`unit_task`, and a row for a failure even in building the row."""
    try:
        return unit_task(unit, opts)
    except Exception as exc:
        from pelviscope.cli import internal_error_line, write_log

        line = internal_error_line(exc, write_log(exc))
        return _failed(unit, f"{unit.path}: {line}", 1)


def _failed(unit: Unit, message: str, status: int) -> dict[str, Any]:
    row: dict[str, Any] = {"file": str(unit.path), "error": message, "outputs": ""}
    if unit.day is not None:
        row["day"] = unit.day
    return {**row, "_status": status, "_warnings": []}


def _run_pool(units: list[Unit], opts: Options, jobs: int) -> list[dict[str, Any]]:
    """Units on ``jobs`` worker processes; a worker that dies costs one unit."""
    rows: list[dict[str, Any] | None] = [None] * len(units)
    with ProcessPoolExecutor(jobs) as pool:
        futures: list[Future[dict[str, Any]]] = [pool.submit(safe_task, u, opts) for u in units]
        for i, fut in enumerate(futures):
            with contextlib.suppress(BrokenProcessPool):  # retried below, one per process
                rows[i] = fut.result()
    for i, row in enumerate(rows):
        if row is None:
            try:
                with ProcessPoolExecutor(1) as pool:
                    rows[i] = pool.submit(safe_task, units[i], opts).result()
            except BrokenProcessPool:
                rows[i] = _failed(
                    units[i],
                    f"{units[i].path}: the process analysing it stopped unexpectedly "
                    "(out of memory?)",
                    2,
                )
    return [r for r in rows if r is not None]


def _run_dask(units: list[Unit], opts: Options, jobs: int, scheduler: str) -> list[dict[str, Any]]:
    from pelviscope.cohort.dask_run import SchedulerError, run_on_dask

    rows: list[dict[str, Any] | None] = [None] * len(units)

    def lost(i: int, reason: str) -> None:
        rows[i] = _failed(units[i], f"{units[i].path}: {reason}", 2)

    def got(i: int, row: dict[str, Any]) -> None:
        rows[i] = row

    try:
        run_on_dask(
            functools.partial(safe_task, opts=opts),
            units,
            scheduler,
            workers=jobs,
            on_result=got,
            on_lost=lost,
        )
    except SchedulerError as exc:
        raise UsageError(str(exc)) from None
    return [r for r in rows if r is not None]


def _deliver(row: dict[str, Any], overwrite: bool) -> None:
    """Write a row's output files (here, once); failures go into the row."""
    from pelviscope.common import write_each

    files: list[tuple[Path, str]] = row.pop("_files", [])
    if not files:
        return

    def writer(text: str) -> Any:
        return lambda f: f.write(text)

    failed = write_each([(p, writer(t)) for p, t in files], overwrite=overwrite)
    row["outputs"] = ";".join(str(p) for p, _ in files)
    if failed:
        row["error"] = "; ".join(m.removeprefix("error: ") for _, m in failed)
        row["_status"] = max(s for s, _ in failed)


def _whole_rows(rows: list[dict[str, Any]], units: list[Unit]) -> list[dict[str, Any]]:
    """The summary table with, after the days of a split file, a row for the whole."""
    out: list[dict[str, Any]] = []
    for i, (row, unit) in enumerate(zip(rows, units, strict=True)):
        out.append(row)
        last_day = unit.day is not None and (i + 1 == len(units) or units[i + 1].path != unit.path)
        if not last_day:
            continue
        days = [r for r, u in zip(rows, units, strict=True) if u.path == unit.path and u.day]
        good = [d for d in days if not d["error"]]
        whole: dict[str, Any] = {"file": row["file"], "day": "all", "outputs": ""}
        failed = len(days) - len(good)
        whole["error"] = f"{row['file']}: {failed} of {len(days)} days failed" if failed else ""
        whole["_status"] = 2 if failed else 0
        if good:
            whole.update(_combine_csv(good))
        out.append(whole)
    return out


def _combine_csv(days: list[dict[str, Any]]) -> dict[str, Any]:
    def total(col: str) -> float:
        return round(sum(d[col] or 0 for d in days), 2)

    def weighted(col: str, weight: str) -> float | None:
        pairs = [(d[col], d[weight]) for d in days if d[col] is not None and d[weight]]
        w = sum(p[1] for p in pairs)
        return sum(v * k for v, k in pairs) / w if w else None

    row: dict[str, Any] = {
        c: total(c)
        for c in ("duration_s", "gaps", "steps", "episodes", "episodes_static", "episodes_gait")
    }
    row["calibration"] = ",".join(sorted({str(d["calibration"]) for d in days}))
    row["cadence_spm"] = weighted("cadence_spm", "steps")
    row["hip_hike_s"] = total("hip_hike_s")
    for act in _CSV_ACTIVITIES:
        row[f"{act}_s"] = total(f"{act}_s")
        for angle in ("anterior_tilt_deg", "lateral_tilt_deg"):
            row[f"{act}_{angle}"] = weighted(f"{act}_{angle}", f"{act}_s")
    for c in ("steps", "gaps", "episodes", "episodes_static", "episodes_gait"):
        row[c] = int(row[c])
    return row


def _tables(rows: list[dict[str, Any]], units: list[Unit]) -> Rows:
    out: Rows = {t: [] for t in ("sessions", "days", "bouts", "steps", "episodes")}
    by_file: dict[Path, tuple[str, list[dict[str, Any]]]] = {}
    for row, unit in zip(rows, units, strict=True):
        tables = row.pop("_tables", None)
        if not tables:
            continue
        for name, items in tables.items():
            out[name] += items
        if unit.day is None:
            session = dict(tables["days"][0])
            session["day"] = ""
            out["sessions"].append(session)
        else:
            name = unit.name.removesuffix(f"_{unit.day}")
            by_file.setdefault(unit.path, (name, []))[1].extend(tables["days"])
    for name, days in by_file.values():
        out["sessions"].append({**combine_days(days), "name": name})
    return out


def run_units(
    units: list[Unit], opts: Options, jobs: int, scheduler: str | None
) -> list[dict[str, Any]]:
    """Every unit's row, in the order of ``units`` (on Dask, in a pool or here)."""
    if scheduler is not None:
        return _run_dask(units, opts, jobs, scheduler)
    if jobs == 1:
        return [safe_task(u, opts) for u in units]
    return _run_pool(units, opts, jobs)


def run_batch(
    args: argparse.Namespace,
    units: list[Unit],
    calibration: Calibration | None,
    params: HipHikeParams,
) -> int:
    """Analyse a batch; print or write the summary table; return the exit status."""
    import pandas as pd

    from pelviscope.cohort.dask_run import scheduler_from
    from pelviscope.common import write_each

    scheduler = scheduler_from(args.scheduler)
    opts = Options(args, calibration, params, bool(args.out_dir), args.parquet is not None)
    jobs = max(1, min(args.jobs, len(units)))
    rows = run_units(units, opts, jobs, scheduler)
    for r in rows:
        _deliver(r, args.overwrite)
    tables = _tables(rows, units) if opts.tables else None
    rows = _whole_rows(rows, units)
    for r in rows:
        if not args.quiet:
            for w in r.get("_warnings", []):
                report("analyze", "warning", w)
        if r["error"] and r.get("day") != "all":
            report("analyze", "" if r["_status"] == 1 else "error", r["error"])
    failed = [r for r in rows if r["error"] and r.get("day") != "all"]
    status = 1 if any(r["_status"] == 1 for r in failed) else 2 if failed else 0
    if tables is not None:
        try:
            write_dataset(args.parquet, tables, overwrite=args.overwrite)
        except Exception as exc:
            from pelviscope.cli import classify

            s, message = classify(exc, str(args.parquet))
            report("analyze", "", message)
            status = status or s
    table = pd.DataFrame([{k: v for k, v in r.items() if not k.startswith("_")} for r in rows])
    if "day" in table.columns:
        table.insert(1, "day", table.pop("day").fillna(""))
    csv_failed = False
    if args.summary_csv:
        for s, message in write_each(
            [(args.summary_csv, lambda f: _to_csv(table, f))], overwrite=args.overwrite
        ):
            report("analyze", "", f"{message} (the table follows on stdout)")
            status, csv_failed = status or s, True
    if not args.summary_csv or csv_failed:
        _to_csv(table, sys.stdout)  # the work is not lost
    analysed = sum(1 for r in rows if not r["error"] and r.get("day") != "all")
    units_word = "files" if not any(u.day for u in units) else "files or days"
    say(f"{analysed} of {len(units)} {units_word} analysed")
    return status


def _to_csv(table: Any, f: IO[str]) -> None:
    table.to_csv(f, index=False, lineterminator="\n")
