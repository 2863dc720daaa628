"""Hip-hike detector: simulated sessions (random mounts, auto calibration) and unit cases.

The figures asserted here (recall, time overlap, false-positive seconds, flag latency)
are printed as ``HIPHIKE ...`` lines; run with ``-s`` to see them.
"""

from __future__ import annotations

import dataclasses
import itertools
from dataclasses import dataclass

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from analysis import quaternion as quat
from analysis.activity import classify_activity
from analysis.calibration import calibrate_auto
from analysis.gait import detect_gait
from analysis.gait.turns import detect_turns, yaw_rate_dps
from analysis.hiphike import (
    HipHikeEpisode,
    HipHikeParams,
    HipHikeTracker,
    analyze_hip_hikes,
    detect_hip_hikes,
    hip_hike_labels,
    step_obliquities,
    step_obliquity,
)
from analysis.hiphike import gait as hiphike_gait
from analysis.labels import side_names
from analysis.orientation import estimate_quat_wxyz
from analysis.tilt import pelvic_tilt_deg
from simulator import Scenario, Sit, Stand, Turn, Walk, simulate
from simulator.presets import mixed_day
from simulator.trajectory import RAMP_S

# ------------------------------------------------------------------------- sessions


@dataclass
class Run:
    """A simulated session reduced to the detector's inputs (device clock)."""

    time_s: np.ndarray
    lateral_tilt_deg: np.ndarray
    activity: np.ndarray
    ic_time_s: np.ndarray
    ic_side: np.ndarray
    true_episodes: list[HipHikeEpisode]
    rate_hz: float
    sim: object
    #: ``(start_s, end_s)`` of the turns the session's own yaw rate shows (device clock).
    turns: list[tuple[float, float]] = dataclasses.field(default_factory=list)


def _run(scenario: Scenario, seed: int) -> Run:
    s = simulate(scenario, rate_hz=100, mount=Rotation.random(random_state=seed), seed=seed)
    rec = s.recording
    q = estimate_quat_wxyz(rec.acc_mps2, rec.gyr_rps, rec.rate_hz, offline=True)
    cal = calibrate_auto(rec.acc_mps2, rec.gyr_rps, q, rec.rate_hz, time_s=rec.time_s)
    _, lateral = pelvic_tilt_deg(q, cal)
    k = s.truth.device_clock_scale  # truth times are true time, samples device time
    true = [
        HipHikeEpisode(
            e.side, e.kind, e.activity, e.start_s * k, e.end_s * k, e.peak_deg, e.mean_deg
        )
        for e in s.truth.episodes
    ]
    return Run(
        rec.time_s,
        lateral,
        s.truth.activity,
        s.truth.initial_contact_s * k,
        s.truth.initial_contact_side,
        true,
        rec.rate_hz,
        s,
        [
            (t["start_s"], t["end_s"])
            for t in detect_turns(
                rec.time_s, yaw_rate_dps(quat.up_in_sensor(q), rec.gyr_rps), rate_hz=rec.rate_hz
            )
        ],
    )


def hike_scenario(seed: int) -> Scenario:
    """Static hikes L/R sitting and standing (5-8 deg), gait hikes L/R (4-6 deg), each
    among long normal stretches; the gait hikes include a turn against the hike side."""
    rng = np.random.default_rng(seed)

    def u(a: float, b: float) -> float:
        return float(rng.uniform(a, b))

    return Scenario(
        [
            Stand(8),
            Walk(16, cadence_spm=108),
            Stand(6),
            Walk(40, cadence_spm=u(90, 120), turns=(Turn(15, 180),)),
            Sit(60),
            Sit(15, lateral_deg=u(5, 8)),
            Sit(45),
            Sit(12, lateral_deg=-u(5, 8)),
            Sit(30),
            Stand(20),
            Stand(15, lateral_deg=u(5, 8)),
            Stand(20),
            Stand(10, lateral_deg=-u(5, 8)),
            Stand(10),
            Walk(50, cadence_spm=u(90, 120), turns=(Turn(20, -180),)),
            Walk(
                40,
                cadence_spm=u(90, 115),
                hike_side="left",
                hike_deg=u(4, 6),
                turns=(Turn(20, -180),),
            ),
            Walk(50, cadence_spm=u(90, 120), turns=(Turn(25, 90),)),
            Stand(8),
            Walk(
                40,
                cadence_spm=u(85, 115),
                hike_side="right",
                hike_deg=u(4, 6),
                turns=(Turn(15, 180),),
            ),
            Walk(50, cadence_spm=u(95, 125), turns=(Turn(20, -90),)),
            Sit(30),
        ]
    )


