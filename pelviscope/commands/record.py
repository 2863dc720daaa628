"""``pelviscope record``: record a sensor (or the emulated one) to a recording file."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from pelviscope.cli import UsageError, add_overwrite

if TYPE_CHECKING:  # the bridge is imported when the command runs, not at start-up
    from firmware_bridge.source import SampleSource, SourceStatus
    from recordings.data import FloatArray


def register(parser: argparse.ArgumentParser) -> None:
    """Add this sub-command's arguments."""
    parser.add_argument("--out", type=Path, required=True, metavar="FILE",
                        help="recording to write (.psrec)")
    parser.add_argument("--duration", type=float, metavar="S",
                        help="stop after S seconds (default: until Ctrl-C)")
    parser.add_argument("--device", metavar="ADDR|KIND",
                        help="sensor address (default: first sensor found of any supported "
                             "kind); with --simulate the emulated sensor kind: "
                             "pelviscope (default), witmotion, thingy52, movesense, "
                             "polar-verity, polar-h10, movella-dot")
    parser.add_argument("--profile", metavar="KIND",
                        help="real sensor: use this profile only (default: recognise any "
                             "supported kind)")
    parser.add_argument("--rate-hz", type=float, default=200.0, help="output data rate")
    parser.add_argument("--subject", metavar="ID", help="subject id stored in the recording")
    parser.add_argument("--session", metavar="ID", help="session id stored in the recording")
    parser.add_argument("--notes", metavar="TEXT", help="free notes stored in the recording")
    parser.add_argument("--lsl", action="store_true",
                        help="also stream the samples to Lab Streaming Layer (opens network "
                             "listeners; prints where)")
    add_overwrite(parser)
    sim = parser.add_argument_group("emulated sensor")
    sim.add_argument("--simulate", action="store_true",
                     help="record the emulated sensor through the same BLE client code")
    sim.add_argument("--drop-rate", type=float, default=0.0, metavar="P",
                     help="with --simulate: fraction of notifications lost (0..1)")
    sim.add_argument("--disconnect-every", type=float, metavar="S",
                     help="with --simulate: the sensor hangs up every S seconds")


def _check(args: argparse.Namespace) -> None:
    if args.duration is not None and not args.duration > 0:
        raise UsageError(f"--duration must be positive, got {args.duration}")
    if not 0.0 <= args.drop_rate < 1.0:
        raise UsageError(f"--drop-rate must be in [0, 1), got {args.drop_rate}")
    if args.disconnect_every is not None and not args.disconnect_every > 0:
        raise UsageError(f"--disconnect-every must be positive, got {args.disconnect_every}")
    if not args.simulate and (args.drop_rate or args.disconnect_every):
        raise UsageError("--drop-rate and --disconnect-every need --simulate")
    if not 1.0 <= args.rate_hz <= 6553.5:
        raise UsageError(f"--rate-hz must be within 1..6553.5, got {args.rate_hz}")
    from firmware_bridge.profiles import KINDS

    if args.simulate and args.device is not None and args.device not in KINDS:
        raise UsageError(f"--device {args.device}: with --simulate use a sensor kind "
                         f"({', '.join(KINDS)})")
    if args.profile is not None and args.profile not in KINDS:
        raise UsageError(f"--profile {args.profile}: unknown sensor kind "
                         f"(known: {', '.join(KINDS)})")
    if args.simulate and args.profile is not None:
        raise UsageError("--profile is for real sensors; with --simulate use --device KIND")
    if args.out.suffix != ".psrec":
        raise UsageError(f"--out {args.out}: use the .psrec extension")
    if not args.out.parent.is_dir():
        raise UsageError(f"--out {args.out}: folder {args.out.parent} does not exist")
    from pelviscope.common import check_output

    check_output(args.out, overwrite=args.overwrite)  # before connecting to the sensor


def _simulated_signal(rate_hz: float) -> tuple[FloatArray, FloatArray]:
    """Ten minutes of a mixed-activity day from the pelvis simulator (looped by the sensor)."""
    from simulator import sensor_signal
    from simulator.presets import mixed_day

    return sensor_signal(mixed_day(600.0, seed=1), rate_hz=rate_hz, seed=1)


def run(args: argparse.Namespace) -> int:
    """Run the sub-command."""
    _check(args)
    from firmware_bridge.client import BleSource
    from firmware_bridge.profiles import all_profiles, make_profile
    from firmware_bridge.recorder import format_status, record

    source: SampleSource
    if args.simulate:
        from firmware_bridge.emulator import FaultConfig, emulated_source

        faults = FaultConfig(drop_rate=args.drop_rate, disconnect_every_s=args.disconnect_every)
        acc, gyr = _simulated_signal(args.rate_hz)
        source, _sensor = emulated_source(acc, gyr, rate_hz=args.rate_hz, faults=faults,
                                          sensor_kwargs={"clock_ppm": 30.0},
                                          kind=args.device or "pelviscope")
    elif args.profile is not None:
        source = BleSource(profile=make_profile(args.profile, args.rate_hz), address=args.device)
    else:
        source = BleSource(profiles=all_profiles(args.rate_hz), address=args.device)
    if args.lsl:
        from interop.lsl import LslTee, network_summary

        source = LslTee(source, source_id=f"pelviscope-{args.device or 'sensor'}")
        print(f"pelviscope record: {network_summary()}", file=sys.stderr, flush=True)
    meta = {"subject_id": args.subject, "session_id": args.session, "notes": args.notes,
            "simulated": bool(args.simulate)}
    stop = threading.Event()
    previous = signal.signal(signal.SIGINT, lambda *_: stop.set())
    tty = sys.stderr.isatty()

    def show(status: SourceStatus, elapsed_s: float) -> None:
        line = format_status(status, elapsed_s)
        print(("\r" + line + "\x1b[K") if tty else line, end="" if tty else "\n",
              file=sys.stderr, flush=True)

    try:
        summary = record(source, args.out, meta, duration_s=args.duration, on_status=show,
                         stop=stop, overwrite=args.overwrite)
    finally:
        signal.signal(signal.SIGINT, previous)
        if tty:
            print(file=sys.stderr)
        if args.lsl:
            from interop.lsl import LslTee, linger

            if isinstance(source, LslTee):
                linger(source)
    if summary.samples == 0:  # the sensor's fault or absence, not a bug: exit status 2
        reason = summary.status.error or "no samples received"
        print(f"pelviscope record: error: {args.out}: nothing recorded: {reason}",
              file=sys.stderr)
        return 2
    print(f"wrote {summary.path}: {summary.samples} samples, {summary.duration_s:.1f} s, "
          f"{summary.gaps} gaps ({summary.lost_samples} samples lost), "
          f"{summary.status.reconnects} reconnects")
    device = summary.status.device
    if device.get("sensor_kind"):
        print(f"sensor: {device.get('model') or device['sensor_kind']} "
              f"(profile {device.get('profile')}, {device.get('rate_hz')} Hz, "
              f"timing {device.get('timing')})")
    for note in device.get("limitations") or []:
        print(f"note: {note}")
    return 0
