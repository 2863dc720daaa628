"""``pelviscope analyze``: recording(s) or CSV(s) -> JSON, per-sample CSV, HTML report.

One input: the outputs asked for, each written on its own (one failing does not stop
the others or lose the analysis). Several inputs or a folder: a batch that always
finishes with its summary table and "N of M analysed"; one line on stderr per file that
failed. Exit status 0 only when every input was analysed and every output written,
2 otherwise (1 if the failure was a bug in pelviscope).
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from pelviscope.cli import (
    UsageError,
    add_overwrite,
    number_in,
    positive_int,
    report,
    working_on,
)

if TYPE_CHECKING:  # the analysis is imported when a command runs, not at start-up
    from analysis.calibration import Calibration
    from analysis.hiphike import HipHikeParams
    from analysis.session import Progress, SessionParams, SessionResult
    from pelviscope.cohort.batch import Unit

INPUT_SUFFIXES = {".psrec", ".csv", ".txt", ".cwa", ".bin"}


def register(parser: argparse.ArgumentParser) -> None:
    """Add this sub-command's arguments."""
    from analysis.checks import MAX_STANDING_TILT_DEG
    from analysis.hiphike import HipHikeParams
    from analysis.hiphike.params import PelvicDropParams

    parser.add_argument(
        "inputs", nargs="+", type=Path, metavar="INPUT", help="recording(s), CSV(s) or folder(s)"
    )
    out = parser.add_argument_group("outputs (one input)")
    out.add_argument("--json", type=Path, metavar="OUT", help="results as JSON (DESIGN section 4)")
    out.add_argument("--csv", type=Path, metavar="OUT", help="per-sample table")
    out.add_argument("--report", type=Path, metavar="OUT.html", help="printable HTML report")
    batch = parser.add_argument_group("batch (several inputs or a folder)")
    batch.add_argument(
        "--out-dir",
        type=Path,
        help="write <name>.json/.html for every input here (names made unique: "
        "<stem>, else <stem>_<ext>, else <folder>_<stem>_<ext>)",
    )
    batch.add_argument("--summary-csv", type=Path, help="cohort summary table (default: stdout)")
    batch.add_argument(
        "--parquet",
        type=Path,
        metavar="DIR",
        help="tidy tables as a Parquet dataset (sessions, days, bouts, steps, episodes; "
        "partitioned by subject; schema in docs/parquet.md)",
    )
    batch.add_argument(
        "--per-day",
        action="store_true",
        help="analyse Axivity/GENEActiv files day by day (automatic beyond 24 h): "
        "a row per calendar day and one for the whole",
    )
    batch.add_argument(
        "--scheduler",
        metavar="tcp://HOST:PORT|local",
        help="run the files as Dask tasks on this scheduler ('local': a cluster of --jobs "
        "processes here); default $PELVISCOPE_SCHEDULER, else a local process pool",
    )
    batch.add_argument(
        "--jobs",
        type=positive_int,
        default=os.cpu_count() or 1,
        help="parallel processes (default: one per core)",
    )
    add_overwrite(parser)
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
        "--standing-tilt-deg",
        type=number_in(-MAX_STANDING_TILT_DEG, MAX_STANDING_TILT_DEG, what="a standing pelvis"),
        help=f"measured absolute standing anterior tilt (within +-{MAX_STANDING_TILT_DEG:g} deg)",
    )
    hh = parser.add_argument_group("hip-hike thresholds")
    for f in _tunable_fields(HipHikeParams):
        hh.add_argument(
            f"--{f.name.replace('_', '-')}",
            dest=f"hh_{f.name}",
            type=int if isinstance(f.default, int) else number_in(),
            default=None,
            metavar="X",
            help=f"(default {f.default})",
        )
    drop = parser.add_argument_group("pelvic-drop thresholds")
    for f in _tunable_fields(PelvicDropParams):
        drop.add_argument(
            f"--drop-{f.name.replace('_', '-')}",
            dest=f"drop_{f.name}",
            type=int if isinstance(f.default, int) else number_in(),
            default=None,
            metavar="X",
            help=f"(default {f.default})",
        )
    body = parser.add_argument_group("the wearer (walking speed and stride length)")
    body.add_argument(
        "--height-m", type=number_in(0.8, 2.5, what="a body height"), default=None,
        help="body height, m (leg length = 0.53 x height; default: the recording's, else 1.70 m)",
    )  # fmt: skip
    body.add_argument(
        "--leg-length-m", type=number_in(0.4, 1.4, what="a leg length"), default=None,
        help="leg length (greater trochanter to floor), m; overrides --height-m",
    )  # fmt: skip
    parser.add_argument(
        "-q", "--quiet", action="store_true", help="no summary on stdout, no warnings on stderr"
    )


