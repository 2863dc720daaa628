"""One recording sink: a file states the same things whether the CLI or the live app made it."""

from __future__ import annotations

import numpy as np
import pytest

from firmware_bridge.recorder import record
from firmware_bridge.replay import ReplaySource
from gui.live.model import LiveModel
from recordings import load, write_recording
from simulator import ImuErrors, Scenario, Stand, Walk, simulate


@pytest.fixture(scope="module")
def source_recording(tmp_path_factory):
    rec = simulate(Scenario([Stand(4), Walk(6)]), rate_hz=100,
                   errors=ImuErrors(packet_loss=0.02), seed=5).recording  # fmt: skip
    rec.meta.update(limitations=["no magnetometer"], clock_sync="min-delay fit")
    path = tmp_path_factory.mktemp("sink") / "source.psrec"
    write_recording(path, rec)
    return load(path)


def _by_cli(rec, path):
    src = ReplaySource(rec, batch_samples=10, batches_per_poll=50)
    return record(src, path, {"subject_id": "S1"}, duration_s=float(rec.time_s[-1]),
                  poll_interval_s=0.0)  # fmt: skip


def _by_live_app(rec, path):
    model = LiveModel()
    src = ReplaySource(rec, batch_samples=10, batches_per_poll=50)
    model.connect(src, "replay")
    model.start_recording(path, {"subject_id": "S1"})
    while not src.done:
        model.tick()
    return model.stop_recording()


def test_cli_and_live_recordings_state_the_same(source_recording, tmp_path) -> None:
    _by_cli(source_recording, tmp_path / "cli.psrec")
    assert _by_live_app(source_recording, tmp_path / "live.psrec") == tmp_path / "live.psrec"
    cli, live = load(tmp_path / "cli.psrec"), load(tmp_path / "live.psrec")
    only_live = {"live_session_offset_s", "calibration", "simulated"}
    assert set(live.meta) - only_live == set(cli.meta) - {"calibration", "simulated"}
    for key in ("device", "profile", "firmware", "ranges", "timing", "limitations",
                "clock_sync", "subject_id"):
        assert cli.meta[key] == live.meta[key], key
    assert cli.meta["timing"] == source_recording.meta["timing"]
    assert cli.meta["limitations"] == ["no magnetometer"]
    assert set(cli.meta["stats"]) == set(live.meta["stats"])
    # Every sample and gap: the CLI keeps the stream's clock, the live app starts at 0.
    np.testing.assert_allclose(cli.time_s, source_recording.time_s)
    np.testing.assert_allclose(live.time_s + live.meta["live_session_offset_s"],
                               source_recording.time_s)  # fmt: skip
    np.testing.assert_array_equal(cli.acc_mps2, live.acc_mps2)
    assert len(cli.gaps) == len(source_recording.gaps) > 0
