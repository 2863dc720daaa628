"""Level reference of the frontal plane (analysis.level): habitual standing hike, fallbacks,
findings."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from analysis.hiphike import HipHikeParams
from analysis.labels import Activity
from analysis.level import (
    LevelFrom,
    LevelReference,
    level_findings,
    level_reference,
)
from analysis.session import analyze_recording
from simulator import Scenario, Sit, Stand, Turn, Walk, simulate

HIKE_DEG = -5.0  # right side up
#: With a level reference the static baseline is the level itself (never re-learnt).
LEVEL_BASELINE = HipHikeParams(
    static_neutral_baseline=("standing", "sitting"), static_baseline_min_s=1e9
)


def _habitual_hike() -> Scenario:
    """Stands 5 deg hiked on the right every time; sits and walks level."""
    return Scenario(
        [
            Stand(8, lateral_deg=HIKE_DEG),
            Walk(20),
            Stand(12, lateral_deg=HIKE_DEG),
            Walk(30, turns=(Turn(at_s=10, angle_deg=180),)),
            Sit(40),
            Stand(15, lateral_deg=HIKE_DEG),
            Walk(25),
            Sit(30),
        ]
    )


@pytest.fixture(scope="module")
def hiked():
    s = simulate(_habitual_hike(), mount=Rotation.random(random_state=21), seed=21)
    return s, analyze_recording(s.recording, source="hike")


def _lateral_rmse(s, lateral) -> dict[str, float]:
    out = {}
    for act in ("standing", "walking", "sitting"):
        m = s.truth.activity == act
        out[act] = float(np.sqrt(np.mean((lateral[m] - s.truth.lateral_tilt_deg[m]) ** 2)))
    return out


@pytest.mark.parametrize("level_from", ["walking", "sitting"])
def test_habitual_standing_hike_is_seen_with_level_from_walking_or_sitting(hiked, level_from):
    s, r = hiked
    stride_means = r.strides["obliquity_mean_deg"].to_numpy()
    ref = level_reference(
        r.lateral_tilt_deg,
        r.activity,
        r.rate_hz,
        level_from,
        stride_obliquity_mean_deg=stride_means,
    )
    assert ref.level_from.value == level_from and ref.note == ""
    assert ref.frontal_offset_deg == pytest.approx(-HIKE_DEG, abs=1.0)
    assert max(_lateral_rmse(s, r.lateral_tilt_deg).values()) > 4.0  # standing as level
    assert max(_lateral_rmse(s, r.lateral_tilt_deg - ref.frontal_offset_deg).values()) <= 1.5
    assert ref.standing_obliquity_deg == pytest.approx(HIKE_DEG, abs=1.0)
    # Through the analysis with the offset folded into the calibration: the standing
    # hikes are flagged on the right, nothing on the left. The static detector's
    # baseline must be the level, not the person's habitual tilt (which is the hike).
    assert r.calibration is not None
    cal = r.calibration.with_frontal_offset(ref.frontal_offset_deg, level_from)
    again = analyze_recording(
        s.recording, source="hike", calibration=cal, hip_hike_params=LEVEL_BASELINE
    )
    assert max(_lateral_rmse(s, again.lateral_tilt_deg).values()) <= 1.5
    sides = {(e["side"], e["activity"]) for e in again.episodes}
    assert ("right", "standing") in sides
    assert not any(side == "left" for side, _ in sides), again.episodes
    assert cal.to_dict()["level_reference"] == level_from


def test_standing_reference_zeroes_the_hike_and_says_so(hiked):
    _, r = hiked
    ref = level_reference(r.lateral_tilt_deg, r.activity, r.rate_hz)
    assert ref.level_from is LevelFrom.STANDING and ref.frontal_offset_deg == 0.0
    text = level_findings(ref)
    assert "cannot be seen" in text[1]


def test_missing_postures_fall_back_to_standing_with_a_note():
    rate = 50.0
    act = np.full(3000, Activity.STANDING, np.int8)
    act[1000:1400] = Activity.WALKING  # 8 s of walking, no sitting
    lateral = np.zeros(3000)
    ref = level_reference(lateral, act, rate, "walking")
    assert ref.level_from is LevelFrom.STANDING and ref.requested is LevelFrom.WALKING
    assert "needs >= 20 s of level walking (found 8 s)" in ref.note
    ref = level_reference(lateral, act, rate, "sitting")
    assert ref.level_from is LevelFrom.STANDING and "quiet sitting" in ref.note
    assert ref.note in " ".join(level_findings(ref)).lower()
    with pytest.raises(ValueError, match="standing obliquity"):
        level_reference(lateral, act, rate, "measured")
    with pytest.raises(ValueError, match="use one of standing, walking, sitting, measured"):
        level_reference(lateral, act, rate, "lying")


def test_measured_reference():
    act = np.full(1000, Activity.STANDING, np.int8)
    ref = level_reference(np.zeros(1000), act, 50.0, "measured", standing_obliquity_deg=-4.0)
    assert ref.frontal_offset_deg == 4.0 and ref.standing_obliquity_deg == -4.0


def _ref(standing: float, sitting: float | None, level: LevelFrom) -> LevelReference:
    return LevelReference(level, level, 0.0, standing, sitting, 0.0)


def test_findings_tell_legs_from_spine():
    legs = level_findings(_ref(-5.0, 0.3, LevelFrom.WALKING))
    assert "5.0 deg higher on the right" in legs[1]
    assert "leg-length" in legs[2] and "disappears" in legs[2]
    spine = level_findings(_ref(4.0, 3.5, LevelFrom.WALKING))
    assert "higher on the left" in spine[1] and "spine" in spine[2] and "stays" in spine[2]
    assert "level" in level_findings(_ref(0.8, 0.2, LevelFrom.WALKING))[1]
    assert "standing-vs-sitting" in level_findings(_ref(-5.0, 0.0, LevelFrom.SITTING))[2]
    assert "unknown" in level_findings(_ref(None, None, LevelFrom.WALKING))[1]  # type: ignore[arg-type]