def turns_scenario(seed: int) -> Scenario:
    """Normal walking only: a turn every 7 s, cadences 80-125, speeds 0.7-1.6 m/s."""
    rng = np.random.default_rng(seed)

    def walk(dur: float, cadence: float, speed: float) -> Walk:
        starts = np.arange(2.0, dur - 4.5, 7.0)
        turns = tuple(
            Turn(at_s=float(a), angle_deg=float(rng.choice([-180, -90, 90, 180]))) for a in starts
        )
        return Walk(dur, cadence_spm=cadence, speed_mps=speed, turns=turns)

    return Scenario(
        [
            Stand(8),
            Walk(15, cadence_spm=105),
            Stand(5),
            walk(90, 80, 0.7),
            walk(60, 125, 1.6),
            walk(60, 95, 1.0),
            Stand(5),
            walk(90, 115, 1.4),
            walk(45, 85, 0.8),
            walk(60, 120, 1.5),
            Sit(20),
            walk(60, 100, 1.2),
            walk(30, 90, 0.9),
            walk(30, 125, 1.6),
        ]
    )


HIKE_SEEDS = (0, 1, 2, 3)


@pytest.fixture(scope="module")
def hike_runs() -> list[Run]:
    return [_run(hike_scenario(seed), seed) for seed in HIKE_SEEDS]


def _detect(run: Run, params: HipHikeParams | None = None) -> list[HipHikeEpisode]:
    return detect_hip_hikes(
        run.time_s, run.lateral_tilt_deg, run.activity, run.ic_time_s, run.ic_side, params
    )


def _overlap_s(a: HipHikeEpisode, b: HipHikeEpisode) -> float:
    return max(0.0, min(a.end_s, b.end_s) - max(a.start_s, b.start_s))


def _widened(ep: HipHikeEpisode, margin_s: float) -> HipHikeEpisode:
    return dataclasses.replace(ep, start_s=ep.start_s - margin_s, end_s=ep.end_s + margin_s)


def _flagged_s(episodes: list[HipHikeEpisode]) -> float:
    return float(sum(e.duration_s for e in episodes))


# ------------------------------------------------------------------ simulated targets


def test_every_simulated_episode_is_found(hike_runs):
    found, total, overlaps, extra = 0, 0, [], []
    for seed, run in zip(HIKE_SEEDS, hike_runs, strict=True):
        detected = _detect(run)
        for true in run.true_episodes:
            total += 1
            match = [
                d
                for d in detected
                if d.side == true.side and d.kind == true.kind and _overlap_s(d, true) > 0
            ]
            share = sum(_overlap_s(d, true) for d in match) / true.duration_s
            overlaps.append(share)
            if match and share >= 0.5:
                found += 1
                assert all(d.activity == true.activity for d in match), (seed, true, match)
            else:
                pytest.fail(f"seed {seed}: {true} not found (overlap {share:.0%}) in {detected}")
        # Nothing else is flagged: every detection lies on a true episode of its side,
        # widened by the simulator's 1 s posture ramp at each end.
        for d in detected:
            on_true = sum(
                _overlap_s(d, _widened(t, RAMP_S)) for t in run.true_episodes if t.side == d.side
            )
            extra.append(d.duration_s - on_true)
    print(
        f"\nHIPHIKE recall {found}/{total}, overlap min {min(overlaps):.0%} "
        f"mean {np.mean(overlaps):.0%}, flagged outside true episodes {sum(extra):.1f} s "
        f"over {len(HIKE_SEEDS)} sessions of {hike_runs[0].time_s[-1]:.0f} s"
    )
    assert found == total
    assert sum(extra) < 5.0


