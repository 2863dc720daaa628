"""Every parameter of a session analysis in one object: :class:`SessionParams`."""

from __future__ import annotations

from dataclasses import dataclass, field

from analysis.calibration import Calibration
from analysis.gait.spatial import SpatialParams
from analysis.hiphike import HipHikeParams
from analysis.hiphike.params import PelvicDropParams


@dataclass(frozen=True, kw_only=True)
class SessionParams:
    """What an offline analysis of one session uses besides the recording.

    Attributes
    ----------
    calibration : Calibration or None
        A sensor-to-pelvis calibration to use instead of the automatic one.
    standing_tilt_deg : float or None
        Absolute anterior tilt of the neutral standing posture, if a clinician measured it.
    hip_hike : HipHikeParams
        Hip-hike thresholds.
    drop : PelvicDropParams
        Pelvic-drop (Trendelenburg gait) thresholds.
    spatial : SpatialParams
        Step length and walking speed model.
    leg_length_m, height_m : float or None
        The wearer's leg length or body height for the spatial model (else the
        recording's ``leg_length_m``/``height_m`` metadata, else a documented default).
    workers : int or None
        Processes to use (None: every usable core for sessions of at least
        ``parallel_min_s``; 1: this process only).
    parallel_min_s : float
        Sessions at least this long are analysed in parts on several processes.
    part_s : float
        Target length of one part (parts are handed to the processes as they get free).
    margin_s : float
        Data each part reads beyond its cuts so that the filters settle; discarded after.
    agree_s : float
        Either side of a cut the activity decoded by both neighbouring parts must agree.
    quiet_s, cut_search_s : float
        A cut goes in the middle of the stillest ``quiet_s`` window within
        ``cut_search_s`` of the even split.
    """

    calibration: Calibration | None = None
    standing_tilt_deg: float | None = None
    hip_hike: HipHikeParams = field(default_factory=HipHikeParams)
    drop: PelvicDropParams = field(default_factory=PelvicDropParams)
    spatial: SpatialParams = field(default_factory=SpatialParams)
    leg_length_m: float | None = None
    height_m: float | None = None
    workers: int | None = None
    parallel_min_s: float = 30 * 60.0
    part_s: float = 3600.0
    margin_s: float = 60.0
    agree_s: float = 20.0
    quiet_s: float = 20.0
    cut_search_s: float = 600.0
