"""Mount-change detection (analysis.mount) on simulated slips, normal sessions and real data.

Run by hand: ``.venv/bin/python bench/eval_mount.py [--n 12] [--real] [--data DIR]``.

* slips: random mounts, a 20-30 deg belt slip at a random sit-down about a random pelvis
  axis (x, y or a tilted one); the change must be reported between the slip and the
  end of the next walking bout; tilt RMSE per activity over the whole session with the
  per-segment calibrations (before: the single calibration).
* normal: random-mount sessions without slips (``clinic_protocol``, ``mixed_day``):
  every reported change is false.
* real (``--real``): every HAPT and mobgap_lab file through ``analysis.session.analyze``
  then the detector; every reported change is false (nobody's sensor slipped).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np
from scipy.spatial.transform import Rotation

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from analysis.mount import MountResult, detect_mount_changes
from analysis.pipeline.result import SessionResult
from analysis.session import analyze, analyze_recording
from simulator import Scenario, Sit, Stand, Turn, Walk, simulate
from simulator.presets import clinic_protocol, mixed_day
from simulator.session import SimulatedSession
from simulator.slip import Slip, sit_down_times_s

ACTIVITIES = ("standing", "walking", "sitting", "transition")


def slip_scenario(seed: int) -> Scenario:
    """Calibration protocol, daily bouts with three sit-downs."""
    rng = np.random.default_rng(seed)
    return Scenario(
        [
            Stand(8),
            Walk(20, cadence_spm=float(rng.uniform(90, 120))),
            Stand(5),
            Walk(15),
            Sit(float(rng.uniform(40, 120))),
            Stand(6),
            Walk(float(rng.uniform(20, 40)), turns=(Turn(at_s=8, angle_deg=180),)),
            Sit(float(rng.uniform(30, 90))),
            Stand(5),
            Walk(float(rng.uniform(20, 40)), cadence_spm=float(rng.uniform(90, 120))),
            Stand(5),
            Sit(30),
        ]
    )


def random_slip(scenario: Scenario, seed: int) -> Slip:
    """A 20-30 deg slip at one of the sit-downs before the last walk."""
    rng = np.random.default_rng(seed + 1000)
    times = sit_down_times_s(scenario)[:2]
    axis_choice = int(rng.integers(3))
    axis: str | tuple[float, float, float] = (
        "x" if axis_choice == 0 else "y" if axis_choice == 1 else (0.7, 0.7, 0.2)
    )
    sign = 1.0 if rng.random() < 0.5 else -1.0
    return Slip(
        at_s=float(times[int(rng.integers(len(times)))]),
        rotation_deg=sign * float(rng.uniform(20, 30)),
        axis=axis,
    )


def detect(result: SessionResult, session_acc: np.ndarray, gyr: np.ndarray | None) -> MountResult:
    """The detector on an analysed session."""
    assert result.calibration is not None
    return detect_mount_changes(
        result.quat_wxyz,
        session_acc,
        gyr,
        result.time_s,
        result.rate_hz,
        None,
        result.calibration,
    )


def rmse_per_activity(
    s: SimulatedSession, anterior: np.ndarray, lateral: np.ndarray
) -> dict[str, tuple[float, float]]:
    """(anterior, lateral) tilt RMSE per true activity, deg."""
    out = {}
    for act in ACTIVITIES:
        m = s.truth.activity == act
        if m.any():
            out[act] = (
                float(np.sqrt(np.nanmean((anterior[m] - s.truth.anterior_tilt_deg[m]) ** 2))),
                float(np.sqrt(np.nanmean((lateral[m] - s.truth.lateral_tilt_deg[m]) ** 2))),
            )
    return out


def next_walk_end_s(s: SimulatedSession, t_s: float) -> float:
    """End of the first walking segment starting after ``t_s`` (true time)."""
    for seg in s.truth.segments:
        if seg["activity"] == "walking" and seg["start_s"] > t_s:
            return float(seg["end_s"])
    return float(s.truth.time_s[-1])


def run_slip(seed: int) -> dict[str, Any]:
    """One simulated slip session: detection and RMSE before/after."""
    sc = slip_scenario(seed)
    slip = random_slip(sc, seed)
    s = simulate(sc, mount=Rotation.random(random_state=seed), seed=seed, slips=[slip])
    r = analyze_recording(s.recording, source=f"slip{seed}")
    m = detect(r, s.recording.acc_mps2, s.recording.gyr_rps)
    a, lat = m.tilt_deg(r.quat_wxyz)
    hit = [c for c in m.changes if slip.at_s - 1.5 <= c.time_s <= next_walk_end_s(s, slip.at_s)]
    return {
        "seed": seed,
        "slip": slip,
        "changes": m.to_json(),
        "found": bool(hit),
        "false": len(m.changes) - min(1, len(hit)),
        "delay_s": (hit[0].time_s - slip.at_s) if hit else None,
        "before": rmse_per_activity(s, r.anterior_tilt_deg, r.lateral_tilt_deg),
        "after": rmse_per_activity(s, a, lat),
    }


def run_day_slip(seed: int) -> dict[str, Any]:
    """A 30-min ``mixed_day`` with a 20-30 deg slip at its middle sit-down (x or y)."""
    sc = mixed_day(1800, seed=seed + 10)
    downs = sit_down_times_s(sc)
    rng = np.random.default_rng(seed)
    slip = Slip(
        at_s=float(downs[len(downs) // 2]),
        rotation_deg=float(rng.uniform(20, 30)) * float(rng.choice([-1, 1])),
        axis=["x", "y"][seed % 2],
    )
    s = simulate(sc, mount=Rotation.random(random_state=seed + 30), seed=seed, slips=[slip])
    r = analyze_recording(s.recording, source=f"day{seed}")
    m = detect(r, s.recording.acc_mps2, s.recording.gyr_rps)
    a, lat = m.tilt_deg(r.quat_wxyz)
    return {
        "seed": seed,
        "changes": m.to_json(),
        "uncertain": [seg.uncertain for seg in m.segments],
        "after": rmse_per_activity(s, a, lat),
    }


def run_normal(kind: str, seed: int) -> int:
    """False changes on one normal random-mount session."""
    sc = clinic_protocol() if kind == "clinic" else mixed_day(1800, seed=seed)
    s = simulate(sc, mount=Rotation.random(random_state=seed + 500), seed=seed)
    r = analyze_recording(s.recording, source=f"{kind}{seed}")
    return len(detect(r, s.recording.acc_mps2, s.recording.gyr_rps).changes)


def run_real(data: Path) -> list[tuple[str, int, list[dict[str, Any]]]]:
    """False changes on every HAPT and mobgap_lab file."""
    from bench.real_data import hapt_sessions, mobgap_trials
    from recordings import load

    files = hapt_sessions(data / "hapt") + mobgap_trials(data / "mobgap_lab")
    out: list[tuple[str, int, list[dict[str, Any]]]] = []
    for f in files:
        try:
            r = analyze(f)
        except Exception as exc:
            print(f"{f.name}: {exc}", file=sys.stderr)
            continue
        if r.calibration is None:
            out.append((f.name, 0, []))
            continue
        rec = load(f)
        m = detect(r, rec.acc_mps2, rec.gyr_rps)
        out.append((f.name, len(m.changes), m.to_json()))
    return out


def run_real_live(data: Path) -> list[tuple[str, int]]:
    """Live monitor messages on every real file (causal orientation, 0.1 s chunks)."""
    from analysis.mount_live import MountMonitor
    from analysis.orientation import estimate_quat_wxyz
    from bench.real_data import hapt_sessions, mobgap_trials
    from recordings import load

    out = []
    for f in hapt_sessions(data / "hapt") + mobgap_trials(data / "mobgap_lab"):
        r = analyze(f)
        if r.calibration is None:
            continue
        rec = load(f)
        q = estimate_quat_wxyz(rec.acc_mps2, rec.gyr_rps, rec.rate_hz, offline=False)
        monitor = MountMonitor(rec.rate_hz, r.calibration)
        step = max(1, round(0.1 * rec.rate_hz))
        raised, was = 0, False
        for i in range(0, rec.n_samples, step):
            j = i + step
            gyr = None if rec.gyr_rps is None else rec.gyr_rps[i:j]
            moved = monitor.update(rec.acc_mps2[i:j], gyr, q[i:j], rec.time_s[i:j]).suspend_flags
            raised += moved and not was
            was = moved
        out.append((f.name, raised))
    return out


def main() -> None:
    """Print the figures."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=12, help="simulated sessions of each kind")
    ap.add_argument("--real", action="store_true", help="also every real file")
    ap.add_argument(
        "--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared/data"
    )
    args = ap.parse_args()
    rows = [run_slip(seed) for seed in range(args.n)]
    found = sum(r["found"] for r in rows)
    print(f"slips: found {found}/{len(rows)}, false {sum(r['false'] for r in rows)}")
    delays = [r["delay_s"] for r in rows if r["delay_s"] is not None]
    print(f"  change time - slip time: median {np.median(delays):.2f} s, max {max(delays):.2f} s")
    for key in ("before", "after"):
        worst = {
            act: (
                max(r[key][act][0] for r in rows if act in r[key]),
                max(r[key][act][1] for r in rows if act in r[key]),
            )
            for act in ACTIVITIES
        }
        print(
            f"  {key}: worst session RMSE (anterior, lateral) deg",
            {k: (round(v[0], 2), round(v[1], 2)) for k, v in worst.items()},
        )
    for r in rows:
        if not r["found"] or r["false"]:
            print("  miss/false:", r["seed"], r["slip"], r["changes"])
    for seed in range(max(1, args.n // 5)):
        day_run = run_day_slip(seed)
        print(
            f"  mixed_day slip {seed}: {day_run['changes']} uncertain {day_run['uncertain']}",
            {k: (round(v[0], 2), round(v[1], 2)) for k, v in day_run["after"].items()},
        )
    clinic = [run_normal("clinic", seed) for seed in range(args.n)]
    day = [run_normal("day", seed) for seed in range(max(1, args.n // 3))]
    print(
        f"normal: clinic_protocol {sum(clinic)} false in {len(clinic)}; "
        f"mixed_day 30 min {sum(day)} false in {len(day)}"
    )
    if args.real:
        real = run_real(args.data)
        print(f"real: {sum(n for _, n, _ in real)} false changes in {len(real)} files")
        for name, n, changes in real:
            if n:
                print("  ", name, changes)
        live = run_real_live(args.data)
        print(f"real live: {sum(n for _, n in live)} 'sensor moved' messages in {len(live)} files")
        for name, n in live:
            if n:
                print("  ", name, n)


if __name__ == "__main__":
    main()
