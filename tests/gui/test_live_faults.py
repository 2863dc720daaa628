"""The live dashboard and the review window under impossible samples and bad files (offscreen).

Impossible samples (not numbers, or beyond the sensor's range) in a live batch are left
out as lost samples: the tilt around them equals the clean stream's, the status bar says
how many, and the recording's reader leaves the same samples out (one rule, offline and
live). The review window's span calibration leaves them out too, and a calibration file
that cannot be used is one line in the live window.
"""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from analysis.labels import Activity
from analysis.pipeline.live import LivePipeline
from firmware_bridge.source import Batch, SourceStatus, State
from gui.live import sources
from gui.live.model import LiveModel
from gui.live.settings import LiveSettings
from recordings import load, write_recording
from simulator import Scenario, Stand, Walk, simulate

pytestmark = pytest.mark.gui
RATE_HZ = 200.0
BATCH = 10  # samples per notification, as from the sensor
#: What the emulated firmware states about itself (16 g, 2000 deg/s): the range rule of
#: the recording's header, so 3000 deg/s is beyond this sensor's range (x 1.25).
DEVICE = {"name": "list source", "acc_range_g": 16, "gyr_range_dps": 2000}


class BatchList:
    """A sample source that hands out prepared batches, a few per poll (a real
    :class:`~firmware_bridge.source.SampleSource`, without a radio link)."""

    def __init__(self, batches: list[Batch], per_poll: int = 8) -> None:
        self.batches, self.per_poll = list(batches), per_poll
        self.started = False
        self._status = SourceStatus(State.IDLE, device=DEVICE)

    def start(self) -> None:
        self.started = True
        self._status = SourceStatus(State.STREAMING, RATE_HZ, device=DEVICE)

    def stop(self) -> None:
        self.started = False

    def poll(self) -> list[Batch]:
        if not self.started:
            return []
        out, self.batches = self.batches[: self.per_poll], self.batches[self.per_poll :]
        return out

    @property
    def status(self) -> SourceStatus:
        return self._status


