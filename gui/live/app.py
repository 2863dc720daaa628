"""Start the live dashboard: Qt application, window, source, and the headless options."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from firmware_bridge.emulator import FaultConfig
from firmware_bridge.source import SampleSource
from gui.live.model import LiveModel
from gui.live.settings import LiveSettings
from gui.live.sources import EMULATED_ADDRESS, DeviceEntry, ble_source, emulated


@dataclass(frozen=True)
class LiveOptions:
    """What ``pelviscope live`` was asked to do.

    Attributes
    ----------
    simulate : bool
        Connect to the emulated sensor at start.
    device : str or None
        Connect to this BLE address at start.
    duration_s : float or None
        Quit after this many seconds (headless use).
    screenshot : Path or None
        Save the window as PNG just before quitting.
    sim_start_s : float
        The emulated sensor streams the simulated clinic session from this time on.
    rate_hz : float
        Output data rate asked of the sensor.
    calibration : object or None
        A calibration to use from the start (``analysis.calibration.Calibration``).
    faults : FaultConfig or None
        Faults of the emulated sensor (drops, hang-ups).
    remember : bool
        Read and store settings with ``QSettings``.
    lsl : bool
        Stream raw samples, derived values and events to Lab Streaming Layer.
    """

    simulate: bool = False
    device: str | None = None
    duration_s: float | None = None
    screenshot: Path | None = None
    sim_start_s: float = 0.0
    rate_hz: float = 200.0
    calibration: object | None = None
    faults: FaultConfig | None = None
    remember: bool = True
    theme: str | None = None
    window_s: float | None = None
    lsl: bool = False


def needs_offscreen() -> bool:
    """True on Linux without a display server (Qt would abort)."""
    if os.environ.get("QT_QPA_PLATFORM"):
        return False
    return sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    )


def make_factory(opts: LiveOptions) -> Callable[[DeviceEntry], SampleSource]:
    """A function that makes the source for a device-list entry."""

    def factory(entry: DeviceEntry) -> SampleSource:
        source: SampleSource
        if entry.address == EMULATED_ADDRESS:
            source, _sensor = emulated(rate_hz=opts.rate_hz, start_s=opts.sim_start_s,
                                       faults=opts.faults)
        else:
            source = ble_source(entry.address, rate_hz=opts.rate_hz)
        if opts.lsl:
            from analysis.activity import LABELS
            from interop.lsl import LslTee

            source = LslTee(source, source_id=f"pelviscope-{entry.address}",
                            activity_labels=LABELS)
        return source

    return factory


def run(opts: LiveOptions) -> int:
    """Show the dashboard until closed (or for ``duration_s``); return the exit status."""
    from PySide6 import QtCore, QtWidgets

    from analysis.calibration import Calibration
    from gui.live.window import LiveWindow

    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(sys.argv[:1])
    app.setApplicationName("pelviscope live")
    qsettings = QtCore.QSettings("pelviscope", "live") if opts.remember else None
    model = LiveModel(LiveSettings())
    if isinstance(opts.calibration, Calibration):
        model.set_calibration(opts.calibration)
    window = LiveWindow(model, make_factory(opts), qsettings)
    if opts.theme or opts.window_s:
        s = model.settings.to_dict()
        s.update({k: v for k, v in (("theme", opts.theme), ("window_s", opts.window_s)) if v})
        window.apply_settings(LiveSettings(**s))
    window.show()
    if opts.simulate:
        window.connect_to(window.connect_panel.entries[0])
    elif opts.device:
        window.connect_to(DeviceEntry(opts.device, "pelviscope", opts.device, None))
    if opts.duration_s is not None:
        def finish() -> None:
            if opts.screenshot is not None:
                window.screenshot(opts.screenshot)
            window.close()

        QtCore.QTimer.singleShot(round(opts.duration_s * 1000), finish)
    app.exec()
    return 0
