"""Tidy tables of a cohort from the per-file JSON documents (DESIGN section 4), as Parquet.

Every value comes from the ``analyze --json`` document of the file (or of the day), so
the tables and the JSON files agree by construction (tested). Schema and units:
``docs/parquet.md``; :data:`SCHEMA` is the one source of both.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

ACTIVITIES = ("standing", "walking", "sitting", "lying", "transition", "unknown")
KEYS: dict[str, str] = {
    "subject": "string",
    "file": "string",
    "name": "string",
    "day": "string",
}
_SUMMARY: dict[str, str] = {
    "start_time_local": "string",
    "start_time_utc": "string",
    "device": "string",
    "duration_s": "float64",
    "rate_hz": "float64",
    "samples": "int64",
    "gaps": "int64",
    "lost_samples": "int64",
    "calibration": "string",
    "steps": "int64",
    "strides": "int64",
    "cadence_spm": "float64",
    "obliquity_rom_deg": "float64",
    "anterior_tilt_rom_deg": "float64",
    "left_swing_elevation_deg": "float64",
    "right_swing_elevation_deg": "float64",
    "bouts": "int64",
    "episodes": "int64",
    "episodes_static": "int64",
    "episodes_gait": "int64",
    "hip_hike_s": "float64",
    "turns": "int64",
    **{
        f"{a}_{q}": t
        for a in ACTIVITIES
        for q, t in (
            ("s", "float64"),
            ("anterior_tilt_deg_mean", "float64"),
            ("anterior_tilt_deg_sd", "float64"),
            ("lateral_tilt_deg_mean", "float64"),
            ("lateral_tilt_deg_sd", "float64"),
            ("hip_hike_pct", "float64"),
        )
    },
    "analysis_version": "string",
}
#: Table -> column -> Arrow type. Units are in the names (``_s``, ``_deg``, ``_spm``, ``_pct``).
SCHEMA: dict[str, dict[str, str]] = {
    "sessions": {**KEYS, **_SUMMARY},
    "days": {**KEYS, **_SUMMARY},
    "bouts": {
        **KEYS,
        "start_s": "float64",
        "end_s": "float64",
        "n_steps": "int64",
        "cadence_spm": "float64",
        "stride_time_s": "float64",
        "stride_time_cv_pct": "float64",
        "step_asymmetry_pct": "float64",
    },
    "steps": {
        **KEYS,
        "time_s": "float64",
        "side": "string",
        "event": "string",
        "confidence": "float64",
    },
    "episodes": {
        **KEYS,
        "side": "string",
        "kind": "string",
        "activity": "string",
        "start_s": "float64",
        "end_s": "float64",
        "peak_deg": "float64",
        "mean_deg": "float64",
        "confidence": "float64",
        "reason": "string",
    },
}
TABLES = tuple(SCHEMA)
#: The subject of a recording that names none.
UNKNOWN = "unknown"
Rows = dict[str, list[dict[str, Any]]]


def summary_row(doc: dict[str, Any]) -> dict[str, Any]:
    """The ``sessions``/``days`` columns (without the keys) of one JSON document."""
    inp, gait, summary = doc["input"], doc["gait"], doc["summary"]
    episodes = doc["hip_hike_episodes"]
    row: dict[str, Any] = {
        "start_time_local": inp.get("start_time_local"),
        "start_time_utc": inp.get("start_time_utc"),
        "device": None if inp.get("device") is None else str(inp["device"]),
        "duration_s": inp["duration_s"],
        "rate_hz": inp["rate_hz"],
        "samples": inp["samples"],
        "gaps": len(inp["gaps"]),
        "lost_samples": sum(g["lost_samples"] for g in inp["gaps"]),
        "calibration": doc["calibration"]["method"],
        "steps": gait["steps"],
        "strides": gait["strides"],
        "cadence_spm": gait["cadence_spm"],
        "obliquity_rom_deg": gait["obliquity_rom_deg"],
        "anterior_tilt_rom_deg": gait["anterior_tilt_rom_deg"],
        "left_swing_elevation_deg": gait["left_swing_elevation_deg"],
        "right_swing_elevation_deg": gait["right_swing_elevation_deg"],
        "bouts": len(gait["bouts"]),
        "episodes": len(episodes),
        "episodes_static": sum(e["kind"] == "static" for e in episodes),
        "episodes_gait": sum(e["kind"] == "gait" for e in episodes),
        "hip_hike_s": sum(e["end_s"] - e["start_s"] for e in episodes),
        "turns": len(doc.get("turns", [])),
        "analysis_version": doc.get("analysis_version"),
    }
    for act in ACTIVITIES:
        s = summary.get(act)
        row[f"{act}_s"] = s["duration_s"] if s else 0.0
        for angle in ("anterior_tilt_deg", "lateral_tilt_deg"):
            row[f"{act}_{angle}_mean"] = s[angle]["mean"] if s else None
            row[f"{act}_{angle}_sd"] = s[angle]["sd"] if s else None
        row[f"{act}_hip_hike_pct"] = s["hip_hike_pct"] if s else None
    return row


def doc_tables(doc: dict[str, Any], keys: dict[str, Any]) -> Rows:
    """The ``days``, ``bouts``, ``steps`` and ``episodes`` rows of one analysed unit."""
    lists = {
        "bouts": doc["gait"]["bouts"],
        "steps": doc["steps"],
        "episodes": doc["hip_hike_episodes"],
    }
    out: Rows = {"days": [{**keys, **summary_row(doc)}]}
    for table, items in lists.items():
        cols = SCHEMA[table]
        out[table] = [{**keys, **{c: item.get(c) for c in cols if c not in keys}} for item in items]
    return out


def _weighted(rows: list[dict[str, Any]], value: str, weight: str) -> float | None:
    pairs = [(r[value], r[weight]) for r in rows if r.get(value) is not None and r[weight]]
    total = sum(w for _, w in pairs)
    return sum(v * w for v, w in pairs) / total if total else None


def combine_days(days: list[dict[str, Any]]) -> dict[str, Any]:
    """A ``sessions`` row for a whole recording from its ``days`` rows.

    Counts and durations are summed; means are weighted by the time or steps they stand
    for (cadence by steps, an activity's tilt by its duration). Spreads (SD, ROM, swing
    elevation) cannot be combined from daily values and are None.
    """
    first = days[0]
    row: dict[str, Any] = {k: first[k] for k in KEYS}
    row["day"] = ""
    for col, kind in _SUMMARY.items():
        if kind == "int64" or col in ("duration_s", "hip_hike_s") or col.endswith("_s"):
            row[col] = sum(d[col] or 0 for d in days)
        else:
            row[col] = None
    row["duration_s"] = sum(d["duration_s"] for d in days)
    for col in ("start_time_local", "start_time_utc", "device", "rate_hz", "analysis_version"):
        row[col] = first[col]
    row["calibration"] = ",".join(sorted({str(d["calibration"]) for d in days}))
    row["cadence_spm"] = _weighted(days, "cadence_spm", "steps")
    for act in ACTIVITIES:
        for angle in ("anterior_tilt_deg_mean", "lateral_tilt_deg_mean", "hip_hike_pct"):
            row[f"{act}_{angle}"] = _weighted(days, f"{act}_{angle}", f"{act}_s")
    return row


def arrow_table(table: str, rows: list[dict[str, Any]]) -> Any:
    """``rows`` as a ``pyarrow.Table`` with the columns and types of :data:`SCHEMA`."""
    import pyarrow as pa

    schema = pa.schema([(c, getattr(pa, t)()) for c, t in SCHEMA[table].items()])
    columns = {c: [r.get(c) for r in rows] for c in schema.names}
    return pa.Table.from_pydict(columns, schema=schema)


def write_dataset(folder: Path, rows: Rows, *, overwrite: bool) -> None:
    """Write the tables as a Parquet dataset: ``folder/<table>/subject=<id>/part-0.parquet``.

    Partitioned by subject (hive style; a recording that names no subject is in
    ``subject=unknown``: a null partition would not read back into pandas). Written
    into a temporary folder beside ``folder`` and renamed into place, so readers never
    see half a dataset.

    Raises
    ------
    recordings.files.OutputError
        ``folder`` exists and ``overwrite`` is false, or it cannot be written.
    """
    import pyarrow.dataset as ds

    from recordings.files import OutputError, exists_reason, output_error

    if folder.exists() and not overwrite:
        raise OutputError(folder, exists_reason())
    parent = folder.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=parent))
    except OSError as exc:
        raise output_error(folder, exc) from None
    old: Path | None = None
    try:
        for table in TABLES:
            items = [{**r, "subject": r.get("subject") or UNKNOWN} for r in rows.get(table, [])]
            data = arrow_table(table, items)
            if data.num_rows == 0:  # no partitions: one empty file keeps the columns
                import pyarrow.parquet as pq

                (tmp / table).mkdir()
                pq.write_table(data, tmp / table / "part-0.parquet")
                continue
            ds.write_dataset(
                data,
                tmp / table,
                format="parquet",
                partitioning=["subject"],
                partitioning_flavor="hive",
                basename_template="part-{i}.parquet",
                existing_data_behavior="overwrite_or_ignore",
            )
        os.chmod(tmp, 0o755)
        if folder.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{folder.name}.old.", dir=parent))
            os.replace(folder, old / folder.name)
        os.replace(tmp, folder)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise output_error(folder, exc) from None
    finally:
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
