"""Start the review window; headless use saves a screenshot and quits after loading."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ReviewOptions:
    """What ``pelviscope review`` was asked to do.

    Attributes
    ----------
    path : Path or None
        Session to open at start.
    screenshot : Path or None
        Save the window as PNG once the session is shown.
    quit_after_load : bool
        Quit once the session is shown (exit status 2 if it could not be opened).
    use_cache : bool
        Read and write the analysis cache next to the recording.
    acc_unit, gyr_unit : str
        Units of a CSV input.
    theme : str
        ``"light"`` or ``"dark"``.
    """

    path: Path | None = None
    screenshot: Path | None = None
    quit_after_load: bool = False
    use_cache: bool = True
    acc_unit: str = "mps2"
    gyr_unit: str = "rps"
    theme: str = "light"


def run(opts: ReviewOptions) -> int:
    """Show the window until closed (or until loaded, headless); return the exit status."""
    from PySide6 import QtCore, QtWidgets

    from gui.review.window import ReviewWindow
    from gui.widgets.theme import THEMES

    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(sys.argv[:1])
    app.setApplicationName("pelviscope review")
    window = ReviewWindow(THEMES[opts.theme], use_cache=opts.use_cache,
                          acc_unit=opts.acc_unit, gyr_unit=opts.gyr_unit)
    window.show()
    status = {"code": 0}

    def on_loaded() -> None:
        def finish() -> None:
            if opts.screenshot is not None:
                window.screenshot(opts.screenshot)
            if opts.quit_after_load:
                window.close()
                app.quit()

        # Let the layout settle and the first paint happen before grabbing.
        QtCore.QTimer.singleShot(200, finish)

    def on_failed(message: str) -> None:
        print(f"pelviscope review: error: {message}", file=sys.stderr)
        if opts.quit_after_load:
            status["code"] = 2
            window.close()
            app.quit()

    window.loaded.connect(on_loaded)
    window.loadFailed.connect(on_failed)
    if opts.path is not None:
        window.open_path(opts.path)
    app.exec()
    return status["code"]
