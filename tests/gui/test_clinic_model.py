"""The clinic screen's Qt-free model fed simulated sessions in chunks (issue 18 item 3)."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.calibration import mount_preset
from analysis.clinical import State
from gui.clinic.model import ClinicModel, ClinicSpec, Step
from simulator.clinical import (
    ClinicalScript,
    SingleLegStance,
    SitToStandSet,
    demo_script,
    simulate_clinical,
)
from simulator.scenario import Sit, Stand

CHUNK = 5  # samples per chunk: 50 ms at 100 Hz, like a BLE notification batch


def _feed(model, session, chunk=CHUNK):
    r = session.recording
    views = []
    for i in range(0, r.time_s.size, chunk):
        sl = slice(i, i + chunk)
        views.append((float(r.time_s[sl][-1]), model.feed(r.time_s[sl], r.acc_mps2[sl],
                                                          r.gyr_rps[sl])))
    return views


def _model(spec, session):
    return ClinicModel(spec, session.recording.rate_hz, mount_preset("sacral-mm+"))


def test_single_leg_stance_live_result_and_latency():
    session = simulate_clinical(demo_script("sls", "left"), seed=4)
    model = _model(ClinicSpec(kind="sls", side="left"), session)
    views = _feed(model, session)
    truth = session.items[0]
    assert model.step is Step.RESULT
    r = model.outcome.result
    assert abs(r["drop_deg"] - truth["drop_deg"]) <= 1.0
    assert abs(r["hold_s"] - truth["hold_s"]) <= 0.5
    assert r["trendelenburg"] == "positive"
    steps = [v.step for _, v in views]
    assert steps[0] is Step.COUNTDOWN and Step.MEASURE in steps
    measuring = [(t, v) for t, v in views if v.step is Step.MEASURE and "drop_deg" in v.feedback]
    assert measuring, "no live drop feedback while standing on one leg"
    for t_last, v in views:
        if v.step in (Step.COUNTDOWN, Step.MEASURE):
            # Every frame reflects the newest chunk: feedback lags the data by < 1 chunk.
            assert v.data_time_s == t_last
    # Wall time per chunk (analysis included), typical; a loaded CI machine may stall one.
    assert np.median([v.process_s for _, v in views]) < 0.05
    # The drop appears on screen within 100 ms (data time) of the weight shift's end.
    first_fb = measuring[0][0]
    assert first_fb - truth["lift_s"] <= 0.1 + 0.3  # + the 0.3 s median of the feedback
    assert all(v.tone == "bad" for t, v in measuring if t > truth["lift_s"] + 0.5)


def test_tilt_control_feedback_follows_the_data_within_100_ms():
    session = simulate_clinical(demo_script("tilt_control"), seed=5)
    model = _model(ClinicSpec(kind="tilt_control"), session)
    views = _feed(model, session)
    assert model.outcome is not None and model.outcome.state is State.DONE
    assert model.outcome.result["holds"] == 6
    t, ant = session.truth.time_s, session.truth.anterior_tilt_deg
    inside = np.min(np.abs(ant[:, None] - np.array([8.0, -8.0])), axis=1) <= 2.0
    changes = t[1:][np.diff(inside.astype(int)) != 0]
    checked = 0
    for t_last, v in views:
        if v.step is not Step.MEASURE or "in_band" not in v.feedback:
            continue
        near = changes.size and np.min(np.abs(changes - t_last)) <= 0.1
        if not near:
            assert v.feedback["in_band"] == bool(inside[np.searchsorted(t, t_last) - 1])
            checked += 1
    assert checked > 500


def test_bad_executions_give_repeat_and_no_result():
    quick = simulate_clinical(ClinicalScript([Stand(5), SingleLegStance("right", 0.5, 3.0)]),
                              seed=6)
    m = _model(ClinicSpec(kind="sls", side="right"), quick)
    _feed(m, quick)
    view = m.stop()
    assert view.step is Step.REPEAT and "touched down at once" in view.detail.lower()
    assert m.outcome.result == {}
    three = simulate_clinical(ClinicalScript([Sit(5), SitToStandSet((2.5, 2.5, 2.5))]), seed=7)
    m = _model(ClinicSpec(kind="sts"), three)
    _feed(m, three)
    assert m.step is Step.MEASURE and m.view.value == "3 / 5"
    view = m.stop()
    assert view.step is Step.REPEAT and "Only 3 of 5 rises" in view.detail
    assert m.outcome.to_json()["valid"] is False


def test_level_walking_flags_the_hike_live():
    session = simulate_clinical(demo_script("level_walking", "right"), seed=8)
    model = _model(ClinicSpec(kind="level_walking"), session)
    views = _feed(model, session, chunk=10)
    flags = {v.feedback.get("flag") for _, v in views if v.step is Step.MEASURE}
    assert "right" in flags and "left" not in flags
    final = model.stop()
    assert final.outcome.result["hike_sides"] == ["right"]


def test_spec_checks():
    with pytest.raises(ValueError):
        ClinicSpec(kind="sls")
    with pytest.raises(ValueError):
        ClinicSpec(kind="jump")


def test_walk_test_stops_by_itself_when_the_person_stands_still():
    session = simulate_clinical(demo_script("walk"), seed=11)  # stand 4, walk 24, stand 4
    model = _model(ClinicSpec(kind="walk"), session)
    views = _feed(model, session, chunk=10)
    assert model.step is Step.RESULT  # without stop(): ended from the signal
    end = next(t for t, v in views if v.step is Step.RESULT)
    assert 28 + 2 <= end <= 32
    assert abs(model.outcome.result["cadence_spm"] - 104) < 5