def _tunable_fields(cls: type) -> list[dataclasses.Field[Any]]:
    """The numeric fields of a parameters dataclass (those settable from the command line)."""
    return [f for f in dataclasses.fields(cls) if isinstance(f.default, int | float)]


def _hip_hike_params(args: argparse.Namespace) -> HipHikeParams:
    from analysis.hiphike import HipHikeParams

    changes = {f.name: getattr(args, f"hh_{f.name}") for f in _tunable_fields(HipHikeParams)}
    try:
        return HipHikeParams(**{k: v for k, v in changes.items() if v is not None})
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def _session_params(args: argparse.Namespace) -> SessionParams:
    """The options of this command that are not the hip-hike thresholds or the calibration."""
    from analysis.hiphike.params import PelvicDropParams
    from analysis.session import SessionParams

    changes = {f.name: getattr(args, f"drop_{f.name}", None)
               for f in _tunable_fields(PelvicDropParams)}  # fmt: skip
    try:
        drop = PelvicDropParams(**{k: v for k, v in changes.items() if v is not None})
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    return SessionParams(
        drop=drop,
        leg_length_m=getattr(args, "leg_length_m", None),
        height_m=getattr(args, "height_m", None),
    )


def _calibration(args: argparse.Namespace) -> Calibration | None:
    from analysis.calibration import CalibrationError, mount_preset
    from pelviscope.common import load_calibration

    if args.calibration and args.mount:
        raise UsageError("give either --calibration or --mount, not both")
    if args.mount:
        try:
            return mount_preset(args.mount)
        except CalibrationError as exc:
            raise UsageError(f"--mount {args.mount}: {exc}") from None
    if args.calibration:
        return load_calibration(args.calibration)
    return None


def _expand(inputs: list[Path]) -> list[Path]:
    """Files to analyse: folders searched recursively; each file once (first mention)."""
    files: list[Path] = []
    seen: set[str] = set()
    for p in inputs:
        if p.is_dir():
            found = sorted(
                f
                for f in p.rglob("*")
                if f.suffix.lower() in INPUT_SUFFIXES and f.is_file() and _is_input(f)
            )
        else:
            found = [p]
        for f in found:
            key = os.path.realpath(f)
            if key not in seen:
                seen.add(key)
                files.append(f)
    return files


def _is_input(path: Path) -> bool:
    """A ``.bin`` found in a folder is an input only when it is a GENEActiv file."""
    if path.suffix.lower() != ".bin":
        return True
    from recordings.devices import sniff

    try:
        with open(path, "rb") as f:
            return sniff(f.read(1024)) is not None
    except OSError:
        return True  # its error is reported like any other file's


