"""``pelviscope export``: convert between a recording, CSV and BIDS-motion.

- ``export INPUT OUTPUT``: a recording to CSV, a CSV to a recording (or either to
  itself); INPUT may also be a BIDS-motion ``*_motion.tsv`` (its sidecars next to it).
- ``export INPUT... --bids DIR --subject ID [--session ID] --task NAME``: recordings into
  a BIDS-motion dataset, with their analysed events (:mod:`interop.bids`).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pelviscope.cli import add_overwrite, positive_int, report
from recordings.errors import InputError

if TYPE_CHECKING:
    from recordings.data import Recording

FORMATS = {".csv": "csv", ".psrec": "rec"}
MOTION_SUFFIX = "_motion.tsv"


def register(parser: argparse.ArgumentParser) -> None:
    """Add this sub-command's arguments."""
    parser.add_argument(
        "paths", nargs="+", metavar="FILE",
        help="INPUT OUTPUT: INPUT a recording .psrec, a CSV file or a BIDS-motion "
             "*_motion.tsv, OUTPUT .csv or .psrec (see --to); with --bids DIR: one or "
             "more INPUTs",
    )  # fmt: skip
    parser.add_argument(
        "--acc-unit", choices=["mps2", "g"], default=None,
        help="unit of the acc_* columns of a CSV INPUT (default mps2)",
    )  # fmt: skip
    parser.add_argument(
        "--gyr-unit", choices=["rps", "dps"], default=None,
        help="unit of the gyr_* columns of a CSV INPUT (default rps)",
    )  # fmt: skip
    parser.add_argument(
        "--to", choices=["csv", "rec"], default=None,
        help="output format; by default from OUTPUT's extension (.csv or .psrec)",
    )  # fmt: skip
    bids = parser.add_argument_group("BIDS-motion dataset")
    bids.add_argument("--bids", type=Path, metavar="DIR",
                      help="write the INPUTs into this BIDS dataset (created if new; an "
                           "existing one gets the new subject/session added)")
    bids.add_argument("--subject", metavar="ID", help="participant label (letters, digits)")
    bids.add_argument("--session", metavar="ID", help="session label (optional)")
    bids.add_argument("--task", metavar="NAME", help="task label, e.g. clinic or walk")
    bids.add_argument("--run", type=positive_int, metavar="N",
                      help="run index of the (first) INPUT; several INPUTs are runs N, N+1, "
                           "... (default: no run for one INPUT, 1, 2, ... for several)")
    add_overwrite(parser)


def _load(src: Path, args: argparse.Namespace) -> Recording:
    from recordings.io import load

    if src.name.endswith(MOTION_SUFFIX):
        if args.acc_unit or args.gyr_unit:
            raise InputError(str(src), "", "--acc-unit/--gyr-unit apply to CSV input; "
                                           "BIDS-motion files state their units")
        from recordings.bids import read_bids_motion

        return read_bids_motion(src)
    return load(src, acc_unit=args.acc_unit or "mps2", gyr_unit=args.gyr_unit or "rps")


def run(args: argparse.Namespace) -> int:
    """Convert INPUT to OUTPUT, or INPUTs into a BIDS dataset; print a summary per file."""
    return _run_bids(args) if args.bids is not None else _run_convert(args)


