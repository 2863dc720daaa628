"""Dashboard settings: a plain dataclass (the window stores it with ``QSettings``)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from analysis.hiphike import HipHikeParams

#: Allowed plot window lengths, s (10 s to 5 min).
WINDOW_CHOICES_S = (10.0, 20.0, 30.0, 60.0, 120.0, 300.0)
THEMES = ("light", "dark")


@dataclass(frozen=True, kw_only=True)
class LiveSettings:
    """What the user can set; remembered between runs.

    Attributes
    ----------
    window_s : float
        Visible time span of the scrolling plots, s (10-300).
    hip_hike_threshold_deg : float
        Lateral tilt at which a static hip-hike starts (the detector's
        ``static_threshold_deg``); drawn as threshold lines on the lateral plot.
    hip_hike_min_duration_s : float
        Shortest static hip-hike (the detector's ``static_min_duration_s``).
    anterior_low_deg, anterior_high_deg : float
        Reference lines on the anterior-tilt plot (display only).
    anterior_range_deg, lateral_range_deg : float
        Fixed half-height of the two plots' y ranges, deg.
    theme : str
        ``"light"`` or ``"dark"``.
    sound : bool
        Beep when a hip-hike starts.
    mount_preset : str
        Mount preset used until the user calibrates.
    """

    window_s: float = 30.0
    hip_hike_threshold_deg: float = 4.0
    hip_hike_min_duration_s: float = 3.0
    anterior_low_deg: float = -10.0
    anterior_high_deg: float = 10.0
    anterior_range_deg: float = 25.0
    lateral_range_deg: float = 12.0
    theme: str = "light"
    sound: bool = False
    mount_preset: str = "sacral-mm+"

    def __post_init__(self) -> None:
        if not 10.0 <= self.window_s <= 300.0:
            raise ValueError(f"window_s must be within 10-300 s, got {self.window_s}")
        if self.theme not in THEMES:
            raise ValueError(f"theme must be one of {THEMES}, got {self.theme!r}")
        if not self.anterior_low_deg < self.anterior_high_deg:
            raise ValueError("anterior_low_deg must be below anterior_high_deg")
        self.hip_hike_params()  # validates the thresholds

    def hip_hike_params(self) -> HipHikeParams:
        """Detector parameters for these settings (release 1 deg below the threshold).

        Standing is compared with neutral from the start (live feedback follows the
        calibration wizard's neutral standing), not only after 10 s of measured standing.
        """
        return HipHikeParams(
            static_threshold_deg=self.hip_hike_threshold_deg,
            static_release_deg=max(0.5, self.hip_hike_threshold_deg - 1.0),
            static_min_duration_s=self.hip_hike_min_duration_s,
            static_neutral_baseline=("standing",),
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain values by field name."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> LiveSettings:
        """Settings from stored values; unknown keys and bad values fall back to defaults."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            if f.name not in values or values[f.name] is None:
                continue
            default = getattr(cls(), f.name)
            try:
                v = values[f.name]
                if isinstance(default, bool):
                    v = v if isinstance(v, bool) else str(v).lower() in ("1", "true", "yes")
                out[f.name] = type(default)(v)
            except (TypeError, ValueError):
                continue
        try:
            return cls(**out)
        except ValueError:
            return cls()
