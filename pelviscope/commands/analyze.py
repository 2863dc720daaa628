"""``pelviscope analyze``: recording(s) or CSV(s) -> JSON, per-sample CSV, HTML report."""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from pelviscope.cli import UsageError

INPUT_SUFFIXES = {".psrec", ".csv", ".txt"}


def register(parser: argparse.ArgumentParser) -> None:
    """Add this sub-command's arguments."""
    from analysis.hiphike import HipHikeParams

    parser.add_argument(
        "inputs", nargs="+", type=Path, metavar="INPUT", help="recording(s), CSV(s) or folder(s)"
    )
    out = parser.add_argument_group("outputs (one input)")
    out.add_argument("--json", type=Path, metavar="OUT", help="results as JSON (DESIGN section 4)")
    out.add_argument("--csv", type=Path, metavar="OUT", help="per-sample table")
    out.add_argument("--report", type=Path, metavar="OUT.html", help="printable HTML report")
    batch = parser.add_argument_group("batch (several inputs or a folder)")
    batch.add_argument("--out-dir", type=Path, help="write <name>.json/.html for every input here")
    batch.add_argument("--summary-csv", type=Path, help="cohort summary table (default: stdout)")
    batch.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="parallel processes")
    units = parser.add_argument_group("input")
    units.add_argument(
        "--acc-unit", choices=("mps2", "g"), default="mps2", help="CSV accelerometer unit"
    )
    units.add_argument(
        "--gyr-unit", choices=("rps", "dps"), default="rps", help="CSV gyroscope unit"
    )
    cal = parser.add_argument_group("calibration")
    cal.add_argument("--calibration", type=Path, metavar="FILE", help="apply a saved calibration")
    cal.add_argument("--mount", help="known wearing position, e.g. sacral-mm+ or up=+x,anterior=+z")
    cal.add_argument(
        "--save-calibration", type=Path, metavar="FILE", help="save the calibration used"
    )
    cal.add_argument(
        "--standing-tilt-deg", type=float, help="measured absolute standing anterior tilt"
    )
    hh = parser.add_argument_group("hip-hike thresholds")
    for f in _tunable_fields(HipHikeParams):
        hh.add_argument(
            f"--{f.name.replace('_', '-')}",
            dest=f"hh_{f.name}",
            type=type(f.default),
            default=None,
            metavar="X",
            help=f"(default {f.default})",
        )
    parser.add_argument("-q", "--quiet", action="store_true", help="no summary on stdout")


def _tunable_fields(cls: type) -> list[dataclasses.Field[Any]]:
    """The numeric fields of a parameters dataclass (those settable from the command line)."""
    return [f for f in dataclasses.fields(cls) if isinstance(f.default, int | float)]


def _hip_hike_params(args: argparse.Namespace) -> Any:
    from analysis.hiphike import HipHikeParams

    changes = {f.name: getattr(args, f"hh_{f.name}") for f in _tunable_fields(HipHikeParams)}
    try:
        return HipHikeParams(**{k: v for k, v in changes.items() if v is not None})
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def _calibration(args: argparse.Namespace) -> Any:
    from analysis.calibration import Calibration, CalibrationError, mount_preset
    from recordings import InputError

    if args.calibration and args.mount:
        raise UsageError("give either --calibration or --mount, not both")
    try:
        if args.mount:
            return mount_preset(args.mount)
        if args.calibration:
            try:
                doc = json.loads(args.calibration.read_text())
            except json.JSONDecodeError as exc:
                raise InputError(
                    str(args.calibration), f"line {exc.lineno}", "not valid JSON"
                ) from None
            return Calibration.from_dict(doc)
    except CalibrationError as exc:
        raise UsageError(str(exc)) from None
    return None


def _expand(inputs: list[Path]) -> list[Path]:
    files: list[Path] = []
    for p in inputs:
        if p.is_dir():
            files.extend(
                sorted(
                    f for f in p.rglob("*") if f.suffix.lower() in INPUT_SUFFIXES and f.is_file()
                )
            )
        else:
            files.append(p)
    return files


