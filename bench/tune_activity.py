"""Leave-one-person-out choice of the activity classifier's posture-context costs on HAPT.

Run by hand: ``.venv/bin/python bench/tune_activity.py [--data DIR]`` (about a minute).

Each HAPT session goes once through the command line's code path
(``analysis.session.analyze``: checks, orientation, automatic calibration, tilt); its
frame features and decoded frame states are kept, and only the last step
(:func:`analysis.activity.activity_from_states`, which holds the posture-context stage)
is re-run for every candidate of :data:`GRID`. For each of the 15 people the candidate
with the best score on the other 14 (mean session agreement plus share of transitions
found; ties go to the earlier candidate, the defaults first) is scored on the held-out
person. Printed per person: baseline (context stage off, the classifier as before) and
held-out agreement (pooled over the person's sessions), transitions found, and the
chosen candidate; then per-session held-out agreement, and the candidate most often
chosen. Scoring rules: ``bench/real_data.py``.
"""

from __future__ import annotations

import argparse
import itertools
import re
import sys
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from analysis import quaternion as quat  # noqa: E402
from analysis.activity import (  # noqa: E402
    ActivityParams,
    PostureContextParams,
    activity_from_states,
    classify_activity,
    decode_states,
    frame_features,
    gait_signal,
    state_costs,
    vertical_acceleration,
)
from analysis.labels import activity_names  # noqa: E402
from analysis.session import analyze  # noqa: E402
from bench.real_data import (  # noqa: E402
    hapt_labels,
    hapt_sessions,
    label_per_sample,
    score_activity,
    score_transitions,
)
from recordings import load  # noqa: E402
from tests.conftest import shared_data_dir  # noqa: E402

#: Candidates (the defaults first); each varies the costs that trade the context
#: against a piece's own tilt.
GRID: list[dict[str, Any]] = [
    {
        "lean_same_cost": ls,
        "lean_deg": lean,
        "vertical_cost": v,
        "lying_neighbour_cost": ly,
        "level_scale_deg": s,
    }
    for ls, lean, v, ly, s in itertools.product(
        (4.0, 8.0), (4.0, 6.0), (3.0, 6.0), (1.5, 3.0), (5.0, 3.0)
    )
]


