"""Vendor codecs against byte vectors built by hand exactly as the vendors document them."""

import math
import struct

import numpy as np
import pytest

from firmware_bridge.profiles import all_profiles, identify, make_profile, polar
from firmware_bridge.profiles import movella_dot as dot
from firmware_bridge.profiles import movesense as ms
from firmware_bridge.profiles import thingy52 as thingy
from firmware_bridge.profiles import witmotion as wit
from firmware_bridge.profiles.pelviscope_profile import SERVICE_UUID, FrameError

G = 9.80665
D2R = math.pi / 180


def test_witmotion_packet_by_hand():
    # 55 61, ax=2048 (1 g), ay=-1024, az=0, gx=16384 (1000 dps), gy=0, gz=-1, angles
    words = [2048, -1024, 0, 16384, 0, -1, 8192, 0, 0]
    pkt = b"\x55\x61" + struct.pack("<9h", *words)
    assert len(pkt) == 20
    acc, gyr, ang = wit.decode_packets(pkt + pkt)  # two packets in one notification
    np.testing.assert_allclose(acc[0], [G, -G / 2, 0])
    np.testing.assert_allclose(gyr[0], [1000 * D2R, 0, -2000 / 32768 * D2R])
    np.testing.assert_allclose(ang[0], [45, 0, 0])
    assert acc.shape == (2, 3)
    reply = b"\x55\x71" + bytes(18)  # register reply interleaved: skipped
    assert wit.decode_packets(reply + pkt)[0].shape == (1, 3)
    with pytest.raises(FrameError):
        wit.decode_packets(pkt[:15])
    with pytest.raises(FrameError):
        wit.decode_packets(b"\x00" * 20)
    assert wit.rate_command(200.0) == bytes.fromhex("FFAA030B00")
    assert wit.encode_packet(acc[:1], gyr[:1], ang[:1]) == pkt


def test_thingy_raw_by_hand():
    # acc Q6.10: 1024 = 1 g; gyro Q11.5: 32 = 1 dps; compass Q12.4: 16 = 1 uT
    raw = struct.pack("<9h", 0, 0, 1024, 32, -64, 0, 16, 0, -16)
    acc, gyr, mag = thingy.decode_raw(raw)
    np.testing.assert_allclose(acc[0], [0, 0, G])
    np.testing.assert_allclose(gyr[0], [D2R, -2 * D2R, 0])
    np.testing.assert_allclose(mag[0], [1, 0, -1])
    cfg = thingy.encode_config(100)
    assert cfg == struct.pack("<HHHHB", 1000, 500, 500, 100, 0) and len(cfg) == 9
    with pytest.raises(FrameError):
        thingy.decode_raw(raw[:10])


def test_movesense_imu6_by_hand_and_split_packet():
    acc = [[0.1, 0.2, 9.8], [0.3, 0.4, 9.7]]
    gyr_dps = [[10.0, 0.0, -5.0], [0.0, 1.0, 2.0]]
    pkt = (bytes([2, ms.DATA_REF]) + struct.pack("<I", 123456)
           + struct.pack("<6f", *acc[0], *acc[1]) + struct.pack("<6f", *gyr_dps[0], *gyr_dps[1]))
    prof = make_profile("movesense", 104.0)
    f = prof.decode(pkt)
    np.testing.assert_allclose(f.acc_mps2, acc, rtol=1e-6)
    np.testing.assert_allclose(f.gyr_rps, np.array(gyr_dps) * D2R, rtol=1e-6)
    assert f.device_time_us == 123456 * 1000 % 2**32 and f.rate_hz == 104.0
    # the same packet split into DATA + DATA_PART2 (second part without its type/ref header)
    assert prof.decode(pkt[:20]) is None
    g = prof.decode(bytes([3, ms.DATA_REF]) + pkt[20:])
    np.testing.assert_allclose(g.acc_mps2, f.acc_mps2)
    assert prof.decode(bytes([1, ms.DATA_REF, 200, 0])) is None  # command response
    assert ms.subscribe_command(99, 104.0) == b"\x01\x63/Meas/IMU6/104"


def test_movella_dot_rate_quantities_by_hand():
    body = struct.pack("<I6f", 4_000_000_000, 0.0, 0.0, 9.81, 90.0, 0.0, 0.0)
    prof = make_profile("movella-dot")
    for value in (body, body + struct.pack("<3h", 4096, 0, 0)):  # modes 21 and 20
        f = prof.decode(value)
        np.testing.assert_allclose(f.acc_mps2[0], [0, 0, 9.81], rtol=1e-6)
        np.testing.assert_allclose(f.gyr_rps[0], [math.pi / 2, 0, 0], rtol=1e-6)
        assert f.device_time_us == 4_000_000_000
    assert dot.start_command() == b"\x01\x01\x14"
    with pytest.raises(FrameError):
        prof.decode(body[:20])


def _bits_lsb_first(values, width):
    """Pack signed values LSB first, exactly like the PMD spec (independent of the codec)."""
    bitstr = "".join(format(v & ((1 << width) - 1), f"0{width}b")[::-1] for v in values)
    bitstr += "0" * (-len(bitstr) % 8)
    return bytes(int(bitstr[i:i + 8][::-1], 2) for i in range(0, len(bitstr), 8))


