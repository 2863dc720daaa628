"""The review window's Qt-free parts: cache, notes, min/max pyramid, model actions."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from analysis.calibration import mount_preset
from analysis.hiphike import HipHikeParams
from gui.review import cache
from gui.review.decimate import MinMaxPyramid
from gui.review.model import ReviewModel, open_session
from gui.review.notes import NotesError, load_notes, notes_path

pytestmark = pytest.mark.gui
DEMO = Path(__file__).resolve().parents[2] / "recordings" / "demo" / "clinic_tilted.psrec"
OTHER = DEMO.with_name("clinic.psrec")


@pytest.fixture(scope="module")
def analysed(tmp_path_factory):  # type: ignore[no-untyped-def]
    """The demo recording with its cache (analysed once for the module)."""
    folder = tmp_path_factory.mktemp("review_model")
    path = folder / DEMO.name
    shutil.copy(DEMO, path)
    session = open_session(path)
    assert not session.from_cache and session.cache_file == cache.cache_path(path)
    return path, session


def _copy(analysed, tmp_path: Path) -> Path:  # type: ignore[no-untyped-def]
    src, _ = analysed
    dst = tmp_path / src.name
    shutil.copy(src, dst)
    shutil.copy(cache.cache_path(src), cache.cache_path(dst))
    return dst


def test_cache_is_used_and_equals_fresh_analysis(analysed) -> None:  # type: ignore[no-untyped-def]
    path, fresh = analysed
    again = open_session(path)
    assert again.from_cache
    assert "analysis" not in again.timings_s
    a, b = fresh.result.to_json(), again.result.to_json()
    assert json.dumps(a, default=str) == json.dumps(b, default=str)
    np.testing.assert_array_equal(fresh.result.activity, again.result.activity)
    np.testing.assert_array_equal(fresh.result.lateral_tilt_deg, again.result.lateral_tilt_deg)
    # What the window derives comes back from the cache too (nothing recomputed).
    assert again.derived is not None and fresh.derived is not None
    assert again.derived.summary_rows == fresh.derived.summary_rows
    assert len(again.pyramid.levels) == len(fresh.pyramid.levels)
    for a_lv, b_lv in zip(again.pyramid.levels, fresh.pyramid.levels, strict=True):
        np.testing.assert_array_equal(a_lv.t, b_lv.t)
        np.testing.assert_array_equal(a_lv.ys[1], b_lv.ys[1])
    # A re-detection on the cached result gives what it gives on the fresh one.
    params = HipHikeParams(static_threshold_deg=5.0)
    assert again.result.redetect(params).episodes == fresh.result.redetect(params).episodes


def test_cache_survives_a_touch_but_not_a_change(analysed, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = _copy(analysed, tmp_path)
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))  # same content
    assert open_session(path).from_cache
    shutil.copy(OTHER, path)  # different recording under the same name
    reopened = open_session(path)
    assert not reopened.from_cache
    assert open_session(path).from_cache  # re-written for the new content


def test_cache_invalidated_by_analysis_version(analysed, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    path = _copy(analysed, tmp_path)
    monkeypatch.setattr(cache, "ANALYSIS_VERSION", "999")
    assert not open_session(path).from_cache


OPTIONS = {"acc_unit": "mps2", "gyr_unit": "rps"}  # what open_session loads with


def _changed_default(monkeypatch, cls: type) -> str:  # type: ignore[no-untyped-def]
    """Change the default of ``cls``'s first non-zero float field by 1 % (as an edit would)."""
    f = next(f for f in dataclasses.fields(cls) if isinstance(f.default, float) and f.default)
    monkeypatch.setitem(cls.__init__.__kwdefaults__, f.name, f.default * 1.01)
    assert getattr(cls(), f.name) == f.default * 1.01
    return f.name


