"""Benchmark: open a long session in the review window and change the view.

Run by hand (a 24-hour 100 Hz recording takes a few minutes to simulate)::

    pelviscope simulate /tmp/day.psrec --scenario day --duration 86400
    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/bench_review.py /tmp/day.psrec

Prints: the uncached open (time until the tilt is shown - the window shows it while
activity, steps and hip-hikes are still analysed - and until complete; read, analysis
per stage, cache write, model, first paint),
the cached open, and the time per view change (zoom/pan in the detail view, including a
synchronous repaint of the plots) against the targets of issue 9 (uncached <= 10 s,
cached <= 2 s, <= 50 ms per view change), and a threshold change (re-detection).
``--skip-uncached`` reuses an existing cache.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path
from typing import TYPE_CHECKING

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

# Qt and the app are imported in main(), not here: worker processes import this script as
# their main module, and the app's own main module (the ``pelviscope`` script) is light.
if TYPE_CHECKING:
    from PySide6 import QtWidgets

    from gui.review.model import Preview
    from gui.review.window import ReviewWindow


class Stages:
    """Time spent per progress stage."""

    def __init__(self) -> None:
        self.last = time.perf_counter()
        self.stage = "start"
        self.times: dict[str, float] = {}

    def __call__(self, fraction: float, stage: str) -> None:
        now = time.perf_counter()
        self.times[self.stage] = self.times.get(self.stage, 0.0) + now - self.last
        self.last, self.stage = now, stage


def open_and_show(app: QtWidgets.QApplication, window: ReviewWindow, path: Path) -> dict:
    from gui.review.model import PreviewModel, ReviewModel, open_session

    stages = Stages()
    t0 = time.perf_counter()
    shown: dict[str, float] = {}

    def on_preview(preview: Preview) -> None:
        # As the window does when the open job reports the tilt (here in this thread).
        window._on_preview(PreviewModel(preview))
        window.plots.repaint()
        app.processEvents()
        shown["preview"] = time.perf_counter() - t0

    session = open_session(path, progress=stages, on_preview=on_preview)
    t1 = time.perf_counter()
    model = ReviewModel(session)
    t2 = time.perf_counter()
    window.model = model
    window._show_model()
    window.plots.repaint()
    app.processEvents()
    t3 = time.perf_counter()
    return {
        "from_cache": session.from_cache,
        "open": t1 - t0,
        "stages": {k: v for k, v in stages.times.items() if k not in ("start",)},
        "timings": session.timings_s,
        "model": t2 - t1,
        "show": t3 - t2,
        "total": t3 - t0,
        "preview": shown.get("preview"),
        "samples": session.result.time_s.size,
    }


def view_changes(app: QtWidgets.QApplication, window: ReviewWindow) -> dict[str, list[float]]:
    plots = window.plots
    assert window.model is not None
    t0, t1 = window.model.t_range
    spans = {"whole session": t1 - t0, "1 h": 3600.0, "10 min": 600.0, "30 s": 30.0}
    out: dict[str, list[float]] = {}
    for name, width in spans.items():
        times = []
        width = min(width, t1 - t0)
        starts = [t0 + f * (t1 - t0 - width) for f in (0.0, 0.13, 0.37, 0.5, 0.71, 0.93, 1.0)]
        for x0 in starts:
            # From a different span each time, so that every timed call changes the view.
            other = 10.0 if width > 10.0 else 60.0
            plots.set_span(x0 + 0.25 * width, x0 + 0.25 * width + other)
            plots.repaint()
            app.processEvents()
            a = time.perf_counter()
            plots.set_span(x0, x0 + width)
            plots.repaint()
            app.processEvents()
            times.append(time.perf_counter() - a)
        out[name] = times
    # Episode jumps (table click path).
    times = []
    for i in range(min(20, len(window.model.episodes))):
        a = time.perf_counter()
        window.show_episode(i)
        plots.repaint()
        app.processEvents()
        times.append(time.perf_counter() - a)
    if times:
        out["episode jump"] = times
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("recording", type=Path)
    parser.add_argument("--skip-uncached", action="store_true")
    args = parser.parse_args()
    from analysis.pipeline.workers import prepare_workers

    prepare_workers()  # as `pelviscope review` does first
    from PySide6 import QtWidgets

    from gui.review import cache
    from gui.review.window import ReviewWindow

    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
    window = ReviewWindow()
    window.resize(1600, 1000)
    window.show()
    app.processEvents()
    size_mb = args.recording.stat().st_size / 1e6
    print(f"{args.recording} ({size_mb:.0f} MB)")
    if not args.skip_uncached:
        cache.cache_path(args.recording).unlink(missing_ok=True)
        r = open_and_show(app, window, args.recording)
        print(f"uncached open: tilt shown (a usable view) after {r['preview']:.2f} s (target "
              f"<= 10 s), complete after {r['total']:.2f} s, {r['samples']} samples")
        print(f"  read {r['timings'].get('read', 0):.2f} s, analysis "
              f"{r['timings'].get('analysis', 0):.2f} s, cache write "
              f"{r['timings'].get('cache_write', 0):.2f} s, model {r['model']:.2f} s, "
              f"first paint {r['show']:.2f} s")
        for stage, secs in r["stages"].items():
            print(f"    {stage:<14} {secs:7.2f} s")
    r = open_and_show(app, window, args.recording)
    assert r["from_cache"], "the second open did not use the cache"
    size = cache.cache_path(args.recording).stat().st_size / 1e6
    print(f"cached open: {r['total']:.2f} s to a usable view (target <= 2 s): cache read "
          f"{r['timings'].get('cache_read', 0):.2f} s ({size:.0f} MB), model (pyramid) "
          f"{r['model']:.2f} s, first paint {r['show']:.2f} s")
    print("view changes (set span + synchronous repaint), ms (target <= 50):")
    worst = 0.0
    for name, times in view_changes(app, window).items():
        ms = [1000 * t for t in times]
        worst = max(worst, max(ms))
        print(f"  {name:<14} median {statistics.median(ms):6.1f}  max {max(ms):6.1f}")
    print(f"  worst {worst:.1f} ms")
    from analysis.hiphike import HipHikeParams

    assert window.model is not None
    a = time.perf_counter()
    derived = window.model.redetected(HipHikeParams(static_threshold_deg=5.0))
    b = time.perf_counter()
    window.model.accept(derived, full=False)
    window._refresh_results()
    c = time.perf_counter()
    print(f"threshold change: re-detection {b - a:.2f} s (background thread), "
          f"table/panels refresh {1000 * (c - b):.0f} ms")
    window.close()


if __name__ == "__main__":
    main()
