"""Benchmark: the emulated sensor recorded with LSL on for N minutes (issue 21: 10 min at 200 Hz).

Run by hand: ``python bench/bench_lsl.py [--minutes 10] [--rate-hz 200]``. Real time: the
emulated sensor (30 ppm fast clock) streams a simulated mixed day through the bumble host
stack and the BLE client, as ``pelviscope record --simulate --lsl`` does; an inlet in this
process (loopback-only LSL configuration) receives the raw stream while the recorder writes
the file. Prints samples recorded / received, lost and duplicated on the inlet, the spread of
(LSL time - recording time) and the error of the LSL times against the emulated sensor's
true sample instants (its device clock mapped back exactly), and the CPU time used.

``--live-cpu S``: instead, CPU of ``pelviscope live --simulate --duration S`` (offscreen)
without and with ``--lsl`` (an inlet in this process consuming the raw and posture
streams), alternating, ``--repeats`` times each.
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--rate-hz", type=float, default=200.0)
    parser.add_argument("--live-cpu", type=float, metavar="S", default=0.0)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-lsl-"))
    cfg = tmp / "lsl_api.cfg"
    cfg.write_text("[ports]\nIPv6 = disable\n[multicast]\nResolveScope = machine\n"
                   "MachineAddresses = {127.0.0.1}\nListenAddress = 127.0.0.1\n"
                   f"[lab]\nKnownPeers = {{127.0.0.1}}\nSessionID = bench-{os.getpid()}\n"
                   "[log]\nlevel = -3\n")
    os.environ["LSLAPICFG"] = str(cfg)
    import pylsl

    if args.live_cpu:
        live_cpu(pylsl, args.live_cpu, args.repeats)
        return

    from firmware_bridge.emulator import emulated_source
    from firmware_bridge.recorder import record
    from interop.lsl import LslTee, network_summary
    from recordings import load
    from simulator import ImuErrors, simulate
    from simulator.presets import mixed_day

    print(network_summary())
    errors = ImuErrors(packet_loss=0.0, rate_error_ppm=0.0, quantize=False)
    sim = simulate(mixed_day(600.0, seed=1), rate_hz=args.rate_hz, errors=errors, seed=1)
    rec0 = sim.recording
    assert rec0.gyr_rps is not None
    source, sensor = emulated_source(rec0.acc_mps2, rec0.gyr_rps, rate_hz=args.rate_hz,
                                     sensor_kwargs={"clock_ppm": 30.0})
    tee = LslTee(source, source_id="bench-lsl")
    out = tmp / "bench.psrec"
    duration_s = args.minutes * 60.0
    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    done = threading.Event()

    def run() -> None:
        try:
            record(tee, out, {"simulated": True}, duration_s=duration_s)
        finally:
            done.set()

    t0 = time.monotonic()
    threading.Thread(target=run, daemon=True).start()
    inlet = None
    while inlet is None and not done.is_set():
        found = pylsl.resolve_byprop("name", "pelviscope-imu", timeout=1.0)
        if found:
            inlet = pylsl.StreamInlet(found[0], max_buflen=60, recover=False)
            inlet.open_stream(timeout=5.0)
    assert inlet is not None, "no LSL stream"
    correction = inlet.time_correction(timeout=5.0)
    values: list[np.ndarray] = []
    stamps: list[np.ndarray] = []
    buf = np.empty((8192, 6), dtype=np.float32)
    tbuf = np.empty(8192, dtype=np.float64)
    while True:
        try:
            _, ts = inlet.pull_chunk(timeout=0.2, max_samples=8192, dest_obj=buf)
        except pylsl.util.LostError:
            break
        n = len(ts)
        if n:
            tbuf[:n] = ts
            values.append(buf[:n].copy())
            stamps.append(tbuf[:n].copy())
        elif done.is_set():
            break
    wall = time.monotonic() - t0
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    rec = load(out)
    got = np.concatenate(values)
    t_lsl = np.concatenate(stamps) + correction
    full = np.hstack([rec.acc_mps2, rec.gyr_rps]).astype(np.float32)
    first = rec.n_samples - len(got)
    tail_equal = bool(np.array_equal(got, full[first:]))
    dup = len(t_lsl) - len(np.unique(t_lsl))
    spread_ms = float(np.ptp(t_lsl - rec.time_s[first:])) * 1e3
    # Truth: the emulated sensor's sample instants on the source clock, mapped to LSL time.
    assert rec.device_time_s is not None and tee.to_lsl.offset_s is not None
    true_host = sensor.host_time_of(rec.device_time_s[first:])
    true_lsl = true_host + (tee.to_lsl.offset_s - source.session_origin_s)
    err_ms = (t_lsl - true_lsl) * 1e3
    settled = rec.time_s[first:] - rec.time_s[0] >= 10.0
    print(f"recorded {rec.n_samples} samples ({rec.duration_s:.1f} s at {rec.rate_hz:g} Hz, "
          f"{len(rec.gaps)} gaps); inlet joined at sample {first} and received {len(got)}")
    print(f"inlet: samples equal to the recording's tail: {tail_equal}; lost "
          f"{0 if tail_equal else 'some'}, duplicated {dup}")
    print(f"LSL time - recording time: spread {spread_ms:.6f} ms")
    print(f"LSL time - true sample instant: median {np.median(err_ms):+.3f} ms, max |err| "
          f"{np.max(np.abs(err_ms)):.3f} ms overall, {np.max(np.abs(err_ms[settled])):.3f} ms "
          f"after the first 10 s")
    cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
    print(f"wall {wall:.1f} s, CPU {cpu:.1f} s ({100 * cpu / wall:.1f} % of one core: sensor "
          f"emulator + BLE stack + recorder + LSL outlet + inlet)")


def live_cpu(pylsl: Any, seconds: float, repeats: int) -> None:
    """CPU per wall second of the live dashboard without and with --lsl."""
    import subprocess
    import sys

    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    results: dict[bool, list[float]] = {False: [], True: []}
    for _ in range(repeats):
        for lsl in (False, True):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            t0 = time.monotonic()
            cmd = [sys.executable, "-m", "pelviscope", "live", "--simulate", "--duration",
                   str(seconds), *(["--lsl"] if lsl else [])]
            proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
            inlets = []
            if lsl:
                for name in ("pelviscope-imu", "pelviscope-posture"):
                    found = pylsl.resolve_byprop("name", name, timeout=30.0)
                    if found:
                        inlets.append(pylsl.StreamInlet(found[0]))
            received = 0
            while proc.poll() is None:
                for inlet in inlets:
                    try:
                        _, ts = inlet.pull_chunk(timeout=0.05, max_samples=4096)
                        received += len(ts)
                    except Exception:
                        pass
                if not inlets:
                    time.sleep(0.1)
            wall = time.monotonic() - t0
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
            results[lsl].append(100 * cpu / wall)
            print(f"live {'--lsl' if lsl else '     '}: CPU {100 * cpu / wall:.1f} % of one core "
                  f"over {wall:.0f} s" + (f", inlet received {received} samples" if lsl else ""))
    off, on = np.mean(results[False]), np.mean(results[True])
    print(f"mean: without {off:.1f} %, with --lsl {on:.1f} % ({100 * (on - off) / off:+.1f} %)")


if __name__ == "__main__":
    main()
