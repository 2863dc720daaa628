"""Activity segmentation from one sacral IMU: sitting, standing, walking, lying, transitions.

What the pelvis sensor really tells, per analysis frame (``frame_s``, default 0.25 s):

* **Posture** from the pelvis pitch relative to the calibrated upright
  (:func:`analysis.tilt.pelvic_tilt_deg`): sitting rotates the pelvis backwards by
  typically 10-20 deg (anterior tilt below ``sit_tilt_deg``); lying puts the pelvis near
  horizontal (inclination above ``lying_incl_deg``; a pure forward bend needs
  ``lying_forward_incl_deg`` so that picking something up is not "lying").
* **Movement energy**: the standard deviation of the band-passed (0.5-4 Hz, causal)
  acceleration magnitude.
* **Gait periodicity**: the largest normalised autocorrelation of that signal at a step or
  stride period (``gait_period_s``) in a centred ``gait_window_s`` window.

The per-frame evidence becomes a cost for each state ``sitting, standing, walking,
lying, unknown``; an explicit-duration Viterbi decoder (each state is a chain of
sub-states as long as its minimum duration, plus a switching penalty) gives labels that
cannot flicker. Posture changes between a sitting (or lying) and an upright level are
then located on the fine tilt signal - for sit-to-stand and stand-to-sit the
characteristic forward lean gives the start (leaving the first level), the peak and the
end (reaching the second level) - and labelled ``transition``.

Offline (:func:`classify_activity`) and live (:class:`ActivityTracker`) use the same
feature functions and the same decoder step. Offline decodes the whole session (full
Viterbi back-tracking) and locates transitions with look-ahead on both sides; live uses
fixed-lag Viterbi (each frame is decided when the best path is ``lag`` frames older)
so that an emitted label is never more than ``max_lag_s`` (2 s) behind the newest
sample, and reports transitions as events only (their samples keep the posture label).

Without calibration (``anterior_tilt_deg=None``) the posture comes from the inclination
change relative to the first quiet upright posture (signless), found next to walking
(without walking upright is unknown, and still postures are ``unknown``, never guessed):
sitting is then any still posture inclined 9-60 deg from upright (a standing forward bend
also reads as sitting), lying is > 60 deg, and transitions are located by level crossings
without the forward-lean check. Walking and lying are as reliable as with a calibration;
sitting and standing less so. The accelerometer alone is enough: the features use acceleration and
tilt only (the tilt may come from an accelerometer-only orientation).



Modules: :mod:`~analysis.activity.params` (vocabulary, parameters),
:mod:`~analysis.activity.features` (per-frame features and state costs),
:mod:`~analysis.activity.decoder` (the Viterbi decoder), :mod:`~analysis.activity.transitions`,
:mod:`~analysis.activity.context` (sitting vs standing over still pieces, offline),
:mod:`~analysis.activity.classify` (offline), :mod:`~analysis.activity.tracker` (live),
:mod:`~analysis.activity.results`.
"""

from analysis.activity.classify import activity_from_states, classify_activity, decode_states
from analysis.activity.context import refine_sit_stand
from analysis.activity.features import (
    FrameFeatures,
    frame_features,
    gait_probability,
    gait_signal,
    periodicity,
    state_costs,
    vertical_acceleration,
)
from analysis.activity.params import LABELS, STATES, ActivityParams, PostureContextParams
from analysis.activity.results import ActivityResult, TransitionEvent
from analysis.activity.tracker import ActivityTracker, ActivityUpdate
from analysis.activity.transitions import locate_transitions

__all__ = [
    "LABELS",
    "STATES",
    "ActivityParams",
    "ActivityResult",
    "ActivityTracker",
    "ActivityUpdate",
    "FrameFeatures",
    "PostureContextParams",
    "TransitionEvent",
    "activity_from_states",
    "classify_activity",
    "decode_states",
    "frame_features",
    "gait_probability",
    "gait_signal",
    "locate_transitions",
    "periodicity",
    "refine_sit_stand",
    "state_costs",
    "vertical_acceleration",
]
