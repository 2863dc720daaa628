"""Issue 13, analysis side: unusable input is one InputError, impossible samples are gaps
(never used), results hold no NaN, no posture is invented, calibrations are validated."""

from __future__ import annotations

import json
import math
import os
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.calibration import Calibration, CalibrationError, load_calibration, mount_preset
from analysis.labels import activity_names
from analysis.session import analyze, analyze_recording
from recordings import InputError, Recording, write_recording
from simulator import Lie, Scenario, Sit, Stand, Walk, simulate
from tests.conftest import require_data

RATE_HZ = 100.0
#: Stand, walk (calibration), sit, walk with a left hip-hike, a static right hike.
SCENARIO = Scenario(
    [
        Stand(8),
        Walk(15),
        Sit(30),
        Stand(10),
        Walk(40),
        Walk(30, hike_side="left", hike_deg=5.0),
        Walk(20),
        Stand(10, lateral_deg=-7.0),
        Sit(20),
    ]
)


@pytest.fixture(scope="module")
def session():
    return simulate(SCENARIO, rate_hz=RATE_HZ, seed=21)


@pytest.fixture(scope="module")
def clean(session):
    return analyze_recording(session.recording, source="clean", workers=1)


def _rec(session) -> Recording:
    r = session.recording
    return replace(r, acc_mps2=r.acc_mps2.copy(), gyr_rps=r.gyr_rps.copy(), gaps=list(r.gaps))


def _walking_s(result) -> float:
    return float(result.summary().get("walking", {"duration_s": 0.0})["duration_s"])


def _assert_same_clinical_result(clean, result, n_bad: int) -> None:
    """Walking time, steps, hip-hikes and per-sample activity as without the bad samples."""
    assert abs(_walking_s(result) - _walking_s(clean)) <= 1.0
    assert abs(len(result.steps) - len(clean.steps)) <= 2
    assert [(e["side"], e["kind"]) for e in result.episodes] == [
        (e["side"], e["kind"]) for e in clean.episodes
    ]
    # A boundary stays put, or moves to the missing samples: an episode may stop at a
    # gap (its stride is incomplete) and go on after it, never move anywhere else.
    bad_s = [(g.start_s, g.end_s) for g in result.gaps if g.reason == "out_of_range"]

    def same_or_at_gap(t_s: float, clean_s: float) -> bool:
        return abs(t_s - clean_s) <= 1.0 or any(a - 1.5 <= t_s <= b + 1.5 for a, b in bad_s)

    for e, c in zip(result.episodes, clean.episodes, strict=True):
        assert same_or_at_gap(e["start_s"], c["start_s"]) and same_or_at_gap(e["end_s"], c["end_s"])
    # The same samples (minus the bad ones) carry the same activity.
    idx = np.searchsorted(clean.time_s, result.time_s)
    assert result.time_s.size == clean.time_s.size - n_bad
    assert np.mean(activity_names(clean.activity)[idx] == activity_names(result.activity)) >= 0.99
    assert any(g.reason == "out_of_range" for g in result.gaps)
    # Said in a note, by the analysis or (through a file) by the reader.
    assert any("range" in n and "gaps" in n for n in result.notes)
    json.dumps(result.to_json(), allow_nan=False)


def test_the_reference_session_has_what_the_checks_compare(clean):
    assert _walking_s(clean) > 90
    assert {e["side"] for e in clean.episodes} == {"left", "right"}
    assert len(clean.steps) > 150


WALKING_SAMPLE = int(70 * RATE_HZ)  # inside the first long walk
HIKE_SAMPLE = int(110 * RATE_HZ)  # inside the hip-hiking walk


@pytest.mark.parametrize(
    "channel, value, count",
    [
        ("acc", 1e10, 1),
        ("acc", 3e38, 11),
        ("gyr", 1e6, 1),
        ("acc", math.nan, 1),
        ("gyr", -math.inf, 11),
    ],
)
def test_corrupt_samples_in_memory_are_gaps_not_data(session, clean, channel, value, count):
    rec = _rec(session)
    for at in (WALKING_SAMPLE, HIKE_SAMPLE):
        getattr(rec, f"{channel}_rps" if channel == "gyr" else "acc_mps2")[at : at + count, 0] = (
            value
        )
    result = analyze_recording(rec, source="corrupt", workers=1)
    _assert_same_clinical_result(clean, result, 2 * count)