def output_names(files: list[Path]) -> list[str]:
    """Unique, deterministic base names for the outputs of ``files`` in one folder.

    The stem where it is unique (``a``); else stem and extension (``a_psrec``); else
    with the folders that tell the files apart (``x_a_psrec``); a number as last resort.
    Compared without case (case-insensitive file systems).
    """

    def clashing(names: list[str]) -> set[str]:
        counts = Counter(n.casefold() for n in names)
        return {n for n, c in counts.items() if c > 1}

    names = [f.stem or f.name for f in files]
    clash = clashing(names)
    names = [
        f"{n}_{f.suffix.lstrip('.')}" if n.casefold() in clash and f.suffix else n
        for n, f in zip(names, files, strict=True)
    ]
    clash = clashing(names)
    groups: dict[str, list[int]] = {}
    for i, n in enumerate(names):
        if n.casefold() in clash:
            groups.setdefault(n.casefold(), []).append(i)
    for members in groups.values():
        folders = [Path(os.path.realpath(files[i])).parent for i in members]
        common = Path(os.path.commonpath(folders))
        for i, folder in zip(members, folders, strict=True):
            parts = folder.relative_to(common).parts
            if parts:
                names[i] = "_".join((*parts, names[i]))
    out: list[str] = []
    seen: set[str] = set()
    for n in names:
        candidate, k = n, 2
        while candidate.casefold() in seen:
            candidate, k = f"{n}-{k}", k + 1
        seen.add(candidate.casefold())
        out.append(candidate)
    return out


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
    path: Path,
    args: argparse.Namespace,
    calibration: Calibration | None,
    params: HipHikeParams,
    progress: Progress | None = None,
    *,
    span: tuple[float | None, float | None] | None = None,
    workers: int | None = None,
) -> SessionResult:
    """Analyse a file, or the span ``[start_s, end_s)`` of a research wearable's file."""
    from analysis.session import analyze_recording, loaded
    from pelviscope.common import check_input_file

    check_input_file(path)
    if span is not None:
        from recordings.devices import read_span

        return analyze_recording(
            read_span(path, *span),
            source=str(path),
            params=_session_params(args),
            calibration=calibration,
            standing_tilt_deg=args.standing_tilt_deg,
            hip_hike_params=params,
            progress=progress,
            workers=workers,
        )
    with loaded(path, acc_unit=args.acc_unit, gyr_unit=args.gyr_unit) as rec:
        return analyze_recording(
            rec,
            source=str(path),
            params=_session_params(args),
            calibration=calibration,
            standing_tilt_deg=args.standing_tilt_deg,
            hip_hike_params=params,
            progress=progress,
            workers=workers,
        )


def _writers(
    result: SessionResult, json_path: Path | None, csv_path: Path | None, report_path: Path | None
) -> list[tuple[Path, Callable[[IO[str]], object]]]:
    """The outputs asked for, each as (path, function writing it to a text file)."""
    from analysis.pipeline.serialize import write_per_sample_csv
    from pelviscope.common import json_text

    jobs: list[tuple[Path, Callable[[IO[str]], object]]] = []
    if json_path:
        jobs.append((json_path, lambda f: f.write(json_text(result.to_json()))))
    if csv_path:
        jobs.append((csv_path, lambda f: write_per_sample_csv(result, f)))
    if report_path:

        def html(f: IO[str]) -> None:
            from analysis.report import render_html

            f.write(render_html(result))

        jobs.append((report_path, html))
    return jobs


def _fmt(value: float | None, spec: str) -> str:
    return "-" if value is None or not math.isfinite(value) else format(value, spec)


def _text_summary(result: SessionResult) -> str:
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
        tilt = (
            ""
            if a is None
            else f"  anterior {_fmt(a, '+5.1f')} deg  lateral {_fmt(lat, '+5.1f')} deg"
        )
        lines.append(f"  {act:<10} {s['duration_s'] / 60:6.1f} min{tilt}")
    g = result.gait_summary()
    if g["steps"]:
        speed = g["walking_speed_mps"]
        lines.append(
            f"  gait: {g['steps']} steps, cadence {_fmt(g['cadence_spm'], '.0f')} steps/min"
            + ("" if speed is None else f", walking speed {speed:.2f} m/s, stride length "
               f"{_fmt(g['stride_length_m'], '.2f')} m")
        )  # fmt: skip
    lines.append(f"  hip-hike episodes: {len(result.episodes)}")
    for e in result.episodes:
        lines.append(
            f"    {e['side']:<5} {e['kind']:<6} {e['activity']:<9} "
            f"{e['start_s']:8.1f}-{e['end_s']:.1f} s  peak {_fmt(e['peak_deg'], '.1f')} deg"
        )
    if g["steps"]:
        lines.append(f"  pelvic drop episodes (Trendelenburg gait): {len(result.pelvic_drops)}")
    for d in result.pelvic_drops:
        lines.append(
            f"    {d['side']:<5} drops     {d['start_s']:8.1f}-{d['end_s']:.1f} s  "
            f"peak {_fmt(d['peak_deg'], '.1f')} deg"
        )
    return "\n".join(lines)


def _warnings(result: SessionResult, path: Path) -> list[str]:
    """The damage and input warnings of a result, each naming the file."""
    name = str(path)
    return [n if n.startswith(name) else f"{name}: {n}" for n in result.notes]


