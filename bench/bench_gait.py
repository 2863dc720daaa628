"""Throughput of analysis.gait.detect_gait on ~1 M samples of tiled real data.

Run by hand: ``python bench/bench_gait.py``. Prints samples/s with and without gyroscope.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from analysis.gait import detect_gait  # noqa: E402
from tests.conftest import shared_data_dir  # noqa: E402

MOBGAP_S_TO_P = np.array([[0, 0, 1], [0, -1, 0], [1, 0, 0]], dtype=float)
N_TARGET = 1_000_000


def main() -> None:
    path = shared_data_dir() / "mobgap_lab" / "MS_001" / "Test11_Trial1.csv"
    df = pd.read_csv(path)
    acc = df[["acc_x", "acc_y", "acc_z"]].to_numpy() @ MOBGAP_S_TO_P.T
    gyr = df[["gyr_x", "gyr_y", "gyr_z"]].to_numpy() @ MOBGAP_S_TO_P.T
    reps = int(np.ceil(N_TARGET / acc.shape[0]))
    acc, gyr = np.tile(acc, (reps, 1))[:N_TARGET], np.tile(gyr, (reps, 1))[:N_TARGET]
    for label, g in (("acc+gyr", gyr), ("acc only", None)):
        t0 = time.perf_counter()
        res = detect_gait(acc, g, rate_hz=100.0)
        dt = time.perf_counter() - t0
        print(
            f"detect_gait {label:8s}: {N_TARGET} samples ({N_TARGET / 100 / 3600:.2f} h at 100 Hz) "
            f"in {dt:.2f} s = {N_TARGET / dt:,.0f} samples/s = {N_TARGET / 100 / dt:,.0f}x real "
            f"time; {res.n_steps} steps in {len(res.bouts)} bouts"
        )


if __name__ == "__main__":
    main()
