"""The review cache keeps the session's turns: a cached open equals a fresh one.

The session is simulated with turns both ways while walking (and a random mount), so the
turns compared are not two empty lists.
"""

from __future__ import annotations

import json
import shutil

import pytest
from scipy.spatial.transform import Rotation

from gui.review import cache
from gui.review.model import open_session
from recordings import write_recording
from simulator import Scenario, Stand, Turn, Walk, simulate

pytest.importorskip("pytestqt")

pytestmark = pytest.mark.gui


@pytest.fixture(scope="module")
def recording(tmp_path_factory):  # type: ignore[no-untyped-def]
    walk = Walk(40, turns=(Turn(at_s=8, angle_deg=90), Turn(at_s=24, angle_deg=-180)))
    sim = simulate(
        Scenario([Stand(10), walk, Stand(5)]),
        rate_hz=100,
        mount=Rotation.random(random_state=2),
        seed=2,
    )
    path = tmp_path_factory.mktemp("review_turns") / "turns.psrec"
    write_recording(path, sim.recording)
    return path


def test_cached_open_equals_fresh_with_turns(recording, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / recording.name
    shutil.copy2(recording, path)
    fresh = open_session(path)
    assert not fresh.from_cache and fresh.cache_file == cache.cache_path(path)
    assert [t["angle_deg"] > 0 for t in fresh.result.turns] == [True, False]
    cached = open_session(path)
    assert cached.from_cache and not cached.cache_note
    assert cached.result.turns == fresh.result.turns
    a, b = fresh.result.to_json(), cached.result.to_json()
    a["input"].pop("path"), b["input"].pop("path")
    assert a["turns"] == b["turns"] == fresh.result.turns
    assert json.dumps(a, default=str) == json.dumps(b, default=str)
