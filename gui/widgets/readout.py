"""Large numeric readouts and the hip-hike indicator."""

from __future__ import annotations

import math

from PySide6 import QtCore, QtWidgets

from gui.widgets.theme import Theme


class BigReadout(QtWidgets.QFrame):
    """A caption above a large value, e.g. "ANTERIOR TILT" / "+7.4°".

    Parameters
    ----------
    caption : str
        Small text above the value.
    hint : str
        Small text under the value (e.g. what a positive sign means).
    """

    def __init__(self, caption: str, hint: str = "",
                 parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("readout")
        self.caption = QtWidgets.QLabel(caption.upper())
        self.value = QtWidgets.QLabel("-")
        self.hint = QtWidgets.QLabel(hint)
        self.value.setAlignment(QtCore.Qt.AlignmentFlag.AlignLeft
                                | QtCore.Qt.AlignmentFlag.AlignVCenter)
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(12, 6, 12, 6)
        lay.setSpacing(0)
        lay.addWidget(self.caption)
        lay.addWidget(self.value)
        lay.addWidget(self.hint)
        self._colour = ""

    def apply_theme(self, theme: Theme, value_colour: str | None = None) -> None:
        """Colours from the theme (the value in ``value_colour`` if given)."""
        self._colour = value_colour or theme.foreground
        self.setStyleSheet(
            f"QFrame#readout {{ background: {theme.background}; border: 1px solid "
            f"{theme.reference}; border-radius: 6px; }}"
        )
        self.caption.setStyleSheet(f"color: {theme.muted}; font-size: 11px; "
                                   "font-weight: 600; letter-spacing: 1px;")
        self.value.setStyleSheet(f"color: {self._colour}; font-size: 34px; font-weight: 600;")
        self.hint.setStyleSheet(f"color: {theme.muted}; font-size: 11px;")

    def set_text(self, text: str, hint: str | None = None) -> None:
        """Show ``text`` as the value."""
        self.value.setText(text)
        if hint is not None:
            self.hint.setText(hint)


def format_angle(deg: float) -> str:
    """``+7.4°`` (or an en dash when unknown)."""
    return "–" if not math.isfinite(deg) else f"{deg:+.1f}°"


class HipHikeIndicator(QtWidgets.QFrame):
    """A prominent box: grey "No hip-hike" or coloured "RIGHT hip-hike 6.1° · 4.3 s"."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("hiphike")
        self.caption = QtWidgets.QLabel("HIP-HIKE")
        self.value = QtWidgets.QLabel("none")
        self.detail = QtWidgets.QLabel("")
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(12, 6, 12, 6)
        lay.setSpacing(0)
        lay.addWidget(self.caption)
        lay.addWidget(self.value)
        lay.addWidget(self.detail)
        self.side = ""
        self.theme: Theme | None = None
        self.setMinimumWidth(250)

    def apply_theme(self, theme: Theme) -> None:
        """Colours from the theme."""
        self.theme = theme
        self._restyle()

    def _restyle(self) -> None:
        t = self.theme
        if t is None:
            return
        if self.side:
            bg = self._active_colour(t)
            fg = sub = "#ffffff"
            border = bg
        else:
            bg, fg, sub, border = t.background, t.muted, t.muted, t.reference
        self.setStyleSheet(f"QFrame#hiphike {{ background: {bg}; border: 1px solid {border}; "
                           "border-radius: 6px; }")
        self.caption.setStyleSheet(f"color: {sub}; font-size: 11px; font-weight: 600; "
                                   "letter-spacing: 1px;")
        self.value.setStyleSheet(f"color: {fg}; font-size: 34px; font-weight: 700;")
        self.detail.setStyleSheet(f"color: {sub}; font-size: 12px;")

    def _active_colour(self, theme: Theme) -> str:
        return theme.side.get(self.side, theme.alert)

    def set_state(self, side: str, angle_deg: float, duration_s: float) -> None:
        """Show a hip-hike of ``side`` ("" = none) with its angle and duration."""
        changed = side != self.side
        self.side = side
        if side:
            self.value.setText(f"{side.upper()}")
            self.detail.setText(f"{side} side raised · {angle_deg:.1f}° · {duration_s:.1f} s")
        else:
            self.value.setText("none")
            self.detail.setText("")
        if changed:
            self._restyle()


class DropIndicator(HipHikeIndicator):
    """The pelvic-drop box: grey "none" or, in the drop colour, "LEFT" (the side dropping).

    The drop colour is its own (never a hip-hike side colour): a drop of the left side
    and a hike of the right both make the left lower, and must not be confused.
    """

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.caption.setText("PELVIC DROP")
        self.setMinimumWidth(170)

    def _active_colour(self, theme: Theme) -> str:
        return theme.drop

    def set_state(self, side: str, angle_deg: float, duration_s: float) -> None:
        """Show a drop of ``side`` ("" = none), its mean depth and how long it has lasted."""
        changed = side != self.side
        self.side = side
        self.value.setText(side.upper() if side else "none")
        self.detail.setText(f"{angle_deg:.1f}° low in swing · {duration_s:.0f} s"
                            if side else "")
        if changed:
            self._restyle()
