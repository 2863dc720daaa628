import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from firmware_bridge.profiles import pelviscope_profile as pp

counts = arrays(np.int16, st.tuples(st.integers(1, 40), st.just(6)))
ranges = st.tuples(st.sampled_from(pp.ACC_RANGES_G), st.sampled_from(pp.GYR_RANGES_DPS))


@given(counts, ranges, st.integers(0, 2**16 - 1), st.integers(0, 2**32 - 1),
       st.sampled_from([25.0, 100.0, 200.0, 208.0, 1000.0, 1666.0]))
def test_decode_encode_round_trip_is_exact_on_counts(raw, rng, seq, t_us, rate):
    acc_g, gyr_dps = rng
    acc = raw[:, :3] * pp.acc_scale_mps2(acc_g)
    gyr = raw[:, 3:] * pp.gyr_scale_rps(gyr_dps)
    data = pp.encode_frame(seq, t_us, acc, gyr, rate_hz=rate, acc_range_g=acc_g,
                           gyr_range_dps=gyr_dps)
    assert len(data) == pp.HEADER_SIZE + 12 * raw.shape[0]
    f = pp.decode_frame(data)
    assert (f.seq, f.device_time_us, f.rate_hz) == (seq, t_us, rate)
    assert (f.acc_range_g, f.gyr_range_dps) == rng
    np.testing.assert_array_equal(f.acc_mps2, acc)
    np.testing.assert_array_equal(f.gyr_rps, gyr)
    again = pp.encode_frame(f.seq, f.device_time_us, f.acc_mps2, f.gyr_rps, rate_hz=f.rate_hz,
                            acc_range_g=f.acc_range_g, gyr_range_dps=f.gyr_range_dps)
    assert again == data


@given(arrays(np.float64, (5, 6), elements=st.floats(-1.0, 1.0)), ranges)
def test_si_round_trip_within_half_a_count(x, rng):
    acc_g, gyr_dps = rng
    acc = x[:, :3] * acc_g * pp.STANDARD_G_MPS2 * 0.99
    gyr = x[:, 3:] * np.radians(gyr_dps) * 0.99
    f = pp.decode_frame(pp.encode_frame(1, 2, acc, gyr, rate_hz=100, acc_range_g=acc_g,
                                        gyr_range_dps=gyr_dps))
    assert np.abs(f.acc_mps2 - acc).max() <= 0.5 * pp.acc_scale_mps2(acc_g) + 1e-12
    assert np.abs(f.gyr_rps - gyr).max() <= 0.5 * pp.gyr_scale_rps(gyr_dps) + 1e-12


def test_units_of_full_scale():
    f = pp.decode_frame(pp.encode_frame(0, 0, [[0, 0, 9.80665]], [[0, 0, np.pi]], rate_hz=200,
                                        acc_range_g=2, gyr_range_dps=180 * 2 if False else 250))
    assert f.acc_mps2[0, 2] == pytest.approx(9.80665, abs=pp.acc_scale_mps2(2))
    assert f.gyr_rps[0, 2] == pytest.approx(np.pi, abs=pp.gyr_scale_rps(250))


@given(st.binary(max_size=300))
@settings(max_examples=300)
def test_garbage_never_decodes_to_invented_samples(data):
    try:
        f = pp.decode_frame(data)
    except pp.FrameError as exc:
        assert exc.kind in {"short", "version", "corrupt"}
    else:  # only a structurally perfect frame decodes
        assert len(data) == pp.HEADER_SIZE + 12 * f.n_samples


def test_bad_frames_are_classified():
    good = pp.encode_frame(0, 0, np.zeros((3, 3)), np.zeros((3, 3)), rate_hz=200,
                           acc_range_g=8, gyr_range_dps=2000)
    cases = {b"": "short", b"\x02" + good[1:]: "version", good[:10]: "short",
             good[:-1]: "short", good + b"\x00": "corrupt",
             good[:1] + b"\x07" + good[2:]: "corrupt"}
    for data, kind in cases.items():
        with pytest.raises(pp.FrameError) as info:
            pp.decode_frame(data)
        assert info.value.kind == kind


def test_mtu_sizing():
    assert pp.samples_per_frame(23) == 0
    assert pp.samples_per_frame(29) == 1
    assert pp.samples_per_frame(247) == 19
    assert pp.samples_per_frame(517) == 41


@given(st.sampled_from([25.0, 200.0, 1000.0]), ranges, st.integers(0, 255), st.booleans())
def test_info_and_config_round_trip(rate, rng, batch, streaming):
    cfg = pp.StreamConfig(rate, rng[0], rng[1], batch)
    assert pp.StreamConfig.from_bytes(cfg.to_bytes()) == cfg
    info = pp.DeviceInfo(1, 1, pp.CAP_ACC | pp.CAP_GYR, cfg, streaming, (50.0, 200.0))
    assert pp.DeviceInfo.from_bytes(info.to_bytes()) == info
    with pytest.raises(pp.FrameError):
        pp.DeviceInfo.from_bytes(info.to_bytes()[:5])


def test_control_reply():
    assert pp.decode_reply(pp.encode_reply(pp.OP_GET_TIME, 0, b"\x01\x02\x03\x04")) == (
        pp.OP_GET_TIME, 0, b"\x01\x02\x03\x04")
    with pytest.raises(pp.FrameError):
        pp.decode_reply(b"\x01\x00")
