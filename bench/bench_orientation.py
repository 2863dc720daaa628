"""Throughput of analysis.orientation on ~1 M samples, as ratios to plain vqf.

Run by hand: ``python bench/bench_orientation.py [--samples N] [--repeat R]``.
Input: BROAD trial 02 tiled to the requested length (synthetic noise if the data set is
missing). The tile joints make orientation jumps, which costs nothing extra.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import vqf

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from timing import best_of  # noqa: E402  (bench/ is the script's folder)

from analysis.orientation import OrientationTracker, estimate_quat_wxyz  # noqa: E402


def load_input(n: int) -> tuple[np.ndarray, np.ndarray, float, str]:
    path = ROOT.parent / "shared" / "data" / "broad" / "02_undisturbed_slow_rotation_B.npz"
    if path.is_file():
        d = np.load(path)
        reps = -(-n // len(d["acc_mps2"]))
        acc = np.ascontiguousarray(np.tile(d["acc_mps2"], (reps, 1))[:n])
        gyr = np.ascontiguousarray(np.tile(d["gyr_rps"], (reps, 1))[:n])
        return acc, gyr, float(d["rate_hz"]), f"BROAD 02 tiled x{reps}"
    rng = np.random.default_rng(0)
    acc = rng.normal([0.0, 0.0, 9.81], 0.3, (n, 3))
    gyr = rng.normal(0.0, 0.3, (n, 3))
    return acc, gyr, 285.714, "synthetic noise"


def chunked_tracker(acc, gyr, rate_hz, chunk, time_s=None):
    def run() -> None:
        tracker = OrientationTracker(rate_hz)
        for i in range(0, len(acc), chunk):
            tracker.update(
                acc[i : i + chunk],
                gyr[i : i + chunk],
                time_s=None if time_s is None else time_s[i : i + chunk],
            )

    return run


def chunked_vqf(acc, gyr, rate_hz, chunk):
    def run() -> None:
        f = vqf.VQF(1.0 / rate_hz)
        for i in range(0, len(acc), chunk):
            f.updateBatch(gyr[i : i + chunk], acc[i : i + chunk])

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    acc, gyr, rate_hz, source = load_input(args.samples)
    n = len(acc)
    time_s = np.arange(n) / rate_hz
    ts = 1.0 / rate_hz
    print(f"{n} samples at {rate_hz:.3f} Hz ({source}), best of {args.repeat}")
    print(f"{'path':44s} {'samples/s':>12s} {'vqf alone':>12s} {'ratio':>7s}")

    def row(name: str, ours: Callable[[], object], ref: Callable[[], object]) -> None:
        t_ours = best_of(ours, args.repeat)
        t_ref = best_of(ref, args.repeat)
        print(f"{name:44s} {n / t_ours:12.3g} {n / t_ref:12.3g} {t_ours / t_ref:7.2f}")

    row(
        "offline (estimate_quat_wxyz)",
        lambda: estimate_quat_wxyz(acc, gyr, rate_hz, offline=True),
        lambda: vqf.offlineVQF(gyr, acc, None, ts),
    )
    row(
        "offline + time_s (no gaps)",
        lambda: estimate_quat_wxyz(acc, gyr, rate_hz, offline=True, time_s=time_s),
        lambda: vqf.offlineVQF(gyr, acc, None, ts),
    )
    row(
        "online, one batch (estimate_quat_wxyz)",
        lambda: estimate_quat_wxyz(acc, gyr, rate_hz, offline=False),
        lambda: vqf.VQF(ts).updateBatch(gyr, acc),
    )
    for chunk in (100, 10):
        row(
            f"online tracker, {chunk}-sample chunks",
            chunked_tracker(acc, gyr, rate_hz, chunk),
            chunked_vqf(acc, gyr, rate_hz, chunk),
        )
        row(
            f"online tracker, {chunk}-sample chunks + time_s",
            chunked_tracker(acc, gyr, rate_hz, chunk, time_s),
            chunked_vqf(acc, gyr, rate_hz, chunk),
        )
    row(
        "online tracker, 10-sample chunks vs 1 batch",
        chunked_tracker(acc, gyr, rate_hz, 10),
        lambda: vqf.VQF(ts).updateBatch(gyr, acc),
    )


if __name__ == "__main__":
    main()
