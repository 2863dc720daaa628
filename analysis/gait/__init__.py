"""Gait from one lower-back IMU: initial contacts with side, walking bouts, strides.

- :func:`detect_gait` -> :class:`GaitResult` (contacts, sides, confidences, bouts, warnings)
- :class:`GaitParams` - every parameter with its unit
- :func:`pelvis_stride_metrics` -> :class:`StrideMetrics` (per-stride tilt and obliquity)
"""

from analysis.gait.bouts import GaitBout
from analysis.gait.detect import GaitResult, detect_gait
from analysis.gait.params import GaitParams
from analysis.gait.strides import StrideMetrics, pelvis_stride_metrics

__all__ = [
    "GaitBout",
    "GaitParams",
    "GaitResult",
    "StrideMetrics",
    "detect_gait",
    "pelvis_stride_metrics",
]
