"""``pelviscope simulate``: write a simulated session (recording or CSV) and its truth."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from pelviscope.cli import UsageError

SCENARIOS = ("clinic", "day", "normal")


def register(parser: argparse.ArgumentParser) -> None:
    """Add this sub-command's arguments."""
    parser.add_argument("out", type=Path, help="output file: .psrec (native) or .csv")
    parser.add_argument(
        "--scenario",
        choices=SCENARIOS,
        default="clinic",
        help="clinic: 5-min protocol with hip-hikes; day: mixed activity with occasional "
        "hip-hikes; normal: mixed activity without any (default: clinic)",
    )
    parser.add_argument(
        "--duration", type=float, default=3600.0, metavar="S", help="length of day/normal"
    )
    parser.add_argument("--rate-hz", type=float, default=100.0, help="output data rate")
    parser.add_argument(
        "--mount",
        default="sacral",
        help="sensor-to-pelvis rotation: 'sacral' (upright belt clip), 'random', or a "
        "quaternion 'w,x,y,z'",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--drop-rate", type=float, default=0.0, help="fraction of packets lost")
    parser.add_argument("--truth", type=Path, help="also write the ground truth as JSON here")


def _mount(text: str, seed: int) -> object:
    from scipy.spatial.transform import Rotation

    if text == "sacral":
        return None
    if text == "random":
        return Rotation.random(random_state=seed + 1000)
    try:
        q = np.array([float(v) for v in text.split(",")])
    except ValueError:
        q = np.empty(0)
    if q.shape != (4,) or not np.isfinite(q).all() or np.linalg.norm(q) < 1e-6:
        raise UsageError(f"--mount {text!r}: expected 'sacral', 'random' or four numbers w,x,y,z")
    return q / np.linalg.norm(q)


def run(args: argparse.Namespace) -> int:
    """Run the sub-command."""
    from firmware_bridge.simulator import ImuErrors, simulate
    from firmware_bridge.simulator.presets import clinic_protocol, mixed_day
    from recordings import write_csv, write_recording

    if args.rate_hz <= 0 or args.duration <= 0:
        raise UsageError("--rate-hz and --duration must be positive")
    if not 0.0 <= args.drop_rate < 1.0:
        raise UsageError("--drop-rate must be in [0, 1)")
    if args.scenario == "clinic":
        scenario = clinic_protocol()
    else:
        scenario = mixed_day(args.duration, seed=args.seed, hikes=args.scenario == "day")
    session = simulate(
        scenario,
        rate_hz=args.rate_hz,
        mount=_mount(args.mount, args.seed),
        errors=ImuErrors(packet_loss=args.drop_rate),
        seed=args.seed,
    )
    rec = session.recording
    rec.meta.update(
        {"session_id": f"sim-{args.scenario}-{args.seed}", "notes": f"scenario {args.scenario}"}
    )
    if args.out.suffix.lower() == ".csv":
        write_csv(args.out, rec)
    else:
        write_recording(args.out, rec)
    if args.truth:
        args.truth.write_text(json.dumps(session.truth.to_json(), indent=1))
    print(
        f"{args.out}: {rec.n_samples} samples, {rec.duration_s:.1f} s at {rec.rate_hz:g} Hz, "
        f"{len(session.truth.episodes)} hip-hike episodes, {len(rec.gaps)} gaps"
    )
    return 0