class _Progress:
    """A one-line progress bar on stderr (only on a terminal)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.enabled = sys.stderr.isatty()

    def __call__(self, fraction: float, stage: str) -> None:
        if self.enabled:
            bar = "#" * int(30 * fraction)
            sys.stderr.write(f"\r{self.name} [{bar:<30}] {fraction:4.0%} {stage:<12}")
            if fraction >= 1.0:
                sys.stderr.write("\n")
            sys.stderr.flush()


def _analyze_one(
    path: Path, args: argparse.Namespace, calibration: Any, params: Any, progress: Any = None
) -> Any:
    from analysis.session import analyze

    return analyze(
        path,
        acc_unit=args.acc_unit,
        gyr_unit=args.gyr_unit,
        calibration=calibration,
        standing_tilt_deg=args.standing_tilt_deg,
        hip_hike_params=params,
        progress=progress,
    )


def _write_outputs(
    result: Any, json_path: Path | None, csv_path: Path | None, report_path: Path | None
) -> None:
    from analysis.report import render_html

    if json_path:
        json_path.write_text(
            json.dumps(result.to_json(), indent=1, allow_nan=False, default=_json_default)
        )
    if csv_path:
        result.per_sample.to_csv(csv_path, index=False, float_format="%.4f")
    if report_path:
        report_path.write_text(render_html(result), encoding="utf-8")


def _json_default(obj: Any) -> Any:
    import numpy as np

    if isinstance(obj, np.generic):
        return obj.item()
    raise TypeError(f"cannot serialise {type(obj).__name__}")


def _text_summary(result: Any) -> str:
    n, rate = result.time_s.size, result.rate_hz
    lines = [f"{result.source}: {result.duration_s / 60:.1f} min, {n} samples at {rate:g} Hz"]
    if result.gaps:
        lost = sum(g.lost_samples for g in result.gaps)
        lines.append(f"  lost data: {len(result.gaps)} gap(s), {lost} samples")
    cal = result.calibration
    lines.append(
        f"  calibration: {cal.method if cal else 'none - ' + str(result.calibration_error)}"
    )
    for act, s in result.summary().items():
        a, lat = s["anterior_tilt_deg"]["mean"], s["lateral_tilt_deg"]["mean"]
        tilt = "" if a is None else f"  anterior {a:+5.1f} deg  lateral {lat:+5.1f} deg"
        lines.append(f"  {act:<10} {s['duration_s'] / 60:6.1f} min{tilt}")
    g = result.gait_summary()
    if g["steps"]:
        lines.append(f"  gait: {g['steps']} steps, cadence {g['cadence_spm']:.0f} steps/min")
    lines.append(f"  hip-hike episodes: {len(result.episodes)}")
    for e in result.episodes:
        lines.append(
            f"    {e['side']:<5} {e['kind']:<6} {e['activity']:<9} "
            f"{e['start_s']:8.1f}-{e['end_s']:.1f} s  peak {e['peak_deg']:.1f} deg"
        )
    return "\n".join(lines)


def _batch_row(
    path: Path, args: argparse.Namespace, calibration: Any, params: Any
) -> dict[str, Any]:
    """Analyse one file of a batch; never raises for a bad file."""
    from recordings import InputError

    try:
        result = _analyze_one(path, args, calibration, params)
    except (InputError, ValueError, OSError) as exc:
        return {"file": str(path), "error": str(exc)}
    if args.out_dir:
        stem = args.out_dir / path.stem
        _write_outputs(result, stem.with_suffix(".json"), None, stem.with_suffix(".html"))
    summary = result.summary()
    g = result.gait_summary()
    row: dict[str, Any] = {
        "file": str(path),
        "error": "",
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
    for act in ("standing", "sitting", "walking", "lying"):
        s = summary.get(act)
        row[f"{act}_s"] = round(s["duration_s"], 2) if s else 0.0
        row[f"{act}_anterior_tilt_deg"] = s["anterior_tilt_deg"]["mean"] if s else None
        row[f"{act}_lateral_tilt_deg"] = s["lateral_tilt_deg"]["mean"] if s else None
    return row


def run(args: argparse.Namespace) -> int:
    """Run the sub-command."""
    import pandas as pd

    from recordings import InputError

    params = _hip_hike_params(args)
    calibration = _calibration(args)
    files = _expand(args.inputs)
    if not files:
        raise UsageError("no recordings or CSV files found in the given folder(s)")
    batch = len(files) > 1 or any(p.is_dir() for p in args.inputs)
    if not batch:
        path = files[0]
        if not path.exists():
            raise InputError(str(path), "", "file not found")
        result = _analyze_one(path, args, calibration, params, _Progress(path.name))
        _write_outputs(result, args.json, args.csv, args.report)
        if args.save_calibration and result.calibration is not None:
            args.save_calibration.write_text(json.dumps(result.calibration.to_dict(), indent=1))
        if not args.quiet:
            print(_text_summary(result))
        return 0
    if args.json or args.csv or args.report:
        raise UsageError("--json/--csv/--report take one input; use --out-dir for several")
    if args.out_dir:
        args.out_dir.mkdir(parents=True, exist_ok=True)
    jobs = max(1, min(args.jobs, len(files)))
    # Workers get a picklable copy of the options (without the dispatcher's module).
    args = argparse.Namespace(**{k: v for k, v in vars(args).items() if not k.startswith("_")})
    if jobs == 1:
        rows = [_batch_row(f, args, calibration, params) for f in files]
    else:
        with ProcessPoolExecutor(jobs) as pool:
            rows = list(
                pool.map(
                    _batch_row,
                    files,
                    [args] * len(files),
                    [calibration] * len(files),
                    [params] * len(files),
                )
            )
    failed = [r for r in rows if r["error"]]
    for r in failed:
        print(f"pelviscope analyze: error: {r['error']}", file=sys.stderr)
    table = pd.DataFrame(rows)
    if args.summary_csv:
        table.to_csv(args.summary_csv, index=False)
    else:
        table.to_csv(sys.stdout, index=False)
    if not args.quiet:
        print(f"{len(rows) - len(failed)} of {len(rows)} files analysed", file=sys.stderr)
    return 2 if failed and len(failed) == len(rows) else 0