def test_episode_values_match_truth(hike_runs):
    worst = {"static": 0.0, "gait": 0.0}
    for run in hike_runs:
        detected = _detect(run)
        for true in run.true_episodes:
            d = max(detected, key=lambda e: _overlap_s(e, true))
            assert d.peak_deg > 0 and d.mean_deg > 0
            worst[true.kind] = max(worst[true.kind], abs(d.mean_deg - true.mean_deg))
    print(f"\nHIPHIKE worst |mean_deg - truth|: {worst}")
    # Static: the held tilt; gait: the sustained obliquity offset across strides.
    assert worst["static"] <= 1.0
    assert worst["gait"] <= 1.0


def test_gait_hikes_that_include_a_turn_are_still_found_with_turns_left_out(hike_runs):
    """Issue 15 item 2: strides overlapping a turn are left out of the gait detection (as
    misses). The simulated gait hikes each include a turn: each is still found (>= 50 %
    covered); where the turn takes more strides than a run may miss, the hike is reported
    in two episodes split at the turn. Nothing else is flagged."""
    for seed, run in zip(HIKE_SEEDS, hike_runs, strict=True):
        gait_true = [t for t in run.true_episodes if t.kind == "gait"]
        inside = [(a, b) for a, b in run.turns for t in gait_true if t.start_s < a and b < t.end_s]
        assert len(inside) >= len(gait_true), (seed, run.turns)  # the rule has work to do
        args = (run.time_s, run.lateral_tilt_deg, run.activity, run.ic_time_s, run.ic_side)
        turned = analyze_hip_hikes(*args, turns=run.turns)
        for true in run.true_episodes:
            match = [
                d
                for d in turned.episodes
                if (d.side, d.kind) == (true.side, true.kind) and _overlap_s(d, true) > 0
            ]
            share = sum(_overlap_s(d, true) for d in match) / true.duration_s
            assert share >= 0.5, (seed, true, turned.episodes)
            if true.kind == "gait":
                assert 1 <= len(match) <= 2, (seed, true, match)
                for a, b in itertools.pairwise(match):  # a split lies at a turn
                    assert any(t0 < b.start_s and t1 > a.end_s for t0, t1 in run.turns)
        extra = sum(
            d.duration_s
            - sum(_overlap_s(d, _widened(t, RAMP_S)) for t in run.true_episodes if t.side == d.side)
            for d in turned.episodes
        )
        assert extra < 5.0, (seed, turned.episodes)


def test_a_turning_stride_that_would_flag_is_counted_as_suppressed(hike_runs):
    """A turn over a whole simulated gait hike leaves it out and counts it under the turn
    reason (not as too few strides)."""
    run = hike_runs[0]
    gait_true = [t for t in run.true_episodes if t.kind == "gait"]
    spans = [(t.start_s - 1.0, t.end_s + 1.0) for t in gait_true]
    args = (run.time_s, run.lateral_tilt_deg, run.activity, run.ic_time_s, run.ic_side)
    found = analyze_hip_hikes(*args, turns=spans)
    assert not [e for e in found.episodes if e.kind == "gait"]
    assert found.suppressed.get(hiphike_gait.SUPPRESSED_TURN, 0) >= len(gait_true)


