"""``pelviscope export``: a recording to CSV, a CSV to a recording (or either to itself)."""

from __future__ import annotations

import argparse
from pathlib import Path

from pelviscope.cli import add_overwrite, report
from recordings.errors import InputError

FORMATS = {".csv": "csv", ".psrec": "rec"}


def register(parser: argparse.ArgumentParser) -> None:
    """Add this sub-command's arguments."""
    parser.add_argument("input", metavar="INPUT", help="a recording (.psrec) or a CSV file")
    parser.add_argument("output", metavar="OUTPUT", help="file to write: .csv or .psrec (see --to)")
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
    add_overwrite(parser)


def run(args: argparse.Namespace) -> int:
    """Convert INPUT to OUTPUT; print a one-line summary and any load warnings."""
    from pelviscope.cli import UsageError
    from pelviscope.common import check_input_file, check_output
    from recordings.csv_io import write_csv
    from recordings.format import is_recording, write_recording
    from recordings.io import load

    out = Path(args.output)
    kind = args.to or FORMATS.get(out.suffix.lower())
    if kind is None:
        raise UsageError(
            f"{out}: cannot tell the output format from the extension "
            f"{out.suffix or '(none)'!r}; use .csv or .psrec, or --to csv|rec"
        )
    src = Path(args.input)
    check_input_file(src)
    if src.exists() and out.exists() and src.resolve() == out.resolve():
        raise UsageError(f"{out}: output is the same file as the input")
    if is_recording(src) and (args.acc_unit or args.gyr_unit):
        raise InputError(
            str(src), "", "--acc-unit/--gyr-unit apply to CSV input; recordings are in SI units"
        )
    check_output(out, overwrite=args.overwrite)  # before reading a long input
    rec = load(src, acc_unit=args.acc_unit or "mps2", gyr_unit=args.gyr_unit or "rps")
    for warning in rec.warnings:
        report("export", "warning", warning)
    (write_csv if kind == "csv" else write_recording)(out, rec, overwrite=args.overwrite)
    print(
        f"wrote {out}: {rec.n_samples} samples, {rec.duration_s:.2f} s at {rec.rate_hz:g} Hz, "
        f"{len(rec.gaps)} gap(s), channels acc{'+gyr' if rec.has_gyr else ''}"
        f"{'+mag' if rec.mag is not None else ''}"
    )
    return 0