def test_the_sensor_s_stated_range_is_the_limit(session, clean):
    """A +-8 g sensor cannot read 12 g (the readers' rule): that sample is left out."""
    rec = _rec(session)
    rec = replace(rec, meta={**rec.meta, "ranges": {"acc_g": 8}})
    rec.acc_mps2[WALKING_SAMPLE, 2] = 12 * 9.80665
    result = analyze_recording(rec, workers=1)
    assert result.time_s.size == clean.time_s.size - 1
    assert [g.start_s for g in result.gaps if g.reason == "out_of_range"] == [
        clean.time_s[WALKING_SAMPLE - 1]
    ]


@pytest.mark.parametrize("value, count", [(1e10, 1), (3e38, 11)])
def test_corrupt_samples_through_a_recording_file(tmp_path, session, clean, value, count):
    rec = _rec(session)
    rec.acc_mps2[WALKING_SAMPLE : WALKING_SAMPLE + count, 2] = value
    rec.acc_mps2[HIKE_SAMPLE : HIKE_SAMPLE + count, 1] = -value
    path = tmp_path / "corrupt.psrec"
    write_recording(path, rec)
    result = analyze(path, workers=1)
    # The reader may already have turned them into gaps; either way none is used. The
    # file holds float32 samples: compare with the clean session through the same file.
    clean_path = tmp_path / "clean.psrec"
    write_recording(clean_path, session.recording)
    clean = analyze(clean_path, workers=1)
    _assert_same_clinical_result(clean, result, 2 * count)


@settings(max_examples=8, deadline=None)
@given(
    at=st.integers(int(30 * RATE_HZ), int(180 * RATE_HZ)),
    count=st.integers(1, 11),
    channel=st.sampled_from(["acc", "gyr"]),
    axis=st.integers(0, 2),
    value=st.sampled_from([math.nan, math.inf, -math.inf, 1e10, -3e38, 1e7]),
)
def test_any_few_impossible_samples_leave_the_result_alone(
    session, clean, at, count, channel, axis, value
):
    rec = _rec(session)
    target = rec.gyr_rps if channel == "gyr" else rec.acc_mps2
    target[at : at + count, axis] = value
    result = analyze_recording(rec, source="corrupt", workers=1)
    _assert_same_clinical_result(clean, result, count)


@pytest.mark.parametrize("gap_s", [0.6, 0.9])
def test_a_short_gap_does_not_end_a_walking_bout(session, clean, gap_s):
    rec = session.recording
    keep = np.ones(rec.n_samples, bool)
    keep[WALKING_SAMPLE : WALKING_SAMPLE + round(gap_s * RATE_HZ)] = False
    holed = replace(
        rec, time_s=rec.time_s[keep], acc_mps2=rec.acc_mps2[keep], gyr_rps=rec.gyr_rps[keep]
    )
    result = analyze_recording(holed, workers=1)
    assert len(result.bouts) == len(clean.bouts)
    assert abs(_walking_s(result) - _walking_s(clean)) <= gap_s + 0.5


# ------------------------------------------------------------------ unusable input


def _walk_rec(rate_hz: float, duration_s: float = 30.0) -> Recording:
    return simulate(Scenario([Stand(6), Walk(duration_s)]), rate_hz=rate_hz, seed=3).recording


def _one_line_input_error(exc: pytest.ExceptionInfo[InputError], source: str) -> str:
    msg = str(exc.value)
    assert "\n" not in msg and msg.startswith(source)
    return msg


@pytest.mark.parametrize("n", [0, 1])
def test_too_few_samples(session, n):
    r = session.recording
    rec = Recording(r.time_s[:n], r.acc_mps2[:n], r.gyr_rps[:n], RATE_HZ)
    with pytest.raises(InputError, match="nothing to analyse") as exc:
        analyze_recording(rec, source="tiny.psrec")
    _one_line_input_error(exc, "tiny.psrec")


