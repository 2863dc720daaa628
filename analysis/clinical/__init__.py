"""Guided clinical tests and exercises with biofeedback (issue 18).

Every analysis takes the calibrated samples of one span (:class:`Signals`) and returns an
:class:`Outcome` - waiting, running (live feedback), done (a result) or repeat (a reason,
no result). A live screen calls the same function after every chunk; a recording is
analysed once per marked span (:func:`analyze_marked`).

Tests: :func:`analyze_standing`, :func:`analyze_single_leg_stance` (Trendelenburg),
:func:`analyze_sit_to_stand` (five times, Bohannon 2006 norms), :func:`analyze_walk`.
Exercises: :func:`tilt_control`, :func:`level_balance`, :func:`sts_no_shift`,
:func:`level_walking` / :class:`LevelWalking`. Report: :func:`html_section`.
"""

from analysis.clinical.balance import (
    TRENDELENBURG_SOURCE,
    StanceParams,
    StandingParams,
    analyze_single_leg_stance,
    analyze_standing,
)
from analysis.clinical.exercises import (
    LevelWalking,
    TiltTargets,
    level_balance,
    level_walking,
    sts_no_shift,
    tilt_control,
)
from analysis.clinical.protocol import LABELS, Person, analyze_marked, signals_from_imu
from analysis.clinical.report import html_section
from analysis.clinical.signals import Outcome, Signals, State
from analysis.clinical.sts import NORMS_SOURCE, StsParams, analyze_sit_to_stand, norm_for_age
from analysis.clinical.walk import WalkParams, analyze_walk

__all__ = [
    "LABELS",
    "NORMS_SOURCE",
    "TRENDELENBURG_SOURCE",
    "LevelWalking",
    "Outcome",
    "Person",
    "Signals",
    "StanceParams",
    "StandingParams",
    "State",
    "StsParams",
    "TiltTargets",
    "WalkParams",
    "analyze_marked",
    "analyze_single_leg_stance",
    "analyze_sit_to_stand",
    "analyze_standing",
    "analyze_walk",
    "html_section",
    "level_balance",
    "level_walking",
    "norm_for_age",
    "signals_from_imu",
    "sts_no_shift",
    "tilt_control",
]
