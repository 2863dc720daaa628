"""Sit-to-stand rises on real bodies: HAPT's video-labelled SIT_TO_STAND (bench/eval_clinic_hapt).

All 31 sessions (``bench/eval_clinic_hapt.py``): 29/29 rises found, onset within 0.36 s of
the label (90th percentile), 2/29 stand-to-sit windows misread. Here four sessions of
four people, as a ratchet.
"""

from __future__ import annotations

import pytest

from bench.eval_clinic_hapt import session_rises
from bench.real_data import hapt_sessions
from tests.conftest import require_data

pytestmark = [pytest.mark.data, pytest.mark.slow]


def test_hapt_rises_found_and_timed():
    paths = [p for p in hapt_sessions(require_data("hapt"))
             if p.stem in ("hapt_exp01_user01", "hapt_exp12_user06", "hapt_exp17_user09",
                           "hapt_exp24_user12")]
    assert len(paths) == 4
    rows = [r for p in paths for r in session_rises(p)]
    ups = [r for r in rows if r["label"] == "SIT_TO_STAND" and r["before"] == "SITTING"]
    assert len(ups) >= 4
    for r in ups:
        assert r["rises"] == 1, r
        assert abs(r["start_err_s"]) <= 0.5
        assert 0.1 <= r["travel_m"] <= 0.7
