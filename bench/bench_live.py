"""Live dashboard at 200 Hz from the emulated sensor: CPU use and notification-to-screen latency.

Runs the real window offscreen (same code as ``pelviscope live --simulate``), streaming the
simulated clinic session through the bumble stack and the BLE client. Reports

* process CPU time / wall time (this includes the emulated sensor and the bumble stack,
  which run in the client's thread here but on a separate device in real use),
* GUI-thread CPU time / wall time (the dashboard itself: drain, analysis, drawing),
* frames painted per second,
* notification-to-screen latency: from the host receiving a notification to the end of
  the first paint of the lateral-tilt plot that shows it (p50, p95, max).

Targets (issue #8): CPU <= 20 % of one core at 30 fps, latency p95 <= 50 ms.

    .venv/bin/python bench/bench_live.py [--duration 30] [--window 30] [--sim-start 0]
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
from PySide6 import QtCore, QtWidgets

from gui.live import sources
from gui.live.model import LiveModel
from gui.live.settings import LiveSettings
from gui.live.window import LiveWindow


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--duration", type=float, default=30.0, help="measured seconds")
    ap.add_argument("--warmup", type=float, default=5.0, help="seconds before measuring")
    ap.add_argument("--window", type=float, default=30.0, help="plot window, s")
    ap.add_argument("--sim-start", type=float, default=0.0, help="start of the simulated session")
    ap.add_argument("--rate-hz", type=float, default=200.0)
    ap.add_argument("--force-fps", type=float, default=0.0,
                    help="redraw this often even without new data (worst-case drawing cost)")
    args = ap.parse_args()

    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
    signal = sources.simulated_signal(rate_hz=args.rate_hz, start_s=args.sim_start)

    def factory(entry: sources.DeviceEntry):  # type: ignore[no-untyped-def]
        return sources.emulated(rate_hz=args.rate_hz, signal=signal)[0]

    model = LiveModel(LiveSettings(window_s=args.window))
    window = LiveWindow(model, factory, None)
    window.show()
    if args.force_fps:
        window.force_redraw = True
        window.timer.setInterval(round(1000 / args.force_fps))
    frames = [0]
    window.lateral_plot.painted.connect(lambda: frames.__setitem__(0, frames[0] + 1))
    window.connect_to(sources.EMULATED_ENTRY)

    marks: dict[str, float] = {}

    def start_measuring() -> None:
        model.latencies_s.clear()
        frames[0] = 0
        marks.update(wall=time.perf_counter(), proc=time.process_time(),
                     thread=time.thread_time(), samples=model.status.samples)

    def stop() -> None:
        marks.update(wall2=time.perf_counter(), proc2=time.process_time(),
                     thread2=time.thread_time(), samples2=model.status.samples)
        app.quit()

    QtCore.QTimer.singleShot(round(args.warmup * 1000), start_measuring)
    QtCore.QTimer.singleShot(round((args.warmup + args.duration) * 1000), stop)
    app.exec()
    lat_ms = 1000 * np.asarray(model.latencies_s)
    st = model.status
    window.close()

    wall = marks["wall2"] - marks["wall"]
    proc = (marks["proc2"] - marks["proc"]) / wall
    gui = (marks["thread2"] - marks["thread"]) / wall
    fps = frames[0] / wall
    rate = (marks["samples2"] - marks["samples"]) / wall
    mode = f"forced {args.force_fps:g} fps" if args.force_fps else "redraw on new data"
    print(f"bench_live: {args.rate_hz:.0f} Hz emulated sensor, window {args.window:.0f} s, "
          f"{mode}, {wall:.1f} s measured after {args.warmup:.0f} s warm-up")
    print(f"  samples/s received      {rate:8.1f}   "
          f"(lost {st.lost_samples}, state {st.state.value})")
    print(f"  frames painted/s        {fps:8.1f}")
    print(f"  CPU, whole process      {100 * proc:7.1f} %  of one core (incl. emulated sensor)")
    print(f"  CPU, GUI thread         {100 * gui:7.1f} %  of one core   target <= 20 %  "
          f"ratio {gui / 0.20:.2f}")
    if lat_ms.size:
        p50, p95 = np.percentile(lat_ms, [50, 95])
        print(f"  latency notification->screen  p50 {p50:5.1f} ms  p95 {p95:5.1f} ms  "
              f"max {lat_ms.max():5.1f} ms  (n={lat_ms.size})   target p95 <= 50 ms  "
              f"ratio {p95 / 50:.2f}")
    else:
        print("  latency: no samples")


if __name__ == "__main__":
    main()
