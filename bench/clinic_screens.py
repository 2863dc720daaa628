"""Render the clinic screen's README pictures: a test and an exercise, mid-way, offscreen.

Run by hand: ``QT_QPA_PLATFORM=offscreen .venv/bin/python bench/clinic_screens.py docs``.
The simulated executions are replayed into the model in 50 ms chunks up to a chosen data
time, so the pictures are the same on every run.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6 import QtWidgets

from gui.clinic.app import ClinicOptions, build
from gui.clinic.model import ClinicSpec


def render(spec: ClinicSpec, until_s: float, path: Path, seed: int = 0) -> str:
    window, _ = build(ClinicOptions(spec, seed=seed))
    window.show()
    src, t = window.source, window.source.start_s
    while t < until_s and not src.finished:
        t += 0.05
        times, acc, gyr = src.read(t)
        if times.size:
            window.model.feed(times, acc, gyr)
    window.draw(window.model.view)
    QtWidgets.QApplication.processEvents()
    window.screenshot(path)
    view = window.model.view
    window.close()
    return f"{path}: {view.step.value} | {view.headline} | {view.value} | {view.detail}"


def main() -> None:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else ".")
    app = QtWidgets.QApplication(sys.argv[:1])
    print(render(ClinicSpec(kind="sls", side="right"), 14.0, out / "clinic_test.png"))
    print(render(ClinicSpec(kind="tilt_control"), 26.2, out / "clinic_exercise.png"))
    del app


if __name__ == "__main__":
    main()