def _run_convert(args: argparse.Namespace) -> int:
    from pelviscope.cli import UsageError
    from pelviscope.common import check_input_file, check_output
    from recordings.csv_io import write_csv
    from recordings.format import is_recording, write_recording

    if len(args.paths) != 2:
        raise UsageError("give INPUT and OUTPUT (or INPUT... with --bids DIR)")
    for option in ("subject", "session", "task", "run"):
        if getattr(args, option) is not None:
            raise UsageError(f"--{option} belongs to --bids DIR")
    args.input, args.output = args.paths  # the names the error boundary reports
    src, out = Path(args.input), Path(args.output)
    kind = args.to or FORMATS.get(out.suffix.lower())
    if kind is None:
        raise UsageError(
            f"{out}: cannot tell the output format from the extension "
            f"{out.suffix or '(none)'!r}; use .csv or .psrec, or --to csv|rec"
        )
    check_input_file(src)
    if src.exists() and out.exists() and src.resolve() == out.resolve():
        raise UsageError(f"{out}: output is the same file as the input")
    if is_recording(src) and (args.acc_unit or args.gyr_unit):
        raise InputError(
            str(src), "", "--acc-unit/--gyr-unit apply to CSV input; recordings are in SI units"
        )
    check_output(out, overwrite=args.overwrite)  # before reading a long input
    rec = _load(src, args)
    for warning in rec.warnings:
        report("export", "warning", warning)
    (write_csv if kind == "csv" else write_recording)(out, rec, overwrite=args.overwrite)
    print(
        f"wrote {out}: {rec.n_samples} samples, {rec.duration_s:.2f} s at {rec.rate_hz:g} Hz, "
        f"{len(rec.gaps)} gap(s), {len(rec.markers)} marker(s), channels "
        f"acc{'+gyr' if rec.has_gyr else ''}{'+mag' if rec.mag is not None else ''}"
    )
    return 0


def _analysis(src: Path, args: argparse.Namespace) -> dict[str, Any] | None:
    """The analysis document of ``src`` for its events, or None (with a warning why)."""
    from analysis.session import analyze

    try:  # a BIDS-motion file states its units (and refuses --acc-unit in _load)
        doc: dict[str, Any] = analyze(src, acc_unit=args.acc_unit or "mps2",
                                      gyr_unit=args.gyr_unit or "rps").to_json()
    except InputError as exc:
        report("export", "warning", f"no analysed events: {exc}")
        return None
    return doc


def _run_bids(args: argparse.Namespace) -> int:
    from interop.bids import BidsName, check_free, export_recording, prepare_dataset
    from pelviscope.cli import UsageError, working_on
    from pelviscope.common import check_input_file
    from recordings.files import OutputError

    if args.to is not None:
        raise UsageError("--to is for INPUT OUTPUT conversion, not --bids")
    missing = [o for o in ("subject", "task") if getattr(args, o) is None]
    if missing:
        raise UsageError(f"--bids needs {' and '.join('--' + o for o in missing)}")
    sources = [Path(p) for p in args.paths]
    first_run = args.run if args.run is not None else (1 if len(sources) > 1 else None)
    try:
        names = [BidsName(args.subject, args.session, args.task,
                          None if first_run is None else first_run + i)
                 for i in range(len(sources))]
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    for src in sources:
        check_input_file(src, expected="a recording, CSV file or BIDS-motion *_motion.tsv")
    root: Path = args.bids
    if not root.parent.is_dir():
        raise OutputError(root, f"cannot write: the folder {root.parent} does not exist")
    if root.exists():
        prepare_dataset(root)  # refuses a folder that is not a BIDS dataset, before work
    check_free(root, names, overwrite=args.overwrite)
    for src, name in zip(sources, names, strict=True):
        with working_on(src):
            rec = _load(src, args)
            for warning in rec.warnings:
                report("export", "warning", f"{src}: {warning}")
            analysis = _analysis(src, args)
            files = export_recording(root, rec, name, analysis, overwrite=args.overwrite)
        with open(files["events.tsv"], encoding="utf-8") as f:
            n_events = sum(1 for _ in f) - 1
        print(f"wrote {files['motion.tsv']}: {rec.n_samples} samples, {rec.duration_s:.2f} s at "
              f"{rec.rate_hz:g} Hz, {len(rec.gaps)} gap(s), {n_events} event(s)")
    print(f"BIDS dataset {root}: {len(sources)} recording(s) added as "
          f"sub-{args.subject}{f' ses-{args.session}' if args.session else ''} "
          f"task-{args.task}")
    return 0