def prepare(path: Path) -> dict[str, Any]:
    """The session's features and decoded states (once) and its labels."""
    result = analyze(path, workers=1)
    rec = load(path)
    p = ActivityParams()
    labels = hapt_labels(path)["segments"]
    person = re.search(r"user(\d+)", path.stem)
    assert person is not None
    out: dict[str, Any] = {"name": path.stem, "person": person.group(1), "labels": labels}
    out["t"], out["rate"] = result.time_s, result.rate_hz
    if result.calibration is None:
        act = classify_activity(
            result.time_s, rec.acc_mps2, None, None, result.rate_hz, quat_wxyz=result.quat_wxyz
        )
        out["fixed"] = act
        return out
    assert rec.acc_mps2.shape[0] == result.time_s.size
    signal, _ = gait_signal(rec.acc_mps2, result.rate_hz, p)
    hop = max(1, round(p.frame_s * result.rate_hz))
    centres = np.arange((result.time_s.size + hop - 1) // hop) * hop + hop // 2
    feats = frame_features(
        signal, result.anterior_tilt_deg, result.lateral_tilt_deg, centres, result.rate_hz, p
    )
    feats.vertical_mps2 = vertical_acceleration(
        rec.acc_mps2, quat.up_in_sensor(result.quat_wxyz), centres, result.rate_hz, p
    )
    out["feats"], out["states"] = feats, decode_states(state_costs(feats, p), p)
    return out


def score(s: dict[str, Any], params: ActivityParams) -> dict[str, int]:
    """Activity and transition counts of one prepared session under ``params``."""
    if "fixed" in s:
        act = s["fixed"]
    else:
        act = activity_from_states(s["states"], s["feats"], s["t"], s["rate"], params)
    det = [
        {"kind": e.kind, "time_s": e.time_s, "duration_s": e.duration_s} for e in act.transitions
    ]
    lab = label_per_sample(s["t"], s["labels"])
    names = activity_names(act.labels)
    counts = score_activity(lab, names)
    counts.update(score_transitions(det, s["labels"]))
    walk = np.char.startswith(lab.astype(str), "WALKING")
    counts["walking"], counts["walking_ok"] = (
        int(walk.sum()),
        int((names[walk] == "walking").sum()),
    )
    lie = lab == "LAYING"
    counts["lying"], counts["lying_ok"] = int(lie.sum()), int((names[lie] == "lying").sum())
    return counts


def params_of(candidate: dict[str, Any] | None) -> ActivityParams:
    """ActivityParams for a grid candidate (None: the context stage off = baseline)."""
    if candidate is None:
        return ActivityParams(context=PostureContextParams(enabled=False))
    return ActivityParams(context=PostureContextParams(**candidate))


def objective(rows: list[dict[str, int]]) -> float:
    """Mean session agreement plus share of labelled transitions found."""
    agree = np.mean([r["agree"] / r["labelled"] for r in rows])
    return float(agree + sum(r["found"] for r in rows) / max(1, sum(r["ref"] for r in rows)))


def lopo(sessions: list[dict[str, Any]]) -> dict[str, Any]:
    """Held-out scores per person and per session, with the baseline of the same run."""
    table = {i: [score(s, params_of(c)) for s in sessions] for i, c in enumerate(GRID)}
    base = [score(s, params_of(None)) for s in sessions]
    people = sorted({s["person"] for s in sessions})
    held: dict[int, dict[str, int]] = {}
    chosen: dict[str, int] = {}
    for person in people:
        train = [k for k, s in enumerate(sessions) if s["person"] != person]
        best = max(range(len(GRID)), key=lambda i: (objective([table[i][k] for k in train]), -i))
        chosen[person] = best
        for k, s in enumerate(sessions):
            if s["person"] == person:
                held[k] = table[best][k]
    return {"base": base, "held": held, "chosen": chosen, "people": people}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=None)
    args = ap.parse_args(argv)
    root = (args.data or shared_data_dir()) / "hapt"
    sessions = [prepare(p) for p in hapt_sessions(root)]
    res = lopo(sessions)
    base, held = res["base"], res["held"]

    def pooled(rows: list[dict[str, int]]) -> tuple[float, int, int]:
        lab = sum(r["labelled"] for r in rows)
        return (
            sum(r["agree"] for r in rows) / lab,
            sum(r["found"] for r in rows),
            sum(r["ref"] for r in rows),
        )

    heads = ("base agree", "held agree", "base trans", "held trans")
    print(f"{'person':8} " + " ".join(f"{h:>10}" for h in heads) + "  chosen")
    for person in res["people"]:
        ks = [k for k, s in enumerate(sessions) if s["person"] == person]
        b, h = pooled([base[k] for k in ks]), pooled([held[k] for k in ks])
        print(
            f"user{person:4} {b[0]:10.3f} {h[0]:10.3f} {b[1]:>5}/{b[2]:<4} {h[1]:>5}/{h[2]:<4}  "
            f"{GRID[res['chosen'][person]]}"
        )
    print("\nper session: baseline -> held-out agreement")
    for k, s in enumerate(sessions):
        b, h = base[k], held[k]
        print(
            f"{s['name']:20} {b['agree'] / b['labelled']:.3f} -> {h['agree'] / h['labelled']:.3f}"
        )
    ag_b = [r["agree"] / r["labelled"] for r in base]
    ag_h = [held[k]["agree"] / held[k]["labelled"] for k in range(len(sessions))]
    tb, th = pooled(base), pooled(list(held.values()))
    print(
        f"\nsessions: baseline mean {np.mean(ag_b):.3f} worst {min(ag_b):.3f} "
        f"transitions {tb[1]}/{tb[2]} = {tb[1] / tb[2]:.3f}"
    )
    print(
        f"held-out: mean {np.mean(ag_h):.3f} worst {min(ag_h):.3f} "
        f"transitions {th[1]}/{th[2]} = {th[1] / th[2]:.3f}"
    )
    for name in ("walking", "lying"):
        rows = list(held.values())
        share = sum(r[f"{name}_ok"] for r in rows) / sum(r[name] for r in rows)
        base_share = sum(r[f"{name}_ok"] for r in base) / sum(r[name] for r in base)
        print(f"{name} called {name}: baseline {base_share:.4f}, held-out {share:.4f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