@pytest.mark.parametrize("offset_deg", [-4.0, 4.0])
def test_a_neutral_a_few_degrees_off_does_not_flip_sides(hike_runs, offset_deg):
    """Issue 16 item 4: a constant frontal offset (a neutral that is not level, a sensor at
    the side of the belt) changes no episode; the neutral-referenced detector flagged the
    offset side in most strides. Its would-be flags are counted as suppressed."""
    run = hike_runs[0]
    level = _detect(run)
    shifted = analyze_hip_hikes(
        run.time_s,
        run.lateral_tilt_deg + offset_deg,
        run.activity,
        run.ic_time_s,
        run.ic_side,
    )
    assert [(e.side, e.kind) for e in shifted.episodes] == [(e.side, e.kind) for e in level]
    for a, b in zip(shifted.episodes, level, strict=True):
        assert abs(a.start_s - b.start_s) < 1.5 and abs(a.end_s - b.end_s) < 1.5
    assert shifted.suppressed.get("gait: steady sideways offset, not a rise in the swing", 0) > 0


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_normal_day_is_not_flagged(seed):
    run = _run(mixed_day(1800, seed=seed, hikes=False), seed)
    assert not run.true_episodes
    flagged = _flagged_s(_detect(run))
    print(f"\nHIPHIKE mixed_day(1800, seed={seed}, hikes=False): {flagged:.1f} s flagged")
    assert flagged < 5.0


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_turns_and_speed_changes_are_not_flagged(seed):
    run = _run(turns_scenario(seed), seed)
    flagged = _flagged_s(_detect(run))
    n_turns = sum(len(p.turns) for p in turns_scenario(seed).phases if isinstance(p, Walk))
    print(f"\nHIPHIKE turns scenario seed {seed} ({n_turns} turns): {flagged:.1f} s flagged")
    assert flagged < 5.0


def _end_to_end(scenario: Scenario, seed: int) -> tuple[list[HipHikeEpisode], list, float]:
    """Recording -> orientation, calibration, tilt, activity, gait -> hip hikes."""
    s = simulate(scenario, rate_hz=100, mount=Rotation.random(random_state=seed), seed=seed)
    rec = s.recording
    q = estimate_quat_wxyz(rec.acc_mps2, rec.gyr_rps, rec.rate_hz, offline=True)
    cal = calibrate_auto(rec.acc_mps2, rec.gyr_rps, q, rec.rate_hz, time_s=rec.time_s)
    anterior, lateral = pelvic_tilt_deg(q, cal)
    activity = classify_activity(rec.time_s, rec.acc_mps2, anterior, lateral, rec.rate_hz)
    m = quat.to_matrix(cal.sensor_to_pelvis_quat_wxyz)
    gait = detect_gait(
        rec.acc_mps2 @ m.T,
        rec.gyr_rps @ m.T,
        rate_hz=rec.rate_hz,
        up_p=quat.up_in_sensor(q) @ m.T,
    )
    ic_time_s = rec.time_s[0] + gait.ic_time_s  # detect_gait counts from the first sample
    eps = detect_hip_hikes(rec.time_s, lateral, activity.labels, ic_time_s, gait.ic_side)
    k = s.truth.device_clock_scale
    true = [
        dataclasses.replace(e, start_s=e.start_s * k, end_s=e.end_s * k) for e in s.truth.episodes
    ]
    return eps, true, float(rec.time_s[-1])


@pytest.mark.parametrize("seed", [0, 1])
def test_end_to_end_with_activity_and_gait_modules(seed):
    eps, true, _ = _end_to_end(hike_scenario(seed), seed)
    for t in true:
        match = [d for d in eps if (d.side, d.kind) == (t.side, t.kind)]
        share = sum(_overlap_s(d, t) for d in match) / (t.end_s - t.start_s)
        assert share >= 0.5, (t, eps)
    extra = sum(
        d.duration_s - sum(_overlap_s(d, _widened(t, RAMP_S)) for t in true if t.side == d.side)
        for d in eps
    )
    eps_turns, _, dur = _end_to_end(turns_scenario(seed), seed)
    print(
        f"\nHIPHIKE end-to-end seed {seed}: {len(eps)} detected / {len(true)} true, "
        f"{extra:.1f} s outside; turns scenario {_flagged_s(eps_turns):.1f} s of {dur:.0f} s"
    )
    assert len(eps) == len(true) and extra < 5.0
    assert _flagged_s(eps_turns) < 5.0


