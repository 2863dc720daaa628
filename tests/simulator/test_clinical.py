"""The clinical session simulator: every item has ground truth consistent with the signals."""

from __future__ import annotations

import numpy as np
import pytest

from simulator import Sit, Stand
from simulator.clinical import (
    ClinicalScript,
    SingleLegStance,
    SitToStandSet,
    TiltSet,
    simulate_clinical,
    standard_session,
)
from simulator.imu import ImuErrors
from simulator.trajectory import GRAVITY_MPS2


def test_standard_session_items_and_truth():
    s = simulate_clinical(standard_session(seed=0), seed=0)
    kinds = [it["kind"] for it in s.items]
    assert kinds == ["sls", "sls", "sts"]
    left, right, sts = s.items
    assert left["side"] == "left" and abs(left["drop_deg"] - 5.0) < 1.0
    assert right["hold_s"] == 30.0 and abs(right["drop_deg"] + 1.0) < 1.0
    assert len(sts["reps"]) == 5
    assert all(r["shift_deg"] > 3.0 for r in sts["reps"])  # favours right: left side up
    first, last = sts["reps"][0], sts["reps"][-1]
    assert sts["total_s"] == pytest.approx(last["stand_s"] - first["rise_start_s"])
    seg_ends = [seg["end_s"] for seg in s.truth.segments]
    assert seg_ends == sorted(seg_ends)
    assert s.recording.time_s[-1] == pytest.approx(seg_ends[-1], abs=0.02)


def test_single_leg_stance_signals():
    s = simulate_clinical(ClinicalScript([Stand(4), SingleLegStance("right", 5.0, 4.0)]),
                          seed=1, errors=ImuErrors.ideal())
    it = s.items[0]
    t, lat = s.truth.time_s, s.truth.lateral_tilt_deg
    held = lat[(t > it["lift_s"]) & (t < it["touchdown_s"])]
    assert np.median(held) == pytest.approx(-4.0, abs=1.0)  # stance right: left side drops
    # The sacral mount has the sensor x up: the touch-down impact is on that axis.
    acc_x = s.recording.acc_mps2[:, 0] - GRAVITY_MPS2
    near = np.abs(s.recording.time_s - it["touchdown_s"]) < 0.2
    assert np.abs(acc_x[near]).max() > 1.0


def test_sit_to_stand_and_tilt_set_truth():
    s = simulate_clinical(ClinicalScript([Sit(3), SitToStandSet((2.5, 3.0)), Stand(2),
                                          TiltSet((10.0, -6.0), (3.0, 2.0))]), seed=2)
    sts, tilt = s.items
    assert [r["stand_s"] - r["rise_start_s"] for r in sts["reps"]] == pytest.approx([1.0, 1.2])
    assert sts["reps"][1]["rise_start_s"] - sts["reps"][0]["rise_start_s"] == pytest.approx(2.5)
    assert [h["mean_deg"] for h in tilt["holds"]] == pytest.approx([10.0, -6.0], abs=0.6)


def test_bad_scripts_refused():
    with pytest.raises(ValueError):
        ClinicalScript([])
    with pytest.raises(ValueError):
        ClinicalScript([SitToStandSet((1.0,))])
    with pytest.raises(ValueError):
        ClinicalScript([TiltSet((5.0,), (1.0, 2.0))])
