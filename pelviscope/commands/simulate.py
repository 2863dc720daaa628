"""``pelviscope simulate``: write a simulated session (recording or CSV) and its truth."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from pelviscope.cli import UsageError, add_overwrite, number_in

SCENARIOS = ("clinic", "day", "normal")
#: Samples the simulator makes at most (about 28 h at 200 Hz; memory grows with it).
MAX_SAMPLES = 20_000_000


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
        "--duration",
        type=number_in(0.0, 7 * 86400.0, low_open=True),
        default=3600.0,
        metavar="S",
        help="length of day/normal in seconds (default 3600)",
    )
    from analysis.checks import MAX_RATE_HZ, MIN_RATE_HZ

    parser.add_argument(
        "--rate-hz",
        type=number_in(MIN_RATE_HZ, MAX_RATE_HZ, what="the rates pelviscope analyses"),
        default=100.0,
        help=f"output data rate, {MIN_RATE_HZ:g}-{MAX_RATE_HZ:g} Hz (default 100)",
    )
    parser.add_argument(
        "--mount",
        default="sacral",
        help="sensor-to-pelvis rotation: 'sacral' (upright belt clip), 'random', or a "
        "quaternion 'w,x,y,z'",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--drop-rate",
        type=number_in(0.0, 0.99),
        default=0.0,
        help="fraction of packets lost (0..0.99)",
    )
    parser.add_argument("--truth", type=Path, help="also write the ground truth as JSON here")
    add_overwrite(parser)


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
    from pelviscope.common import check_output, distinct_outputs, json_text, write_output
    from recordings import write_csv, write_recording
    from simulator import ImuErrors, simulate
    from simulator.presets import clinic_protocol, mixed_day

    if args.scenario != "clinic" and args.duration * args.rate_hz > MAX_SAMPLES:
        raise UsageError(
            f"--duration {args.duration:g} s at {args.rate_hz:g} Hz is "
            f"{args.duration * args.rate_hz:.3g} samples; the simulator makes at most "
            f"{MAX_SAMPLES:.0e} (shorten --duration or lower --rate-hz)"
        )
    mount = _mount(args.mount, args.seed)
    distinct_outputs([("OUT", args.out), ("--truth", args.truth)], [])
    for out in (args.out, args.truth):
        if out is not None:
            check_output(out, overwrite=args.overwrite)
    if args.scenario == "clinic":
        scenario = clinic_protocol()
    else:
        scenario = mixed_day(args.duration, seed=args.seed, hikes=args.scenario == "day")
    session = simulate(
        scenario,
        rate_hz=args.rate_hz,
        mount=mount,
        errors=ImuErrors(packet_loss=args.drop_rate),
        seed=args.seed,
    )
    rec = session.recording
    rec.meta.update(
        {"session_id": f"sim-{args.scenario}-{args.seed}", "notes": f"scenario {args.scenario}"}
    )
    if args.out.suffix.lower() == ".csv":
        write_csv(args.out, rec, overwrite=args.overwrite)
    else:
        write_recording(args.out, rec, overwrite=args.overwrite)
    if args.truth:
        truth = session.truth.to_json()
        write_output(args.truth, lambda f: f.write(json_text(truth)), overwrite=args.overwrite)
    print(
        f"{args.out}: {rec.n_samples} samples, {rec.duration_s:.1f} s at {rec.rate_hz:g} Hz, "
        f"{len(session.truth.episodes)} hip-hike episodes, {len(rec.gaps)} gaps"
    )
    return 0