def test_too_short(session):
    r = session.recording
    rec = Recording(r.time_s[:150], r.acc_mps2[:150], r.gyr_rps[:150], RATE_HZ)
    with pytest.raises(InputError, match=r"at least 2 s"):
        analyze_recording(rec, source="short.psrec")


@pytest.mark.parametrize(
    "time_scale, rate_hz, hint",
    [
        (1.0, 1.0, "outside 5-2000 Hz"),  # a 1 Hz CSV
        (1000.0, 0.1, "milliseconds"),  # time in ms: the CSV reader infers 0.1 Hz
        (1000.0, 100.0, "milliseconds"),  # time in ms, nominal rate right
        (1e-3, 1e5, "outside 5-2000 Hz"),
    ],
)
def test_implausible_sample_rates(time_scale, rate_hz, hint):
    r = _walk_rec(100.0)
    rec = replace(r, time_s=r.time_s * time_scale, rate_hz=rate_hz)
    with pytest.raises(InputError, match=hint) as exc:
        analyze_recording(rec, source="rate.csv")
    _one_line_input_error(exc, "rate.csv")


@pytest.mark.parametrize("rate_hz", [5.0, 10.0, 2000.0])
def test_every_plausible_rate_is_analysed(rate_hz):
    """The filters are designed for every rate from 5 Hz to 2 kHz (1 Hz broke scipy)."""
    rec = _walk_rec(rate_hz, 20.0 if rate_hz > 1000 else 30.0)
    result = analyze_recording(rec, workers=1)
    assert "walking" in set(activity_names(result.activity))
    json.dumps(result.to_json(), allow_nan=False)


def test_time_out_of_order(session):
    r = _rec(session)
    t = r.time_s.copy()
    t[500], t[501] = t[501], t[500]
    with pytest.raises(InputError, match=r"sample 501.*time order"):
        analyze_recording(replace(r, time_s=t), source="order.csv")


def test_one_absurd_time_stamp(session):
    """Found by the fuzz test: a first time of -1.8e17 s overflowed the gap count."""
    r = _rec(session)
    t = r.time_s.copy()
    t[0] = -1.8446744073709552e17
    with pytest.raises(InputError, match=r"sample 1: time jumps.*a time stamp is wrong"):
        analyze_recording(replace(r, time_s=t), source="jump.psrec")


def test_a_nan_time_is_a_gap_not_the_end(session, clean):
    r = _rec(session)
    t = r.time_s.copy()
    t[WALKING_SAMPLE] = math.nan
    result = analyze_recording(replace(r, time_s=t), workers=1)
    assert result.time_s.size == clean.time_s.size - 1


@pytest.mark.parametrize(
    "channel, scale, hint",
    [("gyr", 180 / math.pi, "deg/s"), ("acc", 1 / 9.80665, "like g"), ("acc", 1000.0, "unit")],
)
def test_wrong_units_are_one_input_error(session, channel, scale, hint):
    r = _rec(session)
    if channel == "gyr":
        r = replace(r, gyr_rps=r.gyr_rps * scale)
    else:
        r = replace(r, acc_mps2=r.acc_mps2 * scale)
    with pytest.raises(InputError, match=hint) as exc:
        analyze_recording(r, source="units.csv")
    _one_line_input_error(exc, "units.csv")


def test_many_values_beyond_the_range_are_refused_not_silently_thinned(session):
    r = _rec(session)
    r.acc_mps2[::20, 0] = 1e5  # 5 % of the samples: a scale problem, not damage
    with pytest.raises(InputError, match=r"5\.0 % of the samples are beyond"):
        analyze_recording(r, source="bad.psrec")


def test_many_missing_values_are_gaps(session, clean):
    r = _rec(session)
    r.gyr_rps[5000 : 5000 + 2000, 1] = np.nan  # 20 s not numbers: missing, not a unit problem
    result = analyze_recording(r, workers=1)
    assert result.time_s.size == clean.time_s.size - 2000
    assert any(g.reason == "out_of_range" and g.lost_samples == 2000 for g in result.gaps)
    assert any("2000 sample(s)" in n for n in result.notes)


