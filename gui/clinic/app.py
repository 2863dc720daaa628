"""Start the clinic screen: a simulated execution replayed through the model and window."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from analysis.calibration import mount_preset
from gui.clinic.model import ClinicModel, ClinicSpec
from gui.clinic.recording import ClinicRecording
from gui.clinic.window import ClinicWindow, ReplaySource
from simulator.clinical import ClinicalSession, demo_script, simulate_clinical


@dataclass(frozen=True)
class ClinicOptions:
    """What ``pelviscope clinic --simulate`` was asked to do.

    Attributes
    ----------
    spec : ClinicSpec
        The test or exercise.
    seed : int
        Seed of the simulated person.
    speed : float
        Replay speed (1 = real time).
    screenshot : Path or None
        Save the window as PNG when the test ends (or at ``duration_s``), then quit.
    duration_s : float or None
        Quit after this many wall seconds.
    record : Path or None
        Record the samples, the test's marker and outcome to this ``.psrec``
        (:class:`gui.clinic.recording.ClinicRecording`; never replaces a file).
    """

    spec: ClinicSpec
    seed: int = 0
    speed: float = 1.0
    screenshot: Path | None = None
    duration_s: float | None = None
    record: Path | None = None


def simulated(spec: ClinicSpec, seed: int = 0) -> tuple[ClinicalSession, ReplaySource]:
    """A simulated execution of ``spec`` and its replay source (upright sacral mount)."""
    session = simulate_clinical(demo_script(spec.kind, spec.side or "right"), seed=seed)
    r = session.recording
    return session, ReplaySource(r.time_s, r.acc_mps2, r.gyr_rps)


def build(opts: ClinicOptions) -> tuple[ClinicWindow, ClinicalSession]:
    """Model, source and window for a simulated run (the QApplication must exist)."""
    session, source = simulated(opts.spec, opts.seed)
    # The simulator wears the sensor as the MM+ convention: a known mount, no calibration.
    cal = mount_preset("sacral-mm+")
    rate_hz = session.recording.rate_hz
    model = ClinicModel(opts.spec, rate_hz, cal)
    rec = None
    if opts.record is not None:
        rec = ClinicRecording(opts.record, opts.spec, rate_hz, cal, {"simulated": True})
    return ClinicWindow(model, source, speed=opts.speed, recording=rec), session


def run(opts: ClinicOptions) -> int:
    """Show the screen until closed (or the end / ``duration_s`` when screenshotting)."""
    from PySide6 import QtCore, QtWidgets

    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(sys.argv[:1])
    window, _ = build(opts)
    window.show()
    window.start()
    if opts.screenshot is not None or opts.duration_s is not None:
        def finish() -> None:
            if opts.screenshot is not None:
                window.screenshot(opts.screenshot)
            window.close()

        if opts.duration_s is not None:
            QtCore.QTimer.singleShot(round(opts.duration_s * 1000), finish)
        else:
            def poll() -> None:
                if not window.timer.isActive():
                    finish()
                else:
                    QtCore.QTimer.singleShot(200, poll)

            QtCore.QTimer.singleShot(200, poll)
    app.exec()
    return 0
