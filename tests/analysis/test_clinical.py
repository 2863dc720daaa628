"""Clinical tests and exercises on simulated sessions with known truth (issue 18)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from analysis.clinical import (
    Person,
    State,
    TiltTargets,
    analyze_marked,
    analyze_single_leg_stance,
    analyze_sit_to_stand,
    analyze_standing,
    analyze_walk,
    html_section,
    level_balance,
    level_walking,
    sts_no_shift,
    tilt_control,
)
from simulator.clinical import (
    ClinicalScript,
    SingleLegStance,
    SitToStandSet,
    TiltSet,
    standard_session,
)
from simulator.scenario import Sit, Stand, Walk
from tests.analysis.clinical_helpers import run

SLS_CASES = [  # stance side, drop of the unsupported side, hold, seed, random mount
    ("left", 5.0, 18.0, 1, False),
    ("right", -1.5, 30.0, 2, False),
    ("right", 3.0, 7.5, 3, True),
    ("left", 0.0, 24.0, 4, True),
]


@pytest.mark.parametrize(("side", "drop", "hold", "seed", "random_mount"), SLS_CASES)
def test_single_leg_stance_drop_and_hold(side, drop, hold, seed, random_mount):
    mount = Rotation.random(random_state=seed) if random_mount else None
    script = ClinicalScript([Stand(6), Walk(14), Stand(4),
                             SingleLegStance(side, hold, drop_deg=drop)])
    session, sig = run(script, seed=seed, auto=random_mount, mount=mount)
    truth = session.items[0]
    out = analyze_single_leg_stance(sig.window(truth["start_s"] - 2, truth["end_s"]), side)
    assert out.state is State.DONE, out.message
    r = out.result
    assert abs(r["drop_deg"] - truth["drop_deg"]) <= 1.0
    assert abs(r["hold_s"] - truth["hold_s"]) <= 0.5
    positive = truth["drop_deg"] > 2.0 or truth["hold_s"] < 30.0
    assert r["trendelenburg"] == ("positive" if positive else "negative")
    assert "Hardcastle" in r["criterion_source"]


def test_touch_down_at_once_is_repeated_without_result():
    script = ClinicalScript([Stand(6), SingleLegStance("right", 0.6, drop_deg=4.0)])
    _, sig = run(script, seed=5)
    out = analyze_single_leg_stance(sig, "right")
    assert out.state is State.REPEAT
    assert "touched down at once" in out.message.lower()
    assert out.result == {}
    doc = out.to_json()
    assert doc["valid"] is False and "drop_deg" not in doc


def test_no_lift_is_repeated_and_live_waits():
    _, sig = run(ClinicalScript([Stand(10)]), seed=6)
    assert analyze_single_leg_stance(sig, "left", final=False).state is State.WAITING
    assert analyze_single_leg_stance(sig, "left").state is State.REPEAT


STS_CASES = [  # rep times, favoured side, seed
    ((2.2, 2.6, 2.4, 3.0, 2.1), "right", 11),
    ((3.0, 3.2, 2.8, 3.4, 3.0), "left", 12),
    ((2.0, 2.0, 2.1, 2.0, 2.2), None, 13),
]


@pytest.mark.parametrize(("reps", "side", "seed"), STS_CASES)
def test_five_times_sit_to_stand(reps, side, seed):
    script = ClinicalScript([Sit(4), SitToStandSet(reps, shift_side=side, shift_deg=4.0)])
    session, sig = run(script, seed=seed)
    truth = session.items[0]
    out = analyze_sit_to_stand(sig, age_years=75)
    assert out.state is State.DONE, out.message
    r = out.result
    assert abs(r["total_s"] - truth["total_s"]) <= 0.5
    assert r["reps"] == 5 and r["extra_rises"] == 0
    for found, true in zip(r["rises"], truth["reps"], strict=True):
        assert abs(found["rise_start_s"] - true["rise_start_s"]) <= 0.5
        assert found["favoured_side"] == (side or "none")
        assert 15 <= found["peak_forward_lean_deg"] <= 25
    assert r["favoured_side"] == (side or "none")
    assert r["norm"]["age_band"] == "70-79"
    assert r["norm"]["worse_than_average"] == (truth["total_s"] > 12.6)
    exercise = sts_no_shift(sig)
    assert exercise.result["rises_without_shift"] == (5 if side is None else 0)


def test_three_of_five_rises_is_repeated():
    script = ClinicalScript([Sit(4), SitToStandSet((2.5, 2.5, 2.5))])
    _, sig = run(script, seed=14)
    out = analyze_sit_to_stand(sig)
    assert out.state is State.REPEAT
    assert "Only 3 of 5 rises" in out.message
    assert out.result == {}
    assert analyze_sit_to_stand(sig, final=False).state is State.RUNNING


def test_standing_posture_and_moving_during_it():
    _, sig = run(ClinicalScript([Stand(31, tilt_deg=0.0, lateral_deg=0.0)]), seed=21)
    out = analyze_standing(sig)
    assert out.state is State.DONE
    assert abs(out.result["anterior_tilt_deg"]) < 1.0
    assert abs(out.result["obliquity_deg"]) < 1.0
    assert 0 < out.result["sway_lateral_sd_deg"] < 1.0
    assert analyze_standing(sig.window(0, 10)).state is State.RUNNING
    _, moved = run(ClinicalScript([Stand(12), Walk(5), Stand(15)]), seed=22)
    bad = analyze_standing(moved)
    assert bad.state is State.REPEAT and "moved" in bad.message and not bad.result


def test_tilt_control_counts_holds_exactly():
    # Holds of 4 s count, 1.5 s do not, a target missed by 5 deg does not.
    script = ClinicalScript([Stand(3), TiltSet((8, -8, 8, -8, 8, 3, -8),
                                               (4, 4, 1.5, 4, 4, 4, 1.5))])
    session, sig = run(script, seed=31)
    targets = TiltTargets(targets_deg=(8.0, -8.0), band_deg=2.0, hold_s=3.0, reps=6)
    out = tilt_control(sig, targets)
    assert out.state is State.DONE
    assert out.result["holds"] == 4
    assert out.result["holds_per_target"] == {"+8": 3, "-8": 1} or (
        out.result["holds_per_target"] == {"+8": 2, "-8": 2})
    truth_holds = [h for h in session.items[0]["holds"]
                   if abs(h["target_deg"]) == 8 and h["end_s"] - h["start_s"] >= 3.0]
    assert out.result["holds"] == len(truth_holds)
    assert out.result["range_deg"] > 14


def test_level_balance_and_walk_and_level_walking():
    script = ClinicalScript([Stand(6), Walk(14), Stand(3),
                             SingleLegStance("right", 20.0, drop_deg=0.5),
                             Walk(30, cadence_spm=100, hike_side="right", hike_deg=6.0),
                             Stand(3)])
    session, sig = run(script, seed=41)
    sls = session.items[0]
    bal = level_balance(sig.window(sls["start_s"] - 2, sls["end_s"]), "right")
    assert bal.state is State.DONE and bal.result["time_level_s"] > 17
    walk_span = sig.window(sls["end_s"], float(sig.time_s[-1]) + 1)
    walk = analyze_walk(walk_span)
    assert walk.state is State.DONE
    assert abs(walk.result["cadence_spm"] - 100) < 5
    assert walk.result["per_side"]["left"]["strides"] > 5
    assert abs(walk.result["walking_speed_mps"] - 1.25) < 0.25  # the script's 1.25 m/s
    lw = level_walking(walk_span)
    assert lw.state is State.DONE and lw.result["hike_sides"] == ["right"]
    assert lw.result["drop_sides"] == []


def test_level_walking_finds_a_pelvic_drop_and_nothing_in_normal_gait():
    script = ClinicalScript([Stand(4), Walk(50, cadence_spm=96, drop_side="left"), Stand(3)])
    _, sig = run(script, seed=42)
    out = level_walking(sig)
    assert out.result["drop_sides"] == ["left"] and out.result["hike_sides"] == []
    assert "pelvic drop on the left" in html_section([], [out.to_json()])
    _, normal = run(ClinicalScript([Stand(4), Walk(50, cadence_spm=100), Stand(3)]), seed=43)
    out = level_walking(normal)
    assert out.result["drop_sides"] == [] and out.result["hike_sides"] == []


def test_marked_session_json_and_html():
    session, sig = run(standard_session(seed=3), seed=3, auto=True)
    items = {it["kind"] + it.get("side", ""): it for it in session.items}
    marks = [(20.5, "standing"), (items["slsleft"]["start_s"] - 1.5, "sls-left"),
             (items["slsright"]["start_s"] - 1.5, "sls-right"),
             (items["sts"]["start_s"] - 2.0, "sts"), (items["sts"]["end_s"], "walk")]
    doc = analyze_marked(sig, marks, Person(age_years=65))
    kinds = [(d["kind"], d["valid"]) for d in doc["tests"]]
    assert kinds == [("standing", True), ("sls", True), ("sls", True), ("sts", True),
                     ("walk", True)]
    left = doc["tests"][1]
    assert left["trendelenburg"] == "positive" and left["side"] == "left"
    html = html_section(doc["tests"], doc["exercises"])
    assert "Trendelenburg POSITIVE" in html and "Bohannon" in html
    assert "left against right" in html
    bad = analyze_sit_to_stand(sig.window(0, 5)).to_json()
    assert "No result" in html_section([bad], [])
    import json
    json.dumps(doc, allow_nan=False)
    assert np.isfinite(doc["tests"][3]["total_s"])
