"""LSL outlets (interop.lsl): a real liblsl, loopback only, an inlet in the test process."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from recordings import load

ROOT = Path(__file__).resolve().parents[2]


def loopback_config(folder: Path) -> Path:
    """An lsl_api.cfg keeping every LSL packet on 127.0.0.1 (machine scope, no IPv6)."""
    cfg = folder / "lsl_api.cfg"
    cfg.write_text(
        "[ports]\nIPv6 = disable\n"
        "[multicast]\nResolveScope = machine\nMachineAddresses = {127.0.0.1}\n"
        "ListenAddress = 127.0.0.1\n"
        f"[lab]\nKnownPeers = {{127.0.0.1}}\nSessionID = pelviscope-test-{os.getpid()}\n"
        "[log]\nlevel = -3\n"
    )
    return cfg


@pytest.fixture(scope="module")
def lsl(tmp_path_factory: pytest.TempPathFactory):
    cfg = loopback_config(tmp_path_factory.mktemp("lsl"))
    os.environ["LSLAPICFG"] = str(cfg)  # read by liblsl at its first use, in this process
    pylsl = pytest.importorskip("pylsl")
    return pylsl, cfg


def _inlet(pylsl, name: str, timeout_s: float = 20.0):
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        found = pylsl.resolve_byprop("name", name, timeout=1.0)
        if found:
            inlet = pylsl.StreamInlet(found[0], max_buflen=60, recover=False)
            inlet.open_stream(timeout=5.0)
            return inlet
    pytest.fail(f"LSL stream {name} not found within {timeout_s} s")


def test_network_summary_names_the_loopback(lsl):
    from interop.lsl import network_summary

    line = network_summary()
    assert "discovery scope 'machine': queries to 127.0.0.1 and known peers {127.0.0.1}" in line
    assert "answered on 127.0.0.1 port 16571" in line and str(lsl[1]) in line


@pytest.mark.ble
@pytest.mark.slow
def test_record_simulate_lsl_streams_every_sample_with_its_clock_time(lsl, tmp_path):
    """``record --simulate --lsl`` for 10 s: the inlet gets a gap-free, duplicate-free run of
    the recorded samples, equal values, and times that differ from the recording's by one
    constant (the clock origin) - sample times from the clock model, not arrival times."""
    pylsl, cfg = lsl
    out = tmp_path / "s.psrec"
    env = {**os.environ, "LSLAPICFG": str(cfg)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "pelviscope", "record", "--simulate", "--lsl", "--duration", "10",
         "--out", str(out)], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True)  # fmt: skip
    try:
        inlet = _inlet(pylsl, "pelviscope-imu")
        info = inlet.info(timeout=5.0)
        ch = info.desc().child("channels").child("channel")
        labels, units = [], []
        while not ch.empty():
            labels.append(ch.child_value("label"))
            units.append(ch.child_value("unit"))
            ch = ch.next_sibling()
        assert labels == ["acc_x", "acc_y", "acc_z", "gyr_x", "gyr_y", "gyr_z"]
        assert units == ["m/s^2"] * 3 + ["rad/s"] * 3
        assert info.nominal_srate() == 200.0
        correction = inlet.time_correction(timeout=5.0)  # same machine: ~0
        values, stamps = [], []
        while True:  # until the recorder ends and its outlet goes
            try:
                data, ts = inlet.pull_chunk(timeout=0.2, max_samples=4096)
            except pylsl.util.LostError:
                break
            values += data
            stamps += ts
            if proc.poll() is not None and not ts:
                break
    finally:
        _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 0, stderr
    assert "discovery scope 'machine': queries to 127.0.0.1" in stderr
    rec = load(out)
    got = np.asarray(values, dtype=np.float32)
    t_lsl = np.asarray(stamps) + correction
    assert len(got) > 0.5 * rec.n_samples  # the inlet joins a second or two in
    # The inlet joined after the outlet started: what it got must be the recording's tail,
    # sample for sample (a loss or a duplicate anywhere would shift it).
    full = np.hstack([rec.acc_mps2, rec.gyr_rps]).astype(np.float32)
    assert np.array_equal(got, full[-len(got):]), "samples lost or duplicated"
    first = rec.n_samples - len(got)
    offset = t_lsl - rec.time_s[first:]
    spread_ms = float(np.ptp(offset)) * 1e3
    print(f"LSL: {len(got)} of {rec.n_samples} samples (joined at {first}), 0 lost, "
          f"0 duplicated, timestamp spread vs the recording {spread_ms:.6f} ms")
    assert spread_ms < 2.0


class _Replay:
    """A SampleSource handing a recording out in small batches (no clock: anchored)."""

    def __init__(self, rec, batch: int = 10) -> None:
        from firmware_bridge.source import SourceStatus, State

        self.rec, self.batch, self.i = rec, batch, 0
        self._status = SourceStatus(state=State.STREAMING, device={"model": "replay"})

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass

    @property
    def status(self):
        return self._status

    def poll(self):
        from firmware_bridge.source import Batch

        if self.i >= self.rec.n_samples:
            return []
        j = min(self.i + self.batch, self.rec.n_samples)
        r = self.rec
        b = Batch(r.time_s[self.i:j], r.acc_mps2[self.i:j], r.gyr_rps[self.i:j], r.rate_hz)
        self.i = j
        return [b]


def _pull_all(pylsl, inlet, quiet_s: float = 0.5):
    values, stamps = [], []
    last = time.monotonic()
    while time.monotonic() - last < quiet_s:
        data, ts = inlet.pull_chunk(timeout=0.1, max_samples=8192)
        if ts:
            values += data
            stamps += ts
            last = time.monotonic()
    return values, np.asarray(stamps)


def test_live_feed_publishes_posture_and_events_on_the_sample_clock(lsl):
    """The live model's derived values reach the posture stream stamped with the same LSL
    times as their raw samples; hip-hike episodes and a user marker reach the events."""
    pylsl, _ = lsl
    from gui.live.lsl_feed import LslFeed
    from gui.live.model import LiveModel
    from interop.lsl import LslTee
    from simulator import Scenario, Stand, Walk, simulate

    scenario = Scenario([Stand(8), Walk(16, cadence_spm=108), Stand(10),
                         Stand(14, lateral_deg=-7.0), Stand(10)])
    rec = simulate(scenario, rate_hz=100.0, seed=3).recording
    tee = LslTee(_Replay(rec), source_id="pelviscope-test-live", activity_labels=("a", "b"))
    model = LiveModel()
    model.connect(tee)
    feed = LslFeed(model, tee)
    model.tick()
    feed.update()  # the outlets exist now
    raw, posture, events = (_inlet(pylsl, n) for n in
                            ("pelviscope-imu", "pelviscope-posture", "pelviscope-events"))
    ch = posture.info(timeout=5.0).desc().child("channels").child("channel")
    units = []
    while not ch.empty():
        units.append((ch.child_value("label"), ch.child_value("unit")))
        ch = ch.next_sibling()
    assert units == [("anterior_tilt", "deg"), ("lateral_tilt", "deg"), ("activity", "code"),
                     ("hip_hike", "code")]
    sent_from = model.ring.count
    marked = False
    while model.tick():
        feed.update()
        if not marked and model.ring.count >= 3000:
            feed.marker("cue", float(model.ring.last("t", 1)[0]))
            marked = True
    raw_v, raw_t = _pull_all(pylsl, raw)
    post_v, post_t = _pull_all(pylsl, posture)
    ev_v, _ = _pull_all(pylsl, events)
    n_after = rec.n_samples - 10  # the first batch went out before the inlets connected
    assert len(raw_v) == n_after and len(np.unique(raw_t)) == n_after
    assert len(post_v) == model.ring.count - sent_from
    assert np.isin(post_t, raw_t).all(), "posture stamps are not their samples' stamps"
    assert np.all(np.diff(raw_t) > 0)
    texts = [v[0] for v in ev_v]
    assert "marker cue" in texts
    hikes = [t for t in texts if t.startswith("hip_hike_start right")]
    assert hikes, texts
    post = np.asarray(post_v)
    assert set(np.unique(post[:, 3])) <= {0.0, 1.0, 2.0} and (post[:, 3] == 2.0).any()


def test_without_lsl_nothing_loads_liblsl():
    """LSL stays opt-in: the live window and the recorder load no liblsl without --lsl."""
    code = ("import sys, gui.live.window, gui.live.app, pelviscope.commands.record, "
            "pelviscope.commands.live, interop.lsl; assert 'pylsl' not in sys.modules")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
                          check=False)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
