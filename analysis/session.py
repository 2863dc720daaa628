"""Whole-session analysis: a recording or CSV in, every pelviscope result out.

The stable entry points of DESIGN section 6, re-exported from :mod:`analysis.pipeline`
where they are built: :func:`analyze`, :func:`analyze_recording` and
:class:`SessionResult` (``.to_json()``, ``.per_sample``).
"""

from __future__ import annotations

from analysis.pipeline.offline import analyze, analyze_recording, loaded
from analysis.pipeline.params import SessionParams
from analysis.pipeline.parts import auto_workers, cut_points
from analysis.pipeline.result import (
    ACTIVITIES,
    ANALYSIS_VERSION,
    FORMAT,
    Progress,
    SessionResult,
    TiltPreview,
)
from analysis.pipeline.stages import hip_hikes_and_swings

__all__ = [
    "ACTIVITIES",
    "ANALYSIS_VERSION",
    "FORMAT",
    "Progress",
    "SessionParams",
    "SessionResult",
    "TiltPreview",
    "analyze",
    "analyze_recording",
    "auto_workers",
    "cut_points",
    "hip_hikes_and_swings",
    "loaded",
]