@pytest.mark.parametrize("tilt", [math.nan, math.inf, 60.0, -46.0])
def test_standing_tilt_must_be_a_plausible_angle(session, tilt):
    with pytest.raises(InputError, match=r"standing_tilt_deg.*45 deg"):
        analyze_recording(session.recording, standing_tilt_deg=tilt)
    with pytest.raises(CalibrationError, match="45 deg"):
        mount_preset("sacral-mm+").with_standing_tilt(tilt)


# ------------------------------------------------------------------- honest posture


@pytest.mark.parametrize("phase", [Sit(120), Lie(120), Stand(120)], ids=["sit", "lie", "stand"])
def test_no_posture_is_invented_without_calibration_or_walking(phase):
    """Upright is unknown: every still sample is 'unknown', never a guessed 'standing'."""
    rec = simulate(Scenario([phase]), rate_hz=RATE_HZ, seed=5).recording
    result = analyze_recording(rec, workers=1)
    assert set(activity_names(result.activity)) == {"unknown"}
    assert any("upright is unknown" in n for n in result.notes)
    doc = result.to_json()
    assert doc["calibration"]["method"] == "none"
    assert doc["calibration"]["quality"]["verified"] is False
    assert set(doc["summary"]) == {"unknown"}
    json.dumps(doc, allow_nan=False)


@pytest.mark.parametrize(
    "phase, expected", [(Sit(120), "sitting"), (Lie(120), "lying")], ids=["sit", "lie"]
)
def test_with_a_mount_preset_the_posture_is_named(phase, expected):
    rec = simulate(Scenario([phase]), rate_hz=RATE_HZ, seed=5).recording
    result = analyze_recording(rec, calibration=mount_preset("sacral-mm+"), workers=1)
    assert np.mean(activity_names(result.activity) == expected) >= 0.9
    assert result.to_json()["calibration"]["quality"]["verified"] is False  # assumed mount


def test_a_normal_session_is_unchanged(clean):
    """Standing + walking calibrates as before; all five labels appear, calibration verified."""
    assert clean.calibration is not None and clean.calibration.method == "standing+walking"
    assert {"standing", "walking", "sitting"} <= set(activity_names(clean.activity))
    assert "unknown" not in set(activity_names(clean.activity))
    assert clean.to_json()["calibration"]["quality"]["verified"] is True


# ---------------------------------------------------------------- finite results


def test_every_hapt_session_gives_finite_json():
    """7 of these 31 real sessions had NaN (a bout of one stride) and crashed --json."""
    files = sorted(require_data("hapt").glob("hapt_exp*.csv"))
    assert len(files) == 31
    for path in files:
        doc = analyze(path, workers=1).to_json()
        json.dumps(doc, allow_nan=False)  # raises on NaN / inf / numpy types


def test_json_of_a_result_without_calibration_or_steps_is_finite():
    rec = simulate(Scenario([Sit(20)]), rate_hz=RATE_HZ, seed=6).recording
    doc = analyze_recording(rec, workers=1).to_json()
    text = json.dumps(doc, allow_nan=False)
    assert doc["gait"]["cadence_spm"] is None and "NaN" not in text


# ------------------------------------------------------------ saved calibrations


GOOD = mount_preset("sacral-mm+").with_standing_tilt(8.0).to_dict()


@pytest.mark.parametrize(
    "doc, reason",
    [
        ([GOOD], "JSON object is expected, not a list"),
        (3.5, "expected, not a number"),
        ("calibration", "expected, not a string"),
        ({**GOOD, "format": "x"}, "not a pelviscope calibration"),
        ({k: v for k, v in GOOD.items() if k != "sensor_to_pelvis_quat_wxyz"}, "missing"),
        ({**GOOD, "sensor_to_pelvis_quat_wxyz": [1, 0, 0]}, "unit quaternion"),
        ({**GOOD, "sensor_to_pelvis_quat_wxyz": [2, 0, 0, 0]}, "unit quaternion"),
        ({**GOOD, "sensor_to_pelvis_quat_wxyz": "1,0,0,0"}, "unit quaternion"),
        ({**GOOD, "sensor_to_pelvis_quat_wxyz": [1, 0, 0, None]}, "unit quaternion"),
        ({**GOOD, "standing_tilt_deg": 90}, "standing_tilt_deg"),
        ({**GOOD, "standing_tilt_deg": "8"}, "standing_tilt_deg"),
    ],
)
def test_saved_calibration_is_validated(tmp_path, doc, reason):
    with pytest.raises(CalibrationError, match=reason):
        Calibration.from_dict(doc)
    path = tmp_path / "cal.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(InputError) as exc:
        load_calibration(path)
    _one_line_input_error(exc, str(path))


