"""The work of one part of a long session, run in a worker process.

Each task reads its inputs from the shared arrays (:mod:`analysis.pipeline.workers`),
writes per-sample outputs back into them, and returns only what is small. The
calibration is an argument: the rounds are explicit (orientation of every part; then
the calibration from the whole session; then tilt; then activity and gait).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from analysis import quaternion as quat
from analysis.activity import FrameFeatures, classify_activity
from analysis.calibration import Calibration
from analysis.labels import Activity
from analysis.orientation import estimate_quat_wxyz
from analysis.pipeline.parts import FEATURE_NAMES, Part, PartActivity, hop
from analysis.pipeline.stages import gait_on_blocks
from analysis.pipeline.workers import open_shared, open_shared_writable
from analysis.tilt import pelvic_tilt_deg

FloatArray = NDArray[np.float64]
Paths = dict[str, str]


def orientation(paths: Paths, part: Part, rate_hz: float) -> None:
    """Orientation of the part's own samples (filters settled on its margins)."""
    ea, eb = part.read_start, part.read_stop
    gyr = open_shared(paths, "gyr")[ea:eb] if "gyr" in paths else None
    q = estimate_quat_wxyz(
        open_shared(paths, "acc")[ea:eb],
        gyr,
        rate_hz,
        offline=True,
        time_s=open_shared(paths, "time")[ea:eb],
    )
    out = open_shared_writable(paths, "quat")
    out[part.start : part.stop] = q[part.start - ea : part.stop - ea]
    out.flush()


def tilt(paths: Paths, part: Part, calibration: Calibration) -> None:
    """Tilt of the part's own samples (per sample: no margins needed)."""
    a, b = part.start, part.stop
    anterior, lateral = pelvic_tilt_deg(open_shared(paths, "quat")[a:b], calibration)
    for name, values in (("anterior", anterior), ("lateral", lateral)):
        out = open_shared_writable(paths, name)
        out[a:b] = values
        out.flush()


def activity_and_gait(
    paths: Paths, part: Part, rate_hz: float, calibration: Calibration
) -> PartActivity:
    """Activity frames and gait events of one part (tilt read from the shared arrays)."""
    a, b, ea, eb = part.start, part.stop, part.read_start, part.read_stop
    t = open_shared(paths, "time")[ea:eb]
    acc = open_shared(paths, "acc")[ea:eb]
    gyr = open_shared(paths, "gyr")[ea:eb] if "gyr" in paths else None
    q = open_shared(paths, "quat")[ea:eb]
    anterior, lateral = open_shared(paths, "anterior")[ea:eb], open_shared(paths, "lateral")[ea:eb]
    act = classify_activity(t, acc, anterior, lateral, rate_hz, quat_wxyz=q)
    assert act.features is not None and act.costs is not None
    h = hop(rate_hz)
    f0, f1 = (a - ea) // h, -(-(b - ea) // h)
    gait = gait_on_blocks(
        t,
        calibration.to_pelvis(acc),
        None if gyr is None else calibration.to_pelvis(gyr),
        calibration.to_pelvis(quat.up_in_sensor(q)),
        rate_hz,
        act.labels == Activity.WALKING,
        own=(a - ea, b - ea),
    )
    feats = act.features
    return PartActivity(
        first_frame=ea // h,
        frame_labels=act.frame_labels,
        own_frames=(f0, f1),
        features=FrameFeatures(*(getattr(feats, k)[f0:f1] for k in FEATURE_NAMES)),
        costs=act.costs[f0:f1],
        gait=gait,
    )
