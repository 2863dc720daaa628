"""Throughput of analysis.activity on ~1 M samples, as a ratio to the tilt path.

Run by hand: ``python bench/bench_activity.py [--samples N] [--repeat R]``.
Input: a simulated mixed day (sitting, standing, walking, lying) at 100 Hz, tiled to
the requested length. Measured in the same run: the tilt path (offline orientation +
pelvic tilt), offline activity (:func:`classify_activity`), the live
:class:`ActivityTracker` in ``--live-chunk`` samples (default 25: 0.25 s, a GUI timer tick).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from timing import best_of  # noqa: E402  (bench/ is the script's folder)

from analysis.activity import ActivityTracker, classify_activity  # noqa: E402
from analysis.calibration import calibrate_auto  # noqa: E402
from analysis.orientation import estimate_quat_wxyz  # noqa: E402
from analysis.tilt import pelvic_tilt_deg  # noqa: E402
from simulator import simulate  # noqa: E402
from simulator.presets import mixed_day  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--samples", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--live-chunk", type=int, default=25)
    args = ap.parse_args()
    n = args.samples
    rate_hz = 100.0
    s = simulate(mixed_day(3600, seed=1), rate_hz=rate_hz, seed=1)
    reps = -(-n // s.recording.n_samples)
    acc = np.ascontiguousarray(np.tile(s.recording.acc_mps2, (reps, 1))[:n])
    gyr = np.ascontiguousarray(np.tile(s.recording.gyr_rps, (reps, 1))[:n])
    q = estimate_quat_wxyz(acc, gyr, rate_hz, offline=True)
    cal = calibrate_auto(acc, gyr, q, rate_hz)
    anterior, lateral = pelvic_tilt_deg(q, cal)

    def tilt_path() -> None:
        qq = estimate_quat_wxyz(acc, gyr, rate_hz, offline=True)
        pelvic_tilt_deg(qq, cal)

    def offline() -> None:
        classify_activity(None, acc, anterior, lateral, rate_hz)

    def live() -> None:
        tracker = ActivityTracker(rate_hz)
        c = args.live_chunk
        for i in range(0, n, c):
            tracker.update(acc[i : i + c], anterior[i : i + c], lateral[i : i + c])
        tracker.finish()

    print(f"{n} samples at {rate_hz:g} Hz (simulated mixed day tiled x{reps})")
    t_tilt = best_of(tilt_path, args.repeat)
    t_off = best_of(offline, args.repeat)
    t_live = best_of(live, 1)
    for name, t in (("tilt path", t_tilt), ("activity offline", t_off), ("activity live", t_live)):
        print(f"{name:18s} {t:7.3f} s  {n / t / 1e6:6.2f} M samples/s  x{t / t_tilt:5.2f} tilt")


if __name__ == "__main__":
    main()
