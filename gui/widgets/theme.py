"""Light and dark colour themes shared by the live dashboard and the review window."""

from __future__ import annotations

from dataclasses import dataclass, field

from PySide6 import QtGui, QtWidgets

from analysis.report.svg import DROP_COLOUR


@dataclass(frozen=True)
class Theme:
    """Colours (``#rrggbb`` strings) of one theme.

    ``drop`` shades pelvic-drop episodes: the HTML report's colour, distinct from both
    hip-hike side colours so a drop is never read as a hike.
    """

    name: str
    background: str
    panel: str
    foreground: str
    muted: str
    axis: str
    anterior: str
    lateral: str
    threshold: str
    reference: str
    marker: str
    alert: str
    ok: str
    warn: str
    side: dict[str, str] = field(default_factory=dict)
    activity: dict[str, str] = field(default_factory=dict)
    drop: str = DROP_COLOUR


_ACTIVITY_LIGHT = {
    "sitting": "#7f9cc9", "standing": "#5fb58f", "walking": "#f0a35e",
    "lying": "#9e9e9e", "transition": "#e6c84f", "unknown": "#e3e3e3",
}
_ACTIVITY_DARK = {
    "sitting": "#5b7bb0", "standing": "#3f9b74", "walking": "#d08443",
    "lying": "#7a7a7a", "transition": "#c2a633", "unknown": "#3a3d42",
}

LIGHT = Theme(
    name="light", background="#ffffff", panel="#f4f5f7", foreground="#1d232b", muted="#6b7480",
    axis="#59616b", anterior="#1f5fbf", lateral="#0f8a7e", threshold="#c62828",
    reference="#9aa3ad", marker="#37474f", alert="#c62828", ok="#2e7d32", warn="#ef6c00",
    side={"left": "#e53935", "right": "#8e24aa"}, activity=_ACTIVITY_LIGHT,
)
DARK = Theme(
    name="dark", background="#16191d", panel="#1f2328", foreground="#e6e9ed", muted="#9aa3ad",
    axis="#a9b1ba", anterior="#6aa5ff", lateral="#3fd0bf", threshold="#ff6b6b",
    reference="#5c6670", marker="#cfd8dc", alert="#e53935", ok="#66bb6a", warn="#ffa726",
    side={"left": "#ff5252", "right": "#ce6bff"}, activity=_ACTIVITY_DARK,
)
THEMES = {"light": LIGHT, "dark": DARK}


def apply_palette(app: QtWidgets.QApplication, theme: Theme) -> None:
    """Give the Qt widgets the theme's background and text colours."""
    pal = QtGui.QPalette()
    c = QtGui.QColor
    pal.setColor(QtGui.QPalette.ColorRole.Window, c(theme.panel))
    pal.setColor(QtGui.QPalette.ColorRole.WindowText, c(theme.foreground))
    pal.setColor(QtGui.QPalette.ColorRole.Base, c(theme.background))
    pal.setColor(QtGui.QPalette.ColorRole.AlternateBase, c(theme.panel))
    pal.setColor(QtGui.QPalette.ColorRole.Text, c(theme.foreground))
    pal.setColor(QtGui.QPalette.ColorRole.Button, c(theme.panel))
    pal.setColor(QtGui.QPalette.ColorRole.ButtonText, c(theme.foreground))
    pal.setColor(QtGui.QPalette.ColorRole.PlaceholderText, c(theme.muted))
    pal.setColor(QtGui.QPalette.ColorRole.ToolTipBase, c(theme.panel))
    pal.setColor(QtGui.QPalette.ColorRole.ToolTipText, c(theme.foreground))
    pal.setColor(QtGui.QPalette.ColorRole.Highlight, c(theme.anterior))
    pal.setColor(QtGui.QPalette.ColorRole.HighlightedText, c("#ffffff"))
    app.setPalette(pal)
