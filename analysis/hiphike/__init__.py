"""Hip-hike episodes from the lateral pelvic tilt (issue #5, part 1; issues 15 and 16).

An *episode* is a span of time in which one side of the pelvis is raised. Its side is the
raised side (DESIGN section 2: lateral tilt ``phi > 0`` means the LEFT side is higher), and
its ``peak_deg`` / ``mean_deg`` are signed so that positive = towards the raised side.
Every episode carries a ``confidence`` (0-1) and a ``reason`` in plain words; would-be
flags that were left out are counted by reason (:attr:`HipHikeTracker.suppressed`,
JSON ``hip_hike_suppressed``). Two kinds are detected:

``static`` (:mod:`analysis.hiphike.static`)
    A lateral tilt HELD while sitting or standing, beyond the person's own habitual tilt in
    that activity (the median of the session so far; until it is known, beyond neutral
    standing by a clearly abnormal amount). Hysteresis (entry/release levels), short
    interruptions bridged, a minimum duration.
``gait`` (:mod:`analysis.hiphike.gait`)
    The swing side rising during ITS OWN swing. Per stride, the mean tilt of the two
    mid-swings minus the stride mean (:func:`step_obliquities`): a constant frontal
    offset - a neutral that is not level, a sensor at the side of the belt - contributes
    nothing, and neither does a symmetric gait; a hike of one side does, with the sign of
    that side. Compared with the person's own strides (running median), it must reach a
    threshold, with the swing side above the stride mean, in ``gait_min_strides``
    consecutive strides of that side.

Why (real data, ``bench/tune_flags.py``): on healthy people (HAPT) the neutral-referenced
detector flagged 154 gait episodes per hour of level walking, 221 of 236 on the session's
steady offset side, and static episodes in 58 % of sitting, where the habitual sitting tilt
is ~4 deg from neutral standing.

The same state machines serve a whole recording (:func:`detect_hip_hikes`,
:func:`analyze_hip_hikes`) and the live app (:class:`HipHikeTracker`, fed chunk by chunk);
the batch function *is* the tracker fed one chunk, so both give the same episodes (the
baselines are causal). :func:`hip_hike_labels` gives the per-sample ``hip_hike`` column of
the CSV (DESIGN section 3).

Live use::

    tracker = HipHikeTracker(HipHikeParams(static_threshold_deg=5.0))
    for chunk in stream:  # samples, their activity, contacts found since the last chunk
        out = tracker.update(chunk.time_s, chunk.lateral_tilt_deg, chunk.activity,
                             chunk.ic_time_s, chunk.ic_side)
        show(out.flag, out.ongoing); store(out.closed)
    store(tracker.finish().closed)

References
----------
J. Perry and J. M. Burnfield, *Gait Analysis: Normal and Pathological Function*, 2nd ed.,
SLACK, 2010 (pelvic obliquity: the swing side drops ~4-5 deg in loading response).
M. P. Kadaba, H. K. Ramakrishnan, M. E. Wootten, "Measurement of lower extremity
kinematics during level walking", J Orthop Res 8:383-392, 1990 (obliquity ROM ~8 deg).
R. Baker, "Pelvic angles: a mathematically rigorous definition which is consistent with a
conventional clinical understanding of the terms", Gait Posture 13:1-6, 2001.
"""

from analysis.hiphike.params import HipHikeParams
from analysis.hiphike.results import KINDS, SIDES, HipHikeEpisode, HipHikeUpdate, StepObliquity
from analysis.hiphike.steps import step_obliquities, step_obliquity
from analysis.hiphike.tracker import (
    HipHikeAnalysis,
    HipHikeTracker,
    analyze_hip_hikes,
    detect_hip_hikes,
    detect_hip_hikes_and_steps,
    hip_hike_labels,
)

__all__ = [
    "KINDS",
    "SIDES",
    "HipHikeAnalysis",
    "HipHikeEpisode",
    "HipHikeParams",
    "HipHikeTracker",
    "HipHikeUpdate",
    "StepObliquity",
    "analyze_hip_hikes",
    "detect_hip_hikes",
    "detect_hip_hikes_and_steps",
    "hip_hike_labels",
    "step_obliquities",
    "step_obliquity",
]
