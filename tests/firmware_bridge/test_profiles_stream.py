"""Vendor stream decoding without a radio: gaps from timestamps, arrival timing."""

import numpy as np
import pytest

from firmware_bridge.profiles import make_profile
from firmware_bridge.profiles import movesense as ms
from firmware_bridge.profiles import witmotion as wit

ACC = np.tile([0.0, 0.0, 9.80665], (8, 1))
GYR = np.zeros((8, 3))


def test_movesense_lost_packet_is_an_exact_gap():
    prof = make_profile("movesense", 104.0)
    dec = prof.make_decoder()
    period_ms = 1000 / 104
    batches = []
    for k in [0, 1, 2, 4, 5]:  # packet 3 (8 samples) lost
        ts = round(1000 + k * 8 * period_ms)
        batches.append(dec.feed(ms.encode_data(ms.DATA_REF, ts, ACC, GYR), 1.0 + k * 0.077))
    gaps = [g for b in batches for g in b.gaps]
    assert len(gaps) == 1 and gaps[0].lost_samples == 8 and gaps[0].reason == "packet_loss"
    assert dec.counters.lost_packets == 1 and dec.counters.samples == 40
    assert dec.feed(b"\x02", 2.0) is None and dec.counters.bad_frames == 1


def test_arrival_timing_is_monotonic_and_estimates_a_long_loss():
    prof = make_profile("witmotion", 50.0)
    dec = prof.make_decoder()
    rng = np.random.default_rng(1)
    pkt = wit.encode_packet(ACC[:1], GYR[:1])
    t, batches = 0.0, []
    for k in range(400):
        if 200 <= k < 230:  # 30 samples (0.6 s) never arrive
            continue
        arrival = 0.1 + k / 50 + rng.uniform(0, 0.03)  # bursty latency up to 30 ms
        batches.append(dec.feed(pkt, arrival))
        t = arrival
    times = np.concatenate([b.time_s for b in batches])
    assert np.all(np.diff(times) > 0)
    arrivals_ok = times <= t + 1e-9
    assert arrivals_ok.all()
    gaps = [g for b in batches for g in b.gaps]
    assert len(gaps) == 1 and gaps[0].lost_samples == pytest.approx(30, abs=2)
    # timeline stays within a few latencies of the true sample times
    true = 0.1 + np.delete(np.arange(400), np.arange(200, 230)) / 50
    assert np.abs(times - true).max() < 0.06
    assert batches[0].device_time_s is None and batches[0].seq is None


def test_h10_batches_have_no_gyroscope():
    from firmware_bridge.profiles import polar

    prof = make_profile("polar-h10", 50.0)
    dec = prof.make_decoder()
    mg = np.tile([0, 0, 1000], (10, 1)).astype("<i2").tobytes()
    b = dec.feed(polar.encode_frame(2, 10**12, 0x01, mg), 0.5)
    assert b.gyr_rps is None and b.n_samples == 10
    np.testing.assert_allclose(b.acc_mps2[:, 2], 9.80665)