# ---------------------------------------------------------------------------- live


def _feed_live(run: Run, seed: int, ic_delay_s: float = 0.3):
    """Feed a tracker in random chunks of 0.05-0.5 s; contacts arrive ``ic_delay_s`` late."""
    rng = np.random.default_rng(seed)
    tracker = HipHikeTracker()
    closed, flags = [], []
    i, j_ic, n = 0, 0, run.time_s.size
    while i < n:
        j = min(n, i + int(rng.integers(5, 51)))
        now = run.time_s[j - 1]
        k = int(np.searchsorted(run.ic_time_s, now - ic_delay_s, side="right"))
        out = tracker.update(
            run.time_s[i:j],
            run.lateral_tilt_deg[i:j],
            run.activity[i:j],
            run.ic_time_s[j_ic:k],
            run.ic_side[j_ic:k],
        )
        closed += out.closed
        flags.append((float(now), out.flag))
        i, j_ic = j, k
    out = tracker.finish()
    closed += out.closed
    assert tracker.episodes == closed
    return closed, flags


def _min_duration_met_s(ep: HipHikeEpisode, run: Run, params: HipHikeParams) -> float:
    if ep.kind == "static":
        return ep.start_s + params.static_min_duration_s
    j = int(np.searchsorted(run.ic_time_s, ep.start_s))  # the contact starting the episode
    return float(run.ic_time_s[j + 2 * params.gait_min_strides - 1])


def test_live_equals_batch_and_flags_within_a_second(hike_runs):
    params = HipHikeParams()
    latencies = []
    for seed, run in zip(HIKE_SEEDS[:2], hike_runs, strict=False):
        batch = _detect(run)
        live, flags = _feed_live(run, seed)
        assert len(live) == len(batch)
        for a, b in zip(sorted(live, key=lambda e: e.start_s), batch, strict=True):
            assert (a.side, a.kind, a.activity) == (b.side, b.kind, b.activity)
            assert a.start_s == b.start_s and a.end_s == b.end_s
            assert a.peak_deg == pytest.approx(b.peak_deg, abs=1e-9)
            assert a.mean_deg == pytest.approx(b.mean_deg, abs=1e-9)
        times = np.array([t for t, _ in flags])
        sides = np.array([f for _, f in flags])
        for ep in batch:
            met = _min_duration_met_s(ep, run, params)
            on = (sides == ep.side) & (times >= ep.start_s)
            assert on.any(), ep
            latency = float(times[on][0] - met)
            latencies.append((ep.kind, latency))
            assert -1e-9 <= latency <= 1.0, (ep, latency)
            # The flag holds for the whole episode (chunks fully inside it).
            inside = (times > met + 1.0) & (times < ep.end_s)
            assert (sides[inside] == ep.side).all(), ep
        # No flag outside the episodes (allowing the release grace after their end).
        spans = [(e.start_s, e.end_s + params.static_max_interruption_s + 1.6) for e in batch]
        outside = ~np.any([(times >= a) & (times <= b) for a, b in spans], axis=0)
        assert (sides[outside] == "").all()
    by_kind = {k: max(v for kk, v in latencies if kk == k) for k in ("static", "gait")}
    print(f"\nHIPHIKE live flag latency after min duration met (max, s): {by_kind}")


def test_live_ongoing_episode_reports_provisional_values():
    t, lat, act = _synthetic_static([(0, 15, 0.0), (15, 35, 6.0), (35, 45, 0.0)])
    tracker = HipHikeTracker()
    out = tracker.update(t[t < 20.5], lat[t < 20.5], act[t < 20.5])
    assert out.flag == "left" and len(out.ongoing) == 1 and not out.closed
    assert out.ongoing[0].start_s == pytest.approx(15.0)
    assert out.ongoing[0].end_s == pytest.approx(20.49)
    assert 0 < out.ongoing[0].confidence <= 1 and "sitting baseline" in out.ongoing[0].reason
    out = tracker.update(t[t >= 20.5], lat[t >= 20.5], act[t >= 20.5])
    assert out.flag == "" and len(out.closed) == 1
    assert tracker.flag == ""


