"""``pelviscope review``: the recorded-session review window."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from pelviscope.cli import UsageError, add_overwrite


def register(parser: argparse.ArgumentParser) -> None:
    """Add this sub-command's arguments."""
    parser.add_argument("input", nargs="?", type=Path, metavar="FILE",
                        help="recording (.psrec) or CSV to open (or use File > Open)")
    parser.add_argument("--screenshot", type=Path, metavar="FILE.png",
                        help="save the window as PNG once the session is shown")
    parser.add_argument("--quit-after-load", action="store_true",
                        help="quit once the session is shown (headless use)")
    parser.add_argument("--no-cache", action="store_true",
                        help="neither read nor write FILE.pscache (always re-analyse)")
    parser.add_argument("--theme", choices=("light", "dark"), default="light",
                        help="colour theme")
    add_overwrite(parser)
    units = parser.add_argument_group("CSV input")
    units.add_argument("--acc-unit", choices=("mps2", "g"), default="mps2",
                       help="CSV accelerometer unit")
    units.add_argument("--gyr-unit", choices=("rps", "dps"), default="rps",
                       help="CSV gyroscope unit")


def _check(args: argparse.Namespace) -> None:
    if args.input is not None:
        if not args.input.exists():
            raise UsageError(f"{args.input}: file not found")
        if args.input.is_dir():
            raise UsageError(f"{args.input}: is a directory, expected a recording or CSV file")
    if (args.screenshot or args.quit_after_load) and args.input is None:
        raise UsageError("--screenshot and --quit-after-load need a FILE to open")
    if args.screenshot is not None:
        if args.screenshot.suffix.lower() != ".png":
            raise UsageError(f"--screenshot {args.screenshot}: use the .png extension")
        if not args.screenshot.parent.is_dir():
            raise UsageError(f"--screenshot {args.screenshot}: folder "
                             f"{args.screenshot.parent} does not exist")
        from pelviscope.common import check_output

        check_output(args.screenshot, overwrite=args.overwrite)


def run(args: argparse.Namespace) -> int:
    """Run the sub-command."""
    _check(args)
    if args.input is not None and args.input.stat().st_size >= 5_000_000:
        from analysis.pipeline.workers import prepare_workers

        prepare_workers()  # a long session is analysed on worker processes: start them now
    from gui.live.app import needs_offscreen
    from gui.review.app import ReviewOptions
    from gui.review.app import run as run_app

    if needs_offscreen():
        if not args.quit_after_load:
            raise UsageError("no display found: for headless use give --quit-after-load "
                             "(and --screenshot FILE.png)")
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    return run_app(ReviewOptions(
        path=args.input, screenshot=args.screenshot, quit_after_load=args.quit_after_load,
        use_cache=not args.no_cache, acc_unit=args.acc_unit, gyr_unit=args.gyr_unit,
        theme=args.theme,
    ))
