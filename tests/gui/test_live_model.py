"""Qt-free parts of the live dashboard: ring buffer, settings, decimation, recording."""

from __future__ import annotations

import numpy as np
import pytest

from gui.live.ring import RingBuffer
from gui.live.settings import LiveSettings


def test_ring_keeps_newest_contiguous() -> None:
    ring = RingBuffer(5, {"x": (np.float64, np.nan), "c": (np.int8, -1)})
    ring.append(x=np.arange(3.0))
    assert ring.last("x").tolist() == [0, 1, 2]
    ring.append(x=np.arange(3.0, 7.0), c=np.ones(4, np.int8))
    assert ring.last("x").tolist() == [2, 3, 4, 5, 6]
    assert ring.last("c").tolist() == [-1, 1, 1, 1, 1]
    assert ring.last("x", 2).tolist() == [5, 6]
    ring.append(x=np.arange(100.0, 112.0))  # longer than the capacity
    assert ring.last("x").tolist() == [107, 108, 109, 110, 111]
    assert ring.count == 19 and ring.first_index == 14


def test_ring_late_values_land_on_their_samples() -> None:
    ring = RingBuffer(4, {"x": (np.float64, np.nan), "c": (np.int8, -1)})
    ring.append(x=np.arange(6.0))
    ring.set_from("c", 1, np.array([7, 7, 7, 8], np.int8))  # index 1 already dropped
    assert ring.last("c").tolist() == [7, 7, 8, -1]


def test_ring_typed_view_refuses_another_dtype() -> None:
    ring = RingBuffer(4, {"x": (np.float64, np.nan), "c": (np.int8, -1)})
    ring.append(x=np.arange(6.0), c=np.arange(6, dtype=np.int8))
    x = ring.last_as("x", np.float64, 2)
    assert x.tolist() == [4, 5] and not x.flags.owndata  # a view into the buffer, no copy
    assert ring.last_as("c", np.int8).tolist() == [2, 3, 4, 5]
    with pytest.raises(TypeError, match="int8"):
        ring.last_as("c", np.float64)  # same name, other dtype: never reinterpreted


def test_settings_round_trip_and_fallbacks() -> None:
    s = LiveSettings(window_s=60.0, theme="dark", sound=True, hip_hike_threshold_deg=5.0)
    stored = {k: str(v) for k, v in s.to_dict().items()}  # QSettings may hand back strings
    assert LiveSettings.from_dict(stored) == s
    assert LiveSettings.from_dict({"window_s": "3", "theme": "pink"}) == LiveSettings()
    assert s.hip_hike_params().static_release_deg == 4.0
    with pytest.raises(ValueError):
        LiveSettings(window_s=5.0)


@pytest.mark.gui
def test_decimation_keeps_extremes_and_gaps() -> None:
    from gui.widgets.time_plot import decimate_minmax

    t = np.arange(10_000) / 200.0
    y = np.sin(t)
    y[5000] = 9.0
    y[7000:7010] = np.nan
    td, yd = decimate_minmax(t, y, 1000)
    assert td.size <= 1000 + 20
    assert np.nanmax(yd) == 9.0
    assert np.isnan(yd).any()
    assert np.all(np.diff(td) >= 0)


def test_minmax_trace_incremental_matches_whole_and_breaks_at_gaps() -> None:
    from gui.live.thin import MinMaxTrace

    rng = np.random.default_rng(0)
    t = np.arange(5000) / 200.0
    y = rng.normal(size=t.size)
    brk = np.zeros(t.size, bool)
    brk[3001] = True  # a gap before sample 3001
    t[3001:] += 2.0
    whole = MinMaxTrace(8, 2000)
    whole.extend(t, y, brk)
    parts = MinMaxTrace(8, 2000)
    i = 0
    while i < t.size:  # batches of 1..29 samples, as from the sensor
        n = int(rng.integers(1, 30))
        parts.extend(t[i : i + n], y[i : i + n], brk[i : i + n])
        i += n
    for a, b in zip(whole.since(-np.inf), parts.since(-np.inf), strict=True):
        np.testing.assert_array_equal(a, b)
    x, v = parts.since(-np.inf)
    assert np.all(np.diff(x) >= 0)
    assert np.nanmax(v) == y.max() and np.nanmin(v) == y.min()
    gap = np.flatnonzero(np.isnan(v))
    assert gap.size == 2 and x[gap[0]] == t[3000] and x[gap[1]] == t[3001]
    x, v = parts.since(t[-1] - 1.0)  # the last second: ~25 bins, newest last
    tail = (t.size - 3001) % 8 or 8  # bins restart at the gap; the newest one is open
    assert 48 <= x.size <= 54 and x[-1] == t[-1]
    assert sorted(v[-2:]) == [y[-tail:].min(), y[-tail:].max()]
    falling = MinMaxTrace(8, 100)  # each pair in the order its values came: no sawtooth
    falling.extend(np.arange(100.0), -np.arange(100.0) ** 1.5)
    assert np.all(np.diff(falling.since(-np.inf)[1]) <= 0)


def _batch(t0_s: float, n: int = 50, rate_hz: float = 100.0):  # type: ignore[no-untyped-def]
    from firmware_bridge.source import Batch

    t = t0_s + np.arange(n) / rate_hz
    acc = np.tile([0.0, 0.0, 9.81], (n, 1))
    return Batch(t, acc, np.zeros((n, 3)), rate_hz)


def test_live_recording_refuses_an_existing_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from firmware_bridge.source import SourceStatus
    from gui.live.recording import LiveRecording
    from recordings.files import OutputError

    path = tmp_path / "session.psrec"
    path.write_bytes(b"an earlier session")
    with pytest.raises(OutputError, match="exists already"):
        LiveRecording(path, {})
    # A file that appears between the start and the first sample is not replaced either.
    late = tmp_path / "late.psrec"
    rec = LiveRecording(late, {})
    late.write_bytes(b"another recorder")
    with pytest.raises(OutputError, match="exists already"):
        rec.append(_batch(0.0), SourceStatus())
    assert path.read_bytes() == b"an earlier session"
    assert late.read_bytes() == b"another recorder"


def test_two_live_recordings_on_one_name_one_fails(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from firmware_bridge.source import SourceStatus
    from gui.live.recording import LiveRecording
    from recordings import load
    from recordings.files import OutputError

    path = tmp_path / "s.psrec"
    first, second = LiveRecording(path, {"subject_id": "A"}), LiveRecording(path, {})
    first.append(_batch(0.0), SourceStatus())
    with pytest.raises(OutputError, match="exists already"):
        second.append(_batch(0.0), SourceStatus())
    first.append(_batch(0.5), SourceStatus())
    first.close()
    rec = load(path)
    assert rec.meta["subject_id"] == "A" and rec.n_samples == 100 and not rec.warnings


def test_fresh_name_never_proposes_a_taken_name(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from gui.live.recording import fresh_name

    assert fresh_name(tmp_path, "S01_x", ".psrec") == tmp_path / "S01_x.psrec"
    (tmp_path / "S01_x.psrec").write_bytes(b"")
    (tmp_path / "S01_x-2.psrec").symlink_to(tmp_path / "nowhere")  # a dangling link is taken
    assert fresh_name(tmp_path, "S01_x", ".psrec") == tmp_path / "S01_x-3.psrec"
