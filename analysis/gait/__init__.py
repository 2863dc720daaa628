"""Gait from one lower-back IMU: initial contacts with side, walking bouts, strides.

- :func:`detect_gait` -> :class:`GaitResult` (contacts, sides, confidences, bouts, warnings)
- :class:`GaitParams` - every parameter with its unit
- :func:`pelvis_stride_metrics` -> :class:`StrideMetrics` (per-stride tilt and obliquity)
- :func:`detect_turns` (+ :class:`TurnParams`, :func:`yaw_rate_dps`) -> turns with their angle
"""

from analysis.gait.bouts import GaitBout
from analysis.gait.detect import GaitResult, detect_gait
from analysis.gait.params import GaitParams
from analysis.gait.strides import StrideMetrics, pelvis_stride_metrics
from analysis.gait.turns import TurnParams, detect_turns, yaw_rate_dps

__all__ = [
    "GaitBout",
    "GaitParams",
    "GaitResult",
    "StrideMetrics",
    "TurnParams",
    "detect_gait",
    "detect_turns",
    "pelvis_stride_metrics",
    "yaw_rate_dps",
]
