"""Real-data evaluation: every real session of ``hapt`` and ``mobgap_lab``, scored per person.

Run by hand (never in CI): ``.venv/bin/python bench/eval_real.py [--data DIR]
[--out results.csv [--overwrite]] [--only hapt|mobgap]``. ``--data`` defaults to
``../shared/data`` beside the project (or ``$PELVISCOPE_DATA``). Two worker processes
(the machine's two cores); all 37 files take a few seconds.

Every file goes through the command line's code path: ``analysis.session.analyze(path)``
on the CSV (automatic calibration, default thresholds), then the three outputs of
``pelviscope analyze FILE --json --csv --report`` are rendered in memory. An exception
anywhere in that is counted (the issue's target: 0) and the file is not scored.
Loading and scoring rules live in ``bench/real_data.py`` (shared with the tests).

HAPT (31 sessions, 15 healthy people, waist-worn phone, video labels). Label mapping:

=====================================  ===========================================
HAPT label                             pelviscope
=====================================  ===========================================
WALKING                                walking
WALKING_UPSTAIRS, WALKING_DOWNSTAIRS   walking (for now: pelviscope has no stairs
                                       class; the HAPT README counts them as walking)
SITTING / STANDING / LAYING            sitting / standing / lying
SIT_TO_STAND / STAND_TO_SIT            transition event sit_to_stand / stand_to_sit
SIT_TO_LIE, STAND_TO_LIE               transition event lie_down
LIE_TO_SIT, LIE_TO_STAND               transition event get_up
(unlabelled, ~27 % of each session)    not scored
=====================================  ===========================================

Columns: ``agree`` = share of the samples with a steady label (the first four rows)
whose pelviscope activity is the mapped one (pelviscope's ``transition``/``unknown``
there count as wrong); ``sit>std`` = share of SITTING samples called standing, ``std>sit``
the reverse; ``trans`` = labelled transitions found (same kind, midpoints within 2.5 s),
``extra`` = detected transitions in labelled time that match none. Hip-hike flags: HAPT's
people are healthy, so every flag is false. A flag belongs to the label at its midpoint;
``static/h`` = static flags in SITTING or STANDING per hour of those labels, ``gait/h`` =
gait flags in WALKING* per hour of walking (stairs included); ``other`` = flags anywhere
else (lying, transitions, unlabelled time, or a static flag inside walking).

mobgap_lab (2 participants, 6 lower-back lab trials, INDIP reference initial contacts):
initial-contact TP/FP/FN, F1 within +-0.2 s and left/right agreement of the matched
contacts, inside the reference walking bouts; hip-hike flags per trial (HA_001 is healthy;
MS_001 has multiple sclerosis, so their flags are not known to be false).

Where the flags fall (HAPT, all sessions): flags per label under them, flags at turns
(a turn = pelvis yaw rate above 30 deg/s averaged over 1 s, from the session's own
orientation; a flag is "at a turn" when its midpoint lies within 1 s of one, to compare
with the share of walking time that does), and flags that start in the first 60 s.
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
import time
import traceback
from collections import Counter, defaultdict
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from analysis import quaternion as quat  # noqa: E402
from analysis.labels import activity_names  # noqa: E402
from analysis.report import render_html  # noqa: E402
from analysis.session import SessionResult, analyze  # noqa: E402
from bench.real_data import (  # noqa: E402
    HAPT_ACTIVITY,
    HAPT_TRANSITION,
    f1,
    hapt_labels,
    hapt_sessions,
    label_at,
    label_per_sample,
    mobgap_events,
    mobgap_trials,
    score_activity,
    score_initial_contacts,
    score_transitions,
)
from pelviscope.common import json_text  # noqa: E402
from recordings.files import OutputError, atomic_output, check_writable  # noqa: E402
from tests.conftest import shared_data_dir  # noqa: E402

TURN_RATE_DPS = 30.0
TURN_AVERAGE_S = 1.0
TURN_MARGIN_S = 1.0
START_S = 60.0
STATIC_LABELS = ("SITTING", "STANDING")
WALK_LABELS = ("WALKING", "WALKING_UPSTAIRS", "WALKING_DOWNSTAIRS")
ROW_LABELS = (*WALK_LABELS, "SITTING", "STANDING", "LAYING", "transition", "unlabelled")
ACT_COLUMNS = ("sitting", "standing", "walking", "lying", "transition", "unknown")


def analyze_like_cli(path: Path) -> SessionResult:
    """``pelviscope analyze PATH --json --csv --report``, with the outputs kept in memory."""
    result = analyze(path)
    json_text(result.to_json())
    result.per_sample.to_csv(io.StringIO(), index=False, float_format="%.4f", lineterminator="\n")
    render_html(result)
    return result


def yaw_rate_dps(result: SessionResult) -> NDArray[np.float64]:
    """Pelvis rotation rate about the vertical, deg/s, averaged over ``TURN_AVERAGE_S``.

    From consecutive orientations (sensor -> earth, z up): the earth-frame increment
    ``q[k+1] * conj(q[k])`` has the vertical rotation in its z part; independent of how
    the sensor is worn.
    """
    q = result.quat_wxyz
    n = q.shape[0]
    if n < 2:
        return np.zeros(n)
    dq = quat.multiply(q[1:], quat.conjugate(q[:-1]))
    dq *= np.where(dq[:, :1] < 0, -1.0, 1.0)
    dt_s = np.diff(result.time_s)
    rate = np.degrees(2.0 * np.arcsin(np.clip(dq[:, 3], -1.0, 1.0)) / dt_s)
    rate = np.nan_to_num(np.append(rate, rate[-1]))
    width = max(1, round(TURN_AVERAGE_S * result.rate_hz))
    return np.convolve(rate, np.ones(width) / width, mode="same")


def near_turn_mask(result: SessionResult) -> NDArray[np.bool_]:
    """Samples within ``TURN_MARGIN_S`` of a turn (|yaw rate| > ``TURN_RATE_DPS``)."""
    turning = np.abs(yaw_rate_dps(result)) > TURN_RATE_DPS
    width = 2 * round(TURN_MARGIN_S * result.rate_hz) + 1
    return np.convolve(turning.astype(float), np.ones(width), mode="same") > 0


def _flag_records(
    result: SessionResult, segments: list[dict[str, Any]] | None, turn: NDArray[np.bool_]
) -> list[dict[str, Any]]:
    """One record per hip-hike flag with where it fell (``turn``: :func:`near_turn_mask`)."""
    t = result.time_s
    out = []
    for e in result.episodes:
        mid_s = (e["start_s"] + e["end_s"]) / 2
        label = "" if segments is None else label_at(mid_s, segments)
        k = min(int(np.searchsorted(t, mid_s)), t.size - 1)
        out.append(
            {
                "kind": e["kind"],
                "side": e["side"],
                "activity": e["activity"],
                "start_s": float(e["start_s"]),
                "duration_s": float(e["end_s"] - e["start_s"]),
                "peak_deg": float(e["peak_deg"]) if e["peak_deg"] is not None else np.nan,
                "label": label,
                "at_turn": bool(turn[k]),
                "from_start_s": float(e["start_s"] - t[0]),
            }
        )
    return out


def _run(path: Path) -> tuple[SessionResult | None, str | None, float]:
    t0 = time.perf_counter()
    try:
        result = analyze_like_cli(path)
    except Exception as exc:  # counted: the "zero tracebacks"
        where = traceback.extract_tb(exc.__traceback__)[-1]
        error = f"{type(exc).__name__}: {exc} ({Path(where.filename).name}:{where.lineno})"
        return None, error, time.perf_counter() - t0
    return result, None, time.perf_counter() - t0


def eval_hapt(path: Path) -> dict[str, Any]:
    """Analyse one HAPT session and score it against its video labels."""
    labels = hapt_labels(path)
    segments = labels["segments"]
    row: dict[str, Any] = {
        "set": "hapt",
        "person": f"user{labels['subject_id']:02d}",
        "session": path.stem,
    }
    result, error, seconds = _run(path)
    row |= {"error": error or "", "analysis_s": round(seconds, 2)}
    if result is None:
        return row
    lab = label_per_sample(result.time_s, segments)
    seconds_of = {k: n / result.rate_hz for k, n in Counter(lab.tolist()).items()}
    turn = near_turn_mask(result)
    flags = _flag_records(result, segments, turn)
    static_in = sum(f["kind"] == "static" and f["label"] in STATIC_LABELS for f in flags)
    gait_in = sum(f["kind"] == "gait" and f["label"] in WALK_LABELS for f in flags)
    turn_seconds_of = {k: n / result.rate_hz for k, n in Counter(lab[turn].tolist()).items()}
    pairs = Counter(zip(lab.tolist(), result.activity.tolist(), strict=True))
    confusion = {k: n / result.rate_hz for k, n in pairs.items()}
    activity_counts = score_activity(lab, activity_names(result.activity))
    row |= {
        "duration_s": round(result.duration_s, 2),
        "calibration": result.calibration.method if result.calibration else "none",
        "rate_hz": result.rate_hz,
        **{f"{k}_samples": v for k, v in activity_counts.items()},
        **{f"trans_{k}": v for k, v in score_transitions(result.transitions, segments).items()},
        "static_label_s": sum(seconds_of.get(k, 0.0) for k in STATIC_LABELS),
        "walk_label_s": sum(seconds_of.get(k, 0.0) for k in WALK_LABELS),
        "static_flags": static_in,
        "gait_flags": gait_in,
        "other_flags": len(flags) - static_in - gait_in,
        "_seconds_of": seconds_of,
        "_turn_seconds_of": turn_seconds_of,
        "_flags": flags,
        "_confusion_s": confusion,
    }
    return row


def eval_mobgap(path: Path) -> dict[str, Any]:
    """Analyse one mobgap_lab trial and score its initial contacts."""
    events = mobgap_events(path)
    row: dict[str, Any] = {
        "set": "mobgap",
        "person": path.parent.name,
        "session": f"{path.parent.name}/{path.stem}",
    }
    result, error, seconds = _run(path)
    row |= {"error": error or "", "analysis_s": round(seconds, 2)}
    if result is None:
        return row
    det_t = [s["time_s"] for s in result.steps]
    det_side = [s["side"] for s in result.steps]
    flags = _flag_records(result, None, near_turn_mask(result))
    row |= {
        "duration_s": round(result.duration_s, 2),
        "calibration": result.calibration.method if result.calibration else "none",
        "steps": len(result.steps),
        **score_initial_contacts(det_t, det_side, events),
        "static_flags": sum(f["kind"] == "static" for f in flags),
        "gait_flags": sum(f["kind"] == "gait" for f in flags),
        "max_peak_deg": max((f["peak_deg"] for f in flags), default=np.nan),
        "_flags": flags,
    }
    return row


def _ratio(num: float, den: float) -> float:
    return num / den if den else float("nan")


def _hapt_line(name: str, rows: list[dict[str, Any]]) -> str:
    ok = [r for r in rows if not r["error"]]

    def total(key: str) -> float:
        return sum(r[key] for r in ok)

    if not ok:
        return f"{name:<20} {'(failed)':>8}"
    static_h, walk_h = total("static_label_s") / 3600, total("walk_label_s") / 3600
    return (
        f"{name:<20} {sum(r['labelled_samples'] / r['rate_hz'] for r in ok) / 60:6.1f} "
        f"{_ratio(total('agree_samples'), total('labelled_samples')):6.3f} "
        f"{_ratio(total('sitting_as_standing_samples'), total('sitting_samples')):7.3f} "
        f"{_ratio(total('standing_as_sitting_samples'), total('standing_samples')):7.3f} "
        f"{int(total('trans_found')):3d}/{int(total('trans_ref')):<3d} "
        f"{_ratio(total('trans_found'), total('trans_ref')):5.2f} "
        f"{int(total('trans_extra')):5d} "
        f"{int(total('static_flags')):5d} {_ratio(total('static_flags'), static_h):7.1f} "
        f"{int(total('gait_flags')):5d} {_ratio(total('gait_flags'), walk_h):7.1f} "
        f"{int(total('other_flags')):5d}"
    )


HAPT_HEADER = (
    f"{'':<20} {'lab':>6} {'agree':>6} {'sit>std':>7} {'std>sit':>7} {'trans':>7} "
    f"{'found':>5} {'extra':>5} {'stat':>5} {'stat/h':>7} {'gait':>5} {'gait/h':>7} "
    f"{'other':>5}\n{'':<20} {'min':>6}"
)


def print_hapt(rows: list[dict[str, Any]]) -> None:
    """The per-session, per-person and total tables of HAPT, then where the flags fall."""
    print("\nHAPT per session (lab min = minutes with a steady label; calibration at the end)")
    print(HAPT_HEADER)
    for r in rows:
        extra = f"  {r['calibration']}" if not r["error"] else f"  ERROR {r['error']}"
        print(_hapt_line(r["session"], [r]) + extra)
    by_person: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        by_person[r["person"]].append(r)
    print("\nHAPT per person (pooled over the person's sessions)")
    print(HAPT_HEADER)
    for person, prs in sorted(by_person.items()):
        print(_hapt_line(f"{person} ({len(prs)})", prs))
    print(_hapt_line(f"all ({len(rows)})", rows))
    ok = [r for r in rows if not r["error"]]
    if not ok:
        return
    agree = sorted((r["agree_samples"] / r["labelled_samples"], r["session"]) for r in ok)
    per_person = [
        _ratio(
            sum(r["agree_samples"] for r in prs if not r["error"]),
            sum(r["labelled_samples"] for r in prs if not r["error"]),
        )
        for prs in by_person.values()
    ]
    print(
        f"activity agreement: mean over sessions {np.mean([a for a, _ in agree]):.3f}, "
        f"over people {np.nanmean(per_person):.3f}; worst sessions "
        + ", ".join(f"{s} {a:.3f}" for a, s in agree[:3])
    )
    _print_confusion(ok)
    _print_flag_places(ok)


def _print_confusion(rows: list[dict[str, Any]]) -> None:
    total: Counter[tuple[str, str]] = Counter()
    for r in rows:
        total.update(r["_confusion_s"])
    print("\nHAPT label -> pelviscope activity (share of the label's samples, all sessions)")
    print(f"{'':<20} {'min':>6} " + " ".join(f"{a:>10}" for a in ACT_COLUMNS))
    for label in (*HAPT_ACTIVITY, "transition"):
        names = HAPT_TRANSITION if label == "transition" else (label,)
        counts = {a: sum(total[(n, a)] for n in names) for a in ACT_COLUMNS}
        n = sum(counts.values())
        print(
            f"{label:<20} {n / 60:6.1f} "
            + " ".join(f"{_ratio(counts[a], n):10.3f}" for a in ACT_COLUMNS)
        )


def _row_label(label: str) -> str:
    if label in HAPT_TRANSITION:
        return "transition"
    return label or "unlabelled"


def _print_flag_places(rows: list[dict[str, Any]]) -> None:
    flags = [f | {"session": r["session"]} for r in rows for f in r["_flags"]]
    seconds: Counter[str] = Counter()
    turn_seconds: Counter[str] = Counter()
    for r in rows:
        for label, s in r["_seconds_of"].items():
            seconds[_row_label(label)] += s
        for label, s in r["_turn_seconds_of"].items():
            turn_seconds[_row_label(label)] += s
    print(
        "\nHAPT: where the hip-hike flags fall (label at the flag's midpoint; turn% = flags"
        f" / time within {TURN_MARGIN_S:g} s of a turn)"
    )
    print(
        f"{'label':<20} {'min':>6} {'static':>6} {'gait':>5} {'flags/h':>8} "
        f"{'peak med':>8} {'flag turn%':>10} {'time turn%':>10}"
    )
    for label in ROW_LABELS:
        fs = [f for f in flags if _row_label(f["label"]) == label]
        n_static = sum(f["kind"] == "static" for f in fs)
        peak = np.median([f["peak_deg"] for f in fs]) if fs else np.nan
        print(
            f"{label:<20} {seconds[label] / 60:6.1f} {n_static:6d} {len(fs) - n_static:5d} "
            f"{_ratio(len(fs), seconds[label] / 3600):8.1f} {peak:8.1f} "
            f"{100 * _ratio(sum(f['at_turn'] for f in fs), len(fs)):10.0f} "
            f"{100 * _ratio(turn_seconds[label], seconds[label]):10.0f}"
        )
    static = [f for f in flags if f["kind"] == "static"]
    early = [f for f in flags if f["from_start_s"] < START_S]
    n_sessions = len(rows)
    print(
        f"flags starting in the first {START_S:g} s of a session: {len(early)} of {len(flags)} "
        f"({len(early) / max(len(flags), 1):.0%}; that is {n_sessions * START_S / 60:.0f} of "
        f"{sum(r['duration_s'] for r in rows) / 60:.0f} min)"
    )
    by_act = Counter(f["activity"] for f in static)
    print(
        "static flags by pelviscope activity: "
        + ", ".join(f"{a} {n}" for a, n in by_act.most_common())
        + f"; median duration {np.median([f['duration_s'] for f in static]):.1f} s"
        if static
        else "no static flags"
    )
    worst = Counter(f["session"] for f in flags).most_common(5)
    print("most flags: " + ", ".join(f"{s} {n}" for s, n in worst))


def _mobgap_line(name: str, rows: list[dict[str, Any]]) -> str:
    ok = [r for r in rows if not r["error"]]
    if not ok:
        return f"{name:<24} {'(failed)':>8}"
    s = {k: sum(r[k] for r in ok) for k in ("tp", "fp", "fn", "lr")}
    peaks = [r["max_peak_deg"] for r in ok if np.isfinite(r["max_peak_deg"])]
    return (
        f"{name:<24} {sum(r['duration_s'] for r in ok):6.1f} {s['tp']:4d} {s['fp']:4d} "
        f"{s['fn']:4d} {f1(s):6.3f} {_ratio(s['lr'], s['tp']):6.3f} "
        f"{sum(r['static_flags'] for r in ok):5d} {sum(r['gait_flags'] for r in ok):5d} "
        f"{max(peaks) if peaks else float('nan'):8.1f}"
    )


def print_mobgap(rows: list[dict[str, Any]]) -> None:
    """Initial contacts and flags per trial, per participant and in total."""
    head = (
        f"{'':<24} {'dur s':>6} {'TP':>4} {'FP':>4} {'FN':>4} {'F1':>6} {'L/R':>6} "
        f"{'stat':>5} {'gait':>5} {'max peak':>8}"
    )
    print("\nmobgap_lab per trial (initial contacts within +-0.2 s in the INDIP bouts; flags)")
    print(head)
    for r in rows:
        extra = f"  ERROR {r['error']}" if r["error"] else f"  {r['calibration']}"
        print(_mobgap_line(r["session"], [r]) + extra)
    print("\nmobgap_lab per participant")
    print(head)
    for person in sorted({r["person"] for r in rows}):
        print(_mobgap_line(person, [r for r in rows if r["person"] == person]))
    print(_mobgap_line("all", rows))
    for r in rows:
        for f in r.get("_flags", []):
            print(
                f"  flag {r['session']}: {f['side']} {f['kind']} in {f['activity']} "
                f"{f['start_s']:.1f} s + {f['duration_s']:.1f} s, peak {f['peak_deg']:.1f} deg"
                + (", at a turn" if f["at_turn"] else "")
            )


def write_csv(path: Path, rows: list[dict[str, Any]], *, overwrite: bool) -> None:
    """One row per session (private ``_`` fields left out), written atomically."""
    fields: list[str] = []
    for r in rows:
        fields += [k for k in r if not k.startswith("_") and k not in fields]
    with atomic_output(path, overwrite=overwrite, mode="w") as f:
        writer = csv.DictWriter(f, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        for r in rows:
            writer.writerow({k: v for k, v in r.items() if not k.startswith("_")})


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=shared_data_dir())
    parser.add_argument("--out", type=Path, help="per-session results CSV")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing --out")
    parser.add_argument("--only", choices=("hapt", "mobgap"))
    args = parser.parse_args()
    if args.out:
        try:
            check_writable(args.out, overwrite=args.overwrite)
        except OutputError as exc:
            print(f"eval_real: {exc}", file=sys.stderr)
            return 2
    jobs = []
    if args.only in (None, "hapt"):
        jobs += [(eval_hapt, p) for p in hapt_sessions(args.data / "hapt")]
    if args.only in (None, "mobgap"):
        jobs += [(eval_mobgap, p) for p in mobgap_trials(args.data / "mobgap_lab")]
    if not jobs:
        print(f"eval_real: no sessions found under {args.data}", file=sys.stderr)
        return 2
    t0 = time.perf_counter()
    rows: list[dict[str, Any] | None] = [None] * len(jobs)
    with ProcessPoolExecutor(2) as pool:
        futures = {pool.submit(fn, path): i for i, (fn, path) in enumerate(jobs)}
        for done, fut in enumerate(as_completed(futures), 1):
            rows[futures[fut]] = row = fut.result()
            print(f"\r{done}/{len(jobs)} {row['session']:<30}", end="", file=sys.stderr)
    print(file=sys.stderr)
    results = [r for r in rows if r is not None]
    hapt = [r for r in results if r["set"] == "hapt"]
    mobgap = [r for r in results if r["set"] == "mobgap"]
    if hapt:
        print_hapt(hapt)
    if mobgap:
        print_mobgap(mobgap)
    failed = [r for r in results if r["error"]]
    print(
        f"\nexceptions: {len(failed)} of {len(results)} files"
        + "".join(f"\n  {r['session']}: {r['error']}" for r in failed)
    )
    print(f"wall time {time.perf_counter() - t0:.1f} s on 2 processes")
    if args.out:
        try:
            write_csv(args.out, results, overwrite=args.overwrite)
        except OutputError as exc:
            print(f"eval_real: {exc}", file=sys.stderr)
            return 2
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
