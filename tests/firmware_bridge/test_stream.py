"""Stream decoder without any radio: loss accounting, wraps, garbage, timing."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from firmware_bridge.profiles import pelviscope_profile as pp
from firmware_bridge.stream import StreamDecoder
from firmware_bridge.timing import ClockModel, unwrap_counter

RATE = 200.0


def signal(n):
    t = np.arange(n) / RATE
    acc = np.column_stack([np.sin(t), np.cos(t), 9.8 + 0 * t])
    gyr = np.column_stack([0.1 * np.sin(3 * t), 0 * t, 0.2 + 0 * t])
    return acc, gyr


def frames(sizes, *, seq0=0, dev0_us=0, ppm=0.0, latency=None, rng=None):
    """Encode consecutive samples in frames of the given sizes; yield (payload, host_s, k0, n)."""
    n_total = sum(sizes)
    acc, gyr = signal(n_total)
    k = 0
    for j, n in enumerate(sizes):
        d_us = dev0_us + round(k * 1e6 / RATE)
        host = (k + n - 1) / RATE / (1 + ppm * 1e-6)
        host += 0.0005 + (latency(rng) if latency else 0.0)
        payload = pp.encode_frame(seq0 + j, d_us, acc[k:k + n], gyr[k:k + n], rate_hz=RATE,
                                  acc_range_g=8, gyr_range_dps=2000)
        yield payload, host, k, n
        k += n


def index_of(batch, dev0_us=0):
    return np.rint((batch.device_time_s - batch.device_time_s[0]) * RATE).astype(int)


def test_sequence_and_device_clock_wrap():
    dec = StreamDecoder()
    dev0 = 2**32 - 3_000_000  # wraps after 3 s
    out = dec.feed_many((p, h) for p, h, _, _ in frames([19] * 100, seq0=2**16 - 30,
                                                         dev0_us=dev0))
    d = np.concatenate([b.device_time_s for b in out])
    assert np.allclose(np.diff(d), 1 / RATE)
    assert d[-1] > 2**32 * 1e-6  # unwrapped past the wrap
    assert dec.counters.lost_samples == dec.counters.lost_packets == 0
    assert not any(b.gaps for b in out)
    t = np.concatenate([b.time_s for b in out])
    assert (np.diff(t) > 0).all()


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(1, 25), min_size=5, max_size=60), st.data())
def test_any_chunking_and_any_loss_is_accounted_exactly(sizes, data):
    dropped = data.draw(st.sets(st.integers(1, len(sizes) - 2), max_size=len(sizes) // 3))
    dec = StreamDecoder()
    acc, _ = signal(sum(sizes))
    got_k, out, since_kept = [], [], 0
    for j, (p, h, k, n) in enumerate(frames(sizes, seq0=65500)):
        if j in dropped:
            since_kept += n
            continue
        b = dec.feed(p, h)
        out.append(b)
        got_k.extend(range(k, k + n))
        np.testing.assert_allclose(b.acc_mps2, acc[k:k + n], atol=pp.acc_scale_mps2(8))
        assert sum(g.lost_samples for g in b.gaps) == since_kept
        since_kept = 0
    lost = sum(g.lost_samples for b in out for g in b.gaps)
    assert lost == sum(sizes[i] for i in dropped)  # never first or last frame
    assert lost + len(got_k) == sum(sizes)
    assert dec.counters.lost_packets == len(dropped)
    # chunking invariance: the decoded sample stream equals the encoded one
    np.testing.assert_allclose(np.concatenate([b.acc_mps2 for b in out]), acc[got_k],
                               atol=pp.acc_scale_mps2(8))


def test_garbage_frames_are_counted_and_skipped():
    dec = StreamDecoder()
    rng = np.random.default_rng(3)
    out, sent = [], 0
    for j, (p, h, _, n) in enumerate(frames([19] * 60)):
        if j % 7 == 3:
            for bad in (p[:-5], b"\x09" + p[1:], rng.bytes(40)):
                assert dec.feed(bad, h) is None
            continue
        out.append(dec.feed(p, h))
        sent += n
    c = dec.counters
    assert c.bad_frames == 3 * 9 and c.short_frames == 9 and c.unknown_version_frames >= 9
    assert sum(b.n_samples for b in out) == sent == c.samples
    assert c.lost_samples == 9 * 19 - (19 if 59 % 7 == 3 else 0)


def test_duplicate_frame_is_skipped():
    dec = StreamDecoder()
    f = list(frames([10, 10, 10]))
    for p, h, _, _ in f[:2]:
        dec.feed(p, h)
    assert dec.feed(f[1][0], f[1][1] + 0.001) is None
    assert dec.counters.duplicate_frames == 1
    assert dec.feed(f[2][0], f[2][1]).gaps == ()


def test_timestamps_within_1ms_with_50ppm_and_jittery_latency():
    rng = np.random.default_rng(0)
    jitter = lambda r: abs(r.normal(0, 0.004))  # noqa: E731
    dec = StreamDecoder()
    out = dec.feed_many((p, h) for p, h, _, _ in frames([19] * 632, ppm=50.0, latency=jitter,
                                                         rng=rng))
    t = np.concatenate([b.time_s for b in out])
    d = np.concatenate([b.device_time_s for b in out])
    truth = d / (1 + 50e-6)
    err = t - truth - 0.0005  # the constant minimum latency is unobservable
    assert abs(dec.clock.drift_ppm - 50) < 5
    assert np.abs(err[truth > 5]).max() < 1e-3
    assert np.abs(dec.retime(d) - truth - 0.0005).max() < 1e-3


def test_device_reset_is_a_gap_not_a_crash():
    dec = StreamDecoder()
    f = list(frames([20] * 20, dev0_us=50_000_000))
    last = [dec.feed(p, h) for p, h, _, _ in f[:10]][-1]
    # device rebooted: its clock restarts near 0 one second later
    acc, gyr = signal(20)
    p = pp.encode_frame(0, 1000, acc, gyr, rate_hz=RATE, acc_range_g=8, gyr_range_dps=2000)
    b = dec.feed(p, f[9][1] + 1.0)
    assert b is not None and b.gaps and b.gaps[0].reason == "device_reset"
    assert dec.counters.device_resets == 1
    assert b.time_s[0] > last.time_s[-1]
    assert b.gaps[0].lost_samples == round((1.0 - 19 / RATE) * RATE) - 1


def test_clock_model_and_unwrap():
    assert unwrap_counter(5, 2**32 + 3, 2**32) == 2**32 + 5
    assert unwrap_counter(2**32 - 2, 2**32 + 3, 2**32) == 2**32 - 2
    m = ClockModel()
    x = np.arange(0, 30, 0.05)
    for xi, yi in zip(x, 10 + x * (1 - 100e-6) + np.abs(np.sin(x * 7)) * 0.01, strict=True):
        m.add(float(xi), float(yi))
    assert abs(m.drift_ppm - 100) < 5
    assert abs(m.to_device(float(m.to_host(12.0))) - 12.0) < 1e-9


def test_timestamps_within_1ms_on_a_loaded_host_with_stalls():
    """A busy host: heavy-tailed latency, and stalls of 50-400 ms (about one a second) during
    which every notification waits and then arrives at once - what a loaded laptop does
    to a real link. The clock model keeps to the fastest arrivals, so the requirement holds.
    """
    rng = np.random.default_rng(1)
    stall_starts = np.cumsum(rng.exponential(1.0, 100))
    stall_ends = stall_starts + rng.uniform(0.05, 0.4, 100)

    def loaded(r, host_s):
        late = host_s + r.exponential(0.003) + (r.random() < 0.05) * r.exponential(0.03)
        i = np.searchsorted(stall_starts, late) - 1
        return max(late, stall_ends[i]) if i >= 0 and late < stall_ends[i] else late

    dec = StreamDecoder()
    feed = []
    for p, h, _, _ in frames([19] * 632, ppm=50.0):
        feed.append((p, loaded(rng, h)))
    feed.sort(key=lambda f: f[1])  # queued notifications keep their order; arrival sorts
    out = dec.feed_many(feed)
    t = np.concatenate([b.time_s for b in out])
    d = np.concatenate([b.device_time_s for b in out])
    truth = d / (1 + 50e-6)
    err = t - truth - 0.0005  # the constant minimum latency is unobservable
    assert abs(dec.clock.drift_ppm - 50) < 5
    assert np.abs(err[truth > 10]).max() < 1e-3
    assert np.abs(dec.retime(d) - truth - 0.0005).max() < 1e-3