def _stream() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Time, acc and gyr of a short session: standing, walking, a static right hip-hike."""
    acc, gyr = sources.simulated_signal(
        Scenario([Stand(3.0), Walk(8.0), Stand(7.0, lateral_deg=-6.5)]), rate_hz=RATE_HZ
    )
    return np.arange(acc.shape[0]) / RATE_HZ, acc.copy(), gyr.copy()


def _corrupt(acc: np.ndarray, gyr: np.ndarray) -> dict[int, str]:
    """Impossible values at a few samples (in place); which samples, and what."""
    bad = {
        700: "NaN acc",
        1100: "1e10 m/s^2",
        1101: "1e10 m/s^2",
        1500: "1e6 rad/s",
        1900: "inf rad/s",
        2300: "3000 deg/s",
    }
    acc[700, 1] = np.nan
    acc[1100:1102, 2] = 1e10
    gyr[1500, 0] = 1e6
    gyr[1900, 2] = -np.inf
    gyr[2300, 1] = math.radians(3000.0)  # possible for some sensor, not for this one
    return bad


def _batches(t: np.ndarray, acc: np.ndarray, gyr: np.ndarray) -> list[Batch]:
    return [
        Batch(t[i : i + BATCH], acc[i : i + BATCH], gyr[i : i + BATCH], RATE_HZ)
        for i in range(0, t.size, BATCH)
    ]


def _ring(model: LiveModel, key: str) -> np.ndarray:
    """Every sample the model keeps of ``key`` ("t", "ant", "lat", "act", "brk")."""
    assert model.ring is not None
    return np.asarray(model.ring.last(key))


def _run_model(batches: list[Batch]) -> LiveModel:
    model = LiveModel(LiveSettings(window_s=60.0))
    model.connect(BatchList(batches, per_poll=len(batches)), "list")
    model.tick()
    return model


def test_impossible_live_samples_are_left_out_counted_and_shown(qtbot, tmp_path) -> None:
    from gui.live.window import LiveWindow

    t, acc, gyr = _stream()
    clean = _run_model(_batches(t, acc, gyr))
    bad = _corrupt(acc, gyr)
    batches = _batches(t, acc, gyr)

    window = LiveWindow(LiveModel(LiveSettings(window_s=60.0)), lambda e: BatchList(batches))
    qtbot.addWidget(window)
    window.show()
    window.connect_to(sources.EMULATED_ENTRY)  # the factory ignores the entry
    path = tmp_path / "live.psrec"
    window.start_recording(str(path))  # from the second poll on: every corrupt sample
    m = window.model
    qtbot.waitUntil(lambda: m.now_s >= t[-1], timeout=20_000)
    qtbot.waitUntil(lambda: window.status_labels["left_out"].text() != "", timeout=2000)

    # Counted once each, and said in one line of the status bar.
    assert m.pipeline is not None
    assert m.left_out_samples == len(bad) and m.pipeline.left_out_samples == len(bad)
    label = window.status_labels["left_out"]
    assert label.text() == f"{len(bad)} impossible samples left out"
    assert "never used" in label.toolTip() and "t = 3.5 s" in label.toolTip()

    # Never used: the ring holds every other sample, with finite tilt equal to the
    # clean stream's (the filter bridges a one-sample hole).
    ring_t, ant, lat = _ring(m, "t"), _ring(m, "ant"), _ring(m, "lat")
    keep = np.ones(t.size, bool)
    keep[list(bad)] = False
    np.testing.assert_array_equal(ring_t, t[keep])
    assert np.isfinite(ant).all() and np.isfinite(lat).all()
    np.testing.assert_allclose(ant, _ring(clean, "ant")[keep], atol=0.1)
    np.testing.assert_allclose(lat, _ring(clean, "lat")[keep], atol=0.1)
    # ... nor for the activity or the hip-hike flag.
    assert np.mean(_ring(m, "act") == _ring(clean, "act")[keep]) > 0.99
    assert m.hip_hike_flag == clean.hip_hike_flag == "right"
    episodes = [*m.episodes, *m.ongoing]
    assert [e.side for e in episodes] == [e.side for e in [*clean.episodes, *clean.ongoing]]
    for e, c in zip(episodes, [*clean.episodes, *clean.ongoing], strict=True):
        # activity frames count samples: six fewer move a label edge by up to a frame
        assert abs(e.start_s - c.start_s) <= 0.1 and abs(e.mean_deg - c.mean_deg) < 0.1
    # Each hole breaks the curve, as a lost packet does.
    brk = _ring(m, "brk")
    after = [i - k for k, i in enumerate(sorted(bad))]  # ring index of the next sample
    assert set(np.flatnonzero(brk)) == {i for i in after if i < brk.size}
    snap = m.snapshot()
    assert np.isnan(snap.lateral_tilt_deg).sum() == len(set(after))
    runs = [(700, 700), (1100, 1101), (1500, 1500), (1900, 1900), (2300, 2300)]
    assert list(m.gaps) == [(t[a - 1], t[b + 1]) for a, b in runs]

    # The recording keeps the samples as they came; its reader leaves the same ones out.
    written = window.stop_recording()
    assert written == path
    rec = load(path)
    dropped = [g for g in rec.gaps if g.reason == "out_of_range"]
    assert sum(g.lost_samples for g in dropped) == len(bad)
    offset = float(rec.meta["live_session_offset_s"])
    np.testing.assert_allclose([(g.start_s + offset, g.end_s + offset) for g in dropped],
                               list(m.gaps), atol=1e-9)
    assert any("dropped" in w for w in rec.warnings)
    kept_s = set(np.round(rec.time_s + offset, 6))
    assert kept_s == set(np.round(ring_t[ring_t >= offset], 6))
    window.close()


def test_a_batch_of_only_impossible_samples_changes_nothing() -> None:
    from analysis.calibration import mount_preset

    t, acc, gyr = _stream()  # walking from 3 s to 11 s

    def walked(hole: bool) -> LivePipeline:
        """9 s of the stream; with ``hole``, its 8.0-8.6 s are all impossible."""
        pipe = LivePipeline(RATE_HZ, mount_preset(LiveSettings().mount_preset))
        for i in range(0, 1800, BATCH):
            s = slice(i, i + BATCH)
            a = acc[s] * 1e9 if hole and 1600 <= i < 1720 else acc[s]
            res = pipe.feed(t[s], a, gyr[s])
            assert (res.left_out is not None) == (hole and 1600 <= i < 1720)
            if res.left_out is not None:  # nothing usable: nothing comes out
                assert res.left_out.all() and res.time_s.size == 0
                assert res.anterior_tilt_deg.size == 0 and res.hip_hike.closed == []
            else:
                assert np.isfinite(res.anterior_tilt_deg).all()
        pipe.update_gait()
        return pipe

    clean, holed = walked(hole=False), walked(hole=True)
    assert clean.left_out_samples == 0 and holed.left_out_samples == 120
    assert clean.current_activity == holed.current_activity == Activity.WALKING
    assert 80 < clean.cadence_spm < 140
    # The gait window does not bridge 0.6 s without data: 0.4 s after it, no cadence yet.
    assert math.isnan(holed.cadence_spm)


# ---- the review window's span calibration ---------------------------------------------------
@pytest.fixture(scope="module")
def two_recordings(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A short session as a clean recording and with impossible samples, some of which
    the reader keeps (4500 deg/s, within the 4000 deg/s range the header states)."""
    folder = tmp_path_factory.mktemp("span_cal")
    rec = simulate(Scenario([Stand(7.0), Walk(14.0)]), rate_hz=100.0, seed=3).recording
    rec.meta["ranges"] = {"acc_g": 16, "gyr_dps": 4000}
    clean = folder / "clean.psrec"
    write_recording(clean, rec)
    assert rec.gyr_rps is not None
    gyr, acc = rec.gyr_rps.copy(), rec.acc_mps2.copy()
    acc[300, 0], acc[900, 2], gyr[1200, 1] = np.nan, 1e10, 1e6
    gyr[[400, 1000, 1600], 0] = math.radians(4500.0)  # kept by the reader
    bad = folder / "bad.psrec"
    write_recording(bad, dataclasses.replace(rec, acc_mps2=acc, gyr_rps=gyr))
    kept = load(bad)
    assert kept.n_samples == rec.n_samples - 3  # the reader leaves three out, keeps three
    return clean, bad


