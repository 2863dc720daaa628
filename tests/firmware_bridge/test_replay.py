"""ReplaySource: a recording through the SampleSource interface, with and without real time."""

from __future__ import annotations

import numpy as np
import pytest

from firmware_bridge.replay import ReplaySource
from firmware_bridge.source import SampleSource, State
from simulator import ImuErrors, Scenario, Stand, Walk, simulate


@pytest.fixture(scope="module")
def lossy():
    errors = ImuErrors(packet_loss=0.03)
    return simulate(Scenario([Stand(5), Walk(10)]), rate_hz=100, errors=errors, seed=2).recording


def _drain(src: ReplaySource, limit: int = 100_000) -> list:
    out = []
    for _ in range(limit):
        got = src.poll()
        out += got
        if src.done and not got:
            return out
    raise AssertionError("the replay never ended")


def test_every_sample_once_in_order_with_its_gaps(lossy) -> None:
    assert lossy.gaps, "the scenario should lose packets"
    src = ReplaySource(lossy, batch_samples=7, batches_per_poll=3)
    assert isinstance(src, SampleSource)
    assert src.poll() == []  # nothing before start
    src.start()
    batches = _drain(src)
    np.testing.assert_array_equal(np.concatenate([b.time_s for b in batches]), lossy.time_s)
    np.testing.assert_array_equal(np.concatenate([b.acc_mps2 for b in batches]), lossy.acc_mps2)
    np.testing.assert_array_equal(np.concatenate([b.gyr_rps for b in batches]), lossy.gyr_rps)
    reported = [g for b in batches for g in b.gaps]
    assert reported == lossy.gaps  # each gap once, in order
    for b in batches:
        for g in b.gaps:
            assert g.end_s == pytest.approx(b.time_s[0])
    status = src.status
    assert status.state is State.DISCONNECTED and status.samples == lossy.n_samples
    assert status.lost_samples == sum(g.lost_samples for g in lossy.gaps)


def test_real_time_pace_follows_the_clock(lossy) -> None:
    now = [100.0]
    src = ReplaySource(lossy, batch_samples=5, speed=2.0, clock=lambda: now[0])
    src.start()
    assert src.poll() == [] or src.status.samples <= 5
    now[0] += 1.0  # 2 s of the session at speed 2
    got = np.concatenate([b.time_s for b in src.poll()])
    assert got[-1] <= lossy.time_s[0] + 2.0 + 1e-9
    assert got[-1] >= lossy.time_s[0] + 2.0 - 0.05
    assert src.status.state is State.STREAMING and src.status.rate_hz == lossy.rate_hz
    now[0] += 100.0
    src.poll()
    assert src.done and src.status.state is State.DISCONNECTED
    src.stop()
    assert src.poll() == []


def test_bad_arguments_are_refused(lossy) -> None:
    with pytest.raises(ValueError):
        ReplaySource(lossy, batch_samples=0)
    with pytest.raises(ValueError):
        ReplaySource(lossy, speed=0.0)