def test_polar_delta_frame_by_hand():
    # reference (x, y, z) = (1000, -2000, 3), int16 LE; then one block of 2 samples with
    # 5-bit deltas (+3, -1, 0) and (-16, 15, 1), then one block of 1 sample, 2-bit (1,-2,-1)
    ref = struct.pack("<3h", 1000, -2000, 3)
    block1 = bytes([5, 2]) + _bits_lsb_first([3, -1, 0, -16, 15, 1], 5)
    block2 = bytes([2, 1]) + _bits_lsb_first([1, -2, -1], 2)
    content = ref + block1 + block2
    vals = polar.parse_delta_frames(content, 3, 16)
    np.testing.assert_array_equal(vals, [[1000, -2000, 3], [1003, -2001, 3],
                                         [987, -1986, 4], [988, -1988, 3]])
    # the same as an ACC frame (type 2, frame type 0x81 = compressed type 1), factor 0.5
    ts = 600_000_000_000
    frame = bytes([2]) + struct.pack("<Q", ts) + bytes([0x81]) + content
    prof = make_profile("polar-h10", 50.0)
    prof.factors[2] = 0.5
    f = prof.decode(frame)
    np.testing.assert_allclose(f.acc_mps2, vals * 0.5 * G / 1000)
    # the timestamp is the LAST sample's: first = ts - 3 periods
    assert f.device_time_us == round((ts - 3 * 1e9 / 50) / 1000) % 2**32
    with pytest.raises(FrameError):
        polar.parse_delta_frames(content[:-1], 3, 16)
    assert np.array_equal(polar.parse_delta_frames(polar.encode_delta_frames(vals, 16), 3, 16),
                          vals)


def test_polar_raw_acc_and_settings():
    frame = bytes([2]) + struct.pack("<Q", 10**12) + bytes([0x01]) + struct.pack("<6h", 1000, 0,
                                                                                  -1000, 0, 0, 0)
    f = make_profile("polar-h10", 50.0).decode(frame)
    np.testing.assert_allclose(f.acc_mps2[0], [G, 0, -G])
    tlv = polar.encode_settings({polar.SET_RATE: 52, polar.SET_RESOLUTION: 16})
    assert tlv == bytes([0, 1, 52, 0, 1, 1, 16, 0])
    factor = bytes([5, 1]) + struct.pack("<f", 0.244)
    assert polar.factor_of(polar.decode_settings(factor)) == pytest.approx(0.244)
    with pytest.raises(FrameError):  # raw gyro frames are not supported
        make_profile("polar-verity").decode(bytes([5]) + struct.pack("<Q", 1) + b"\x00" + bytes(6))


def test_polar_verity_pairs_acc_and_gyro_streams():
    prof = make_profile("polar-verity", 52.0)
    period = 1e9 / 52
    acc = np.arange(30).reshape(10, 3) * 10
    gyr = -np.arange(30).reshape(10, 3)

    def frame(mtype, ftype, vals, last_index):
        ts = int(5e11 + last_index * period)
        return bytes([mtype]) + struct.pack("<Q", ts) + bytes([ftype]) + \
            polar.encode_delta_frames(vals, 16)

    assert prof.decode(frame(2, 0x81, acc[:6], 5)) is None  # gyro not there yet
    f = prof.decode(frame(5, 0x80, gyr[:4], 3))
    assert f.n_samples == 4
    np.testing.assert_allclose(f.acc_mps2, acc[:4] * G / 1000)
    np.testing.assert_allclose(f.gyr_rps, gyr[:4] * D2R)
    f2 = prof.decode(frame(5, 0x80, gyr[4:10], 9))
    assert f2.n_samples == 2  # acc 4, 5 paired; gyro 6..9 waits for acc
    assert f2.device_time_us - f.device_time_us == pytest.approx(4 * period / 1000, abs=1)


def test_identify_by_service_and_name():
    profs = all_profiles()
    kinds = {
        ("WT901BLE68", ()): "witmotion",
        (None, (wit.SERVICE_UUID,)): "witmotion",
        ("Thingy", (thingy.CONFIG_SERVICE_UUID,)): "thingy52",
        ("Movesense 220330000123", ()): "movesense",
        ("Polar Sense B36AB12", (polar.HEART_RATE_SERVICE_UUID,)): "polar-verity",
        ("Polar H10 12345678", ()): "polar-h10",
        ("Xsens DOT", ()): "movella-dot",
        ("MyDIYBoard", (SERVICE_UUID,)): "pelviscope",
    }
    for (name, uuids), kind in kinds.items():
        prof = identify(profs, name, list(uuids))
        assert prof is not None and getattr(prof, "kind", "pelviscope") == kind, (name, kind)
    assert identify(profs, "Fitbit", ["0000180d-0000-1000-8000-00805f9b34fb"]) is None
    with pytest.raises(ValueError, match="known"):
        make_profile("garmin")
