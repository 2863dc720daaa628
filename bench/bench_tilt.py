"""Throughput of the full tilt path (orientation + calibration + angles) on ~1 M samples.

Run by hand: ``.venv/bin/python bench/bench_tilt.py [--samples N]``. Input: a simulated
mixed day (random mount) at 100 Hz. Prints samples/s and ratios to vqf alone, all
measured in the same run (best of ``--repeat``).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

import numpy as np
import vqf
from scipy.spatial.transform import Rotation
from timing import best_of

from analysis.calibration import calibrate_auto
from analysis.orientation import estimate_quat_wxyz
from analysis.tilt import TiltTracker, pelvic_tilt_deg
from simulator import simulate
from simulator.presets import mixed_day


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--samples", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rate = 100.0
    s = simulate(
        mixed_day(args.samples / rate + 60, seed=5),
        rate_hz=rate,
        mount=Rotation.random(random_state=5),
        seed=5,
    )
    acc = np.ascontiguousarray(s.recording.acc_mps2[: args.samples])
    gyr = np.ascontiguousarray(s.recording.gyr_rps[: args.samples])
    n = acc.shape[0]
    q_off = estimate_quat_wxyz(acc, gyr, rate, offline=True)
    cal = calibrate_auto(acc, gyr, q_off, rate)

    def offline_path() -> None:
        q = estimate_quat_wxyz(acc, gyr, rate, offline=True)
        pelvic_tilt_deg(q, calibrate_auto(acc, gyr, q, rate))

    def online_path(chunk: int) -> Callable[[], None]:
        def run() -> None:
            tracker = TiltTracker(rate, cal)
            for i in range(0, n, chunk):
                tracker.update(acc[i : i + chunk], gyr[i : i + chunk])

        return run

    t_vqf_off = best_of(lambda: vqf.offlineVQF(gyr, acc, None, 1 / rate), args.repeat)
    t_vqf_on = best_of(lambda: vqf.VQF(1 / rate).updateBatch(gyr, acc), args.repeat)
    rows = [
        ("vqf.offlineVQF alone (baseline)", t_vqf_off, t_vqf_off),
        (
            "tilt path, offline (orientation + auto calibration + angles)",
            best_of(offline_path, args.repeat),
            t_vqf_off,
        ),
        ("vqf.VQF.updateBatch alone (baseline)", t_vqf_on, t_vqf_on),
    ]
    for chunk in (10, 100, 250, 1000):
        rows.append(
            (
                f"tilt path, online, {chunk}-sample chunks",
                best_of(online_path(chunk), args.repeat),
                t_vqf_on,
            )
        )
    print(f"{n:,} samples at {rate:g} Hz (simulated mixed day, random mount)")
    print(f"{'path':<64}{'time s':>8}{'samples/s':>13}{'vs baseline':>13}")
    for name, t, base in rows:
        print(f"{name:<64}{t:8.3f}{n / t:13,.0f}{base / t:12.2f}x")


if __name__ == "__main__":
    main()
