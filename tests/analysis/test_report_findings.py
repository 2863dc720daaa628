"""The report's findings name a gait hip-hiking pattern only where the detector flagged one."""

from __future__ import annotations

import pytest

from analysis.report import render_html
from analysis.session import analyze
from tests.conftest import ROOT, require_data


@pytest.mark.data
def test_a_healthy_walk_is_not_called_a_hip_hiking_pattern():
    # Healthy HAPT person whose swing sides sit ~1.3 deg above the stride's mean: the
    # detector (own baseline, strides in a row) flags nothing, so the text must not either.
    result = analyze(require_data("hapt") / "hapt_exp03_user02.csv")
    assert not [e for e in result.episodes if e["kind"] == "gait"]
    html = render_html(result)
    assert "hip-hiking pattern" not in html
    assert "usual pattern, not flagged as hip-hiking" in html


def test_a_flagged_gait_hike_is_named_on_its_side():
    result = analyze(ROOT / "recordings" / "demo" / "clinic.psrec")
    assert {e["side"] for e in result.episodes if e["kind"] == "gait"} == {"right"}
    html = render_html(result)
    assert "During right swing the right side of the pelvis <b>rose</b>" in html
    assert "a hip-hiking pattern" in html
    assert "During left swing the left side of the pelvis dropped as in normal gait" in html
