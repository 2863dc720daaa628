"""The ``pelviscope`` command: one sub-command per module in :mod:`pelviscope.commands`.

Exit status 0 on success, 2 on bad usage or bad input with one line on stderr
(DESIGN section 5). User errors never print a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from pelviscope import __version__

#: Sub-command name -> module in ``pelviscope.commands`` (imported lazily so that
#: ``pelviscope --help`` does not load Qt or bleak).
COMMANDS = {
    "scan": "List nearby BLE IMUs pelviscope can use.",
    "live": "Live dashboard of pelvic tilt with hip-hike flags.",
    "record": "Record a sensor (or the emulated one) to a recording file.",
    "analyze": "Analyse a recording or CSV: tilt, activity, gait, hip-hiking.",
    "review": "Review a recorded session in a window.",
    "simulate": "Simulate a pelvis IMU session (recording or CSV, with ground truth).",
    "export": "Convert a recording to CSV or a CSV to a recording.",
}


class UsageError(Exception):
    """Bad command-line usage; printed as one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser with every sub-command registered."""
    parser = _Parser(
        prog="pelviscope",
        description="Pelvic posture from one pelvis-worn IMU: tilt, activity, gait, hip-hiking.",
    )
    parser.add_argument("--version", action="version", version=f"pelviscope {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name, help_text in COMMANDS.items():
        module = importlib.import_module(f"pelviscope.commands.{name}")
        p = sub.add_parser(name, help=help_text, description=help_text)
        module.register(p)
        p.set_defaults(_module=module)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    from recordings.errors import InputError

    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return int(args._module.run(args) or 0)
    except (InputError, UsageError) as exc:
        print(f"pelviscope {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except FileNotFoundError as exc:
        print(f"pelviscope {args.command}: error: {exc.filename}: file not found", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"pelviscope {args.command}: interrupted", file=sys.stderr)
        return 130
