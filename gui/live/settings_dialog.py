"""The settings dialog (a thin form over :class:`~gui.live.settings.LiveSettings`)."""

from __future__ import annotations

from PySide6 import QtWidgets

from gui.live.settings import THEMES, WINDOW_CHOICES_S, LiveSettings


def window_text(seconds: float) -> str:
    """``30 s`` or ``2 min``."""
    return f"{seconds / 60:g} min" if seconds >= 60 else f"{seconds:g} s"


def _spin(lo: float, hi: float, step: float, value: float, suffix: str) -> QtWidgets.QDoubleSpinBox:
    s = QtWidgets.QDoubleSpinBox()
    s.setRange(lo, hi)
    s.setSingleStep(step)
    s.setDecimals(1)
    s.setValue(value)
    s.setSuffix(suffix)
    return s


class SettingsDialog(QtWidgets.QDialog):
    """Edit thresholds, window length, y ranges, theme and sound."""

    def __init__(self, settings: LiveSettings, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Dashboard settings")
        self._base = settings
        self.window_box = QtWidgets.QComboBox()
        for s in WINDOW_CHOICES_S:
            self.window_box.addItem(window_text(s), s)
        self.window_box.setCurrentIndex(self.window_box.findData(settings.window_s))
        self.threshold = _spin(1.0, 20.0, 0.5, settings.hip_hike_threshold_deg, " °")
        self.min_duration = _spin(0.5, 30.0, 0.5, settings.hip_hike_min_duration_s, " s")
        self.ant_low = _spin(-60.0, 60.0, 1.0, settings.anterior_low_deg, " °")
        self.ant_high = _spin(-60.0, 60.0, 1.0, settings.anterior_high_deg, " °")
        self.ant_range = _spin(5.0, 90.0, 5.0, settings.anterior_range_deg, " °")
        self.lat_range = _spin(5.0, 45.0, 1.0, settings.lateral_range_deg, " °")
        self.theme = QtWidgets.QComboBox()
        self.theme.addItems(list(THEMES))
        self.theme.setCurrentText(settings.theme)
        self.sound = QtWidgets.QCheckBox("Beep when a hip-hike starts")
        self.sound.setChecked(settings.sound)
        self.error = QtWidgets.QLabel("")
        form = QtWidgets.QFormLayout(self)
        form.addRow("Plot window", self.window_box)
        form.addRow("Hip-hike threshold (lateral tilt)", self.threshold)
        form.addRow("Hip-hike minimum duration", self.min_duration)
        form.addRow("Anterior tilt reference, low", self.ant_low)
        form.addRow("Anterior tilt reference, high", self.ant_high)
        form.addRow("Anterior plot range ±", self.ant_range)
        form.addRow("Lateral plot range ±", self.lat_range)
        form.addRow("Theme", self.theme)
        form.addRow("", self.sound)
        # PySide6's stub has no overload with a None field; Qt takes nullptr: a label-only row.
        form.addRow("Angles are in degrees; time in seconds.", None)  # type: ignore[call-overload]
        form.addRow(self.error)
        buttons = QtWidgets.QDialogButtonBox(
            QtWidgets.QDialogButtonBox.StandardButton.Ok
            | QtWidgets.QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def settings(self) -> LiveSettings:
        """The edited settings (raises ``ValueError`` for an inconsistent combination)."""
        return LiveSettings(
            window_s=float(self.window_box.currentData()),
            hip_hike_threshold_deg=self.threshold.value(),
            hip_hike_min_duration_s=self.min_duration.value(),
            anterior_low_deg=self.ant_low.value(),
            anterior_high_deg=self.ant_high.value(),
            anterior_range_deg=self.ant_range.value(),
            lateral_range_deg=self.lat_range.value(),
            theme=self.theme.currentText(),
            sound=self.sound.isChecked(),
            mount_preset=self._base.mount_preset,
        )

    def accept(self) -> None:
        """Close only when the values are consistent."""
        try:
            self.settings()
        except ValueError as exc:
            self.error.setText(str(exc))
            return
        super().accept()
