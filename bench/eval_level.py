"""Which posture is level? Evidence for the default level reference (analysis.level).

Run by hand: ``.venv/bin/python bench/eval_level.py [--data DIR]``.

Real data (healthy people and one person with MS): each session analysed as the CLI
does (automatic calibration: neutral standing reads 0), then per posture the lateral
tilt of every labelled span:

* HAPT (31 sessions, video labels): STANDING spans, SITTING spans, level WALKING bouts
  (per-stride mean obliquity of the strides inside them; stairs left out);
* mobgap_lab: Test5 straight walking (per-stride means), both participants.

Printed per data set: the spread of each posture's span means *within* a session (how
far the zero moves when taken from another span of the same posture - the
reproducibility of a reference) and the offsets between postures (how far apart the
zeros are). Simulated: the per-stride mean obliquity of normal, gait-hike and drop walks
(how a gait pattern moves a walking reference).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from analysis.session import analyze, analyze_recording
from bench.real_data import hapt_labels, hapt_sessions, mobgap_trials
from simulator import Scenario, Stand, Walk, simulate


def _span_means(
    time_s: np.ndarray, lateral: np.ndarray, spans: list[tuple[float, float]]
) -> list[float]:
    out = []
    for a, b in spans:
        sel = (time_s >= a + 1.0) & (time_s <= b - 1.0) & np.isfinite(lateral)
        if sel.sum() > 50:
            out.append(float(lateral[sel].mean()))
    return out


def _stride_means(strides: Any, spans: list[tuple[float, float]]) -> list[float]:
    if strides.empty:
        return []
    mid = 0.5 * (strides["start_s"].to_numpy() + strides["end_s"].to_numpy())
    inside = np.zeros(mid.size, bool)
    for a, b in spans:
        inside |= (mid >= a) & (mid <= b)
    vals = strides["obliquity_mean_deg"].to_numpy()[inside]
    return [float(v) for v in vals if np.isfinite(v)]


def hapt(root: Path) -> None:
    """Per-posture lateral tilt of every HAPT session."""
    rows: list[tuple[str, list[float], list[float], list[float], list[float]]] = []
    for f in hapt_sessions(root / "hapt"):
        r = analyze(f)
        if r.calibration is None:
            continue
        segs = hapt_labels(f)["segments"]

        def spans_of(label: str, segs=segs) -> list[tuple[float, float]]:
            return [(s["start_s"], s["end_s"]) for s in segs if s["label"] == label]

        stand = _span_means(r.time_s, r.lateral_tilt_deg, spans_of("STANDING"))
        sit = _span_means(r.time_s, r.lateral_tilt_deg, spans_of("SITTING"))
        walk_bouts = _span_means(r.time_s, r.lateral_tilt_deg, spans_of("WALKING"))
        strides = _stride_means(r.strides, spans_of("WALKING"))
        if stand and sit and len(strides) >= 10:
            rows.append((f.stem, stand, sit, walk_bouts, strides))
    print(f"HAPT: {len(rows)} sessions with standing, sitting and >= 10 level strides")

    def sd_within(k: int) -> np.ndarray:
        return np.array([np.std(np.asarray(r[k], dtype=float)) for r in rows if len(r[k]) > 1])

    def med(x: list[float]) -> float:
        return float(np.median(x))

    for name, k in (("standing spans", 1), ("sitting spans", 2), ("walking bouts", 3)):
        sd = sd_within(k)
        print(
            f"  within-session SD of {name}: median {np.median(sd):.2f} deg, "
            f"90th pct {np.percentile(sd, 90):.2f} deg (n={sd.size})"
        )
    stride_iqr = np.array([np.subtract(*np.percentile(r[4], [75, 25])) for r in rows])
    print(f"  per-stride mean obliquity IQR within a session: median {np.median(stride_iqr):.2f}")
    w_s = np.array([med(r[4]) - med(r[1]) for r in rows])
    si_s = np.array([med(r[2]) - med(r[1]) for r in rows])
    w_si = np.array([med(r[4]) - med(r[2]) for r in rows])
    for name, d in (
        ("walking - standing", w_s),
        ("sitting - standing", si_s),
        ("walking - sitting", w_si),
    ):
        print(
            f"  {name}: median |d| {np.median(np.abs(d)):.2f} deg, 90th pct "
            f"{np.percentile(np.abs(d), 90):.2f}, mean {d.mean():+.2f}"
        )


def mobgap(root: Path) -> None:
    """Per-stride mean obliquity of the straight walks."""
    for f in mobgap_trials(root / "mobgap_lab"):
        if "Test5" not in f.name:
            continue
        r = analyze(f)
        vals = r.strides["obliquity_mean_deg"].to_numpy() if not r.strides.empty else np.empty(0)
        vals = vals[np.isfinite(vals)]
        if vals.size:
            print(
                f"  mobgap {f.parent.name}/{f.stem}: {vals.size} strides, median "
                f"{np.median(vals):+.2f} deg, IQR {np.subtract(*np.percentile(vals, [75, 25])):.2f}"
                f" (neutral standing = 0: {r.calibration.method if r.calibration else None})"
            )


def simulated() -> None:
    """How a gait pattern moves the mean obliquity of walking (truth, no sensor)."""
    for label, walk in (
        ("normal", Walk(60)),
        ("gait hike right 5 deg", Walk(60, hike_side="right", hike_deg=5.0)),
        ("drop left 6.5 deg", Walk(60, drop_side="left")),
    ):
        s = simulate(Scenario([Stand(10), walk, Stand(5)]), seed=3)
        r = analyze_recording(s.recording)
        sel = s.truth.activity == "walking"
        vals = r.strides["obliquity_mean_deg"].to_numpy()
        print(
            f"  simulated {label}: true mean obliquity {s.truth.lateral_tilt_deg[sel].mean():+.2f}"
            f" deg, per-stride median measured {np.nanmedian(vals):+.2f} deg"
        )


def main() -> None:
    """Print the figures."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared/data"
    )
    args = ap.parse_args()
    hapt(args.data)
    mobgap(args.data)
    simulated()


if __name__ == "__main__":
    main()
