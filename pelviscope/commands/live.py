"""``pelviscope live``: the live dashboard (pelvic tilt, activity, hip-hike flags)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from pelviscope.cli import UsageError, add_overwrite


def register(parser: argparse.ArgumentParser) -> None:
    """Add this sub-command's arguments."""
    parser.add_argument("--simulate", action="store_true",
                        help="connect to the emulated sensor (a simulated clinic session, "
                             "through the same BLE client code as real hardware)")
    parser.add_argument("--device", metavar="ADDR", help="connect to this sensor at start")
    parser.add_argument("--duration", type=float, metavar="S",
                        help="quit after S seconds (headless use)")
    parser.add_argument("--screenshot", type=Path, metavar="FILE.png",
                        help="with --duration: save the window as PNG before quitting")
    parser.add_argument("--rate-hz", type=float, default=200.0, help="output data rate")
    parser.add_argument("--calibration", type=Path, metavar="FILE.json",
                        help="use a saved calibration from the start")
    parser.add_argument("--window", type=float, metavar="S",
                        help="plot window, 10-300 s (also in Settings)")
    parser.add_argument("--theme", choices=("light", "dark"), help="colour theme")
    parser.add_argument("--lsl", action="store_true",
                        help="stream raw samples, tilt/activity/hip-hike values and events to "
                             "Lab Streaming Layer (opens network listeners; prints where)")
    add_overwrite(parser)
    sim = parser.add_argument_group("emulated sensor")
    sim.add_argument("--sim-start", type=float, default=0.0, metavar="S",
                     help="stream the simulated session from S seconds on (e.g. 140: just "
                          "before the standing hip-hike)")
    sim.add_argument("--drop-rate", type=float, default=0.0, metavar="P",
                     help="fraction of notifications lost (0..1)")
    sim.add_argument("--disconnect-every", type=float, metavar="S",
                     help="the emulated sensor hangs up every S seconds")


def _check(args: argparse.Namespace) -> None:
    if args.simulate and args.device:
        raise UsageError("use either --simulate or --device, not both")
    if args.duration is not None and not args.duration > 0:
        raise UsageError(f"--duration must be positive, got {args.duration}")
    if args.screenshot is not None:
        if args.duration is None:
            raise UsageError("--screenshot needs --duration (when to take it)")
        if args.screenshot.suffix.lower() != ".png":
            raise UsageError(f"--screenshot {args.screenshot}: use the .png extension")
        if not args.screenshot.parent.is_dir():
            raise UsageError(f"--screenshot {args.screenshot}: folder "
                             f"{args.screenshot.parent} does not exist")
        from pelviscope.common import check_output

        check_output(args.screenshot, overwrite=args.overwrite)
    if args.window is not None and not 10 <= args.window <= 300:
        raise UsageError(f"--window must be within 10-300 s, got {args.window}")
    if not 0.0 <= args.drop_rate < 1.0:
        raise UsageError(f"--drop-rate must be in [0, 1), got {args.drop_rate}")
    if args.disconnect_every is not None and not args.disconnect_every > 0:
        raise UsageError(f"--disconnect-every must be positive, got {args.disconnect_every}")
    if not args.simulate and (args.drop_rate or args.disconnect_every or args.sim_start):
        raise UsageError("--sim-start, --drop-rate and --disconnect-every need --simulate")
    if args.sim_start < 0:
        raise UsageError(f"--sim-start must not be negative, got {args.sim_start}")


def run(args: argparse.Namespace) -> int:
    """Run the sub-command."""
    _check(args)
    from gui.live.app import LiveOptions, needs_offscreen

    if needs_offscreen():
        if args.duration is None:
            raise UsageError("no display found: for headless use give --duration "
                             "(and --screenshot FILE.png)")
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    calibration = None
    if args.calibration is not None:
        from pelviscope.common import load_calibration

        calibration = load_calibration(args.calibration)
    faults = None
    if args.simulate and (args.drop_rate or args.disconnect_every):
        from firmware_bridge.emulator import FaultConfig

        faults = FaultConfig(drop_rate=args.drop_rate, disconnect_every_s=args.disconnect_every,
                             vanish_s=1.0 if args.disconnect_every else 0.0)
    if args.lsl:
        import sys

        from interop.lsl import network_summary

        print(f"pelviscope live: {network_summary()}", file=sys.stderr, flush=True)
    from gui.live.app import run as run_app

    return run_app(LiveOptions(
        simulate=args.simulate, device=args.device, duration_s=args.duration,
        screenshot=args.screenshot, sim_start_s=args.sim_start, rate_hz=args.rate_hz,
        calibration=calibration, faults=faults, theme=args.theme, window_s=args.window,
        lsl=args.lsl,
    ))
