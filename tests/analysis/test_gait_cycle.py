"""Gait-cycle curves: exact resampling of a known pattern, summaries, symmetry, JSON."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from analysis.gait.cycle import (
    N_POINTS,
    PERCENT,
    cycles_json,
    normal_band,
    side_summary,
    stride_cycles,
    symmetry_indices,
)
from simulator import Scenario, Stand, Walk, simulate

RATE_HZ = 100.0


def _pattern(phase: np.ndarray) -> np.ndarray:
    """Lateral tilt as a function of the gait phase (strides; left IC at integers)."""
    return 3.0 * np.sin(2 * np.pi * phase) + 1.2 * np.cos(6 * np.pi * phase) + 0.7


def _session(stride_s: float, n_strides: int = 8):
    t = np.arange(0.0, stride_s * (n_strides + 1), 1.0 / RATE_HZ)
    phase = t / stride_s
    ic_t = np.arange(0.0, t[-1] + 1e-9, stride_s / 2)
    ic_side = np.where(np.arange(ic_t.size) % 2 == 0, "left", "right")
    lateral = _pattern(phase)
    anterior = 2.0 * np.cos(4 * np.pi * phase) + 5.0
    return t, lateral, anterior, ic_t, ic_side


@pytest.mark.parametrize("stride_s", [1.0, 2.0])
def test_known_pattern_comes_back_exactly(stride_s):
    t, lat, ant, ic_t, ic_side = _session(stride_s)
    c = stride_cycles(t, lat, ant, ic_t, ic_side)
    x = PERCENT / 100.0
    assert c.obliquity_deg.shape[1] == N_POINTS and len(c) == ic_t.size - 2
    for k in range(len(c)):
        # Left: left up = + lateral tilt. Right: starts half a stride later, right up = -.
        want = _pattern(x) if c.side[k] == "left" else -_pattern(x + 0.5)
        np.testing.assert_allclose(c.obliquity_deg[k], want, rtol=0, atol=1e-9)
        np.testing.assert_allclose(
            c.anterior_tilt_deg[k], 2.0 * np.cos(4 * np.pi * x) + 5.0, rtol=0, atol=1e-9
        )
        assert c.step_time_s[k] == pytest.approx(stride_s / 2)
        assert c.end_s[k] - c.start_s[k] == pytest.approx(stride_s)


def test_mean_and_sd_per_side():
    t, lat, ant, ic_t, ic_side = _session(1.0, n_strides=3)
    c = stride_cycles(t, lat, ant, ic_t, ic_side)
    left = c.select(c.side == "left")
    assert len(left) == 3
    scaled = dataclasses.replace(left, obliquity_deg=left.obliquity_deg * [[1.0], [1.0], [2.0]])
    s = side_summary(scaled, "left")
    assert s["n_strides"] == 3
    x = PERCENT / 100.0
    three = np.stack([_pattern(x), _pattern(x), 2 * _pattern(x)])
    np.testing.assert_allclose(s["obliquity_mean_deg"], three.mean(0), atol=0.006)
    np.testing.assert_allclose(s["obliquity_sd_deg"], three.std(0, ddof=1), atol=0.006)
    assert side_summary(c, "none") == {
        "n_strides": 0,
        "obliquity_mean_deg": [None] * N_POINTS,
        "obliquity_sd_deg": [None] * N_POINTS,
        "anterior_tilt_mean_deg": [None] * N_POINTS,
        "anterior_tilt_sd_deg": [None] * N_POINTS,
    }


def test_last_strides_per_side():
    t, lat, ant, ic_t, ic_side = _session(1.0)
    c = stride_cycles(t, lat, ant, ic_t, ic_side)
    last = c.last(3)
    assert list(last.side).count("left") == 3 and list(last.side).count("right") == 3
    assert last.start_s.max() == c.start_s.max() and len(c.last(100)) == len(c)


def test_unusable_strides_are_left_out():
    t, lat, ant, ic_t, ic_side = _session(1.0)
    ic_side = ic_side.copy()
    ic_side[4] = "unknown"  # breaks the three strides through contact 4
    c = stride_cycles(t, lat, ant, ic_t, ic_side, exclude=[(6.2, 6.3)])
    assert not np.any((c.start_s <= ic_t[4]) & (c.end_s >= ic_t[4]))
    assert not np.any((c.start_s < 6.3) & (c.end_s > 6.2))  # the excluded span
    assert len(c) == 16 - 3 - 2
    lat = lat.copy()
    lat[150] = np.nan  # one unknown sample: the points next to it are unknown, not zero
    c = stride_cycles(t, lat, ant, ic_t, ["left", "right"] * 9)
    assert np.isnan(c.obliquity_deg).sum() >= 1
    assert np.isfinite(c.obliquity_deg[c.start_s > 2.0]).all()
    with pytest.raises(ValueError, match="match"):
        stride_cycles(t, lat[:-1], ant, ic_t, ic_side)
    assert len(stride_cycles(t, lat, ant, ic_t[:2], ic_side[:2])) == 0


def test_symmetry_indices():
    # Left steps (ending with a left contact) 0.6 s, right steps 0.4 s.
    t = np.arange(0.0, 12.0, 0.01)
    ic_t = np.round(np.cumsum([0.0] + [0.4, 0.6] * 9), 6)
    ic_side = np.where(np.arange(ic_t.size) % 2 == 0, "left", "right")
    lat = np.sin(2 * np.pi * t)
    c = stride_cycles(t, lat, 0 * t, ic_t, ic_side)
    sym = symmetry_indices(c)
    assert sym["step_time_s"]["left"] == pytest.approx(0.6)
    assert sym["step_time_s"]["right"] == pytest.approx(0.4)
    assert sym["step_time_s"]["symmetry_index_pct"] == pytest.approx(40.0)
    assert set(sym) == {"obliquity_rom_deg", "swing_obliquity_deg", "step_time_s"}


def test_simulated_drop_shows_in_the_swing_obliquity():
    """Truth tilt of a walk whose left side drops 6.5 deg extra: the left swing is lower
    than the right one, and its ROM larger."""
    s = simulate(Scenario([Stand(5), Walk(40, cadence_spm=90, drop_side="left")]), seed=2)
    tr = s.truth
    c = stride_cycles(
        tr.time_s,
        tr.lateral_tilt_deg,
        tr.anterior_tilt_deg,
        tr.initial_contact_s,
        tr.initial_contact_side,
    ).within(8.0, 42.0)
    sym = symmetry_indices(c)
    assert sym["swing_obliquity_deg"]["difference_deg"] < -3.0
    assert sym["obliquity_rom_deg"]["left"] > sym["obliquity_rom_deg"]["right"] + 2.0


def test_json_is_compact_and_finite():
    t, lat, ant, ic_t, ic_side = _session(1.1)
    lat = lat.copy()
    lat[:30] = np.nan
    doc = cycles_json(stride_cycles(t, lat, ant, ic_t, ic_side), [(0.0, 5.0), (5.0, 5.5)])
    text = json.dumps(doc, allow_nan=False)
    assert len(text) < 30_000
    assert doc["points"] == N_POINTS and len(doc["percent"]) == N_POINTS
    for side in ("left", "right"):
        assert len(doc["session"][side]["obliquity_mean_deg"]) == N_POINTS
    assert len(doc["bouts"]) == 1  # the 0.5 s bout holds no stride
    band = normal_band()
    assert band["reference"] == "zero-mean"
    assert abs(np.mean(band["obliquity"]["mean_deg"][:-1])) < 0.05
    peak_to_peak = np.ptp(band["obliquity"]["mean_deg"])
    assert 7.0 <= peak_to_peak <= 9.0  # Kadaba et al. 1990: ~8 deg


def test_cycle_chart_and_tables_render():
    from analysis.report.gait import (
        cycle_chart_svg,
        drop_table_html,
        gait_section_html,
        spatial_table_html,
    )

    t, lat, ant, ic_t, ic_side = _session(1.1)
    doc = cycles_json(stride_cycles(t, lat, ant, ic_t, ic_side))
    svg = cycle_chart_svg(doc, "obliquity")
    assert svg.count("<polyline") == 2 and svg.count("<polygon") == 3  # 2 sides, SD x2 + band
    assert "left (n=" in svg and "right (n=" in svg
    with pytest.raises(ValueError, match="signal"):
        cycle_chart_svg(doc, "yaw")
    empty = cycles_json(stride_cycles(t, lat, ant, ic_t[:2], ic_side[:2]))
    assert "no complete strides" in cycle_chart_svg(empty)
    assert drop_table_html([]) == "<p>None.</p>"
    row = {"side": "left", "start_s": 65.0, "end_s": 90.5, "peak_deg": None, "mean_deg": 6.2}
    table = drop_table_html([row])
    assert "1:05" in table and "25.5 s" in table and "–" in table
    bouts = [
        {
            "start_s": 0.0,
            "end_s": 30.0,
            "n_steps": 40,
            "walking_speed_mps": 1.1,
            "stride_length_m": None,
        }
    ]
    assert "1.10 m/s" in spatial_table_html(bouts)
    section = gait_section_html(doc, [row], bouts)
    assert section.count("<svg") == 2 and "Walking speed" in section
