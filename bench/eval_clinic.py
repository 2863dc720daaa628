"""Clinical tests on simulated sessions with known truth: worst errors over random cases.

Run by hand: ``.venv/bin/python bench/eval_clinic.py [N]``. Each case draws a person
(seed), a random sensor mount (calibrated automatically on the stand + walk before the
test), a side and the scripted drop / hold time, or five rise times and a favoured side.
"""

from __future__ import annotations

import sys

import numpy as np
from scipy.spatial.transform import Rotation

from analysis.calibration import calibrate_auto
from analysis.clinical import analyze_single_leg_stance, analyze_sit_to_stand, signals_from_imu
from analysis.orientation import estimate_quat_wxyz
from simulator.clinical import ClinicalScript, SingleLegStance, SitToStandSet, simulate_clinical
from simulator.scenario import Sit, Stand, Walk


def _signals(script: ClinicalScript, seed: int):  # type: ignore[no-untyped-def]
    s = simulate_clinical(script, seed=seed, mount=Rotation.random(random_state=seed))
    r = s.recording
    n = int(np.searchsorted(r.time_s, s.items[0]["start_s"]))
    q = estimate_quat_wxyz(r.acc_mps2[:n], r.gyr_rps[:n], r.rate_hz, offline=True)
    cal = calibrate_auto(r.acc_mps2[:n], r.gyr_rps[:n], q, r.rate_hz, time_s=r.time_s[:n])
    return s, signals_from_imu(r.time_s, r.acc_mps2, r.gyr_rps, r.rate_hz, cal)


def main(n: int) -> None:
    rng = np.random.default_rng(2026)
    drop_err, hold_err, calls = [], [], 0
    for k in range(n):
        side = str(rng.choice(["left", "right"]))
        drop, hold = float(rng.uniform(-2, 7)), float(rng.uniform(2, 30))
        s, sig = _signals(ClinicalScript([Stand(6), Walk(14), Stand(4),
                                          SingleLegStance(side, hold, drop_deg=drop)]), 100 + k)
        it = s.items[0]
        out = analyze_single_leg_stance(sig.window(it["start_s"] - 2, it["end_s"]), side)
        if out.state.value != "done":
            print("SLS", k, side, drop, hold, "->", out.message)
            continue
        drop_err.append(out.result["drop_deg"] - it["drop_deg"])
        hold_err.append(out.result["hold_s"] - it["hold_s"])
        truth_pos = it["drop_deg"] > 2 or it["hold_s"] < 30
        calls += (out.result["trendelenburg"] == "positive") == truth_pos
    print(f"SLS {len(drop_err)}/{n} valid: drop error max {np.abs(drop_err).max():.2f} deg, "
          f"hold error max {np.abs(hold_err).max():.2f} s, calls right {calls}")
    tot_err, sides, reps_found = [], 0, 0
    for k in range(n):
        fav = [None, "left", "right"][k % 3]
        reps = tuple(float(x) for x in rng.uniform(1.9, 3.5, 5))
        s, sig = _signals(ClinicalScript([Stand(6), Walk(14), Sit(4),
                                          SitToStandSet(reps, fav, float(rng.uniform(3, 6)))]),
                          200 + k)
        it = s.items[0]
        out = analyze_sit_to_stand(sig.window(it["start_s"] - 2, it["end_s"]))
        if out.state.value != "done":
            print("STS", k, reps, fav, "->", out.message)
            continue
        tot_err.append(out.result["total_s"] - it["total_s"])
        reps_found += out.result["reps"] == 5 and out.result["extra_rises"] == 0
        sides += all(r["favoured_side"] == (fav or "none") for r in out.result["rises"])
    print(f"STS {len(tot_err)}/{n} valid: total error max {np.abs(tot_err).max():.2f} s "
          f"(mean {np.mean(tot_err):+.2f}), all 5 rises found in {reps_found}, "
          f"every rise's side right in {sides}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20)