@pytest.mark.parametrize(
    "text, reason",
    [
        ('{"format": ', "line 1: not valid JSON"),
        ('{"sensor_to_pelvis_quat_wxyz": [NaN, 0, 0, 1]}', "NaN"),
        ("", "not valid JSON"),
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
    ],
)
def test_calibration_file_that_is_not_json(tmp_path, text, reason):
    path = tmp_path / "cal.json"
    path.write_text(text)
    with pytest.raises(InputError, match=reason):
        load_calibration(path)


def test_calibration_file_missing_or_a_folder(tmp_path):
    with pytest.raises(InputError, match=r"cal\.json"):
        load_calibration(tmp_path / "cal.json")
    with pytest.raises(InputError):
        load_calibration(tmp_path)


def test_saved_calibration_round_trip(tmp_path):
    path = tmp_path / "cal.json"
    bad_quality = {**GOOD, "quality": {"notes": "not a list", "walking_s": "long"}}
    path.write_text(json.dumps(bad_quality))
    cal = load_calibration(path)
    assert cal.method == "saved" and cal.standing_tilt_deg == 8.0
    assert cal.quality.notes == [] and cal.quality.walking_s == 0.0
    np.testing.assert_allclose(
        cal.sensor_to_pelvis_quat_wxyz, GOOD["sensor_to_pelvis_quat_wxyz"], atol=1e-12
    )


# ----------------------------------------------------------------- any damage at all


FUZZ_EXAMPLES = int(os.environ.get("PELVISCOPE_FUZZ_EXAMPLES", "25"))


@pytest.fixture(scope="module")
def small():
    return simulate(Scenario([Stand(6), Walk(20), Sit(10)]), rate_hz=50, seed=9).recording


@settings(max_examples=FUZZ_EXAMPLES, deadline=None)
@given(
    data=st.data(),
    time_scale=st.sampled_from([1.0, 1.0, 1.0, 1000.0, 1e-3, -1.0]),
    rate_hz=st.one_of(st.just(50.0), st.floats(allow_nan=True, allow_infinity=True, width=32)),
    n_values=st.integers(0, 30),
    cut=st.tuples(st.integers(0, 1800), st.integers(0, 1800)),
)
def test_any_damage_gives_a_result_or_one_input_error(
    small, data, time_scale, rate_hz, n_values, cut
):
    """Random values anywhere, any rate, cut or rescaled time: never another exception."""
    rec = replace(
        small,
        time_s=small.time_s * time_scale,
        acc_mps2=small.acc_mps2.copy(),
        gyr_rps=small.gyr_rps.copy(),
        rate_hz=rate_hz,
    )
    n = rec.n_samples
    value = st.floats(allow_nan=True, allow_infinity=True)
    for _ in range(n_values):
        i = data.draw(st.integers(0, n - 1))
        target = data.draw(st.sampled_from(["acc_mps2", "gyr_rps", "time_s"]))
        arr = getattr(rec, target)
        if arr.ndim == 2:
            arr[i, data.draw(st.integers(0, 2))] = data.draw(value)
        else:
            arr[i] = data.draw(value)
    a, b = sorted(cut)
    keep = np.ones(n, bool)
    keep[a:b] = False
    rec = replace(
        rec, time_s=rec.time_s[keep], acc_mps2=rec.acc_mps2[keep], gyr_rps=rec.gyr_rps[keep]
    )
    try:
        result = analyze_recording(rec, source="fuzz", workers=1)
    except InputError as exc:
        assert "\n" not in str(exc) and str(exc).startswith("fuzz")
        return
    json.dumps(result.to_json(), allow_nan=False)