# ------------------------------------------------------------------------- static


def _synthetic_static(pieces, activity="sitting", rate_hz=100.0, noise_deg=0.15, seed=0):
    """Piecewise-constant lateral tilt ``[(start_s, end_s, deg), ...]`` plus noise."""
    t = np.arange(0, pieces[-1][1], 1 / rate_hz)
    lat = np.zeros_like(t)
    for a, b, v in pieces:
        lat[(t >= a) & (t < b)] = v
    lat += np.random.default_rng(seed).normal(0, noise_deg, t.size)
    return t, lat, np.full(t.size, activity, dtype="<U10")


def test_static_thresholds_hysteresis_and_minimum_duration():
    # After 15 s of level sitting (the baseline): 4.5 s at 6 deg is too short (a held
    # posture lasts 5 s); 5.5 s is an episode; 3.3 deg never enters.
    t, lat, act = _synthetic_static(
        [(0, 15, 0), (15, 19.5, 6), (19.5, 25, 0), (25, 30.5, -6), (30.5, 35, 0), (35, 65, 3.3)]
    )
    found = analyze_hip_hikes(t, lat, act, [], [])
    eps = found.episodes
    assert [(e.side, e.kind, e.activity) for e in eps] == [("right", "static", "sitting")]
    assert eps[0].start_s == pytest.approx(25, abs=0.02)
    assert eps[0].end_s == pytest.approx(30.5, abs=0.02)
    assert eps[0].peak_deg > 6 and eps[0].mean_deg == pytest.approx(6, abs=0.05)
    assert eps[0].reason.startswith("right side 6.0 deg higher than this person's sitting")
    assert found.suppressed == {"static: held shorter than the minimum duration": 1}
    # Hovering around the threshold (3.2-4.8 deg) after entering: one episode, no flicker;
    # and the hike does not become its own baseline.
    t, lat, act = _synthetic_static([(0, 15, 0), (15, 75, 4.0), (75, 80, 0)], noise_deg=0.4)
    eps = detect_hip_hikes(t, lat, act, [], [])
    assert len(eps) == 1 and eps[0].duration_s == pytest.approx(60, abs=0.1)
    # Lying and walking are not static hikes.
    for activity in ("lying", "walking"):
        t, lat, act = _synthetic_static([(0, 30, 8.0)], activity=activity)
        assert detect_hip_hikes(t, lat, act, [], []) == []


def test_short_movement_within_a_sit_does_not_split_the_episode():
    t, lat, act = _synthetic_static([(0, 15, 0), (15, 55, 6.0), (55, 60, 0)])
    moving = (t >= 30) & (t < 31.5)  # 1.5 s shifting on the chair
    act[moving] = "transition"
    lat[moving] = np.linspace(6, -2, moving.sum())
    dip = (t >= 40) & (t < 41.5)  # 1.5 s leaning back to level
    lat[dip] = 1.0
    eps = detect_hip_hikes(t, lat, act, [], [])
    assert len(eps) == 1
    assert eps[0].start_s == pytest.approx(15, abs=0.02)
    assert eps[0].end_s == pytest.approx(55, abs=0.02)
    # A 3 s interruption ends the episode; the hike that follows is a new one.
    act[(t >= 30) & (t < 33)] = "transition"
    eps = detect_hip_hikes(t, lat, act, [], [])
    assert [(round(e.start_s), round(e.end_s), e.activity) for e in eps] == [
        (15, 30, "sitting"),
        (33, 55, "sitting"),
    ]
    # Standing up ends a sitting episode at once, even while the side stays raised; the
    # standing after a sit has no baseline yet (the seat moves a belt-worn sensor), so
    # it is not compared (counted as suppressed).
    act[t >= 45] = "standing"
    found = analyze_hip_hikes(t, lat, act, [], [])
    assert [(round(e.start_s), round(e.end_s), e.activity) for e in found.episodes] == [
        (15, 30, "sitting"),
        (33, 45, "sitting"),
    ]
    why = "static: tilted from neutral before the standing baseline was known"
    assert found.suppressed[why] == 1


