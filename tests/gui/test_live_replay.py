"""The live model and pipeline fed by a ReplaySource: no BLE, no real time, seconds to run.

The same model the dashboard draws from (Qt-free) takes a simulated recording batch by
batch, as it would take the BLE client's batches.
"""

from __future__ import annotations

import numpy as np
import pytest

from firmware_bridge.replay import ReplaySource
from gui.live.model import LiveModel
from gui.live.settings import LiveSettings
from simulator import ImuErrors, Scenario, Stand, Walk, simulate

# Right side raised while standing from 3.5 s on; the sacral mount preset is the mount.
HIKE = Scenario([Stand(3.5), Stand(9.0, lateral_deg=-6.5), Stand(3.0), Walk(8.0)])


def _play(model: LiveModel, src: ReplaySource) -> list[str]:
    model.connect(src, "replay")
    flags = []
    while not src.done:
        model.tick()
        if model.pipeline is not None and model.pipeline.gait_due:
            model.pipeline.update_gait()
        flags.append(model.hip_hike_flag)
    return flags


@pytest.fixture(scope="module")
def hike_recording():
    errors = ImuErrors(packet_loss=0.01)
    return simulate(HIKE, rate_hz=100, errors=errors, seed=4).recording


def test_static_hip_hike_is_flagged_on_its_side_as_it_happens(hike_recording) -> None:
    model = LiveModel(LiveSettings(window_s=20.0))
    flags = _play(model, ReplaySource(hike_recording, batch_samples=8, batches_per_poll=2))
    assert "right" in flags and "left" not in flags
    eps = model.episodes + model.ongoing
    assert [(e.side, e.kind) for e in eps] == [("right", "static")]
    onset = eps[0].start_s
    assert 3.0 <= onset <= 5.0


def test_every_sample_reaches_the_plots_and_gaps_are_kept(hike_recording) -> None:
    model = LiveModel(LiveSettings(window_s=60.0))
    _play(model, ReplaySource(hike_recording, batch_samples=8, batches_per_poll=5))
    assert model.ring is not None
    np.testing.assert_allclose(model.ring.last("t"), hike_recording.time_s)
    assert len(model.gaps) == len(hike_recording.gaps) > 0
    assert model.status.samples == hike_recording.n_samples
