"""Walking speed and stride length per bout against INDIP (mobgap_lab), leave-one-person-out.

For every mobgap_lab trial: ``analyze()`` (orientation, contacts) as the CLI runs it, the
recording's acceleration, and :func:`analysis.gait.spatial.spatial_gait` over INDIP's
walking bouts (the bouts are the reference's, as mobgap scores its stride length; the
contacts are pelviscope's own). Leg length = 0.53 x the participant's height (what
``--height-m`` gives).

The correction factor ``K`` and offset ``c`` are chosen on one person (least mean
absolute speed error over a grid) and reported on the other, both ways (2 people:
HA_001 healthy, MS_001 multiple sclerosis). Run::

    .venv/bin/python bench/eval_spatial.py
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analysis.gait.spatial import (
    SpatialParams,
    leg_length_m,
    step_lengths,
    vertical_acc_mps2,
    vertical_displacement_m,
)
from analysis.session import analyze
from bench.real_data import mobgap_events, mobgap_trials
from recordings import load
from tests.conftest import shared_data_dir

K_GRID = np.round(np.arange(1.0, 2.401, 0.02), 2)
C_GRID = np.round(np.arange(0.0, 0.451, 0.05), 2)
GRID = [(float(k), float(c)) for k in K_GRID for c in C_GRID]


@dataclass
class Trial:
    """One mobgap_lab trial reduced to the inputs of the step lengths."""

    name: str
    person: str
    time_s: np.ndarray
    displacement_m: np.ndarray
    ic_time_s: np.ndarray
    ic_side: np.ndarray
    leg_length_m: float
    bouts: list[dict[str, Any]]


def load_trials(root: Path | None = None) -> list[Trial]:
    """Every mobgap_lab trial with INDIP's bouts (those with a walking speed)."""
    out = []
    for path in mobgap_trials(root or shared_data_dir() / "mobgap_lab"):
        events = mobgap_events(path)
        r = analyze(path, workers=1)
        rec = load(path)
        vacc = vertical_acc_mps2(rec.acc_mps2, r.quat_wxyz)
        disp = vertical_displacement_m(vacc, r.rate_hz)
        ic_t = np.array([s["time_s"] for s in r.steps], dtype=float)
        ic_side = np.array([s["side"] for s in r.steps], dtype=str)
        bouts = [b for b in events["walking_bouts"] if b.get("walking_speed_mps") is not None]
        out.append(
            Trial(
                f"{path.parent.name}/{path.stem}",
                path.parent.name,
                r.time_s,
                disp,
                ic_t,
                ic_side,
                leg_length_m(height_m=events["participant"]["height_m"]),
                bouts,
            )
        )
    return out


def bout_errors(trials: list[Trial], kc: tuple[float, float]) -> list[dict[str, Any]]:
    """Estimated vs reference speed and stride length per bout, for one ``(K, c)``."""
    params = replace(SpatialParams(), step_length_factor=kc[0], step_length_offset_m=kc[1])
    rows = []
    for tr in trials:
        steps = step_lengths(
            tr.time_s, tr.displacement_m, tr.ic_time_s, tr.ic_side, tr.leg_length_m, params
        )
        ok = np.isfinite(steps.length_m)
        for b in tr.bouts:
            sel = ok & (steps.start_s >= b["start_s"] - 0.05) & (steps.end_s <= b["end_s"] + 0.05)
            n = int(sel.sum())
            if n < 2:
                rows.append({"trial": tr.name, "person": tr.person, "n_steps": n, "found": False})
                continue
            dur = float(np.sum(steps.end_s[sel] - steps.start_s[sel]))
            total = float(np.sum(steps.length_m[sel]))
            rows.append(
                {
                    "trial": tr.name,
                    "person": tr.person,
                    "n_steps": n,
                    "found": True,
                    "speed_mps": total / dur,
                    "ref_speed_mps": b["walking_speed_mps"],
                    "stride_m": 2 * total / n,
                    "ref_stride_m": b["average_stride_length_m"],
                }
            )
    return rows


def summary(rows: list[dict[str, Any]]) -> dict[str, float]:
    """MAE and bias (estimate - reference) of speed and stride length over found bouts."""
    found = [r for r in rows if r["found"]]
    ds = np.array([r["speed_mps"] - r["ref_speed_mps"] for r in found])
    dl = np.array([r["stride_m"] - r["ref_stride_m"] for r in found])
    return {
        "bouts": len(rows),
        "found": len(found),
        "speed_mae": float(np.mean(np.abs(ds))) if ds.size else np.nan,
        "speed_bias": float(np.mean(ds)) if ds.size else np.nan,
        "stride_mae": float(np.mean(np.abs(dl))) if dl.size else np.nan,
        "stride_bias": float(np.mean(dl)) if dl.size else np.nan,
    }


def lopo(trials: list[Trial]) -> dict[str, dict[str, Any]]:
    """Per held-out person: the ``(K, c)`` chosen on the other and the held-out errors."""
    people = sorted({t.person for t in trials})
    out = {}
    for held in people:
        train = [t for t in trials if t.person != held]
        test = [t for t in trials if t.person == held]
        best = min(GRID, key=lambda kc: summary(bout_errors(train, kc))["speed_mae"])
        out[held] = {"k": best[0], "c": best[1], **summary(bout_errors(test, best))}
    return out


def main() -> int:
    trials = load_trials()
    held = lopo(trials)
    print("Walking speed / stride length per INDIP bout, K and c chosen on the other person")
    print(
        f"{'held out':10s} {'K':>5s} {'c':>5s} {'bouts':>5s} {'speed MAE':>10s} {'bias':>7s} "
        f"{'stride MAE':>10s} {'bias':>7s}"
    )
    for person, s in held.items():
        print(
            f"{person:10s} {s['k']:5.2f} {s['c']:5.2f} {s['found']:2d}/{s['bouts']:<2d} "
            f"{s['speed_mae']:10.3f} {s['speed_bias']:+7.3f} "
            f"{s['stride_mae']:10.3f} {s['stride_bias']:+7.3f}"
        )
    k_all = min(GRID, key=lambda kc: summary(bout_errors(trials, kc))["speed_mae"])
    s = summary(bout_errors(trials, k_all))
    print(
        f"both (in-sample) K={k_all[0]:.2f} c={k_all[1]:.2f}: speed MAE {s['speed_mae']:.3f} bias "
        f"{s['speed_bias']:+.3f}, stride MAE {s['stride_mae']:.3f} bias {s['stride_bias']:+.3f}"
    )
    p = SpatialParams()
    print(f"defaults K={p.step_length_factor} c={p.step_length_offset_m}:")
    for r in bout_errors(trials, (p.step_length_factor, p.step_length_offset_m)):
        if r["found"]:
            print(
                f"  {r['trial']:22s} {r['n_steps']:3d} steps  speed {r['speed_mps']:.2f} "
                f"(ref {r['ref_speed_mps']:.2f})  stride {r['stride_m']:.2f} "
                f"(ref {r['ref_stride_m']:.2f})"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