def test_nan_tilt_and_lost_samples():
    t, lat, act = _synthetic_static([(0, 15, 0), (15, 35, 6.0), (35, 40, 0)])
    lat[(t > 20) & (t < 21)] = np.nan  # tilt unknown for 1 s: bridged
    keep = (t < 25) | (t > 26.5)  # 1.5 s lost: bridged
    eps = detect_hip_hikes(t[keep], lat[keep], act[keep], [], [])
    assert len(eps) == 1 and np.isfinite(eps[0].mean_deg)
    keep = (t < 25) | (t > 28)  # 3 s lost: split
    assert len(detect_hip_hikes(t[keep], lat[keep], act[keep], [], [])) == 2


# --------------------------------------------------------------------------- gait


@pytest.fixture(scope="module")
def truth_walk():
    """Noise-free truth tilt of normal walking then left hiking (fast: no filter)."""
    sc = Scenario([Stand(5), Walk(40, cadence_spm=100), Walk(30, hike_side="left"), Stand(5)])
    return simulate(sc, rate_hz=100, seed=3).truth


def test_step_obliquity_sign_convention(truth_walk):
    tr = truth_walk
    walking = tr.activity == "walking"
    p = HipHikeParams()
    steps = step_obliquities(
        tr.time_s, tr.lateral_tilt_deg, walking, tr.initial_contact_s, tr.initial_contact_side, p
    )
    normal, hiked, asym_normal, asym_hiked = [], [], [], []
    for i, st in enumerate(steps):
        assert st.swing_side in ("left", "right") and st.valid
        assert np.isnan(st.elevation_deg) == (i == 0)  # the first step has no stride
        assert st.swing_side == tr.initial_contact_side[i + 1]
        if 8 < st.start_s < 42:
            normal.append(st.elevation_deg)
            asym_normal.append(st.asymmetry_deg)
        elif 48 < st.start_s < 72 and st.swing_side == "left":
            hiked.append(st.elevation_deg)
            asym_hiked.append(st.asymmetry_deg)
    # Relative to the stride's own mean: the swing side drops in normal gait, rises when
    # hiked; the asymmetry is ~0 in normal gait and positive for the hiking side.
    assert -4.0 < np.mean(normal) < -2.0 and max(normal) < -1.5
    assert min(hiked) > 1.0
    assert max(np.abs(asym_normal)) < 0.3 and min(asym_hiked) > 1.0
    # A constant frontal offset changes neither.
    shifted = step_obliquities(
        tr.time_s,
        tr.lateral_tilt_deg + 5.0,
        walking,
        tr.initial_contact_s,
        tr.initial_contact_side,
        p,
    )
    assert [s.elevation_deg for s in shifted[1:]] == pytest.approx(
        [s.elevation_deg for s in steps[1:]]
    )
    assert [s.asymmetry_deg for s in shifted[1:]] == pytest.approx(
        [s.asymmetry_deg for s in steps[1:]]
    )
    # A step alone has no stride: its swing elevation is unknown.
    alone = step_obliquity(
        tr.time_s,
        tr.lateral_tilt_deg,
        walking,
        tr.initial_contact_s[10],
        tr.initial_contact_side[10],
        tr.initial_contact_s[11],
        tr.initial_contact_side[11],
        p,
    )
    assert alone.valid and np.isnan(alone.elevation_deg) and np.isnan(alone.asymmetry_deg)