def test_cache_key_covers_every_parameter(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    classes = {c.__name__ for c in cache.stage_param_classes()}
    assert {"OrientationParams", "CalibrationParams", "ActivityParams", "GaitParams",
            "HipHikeParams"} <= classes  # fmt: skip
    base = cache.params_key(OPTIONS)
    # The same parameters, however given, are the same key.
    assert cache.params_key(dict(OPTIONS), hip_hike_params=HipHikeParams()) == base
    assert cache.params_key(OPTIONS, standing_tilt_deg=None) == base
    cal = mount_preset("sacral-mm+")
    assert cache.params_key(OPTIONS, calibration=cal) == cache.params_key(
        OPTIONS, calibration=mount_preset("sacral-mm+"))  # fmt: skip
    changed = {
        "units": cache.params_key({**OPTIONS, "acc_unit": "g"}),
        "hip-hike": cache.params_key(OPTIONS, hip_hike_params=HipHikeParams(
            static_threshold_deg=HipHikeParams().static_threshold_deg + 0.5)),
        "standing tilt": cache.params_key(OPTIONS, standing_tilt_deg=10.0),
        "calibration": cache.params_key(OPTIONS, calibration=cal),
        "other calibration": cache.params_key(OPTIONS, calibration=cal.with_standing_tilt(5.0)),
    }  # fmt: skip
    for cls in cache.stage_param_classes():
        if any(isinstance(f.default, float) and f.default for f in dataclasses.fields(cls)):
            with monkeypatch.context() as mp:
                name = _changed_default(mp, cls)
                changed[f"default {cls.__name__}.{name}"] = cache.params_key(OPTIONS)
    assert cache.params_key(OPTIONS) == base  # the defaults are back
    assert base not in changed.values()
    assert len(set(changed.values())) == len(changed), changed


def test_a_changed_parameter_misses_the_cache_the_same_hit(analysed, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    path = _copy(analysed, tmp_path)
    assert cache.load(path, OPTIONS) is not None
    assert cache.load(path, dict(OPTIONS), hip_hike_params=HipHikeParams()) is not None
    other = HipHikeParams(static_threshold_deg=5.0)
    assert cache.load(path, OPTIONS, hip_hike_params=other) is None
    assert cache.load(path, OPTIONS, standing_tilt_deg=10.0) is None
    assert cache.load(path, OPTIONS, calibration=mount_preset("sacral-mm+")) is None
    assert cache.load(path, {**OPTIONS, "acc_unit": "g"}) is None
    # A changed default of a stage (here the activity's): the review analyses afresh ...
    from analysis.activity import ActivityParams

    with monkeypatch.context() as mp:
        _changed_default(mp, ActivityParams)
        session = open_session(path)
        assert not session.from_cache and not session.cache_note  # stale, not damaged
        assert open_session(path).from_cache  # ... and caches under the new key,
    assert not open_session(path).from_cache  # which the old defaults do not hit.
    assert open_session(path).from_cache


def test_a_redetected_result_is_not_cached_under_the_default_key(analysed, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = _copy(analysed, tmp_path)
    _, session = analysed
    other = session.result.redetect(HipHikeParams(static_threshold_deg=5.0))
    key = cache.file_key(path, with_hash=True)
    with pytest.raises(ValueError, match="thresholds"):
        cache.save(path, other, [], key, OPTIONS)
    assert cache.save(path, other, [], key, OPTIONS, hip_hike_params=other.hip_hike_params)
    assert cache.load(path, OPTIONS) is None
    hit = cache.load(path, OPTIONS, hip_hike_params=HipHikeParams(static_threshold_deg=5.0))
    assert hit is not None and hit.result.episodes == other.episodes


def test_unwritable_cache_gives_no_cache_and_no_error(analysed, tmp_path) -> None:  # type: ignore[no-untyped-def]
    src, _ = analysed
    path = tmp_path / src.name
    shutil.copy(src, path)
    cache.cache_path(path).mkdir()  # a directory in the way: the cache cannot be written
    session = open_session(path)
    assert session.cache_file is None and not session.from_cache
    assert "not a regular file" in session.cache_note
    # Nothing left behind (no temporary file) and the directory untouched.
    assert sorted(tmp_path.iterdir()) == sorted([cache.cache_path(path), path])


def test_threshold_change_redetects(analysed) -> None:  # type: ignore[no-untyped-def]
    _path, session = analysed
    model = ReviewModel(session)
    before = len(model.episodes)
    assert before == 3
    model.set_params(HipHikeParams(static_threshold_deg=6.5, static_release_deg=3.0))
    statics = [e for e in model.episodes if e["kind"] == "static"]
    assert all(e["peak_deg"] >= 6.5 for e in statics)
    assert len(model.episodes) < before
    assert model.notes.hip_hike_params is not None  # remembered for the next open
    model.set_params(HipHikeParams())
    assert len(model.episodes) == before and model.notes.hip_hike_params is None


def test_markers_and_notes_round_trip(analysed, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = _copy(analysed, tmp_path)
    model = ReviewModel(open_session(path), load_notes(path))
    model.add_marker(120.0, "pain", "reports pain on the left")
    i = model.add_marker(30.0, "start")
    model.edit_marker(i, label="start of walk")
    model.notes.session_note = "first visit"
    model.set_params(HipHikeParams(static_threshold_deg=6.5))
    model.save_notes()
    notes = load_notes(path)
    got = [(m.time_s, m.label) for m in notes.markers]
    assert got == [(30.0, "start of walk"), (120.0, "pain")]
    assert notes.markers[1].note == "reports pain on the left"
    assert notes.session_note == "first visit"
    reopened = ReviewModel(open_session(path), notes)
    assert reopened.params.static_threshold_deg == 6.5
    assert len(reopened.episodes) == len(model.episodes)
    notes_path(path).write_text("{broken")
    with pytest.raises(NotesError, match="not valid JSON"):
        load_notes(path)


def test_exports(analysed, tmp_path) -> None:  # type: ignore[no-untyped-def]
    _, session = analysed
    model = ReviewModel(session)
    model.export_html(tmp_path / "r.html")
    model.export_csv(tmp_path / "s.csv")
    model.export_episodes_csv(tmp_path / "e.csv")
    assert "<html" in (tmp_path / "r.html").read_text().lower()
    header = (tmp_path / "s.csv").read_text().splitlines()[0]
    assert header == "time_s,anterior_tilt_deg,lateral_tilt_deg,activity,hip_hike"
    rows = (tmp_path / "e.csv").read_text().splitlines()
    assert rows[0].startswith("side,kind,activity,start_s,duration_s,peak_deg,mean_deg")
    assert len(rows) == 1 + len(model.episodes)


def test_episode_navigation(analysed) -> None:  # type: ignore[no-untyped-def]
    _, session = analysed
    model = ReviewModel(session)
    assert model.neighbour_episode(None, +1, 0.0) == 0
    assert model.neighbour_episode(0, +1, 0.0) == 1
    assert model.neighbour_episode(2, +1, 0.0) is None
    assert model.neighbour_episode(None, -1, 1e9) == 2
    x0, x1 = model.episode_span(1)
    e = model.episodes[1]
    assert x0 < e["start_s"] and e["end_s"] < x1


def test_pyramid_keeps_peaks_and_gaps() -> None:
    rate = 100.0
    t = np.arange(200_000) / rate
    t[100_000:] += 60.0  # a one-minute gap
    y = np.sin(t)
    y[5_000] = 50.0  # a spike
    pyr = MinMaxPyramid(t, (y,), rate)
    assert len(pyr.levels) > 3
    for x0, x1 in [(t[0], t[-1]), (900.0, 1100.0), (49.0, 51.0)]:
        tv, (yv,) = pyr.view(x0, x1, 2000)
        assert tv.size <= 2100
        assert np.all(np.diff(tv) >= 0)
        if x0 <= 50.0 <= x1:
            assert np.nanmax(yv) == 50.0
        if x0 < 1000.0 < x1:  # the gap is drawn as a break, nothing inside it
            inside = (tv > t[99_999]) & (tv < t[100_000])
            assert inside.sum() == 1 and np.isnan(yv[inside]).all()
    tv, (yv,) = pyr.view(10.0, 11.0, 2000)
    np.testing.assert_array_equal(yv[(tv >= 10.0) & (tv <= 11.0)], y[1000:1101])