def test_span_calibration_leaves_impossible_samples_out(qtbot, two_recordings) -> None:
    from analysis.hiphike import HipHikeParams
    from gui.review.model import recalibrate
    from gui.review.window import ReviewWindow

    clean, bad = two_recordings
    reference = recalibrate(clean, 0.0, 21.0, HipHikeParams())
    w = ReviewWindow()
    qtbot.addWidget(w)
    w.show()
    with qtbot.waitSignal(w.loaded, timeout=30_000):
        w.open_path(bad)
    w.plots.set_span(0.0, 21.0)
    outcome: list[str] = []
    w.loaded.connect(lambda: outcome.append("re-calibrated"))
    w.loadFailed.connect(outcome.append)
    w.recalibrate_from_span()
    qtbot.waitUntil(lambda: bool(outcome), timeout=30_000)
    assert outcome == ["re-calibrated"]  # not "... looks like deg/s" from the filter
    assert w.model is not None and reference.calibration is not None
    r = w.model.result
    assert r.calibration is not None and "span 0-21 s" in r.calibration.method
    q_ref = reference.calibration.sensor_to_pelvis_quat_wxyz
    q_bad = r.calibration.sensor_to_pelvis_quat_wxyz
    dot = abs(float(np.dot(q_ref, q_bad)))
    assert math.degrees(2 * math.acos(min(1.0, dot))) < 0.5
    assert r.duration_s == pytest.approx(reference.duration_s)
    common = np.isin(reference.time_s, r.time_s)
    assert common.sum() == reference.time_s.size - 6  # all six impossible samples left out
    assert np.isfinite(r.anterior_tilt_deg).all()
    np.testing.assert_allclose(
        r.anterior_tilt_deg, reference.anterior_tilt_deg[common], atol=0.5
    )
    assert "Re-calibrated" in w.statusBar().currentMessage()
    w.close()


# ---- the live window's calibration file -----------------------------------------------------
def test_unusable_calibration_file_is_one_line(qtbot, tmp_path) -> None:
    from gui.live.window import LiveWindow

    w = LiveWindow(LiveModel(LiveSettings()), lambda e: BatchList([]))
    qtbot.addWidget(w)
    good = tmp_path / "good.json"
    w.save_calibration(str(good))
    doc = json.loads(good.read_text())
    preset = w.model.calibration
    q = doc["sensor_to_pelvis_quat_wxyz"]
    files = {
        "list.json": "[1, 2, 3]",
        "nan.json": json.dumps({**doc, "sensor_to_pelvis_quat_wxyz": [math.nan, 0, 0, 0]}),
        "long.json": json.dumps({**doc, "sensor_to_pelvis_quat_wxyz": [2 * v for v in q]}),
        "broken.json": good.read_text()[:-5],
        "binary.json": b"\xff\xfe\x00{",
        "nested.json": "[" * 100_000,
    }
    for name, content in files.items():
        path = tmp_path / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    for name in [*files, "missing.json"]:
        path = tmp_path / name
        w.load_calibration(str(path))
        reason = w.cal_panel.reason.text()
        assert reason.startswith(str(path) + ": ") and "\n" not in reason, reason
        assert "Traceback" not in reason and len(reason) < 200
        assert w.model.calibration is preset and not w.model.calibrated
    w.load_calibration(str(tmp_path))  # a folder
    assert w.cal_panel.reason.text().startswith(str(tmp_path))
    w.load_calibration(str(good))
    assert w.cal_panel.reason.text() == "" and w.model.calibrated
    assert w.model.calibration.sensor_to_pelvis_quat_wxyz == pytest.approx(q)
    w.close()
