"""Live dashboard at 200 Hz from the emulated sensor: CPU use and notification-to-screen latency.

Runs the real window offscreen (same code as ``pelviscope live --simulate``), streaming the
simulated clinic session through the bumble stack and the BLE client. Reports

* process CPU time / wall time (this includes the emulated sensor and the bumble stack,
  which run in the client's thread here but on a separate device in real use),
* GUI-thread CPU time / wall time (the dashboard itself: drain, analysis, drawing),
* frames painted per second,
* notification-to-screen latency: from the host receiving a notification to the end of
  the first paint of the lateral-tilt plot that shows it (p50, p95, max),
* with ``--breakdown``, the GUI thread's CPU time per stage (model tick, refresh, the
  paint of each plot and of the graphics items in them).

Measuring starts once the plot window is full (warm-up = window + 5 s by default): before
that the time axis does not scroll and drawing is much cheaper than in steady use.

Targets (issue #8): CPU <= 20 % of one core at 30 fps, latency p95 <= 50 ms.

    .venv/bin/python bench/bench_live.py [--duration 30] [--window 30] [--sim-start 0] \\
        [--force-fps 30] [--breakdown]
"""

from __future__ import annotations

import argparse
import collections
import functools
import os
import time
from collections.abc import Callable
from typing import Any

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
    ap.add_argument("--warmup", type=float, default=None,
                    help="seconds before measuring (default: the window + 5 s, so that the "
                         "plots are full and scroll - the steady state)")
    ap.add_argument("--window", type=float, default=30.0, help="plot window, s")
    ap.add_argument("--sim-start", type=float, default=0.0, help="start of the simulated session")
    ap.add_argument("--rate-hz", type=float, default=200.0)
    ap.add_argument("--force-fps", type=float, default=0.0,
                    help="redraw this often even without new data (worst-case drawing cost)")
    ap.add_argument("--breakdown", action="store_true",
                    help="also report where the GUI thread's CPU time goes")
    args = ap.parse_args()
    if args.warmup is None:
        args.warmup = args.window + 5.0

    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
    costs: collections.Counter[str] = collections.Counter()
    if args.breakdown:
        _instrument_classes(costs)
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
    if args.breakdown:
        _instrument_window(window, costs)
    window.connect_to(sources.EMULATED_ENTRY)

    marks: dict[str, float] = {}

    def start_measuring() -> None:
        model.latencies_s.clear()
        frames[0] = 0
        costs.clear()
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
    if args.breakdown:
        thread_s = marks["thread2"] - marks["thread"]
        print("  GUI thread CPU by stage (% of one core; nested stages are part of their parent):")
        for name, sec in sorted(costs.items(), key=lambda kv: -kv[1]):
            print(f"    {name:38s} {100 * sec / wall:6.2f} %")
        top = sum(v for k, v in costs.items() if not k.startswith(" "))
        print(f"    {'rest (Qt layout, widgets, flush, loop)':38s} "
              f"{100 * (thread_s - top) / wall:6.2f} %")


def _timed(fn: Callable[..., Any], costs: collections.Counter[str],
           key: str | None) -> Callable[..., Any]:
    """``fn`` that adds its thread CPU time to ``costs[key]`` (the instance's ``_bench_name``
    when ``key`` is None; untimed without one)."""

    @functools.wraps(fn)
    def wrapper(self: Any, *a: Any, **k: Any) -> Any:
        t0 = time.thread_time()
        try:
            return fn(self, *a, **k)
        finally:
            name = key if key is not None else getattr(self, "_bench_name", None)
            if name is not None:
                costs[name] += time.thread_time() - t0

    return wrapper


def _instrument_classes(costs: collections.Counter[str]) -> None:
    """Time the paint of each plot and of the graphics items in them (class level)."""
    import pyqtgraph as pg

    pg.GraphicsView.paintEvent = _timed(pg.GraphicsView.paintEvent, costs, None)
    for cls in (pg.PlotCurveItem, pg.InfiniteLine, pg.AxisItem, pg.ImageItem, pg.TextItem):
        cls.paint = _timed(cls.paint, costs, f"  of which {cls.__name__}.paint")


def _instrument_window(window: LiveWindow, costs: collections.Counter[str]) -> None:
    """Time the model tick, the refresh, the status bar and the gait stage of one window."""
    window.anterior_plot._bench_name = "paint anterior plot"  # type: ignore[attr-defined]
    window.lateral_plot._bench_name = "paint lateral plot"  # type: ignore[attr-defined]
    window.band.plot._bench_name = "paint activity band"  # type: ignore[attr-defined]
    m = window.model
    for obj, attr, key in ((m, "tick", "model.tick (drain + analysis)"),
                           (m, "idle", "model.idle (gait)"),
                           (window, "refresh", "window.refresh (set data)"),
                           (window, "_update_status", "window._update_status")):
        setattr(obj, attr, functools.partial(_timed(type(obj).__dict__[attr], costs, key), obj))


if __name__ == "__main__":
    main()
