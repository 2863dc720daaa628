"""Hip-hike flags on real healthy people (HAPT): held-out false-flag rates as a ratchet.

HAPT's 15 people are healthy, so every flag is false. The thresholds that matter are chosen
leave-one-person-out exactly as ``bench/tune_flags.py`` does (fewest flags on the other 14,
ties to the more sensitive), over a reduced grid whose every point finds all simulated
hikes (checked by that script; the simulator tests check the defaults), and the held-out
rates are asserted. The full grid's choice on all 15 people is ``HipHikeParams``' defaults.
Measured when written (commit after 68e0ecb): level walking 0.0 gait flags/h, stairs up
15.6 / down 6.9 per hour, sitting+standing 9.5 static flags/h (before: 154, 202, 251, 93).
With the strides overlapping a turn left out (issue 15 item 2; the sessions' own turns):
level 2.9, up 0.0, down 0.0 gait flags/h, static 3.2/h. Every stair flag had lain on a
landing's turn; with them gone, one fold (user01 held out) now ties at zero on the other
14 people with 5 strides instead of 8 and, held out, raises one level-walking flag 4 s
after a 180 deg turn (26/h of that person's level walking) - hence level 0.0 -> 2.9.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from analysis.hiphike import HipHikeParams, analyze_hip_hikes
from bench.tune_flags import Session, counts, grid, hapt, lopo, rates
from tests.conftest import require_data

pytestmark = pytest.mark.data

GAIT_GRID = {"gait_asymmetry_deg": (0.8, 1.0), "gait_min_strides": (3, 5, 8)}
STATIC_GRID = {
    "static_min_duration_s": (3.0, 5.0),
    "static_rebaseline_after": (("lying",), ("lying", "sitting")),
}
# Achieved held-out figures plus a small margin (flags per hour; one flag in the ~20 min
# of labelled level walking is 3/h, in the ~38 min of sitting+standing 1.6/h).
MAX_LEVEL_PER_H = 2.0  # the target (ties go to the most specific combination)
MAX_UPSTAIRS_PER_H = 2.0
MAX_DOWNSTAIRS_PER_H = 2.0
MAX_STATIC_PER_H = 10.0


@pytest.fixture(scope="module")
def sessions() -> list[Session]:
    return hapt(require_data("hapt"))


def _held_out(sessions: list[Session], spec: dict, objective: str) -> dict[str, float]:
    people = sorted({s.person for s in sessions})
    per_combo = []
    for combo in grid(spec):
        params = replace(HipHikeParams(), **combo)
        by_person: dict[str, list[dict[str, float]]] = {}
        for s in sessions:
            found = analyze_hip_hikes(
                s.time_s,
                s.lateral_tilt_deg,
                s.activity,
                s.ic_time_s,
                s.ic_side,
                params,
                turns=s.turns,
            ).episodes
            by_person.setdefault(s.person, []).append(counts(s, found))
        per_combo.append(by_person)
    chosen = lopo(people, per_combo, [True] * len(per_combo), objective)
    return rates([row for _, row in chosen.values()])


def test_gait_flags_on_healthy_walking_held_out(sessions):
    r = _held_out(sessions, GAIT_GRID, "walk")
    print(
        f"\nHIPHIKE REAL held-out gait flags/h: level {r['level']:.1f}, "
        f"upstairs {r['up']:.1f}, downstairs {r['down']:.1f}"
    )
    assert r["level"] <= MAX_LEVEL_PER_H
    assert r["up"] <= MAX_UPSTAIRS_PER_H
    assert r["down"] <= MAX_DOWNSTAIRS_PER_H


def test_static_flags_on_healthy_sitting_and_standing_held_out(sessions):
    r = _held_out(sessions, STATIC_GRID, "static")
    print(
        f"\nHIPHIKE REAL held-out static flags/h: {r['static']:.1f} "
        f"(sitting {r['sit']:.1f}, standing {r['stand']:.1f})"
    )
    assert r["static"] <= MAX_STATIC_PER_H


def test_defaults_flag_less_than_the_neutral_referenced_detector(sessions):
    """The default detector on all 15 people, with reasons and suppressed counts."""
    flags = {"static": 0, "gait": 0}
    suppressed = 0
    rows = []
    for s in sessions:
        args = (s.time_s, s.lateral_tilt_deg, s.activity, s.ic_time_s, s.ic_side)
        found = analyze_hip_hikes(*args, turns=s.turns)
        for e in found.episodes:
            flags[e.kind] += 1
            assert 0 < e.confidence <= 1 and e.side in e.reason
        suppressed += sum(found.suppressed.values())
        rows.append(counts(s, found.episodes))
    r = rates(rows)
    print(f"\nHIPHIKE REAL defaults (tuned on all): {r}, {flags}, suppressed {suppressed}")
    assert r["level"] <= MAX_LEVEL_PER_H and r["static"] <= MAX_STATIC_PER_H
    # What is left out is counted: the steady offsets and habitual postures are many.
    assert suppressed > 10 * (flags["static"] + flags["gait"])
