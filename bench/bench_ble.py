"""BLE path benchmark: decode throughput, and notification -> decoded batch latency.

Run by hand: ``python bench/bench_ble.py [--seconds 10]``. Prints:

- codec decode throughput (samples/s) of ``decode_frame`` alone and of the full
  ``StreamDecoder.feed`` (gaps, unwrap, clock fit);
- over the bumble virtual link at 200 and 1000 Hz: the time from the notification
  callback to the decoded batch being queued (p50/p99), and from the moment the last
  sample of a frame was taken on the emulated device to the batch being queued
  (link + stack + decode, p50/p99).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from firmware_bridge.emulator import emulated_source, synthetic_signal
from firmware_bridge.profiles import pelviscope_profile as pp
from firmware_bridge.stream import StreamDecoder


def bench_decode(n_frames: int = 20000, n: int = 19) -> None:
    acc, gyr = synthetic_signal(n_frames * n / 200.0, 200.0)
    frames = [pp.encode_frame(j, round(j * n * 5000), acc[j * n:(j + 1) * n],
                              gyr[j * n:(j + 1) * n], rate_hz=200, acc_range_g=8,
                              gyr_range_dps=2000) for j in range(n_frames)]
    t0 = time.perf_counter()
    for f in frames:
        pp.decode_frame(f)
    dt_codec = time.perf_counter() - t0
    dec = StreamDecoder()
    t0 = time.perf_counter()
    for j, f in enumerate(frames):
        dec.feed(f, j * n / 200.0 + 0.003)
    dt_stream = time.perf_counter() - t0
    total = n_frames * n
    print(f"decode_frame        : {total / dt_codec:12,.0f} samples/s "
          f"({dt_codec / n_frames * 1e6:.1f} us/frame of {n})")
    print(f"StreamDecoder.feed  : {total / dt_stream:12,.0f} samples/s "
          f"({dt_stream / n_frames * 1e6:.1f} us/frame of {n})")


def bench_link(rate_hz: float, seconds: float) -> None:
    feed_s: list[float] = []
    original = StreamDecoder.feed

    def timed(self, payload, host_s):  # type: ignore[no-untyped-def]
        t0 = time.perf_counter()
        out = original(self, payload, host_s)
        feed_s.append(time.perf_counter() - t0)
        return out

    StreamDecoder.feed = timed  # type: ignore[method-assign]
    try:
        acc, gyr = synthetic_signal(30.0, rate_hz)
        source, sensor = emulated_source(acc, gyr, rate_hz=rate_hz)
        source.start()
        batches = []
        t_end = time.monotonic() + seconds + 1.0
        while time.monotonic() < t_end:
            time.sleep(1 / 30)  # the GUI's 30 Hz drain
            batches += source.poll()
        source.stop()
        batches += source.poll()
    finally:
        StreamDecoder.feed = original  # type: ignore[method-assign]
    st = source.status
    last_dev = np.array([b.device_time_s[-1] for b in batches])
    taken = sensor.host_time_of(last_dev) - source.session_origin_s
    arrived = np.array([b.host_time_s[-1] for b in batches])
    e2e_ms = (arrived - taken) * 1e3 + np.array(feed_s[: len(batches)]) * 1e3
    feed_ms = np.array(feed_s) * 1e3
    n = sum(b.n_samples for b in batches)
    print(f"link {rate_hz:6.0f} Hz: {n} samples in {len(batches)} notifications, "
          f"lost {st.lost_samples}, bad {st.bad_frames}, mtu {st.device.get('mtu')}")
    print(f"   notification -> batch queued : p50 {np.percentile(feed_ms, 50):.3f} ms, "
          f"p99 {np.percentile(feed_ms, 99):.3f} ms")
    print(f"   sample taken -> batch queued : p50 {np.percentile(e2e_ms, 50):.2f} ms, "
          f"p99 {np.percentile(e2e_ms, 99):.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    bench_decode()
    for rate in (200.0, 1000.0):
        bench_link(rate, args.seconds)


if __name__ == "__main__":
    main()
