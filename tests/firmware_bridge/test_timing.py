"""NTP-style device-clock offset and the anchored clock model, with synthetic delays."""

import numpy as np
import pytest

from firmware_bridge.profiles import pelviscope_profile as pp
from firmware_bridge.stream import StreamDecoder
from firmware_bridge.timing import ClockModel, OffsetEstimate, TimeExchange, estimate_offset

PPM = 50.0
RATE = 200.0


def device_of(host_s):
    """Device clock (s) at a host time: 50 ppm fast, started 5 s before host time 0."""
    return (np.asarray(host_s) + 5.0) * (1 + PPM * 1e-6)


def host_of(device_s):
    return np.asarray(device_s) / (1 + PPM * 1e-6) - 5.0


def asymmetric_burst(rng, n=12, t0=3.0):
    """Exchanges whose request path is slower than the reply path (1.5 ms vs 0.6 ms floor)."""
    out, ups, downs, t = [], [], [], t0
    for _ in range(n):
        up = 1.5e-3 + rng.exponential(0.8e-3)
        down = 0.6e-3 + rng.exponential(0.8e-3)
        out.append(TimeExchange(t, float(device_of(t + up)), t + up + down))
        ups.append(up)
        downs.append(down)
        t += up + down + rng.uniform(0, 2e-3)
    return out, np.array(ups), np.array(downs)


def test_offset_estimate_takes_the_fastest_round_trip_and_its_error_is_half_the_asymmetry():
    rng = np.random.default_rng(1)
    for _ in range(50):
        burst, up, down = asymmetric_burst(rng)
        est = estimate_offset(burst)
        best = int(np.argmin(up + down))
        assert est.round_trip_s == pytest.approx(up[best] + down[best], abs=1e-12)
        assert est.n_exchanges == len(burst)
        error = est.host_s - float(host_of(est.device_s))  # host time assigned - truth
        # The midpoint is late by the reply path and early by the request path, halved.
        assert error == pytest.approx((down[best] - up[best]) / 2, abs=1e-9)
        assert abs(error) <= est.error_bound_s
        assert est.offset_s == pytest.approx(est.device_s - est.host_s)


def test_offset_estimate_ignores_negative_round_trips_and_needs_one_exchange():
    good = TimeExchange(1.0, 6.0, 1.002)
    glitch = TimeExchange(2.0, 7.0, 1.999)
    assert estimate_offset([glitch, good]).host_s == pytest.approx(1.001)
    with pytest.raises(ValueError):
        estimate_offset([glitch])


def lagged_pairs(rng, floor_s=2.8e-3, n=1200):
    """(device_s, host_receive_s) pairs: 50 ppm clock, a constant floor plus jitter."""
    dev = 10.0 + np.arange(n) * 0.095
    host = host_of(dev) + floor_s + rng.exponential(1.0e-3, n)
    return dev, host


def test_anchor_removes_the_minimum_latency_the_envelope_cannot_see():
    rng = np.random.default_rng(2)
    dev, host = lagged_pairs(rng)
    plain, anchored = ClockModel(), ClockModel()
    for d, h in zip(dev, host, strict=True):
        plain.add(float(d), float(h))
        anchored.add(float(d), float(h))
    anchor_dev = 40.0
    anchored.anchor(anchor_dev, float(host_of(anchor_dev)) + 0.2e-3)  # 0.2 ms asymmetry
    truth = host_of(dev)
    assert np.median(plain.to_host(dev) - truth) == pytest.approx(2.8e-3, abs=0.1e-3)
    err = anchored.to_host(dev) - truth
    assert np.abs(err).max() < 0.3e-3
    assert anchored.latency_floor_s == pytest.approx(2.6e-3, abs=0.1e-3)
    assert abs(anchored.drift_ppm - PPM) < 2  # the slope is the envelope's


def test_an_anchor_above_the_envelope_is_clamped_to_it():
    rng = np.random.default_rng(3)
    dev, host = lagged_pairs(rng)
    plain, bad = ClockModel(), ClockModel()
    for d, h in zip(dev, host, strict=True):
        plain.add(float(d), float(h))
        bad.add(float(d), float(h))
    bad.anchor(40.0, float(host_of(40.0)) + 10e-3)  # would mean a negative latency
    np.testing.assert_allclose(bad.to_host(dev), plain.to_host(dev), atol=1e-12)
    assert bad.latency_floor_s == 0.0
    assert (host - bad.to_host(dev) >= -1e-12).all()


def test_stream_decoder_anchors_a_wrapped_device_time_and_keeps_better_anchors():
    rng = np.random.default_rng(4)
    d0_us = 2**32 - 1_500_000  # the device clock wraps 1.5 s into the stream
    dec = StreamDecoder(session_origin_s=0.0)
    t_boot = 2.0  # host time of device time d0

    def true_host(dev_s):
        return t_boot + (np.asarray(dev_s) - d0_us * 1e-6) / (1 + PPM * 1e-6)

    # A burst before the first frame; its device time is the raw (wrapped) u32 clock.
    sent = t_boot - 0.05
    dev_at = d0_us * 1e-6 + (sent + 1e-3 - t_boot) * (1 + PPM * 1e-6)
    est = OffsetEstimate(device_s=(round(dev_at * 1e6) % 2**32) * 1e-6,
                         host_s=sent + 1.2e-3, round_trip_s=2.4e-3, n_exchanges=12)
    assert dec.sync_clock(est)
    acc = np.zeros((19, 3))
    k, errs = 0, []
    for seq in range(200):
        d_us = d0_us + round(k * 1e6 / RATE)
        payload = pp.encode_frame(seq, d_us % 2**32, acc, acc, rate_hz=RATE, acc_range_g=8,
                                  gyr_range_dps=2000)
        last_dev = (d_us + 18 * 1e6 / RATE) * 1e-6
        b = dec.feed(payload, float(true_host(last_dev)) + 3e-3 + rng.exponential(1e-3))
        assert b is not None
        errs.append(b.time_s - true_host(b.device_time_s))
        k += 19
    assert dec.time_sync is est
    err = np.concatenate(errs)
    assert np.abs(err).max() < 0.5e-3  # not late by the 3 ms minimum latency
    # A much worse burst soon after is not taken; a good one later is.
    worse = OffsetEstimate(est.device_s, est.host_s + 1.0, 20e-3, 12)
    assert not dec.sync_clock(worse) and dec.time_sync is est
    # A later, better burst after the wrap: its raw device time is small, unwrapped at once.
    host_b = float(true_host(last_dev)) - 1.0
    dev_b = (d0_us * 1e-6 + (host_b - t_boot) * (1 + PPM * 1e-6))
    assert dev_b > 2**32 * 1e-6
    better = OffsetEstimate((round(dev_b * 1e6) % 2**32) * 1e-6, host_b + 0.1e-3, 1e-3, 12)
    assert dec.sync_clock(better) and dec.time_sync is better
    anchor = dec.clock.anchor_point
    assert anchor is not None and anchor[0] == pytest.approx(dev_b, abs=2e-6)
    d = d0_us * 1e-6 + np.arange(k) / RATE
    assert np.abs(dec.retime(d) - true_host(d)).max() < 0.3e-3


def test_clock_sync_is_a_capability_of_our_profile_only():
    from firmware_bridge.profiles import KINDS, make_profile
    from firmware_bridge.profiles.base import ClockSyncProfile

    for kind in KINDS:
        assert isinstance(make_profile(kind), ClockSyncProfile) == (kind == "pelviscope")
