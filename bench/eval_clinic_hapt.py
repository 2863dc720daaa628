"""Sit-to-stand rises on real bodies: HAPT's video-labelled SIT_TO_STAND transitions.

Run by hand: ``.venv/bin/python bench/eval_clinic_hapt.py [ROOT]``. Each session goes
through ``analysis.session.analyze`` for its calibration; then every labelled SIT_TO_STAND
(seated before it) is cut out with 4 s around it and given to the clinic's rise finder
(defaults, not tuned on HAPT), and every STAND_TO_SIT the same way (no rise may be found
there). Prints the rises found and the timing against the video labels.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np

from analysis.calibration import Calibration
from analysis.clinical import signals_from_imu
from analysis.clinical.sts import StsParams, find_rises
from analysis.session import analyze
from bench.real_data import hapt_labels, hapt_sessions
from recordings import load


def session_rises(path: Path) -> list[dict[str, Any]]:
    """One row per labelled sit-to-stand / stand-to-sit of a session."""
    res = analyze(path).to_json()
    if res["calibration"].get("sensor_to_pelvis_quat_wxyz") is None:
        print("  no calibration:", path.stem, res["calibration"].get("method"))
        return []
    q = np.asarray(res["calibration"]["sensor_to_pelvis_quat_wxyz"], dtype=float)
    cal = Calibration(q / np.linalg.norm(q), res["calibration"]["method"])
    rec = load(path)
    sig = signals_from_imu(rec.time_s, rec.acc_mps2, rec.gyr_rps, rec.rate_hz, cal)
    segs = hapt_labels(path)["segments"]
    rows = []
    for k, seg in enumerate(segs):
        if seg["label"] not in ("SIT_TO_STAND", "STAND_TO_SIT"):
            continue
        before = segs[k - 1]["label"] if k else ""
        win = sig.window(seg["start_s"] - 4.0, seg["end_s"] + 4.0)
        rises, note = find_rises(win, StsParams(reps=1))
        row = {"session": path.stem, "label": seg["label"], "before": before,
               "start_s": seg["start_s"], "end_s": seg["end_s"], "rises": len(rises),
               "note": note}
        if rises:
            row["start_err_s"] = rises[0]["rise_start_s"] - seg["start_s"]
            row["stand_err_s"] = rises[0]["stand_s"] - seg["end_s"]
            row["lean_deg"] = rises[0]["peak_forward_lean_deg"]
            row["travel_m"] = rises[0]["vertical_travel_m"]
        rows.append(row)
    return rows


def main(root: Path) -> None:
    rows = [r for p in hapt_sessions(root) for r in session_rises(p)]
    up = [r for r in rows if r["label"] == "SIT_TO_STAND" and r["before"] == "SITTING"]
    down = [r for r in rows if r["label"] == "STAND_TO_SIT"]
    found = [r for r in up if r["rises"] == 1]
    print(f"SIT_TO_STAND after SITTING: {len(found)}/{len(up)} rises found")
    for r in up:
        if r["rises"] != 1:
            print("  missed", r["session"], f"{r['start_s']:.1f}", r["note"][:70])
    if found:
        s = np.array([r["start_err_s"] for r in found])
        e = np.array([r["stand_err_s"] for r in found])
        lean = np.array([r["lean_deg"] for r in found])
        print(f"  rise start - label start: median {np.median(s):+.2f} s, "
              f"|err| 90th pct {np.percentile(np.abs(s), 90):.2f} s")
        print(f"  standing - label end: median {np.median(e):+.2f} s, "
              f"|err| 90th pct {np.percentile(np.abs(e), 90):.2f} s")
        print(f"  rise duration error (found - label): median {np.median(e - s):+.2f} s; "
              f"peak lean median {np.median(lean):.1f} deg")
        travel = np.array([r["travel_m"] for r in found])
        print(f"  vertical travel of the rises: median {np.median(travel):.2f} m, "
              f"range {travel.min():.2f}-{travel.max():.2f} m")
    print(f"STAND_TO_SIT: rises found in {sum(r['rises'] > 0 for r in down)}/{len(down)}")
    for r in down:
        if r["rises"]:
            print("  false rise", r["session"], f"{r['start_s']:.1f}", f"{r['travel_m']:+.2f} m")


if __name__ == "__main__":
    from tests.conftest import require_data  # noqa: F401  (same data root rules)

    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("../shared/data/hapt"))