def test_gait_episode_needs_consecutive_strides_and_valid_contacts(truth_walk):
    tr = truth_walk
    args = (tr.time_s, tr.lateral_tilt_deg, tr.activity)
    eps = detect_hip_hikes(*args, tr.initial_contact_s, tr.initial_contact_side)
    assert [(e.side, e.kind) for e in eps] == [("left", "gait")]
    assert eps[0].start_s == pytest.approx(45, abs=1.5) and eps[0].end_s == pytest.approx(
        75, abs=1.5
    )
    # Swapped sides flip the swing sign of both sides, but the stride mean stays level.
    swapped = np.where(tr.initial_contact_side == "left", "right", "left")
    hike = tr.time_s < 44
    eps = detect_hip_hikes(*(a[hike] for a in args), tr.initial_contact_s, swapped)
    assert eps == []
    # "unknown" sides break runs: one every fourth contact leaves no 3 consecutive strides.
    sides = tr.initial_contact_side.copy().astype("<U7")
    sides[::4] = "unknown"
    assert detect_hip_hikes(*args, tr.initial_contact_s, sides) == []
    # Requiring more strides than the hike lasts finds nothing.
    assert (
        detect_hip_hikes(
            *args, tr.initial_contact_s, tr.initial_contact_side, HipHikeParams(gait_min_strides=40)
        )
        == []
    )


def test_labels_follow_the_episodes():
    t = np.arange(0, 10, 0.5)
    eps = [
        HipHikeEpisode("left", "static", "sitting", 1.0, 2.0, 6.0, 5.0),
        HipHikeEpisode("right", "gait", "walking", 5.0, 6.4, 5.0, 3.0),
    ]
    labels = hip_hike_labels(t, eps)
    assert labels.dtype == np.int8  # Side codes; words only at the edges
    words = side_names(labels).tolist()
    assert words == ([""] * 2 + ["left"] * 3 + [""] * 5 + ["right"] * 3 + [""] * 7)
    assert side_names(hip_hike_labels(t, [])).tolist() == [""] * t.size


# --------------------------------------------------------------------- parameters


def test_params_round_trip_and_validation():
    p = HipHikeParams(static_threshold_deg=5.0, gait_activities=("walking", "stairs"))
    doc = p.to_dict()
    assert doc["gait_activities"] == ["walking", "stairs"]
    assert HipHikeParams.from_dict(doc) == p
    assert HipHikeParams.from_dict({"static_activities": "sitting"}).static_activities == (
        "sitting",
    )
    with pytest.raises(ValueError, match=r"unknown hip-hike parameter.*threshold_deg"):
        HipHikeParams.from_dict({"threshold_deg": 4})
    with pytest.raises(ValueError, match="static_release_deg must be positive and not above"):
        HipHikeParams(static_release_deg=5.0)
    with pytest.raises(ValueError, match="gait_min_strides must be a whole number >= 1"):
        HipHikeParams(gait_min_strides=0)
    with pytest.raises(ValueError, match="max_step_s"):
        HipHikeParams(max_step_s=0.2)
    with pytest.raises(ValueError, match="swing_start_fraction"):
        HipHikeParams(swing_start_fraction=0.9)


def test_input_errors_are_readable():
    t = np.arange(5.0)
    with pytest.raises(ValueError, match="equal length"):
        detect_hip_hikes(t, np.zeros(4), ["sitting"] * 5, [], [])
    with pytest.raises(ValueError, match="strictly increasing; sample 3"):
        detect_hip_hikes([0, 1, 2, 2, 3], np.zeros(5), ["sitting"] * 5, [], [])
    with pytest.raises(ValueError, match="ic_time_s and ic_side must have equal length"):
        detect_hip_hikes(t, np.zeros(5), ["sitting"] * 5, [1.0], [])
    tracker = HipHikeTracker()
    tracker.update(t, np.zeros(5), ["sitting"] * 5, [1.0], ["left"])
    with pytest.raises(ValueError, match="time_s must keep increasing"):
        tracker.update(t, np.zeros(5), ["sitting"] * 5)
    with pytest.raises(ValueError, match="ic_time_s must keep increasing"):
        tracker.update([10.0], [0.0], ["sitting"], [0.5], ["right"])