def _analyze_single(
    args: argparse.Namespace, path: Path, calibration: Calibration | None, params: HipHikeParams
) -> int:
    from pelviscope.common import (
        check_input_file,
        check_output,
        distinct_outputs,
        json_text,
        write_each,
    )

    check_input_file(path)  # before the outputs are checked: the input is the first problem
    named = [
        ("--json", args.json),
        ("--csv", args.csv),
        ("--report", args.report),
        ("--save-calibration", args.save_calibration),
    ]
    distinct_outputs(named, [path])
    for _, out in named:
        if out is not None:
            check_output(out, overwrite=args.overwrite)  # before, not after, a long analysis
    with working_on(path):
        result = _analyze_one(path, args, calibration, params, _Progress(path.name))
    if not args.quiet:
        for w in _warnings(result, path):
            report("analyze", "warning", w)
    jobs = _writers(result, args.json, args.csv, args.report)
    failed: list[tuple[int, str]] = []
    if args.save_calibration:
        if result.calibration is None:
            failed.append(
                (
                    2,
                    f"error: {args.save_calibration}: not written: no calibration "
                    f"({result.calibration_error})",
                )
            )
        else:
            doc = result.calibration.to_dict()
            jobs.append((args.save_calibration, lambda f: f.write(json_text(doc))))
    failed += write_each(jobs, overwrite=args.overwrite)
    if not args.quiet:
        print(_text_summary(result))
    for _, message in failed:
        report("analyze", "", message)
    if not failed:
        return 0
    return 1 if any(status == 1 for status, _ in failed) else 2


def _batch_outputs(args: argparse.Namespace, units: list[Unit]) -> None:
    """Check the ``--out-dir`` files before any analysis."""
    from pelviscope.common import check_output
    from recordings.files import OutputError, output_error

    if not args.out_dir:
        return
    if args.out_dir.exists() and not args.out_dir.is_dir():
        raise OutputError(args.out_dir, "--out-dir must be a folder")
    try:
        args.out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise output_error(args.out_dir, exc) from None
    problems: list[str] = []
    for unit in units:
        for suffix in (".json", ".html"):
            try:
                check_output(args.out_dir / (unit.name + suffix), overwrite=args.overwrite)
            except OutputError as exc:
                problems.append(str(exc))
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise UsageError(problems[0] + more)


def _analyze_batch(
    args: argparse.Namespace,
    files: list[Path],
    calibration: Calibration | None,
    params: HipHikeParams,
) -> int:
    from pelviscope.cohort.batch import plan_units, run_batch
    from pelviscope.common import check_output, distinct_outputs
    from recordings.files import OutputError, exists_reason

    if args.json or args.csv or args.report or args.save_calibration:
        raise UsageError(
            "--json/--csv/--report/--save-calibration are for one input without "
            "--out-dir/--summary-csv/--parquet/--per-day; use --out-dir for several"
        )
    if args.summary_csv:
        distinct_outputs([("--summary-csv", args.summary_csv)], files)
        check_output(args.summary_csv, overwrite=args.overwrite)
    if args.parquet is not None:
        distinct_outputs([("--parquet", args.parquet)], files)
        if args.parquet.exists() and not args.overwrite:
            raise OutputError(args.parquet, exists_reason())
    units = plan_units(files, output_names(files), args)
    _batch_outputs(args, units)
    # Workers get a picklable copy of the options (without the dispatcher's module).
    args = argparse.Namespace(**{k: v for k, v in vars(args).items() if not k.startswith("_")})
    return run_batch(args, units, calibration, params)


def _long(path: Path) -> bool:
    """A research wearable's file of more than a day: analysed day by day, as a batch."""
    from pelviscope.cohort.batch import AUTO_DAYS_S
    from recordings.devices import DEVICE_SUFFIXES, device_info
    from recordings.errors import InputError

    if path.suffix.lower() not in DEVICE_SUFFIXES:
        return False
    try:
        return device_info(path).duration_s > AUTO_DAYS_S
    except (InputError, OSError):
        return False


def run(args: argparse.Namespace) -> int:
    """Run the sub-command."""
    params = _hip_hike_params(args)
    calibration = _calibration(args)
    files = _expand(args.inputs)
    if not files:
        raise UsageError("no recordings or CSV files found in the given folder(s)")
    batch = args.out_dir or args.summary_csv or args.parquet is not None or args.per_day
    if len(files) > 1 or any(p.is_dir() for p in args.inputs) or batch or _long(files[0]):
        return _analyze_batch(args, files, calibration, params)
    return _analyze_single(args, files[0], calibration, params)
