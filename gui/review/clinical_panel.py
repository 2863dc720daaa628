"""The review window's tests-and-exercises panel (``SessionResult.clinical``).

The session's marked clinical tests and exercises, per side, against norms, in plain
words. The wording and the positive/negative calls are the HTML report's
(:func:`analysis.clinical.report.html_section`): one card per test or exercise, a
left-against-right card when both single-leg stances are valid, and the criterion and its
literature source under each call. Shown as rich text (every value from the file is
escaped there); no scripts, no external resources.
"""

from __future__ import annotations

from typing import Any

from PySide6 import QtWidgets

from analysis.clinical.report import html_section

EMPTY = ("No marked tests or exercises in this recording. Sessions recorded in the clinic "
         "screen (pelviscope clinic) carry markers named after the tests; each marked span "
         "is analysed as that test.")


class ClinicalPanel(QtWidgets.QTextBrowser):
    """The session's tests and exercises as plain-language cards."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setOpenLinks(False)
        self.setOpenExternalLinks(False)
        self.set_clinical(None)

    def set_clinical(self, clinical: dict[str, list[dict[str, Any]]] | None) -> None:
        """Show ``{"tests": [...], "exercises": [...]}`` (None or empty: a short note)."""
        tests = list((clinical or {}).get("tests", []))
        exercises = list((clinical or {}).get("exercises", []))
        self.counts = (len(tests), len(exercises))
        html = html_section(tests, exercises)
        if html:
            self.setHtml(html)
        else:
            self.setPlainText(EMPTY)
