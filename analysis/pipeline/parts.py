"""A long session as parts: where to cut, how far to read beyond a cut, how to join.

Pure functions of arrays and :class:`~analysis.pipeline.params.SessionParams`: the
processes that analyse the parts are :mod:`analysis.pipeline.offline`'s business.
"""

from __future__ import annotations

import itertools
import math
import multiprocessing
import os
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from analysis.activity import (
    ActivityParams,
    ActivityResult,
    FrameFeatures,
    activity_from_states,
)
from analysis.pipeline.params import SessionParams
from analysis.pipeline.stages import GaitEvents
from recordings.units import G_MPS2

FloatArray = NDArray[np.float64]

FEATURE_NAMES = (
    "tilt_deg",
    "tilt_fine_deg",
    "lateral_deg",
    "energy_mps2",
    "periodicity",
    "vertical_mps2",
)


@dataclass(frozen=True)
class Part:
    """Samples ``[start, stop)`` of a session, analysed from ``[read_start, read_stop)``."""

    start: int
    stop: int
    read_start: int
    read_stop: int


@dataclass
class PartActivity:
    """What one part's activity and gait stage returns to be joined."""

    first_frame: int
    frame_labels: NDArray[np.intp]
    own_frames: tuple[int, int]
    features: FrameFeatures
    costs: FloatArray
    gait: GaitEvents


def auto_workers(duration_s: float, params: SessionParams | None = None) -> int:
    """Processes to analyse a session of ``duration_s`` with (1: in this process only).

    ``params.workers=None`` (auto): every usable core for sessions of at least
    ``params.parallel_min_s``, one otherwise and inside a worker process (no nested
    pools, e.g. under ``analyze --jobs``).
    """
    params = params or SessionParams()
    if params.workers is not None:
        return max(1, int(params.workers))
    if duration_s < params.parallel_min_s or multiprocessing.parent_process() is not None:
        return 1
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, 8))


def hop(rate_hz: float) -> int:
    """Samples per activity frame: parts are cut on whole frames."""
    return max(1, round(ActivityParams().frame_s * rate_hz))


def margin(rate_hz: float, params: SessionParams) -> int:
    """Samples read beyond each cut, a whole number of activity frames."""
    h = hop(rate_hz)
    return math.ceil(params.margin_s * rate_hz / h) * h


def cut_points(
    acc_mps2: FloatArray,
    gyr_rps: FloatArray | None,
    rate_hz: float,
    n_parts: int,
    params: SessionParams | None = None,
) -> list[int]:
    """Sample indices ``[0, c1, ..., n]`` splitting a session into parts at still moments.

    Each cut is the centre of the stillest ``quiet_s`` window (least summed angular
    rate, or acceleration-magnitude deviation without a gyroscope) within
    ``cut_search_s`` of the even split, rounded to a whole activity frame so that
    the parts' frames are the session's frames.
    """
    params = params or SessionParams()
    n = acc_mps2.shape[0]
    h = hop(rate_hz)
    keep_clear = 2 * margin(rate_hz, params)
    bounds = [0]
    w = max(1, round(params.quiet_s * rate_hz))
    search = round(params.cut_search_s * rate_hz)
    for k in range(1, n_parts):
        ideal = round(k * n / n_parts)
        lo = max(bounds[-1] + keep_clear, ideal - search)
        hi = min(n - keep_clear, ideal + search)
        if hi - lo <= w:
            continue
        if gyr_rps is not None:
            motion = np.linalg.norm(gyr_rps[lo:hi], axis=1)
        else:
            motion = np.abs(np.linalg.norm(acc_mps2[lo:hi], axis=1) - G_MPS2)
        csum = np.concatenate(([0.0], np.cumsum(motion)))
        best = int(np.argmin(csum[w:] - csum[:-w]))
        cut = (lo + best + w // 2) // h * h
        if bounds[-1] + keep_clear <= cut <= n - keep_clear:
            bounds.append(cut)
    bounds.append(n)
    return bounds


def parts_of(bounds: list[int], n: int, rate_hz: float, params: SessionParams) -> list[Part]:
    """The parts between consecutive ``bounds``, each read with its margins."""
    m = margin(rate_hz, params)
    return [
        Part(a, b, max(0, a - m), min(n, b + m))
        for a, b in itertools.pairwise(bounds)
    ]


def join_parts(
    time_s: FloatArray,
    rate_hz: float,
    results: list[PartActivity],
    bounds: list[int],
    params: SessionParams,
) -> tuple[ActivityResult, GaitEvents] | None:
    """Activity and gait of the session from its parts (None: parts disagree at a cut)."""
    h = hop(rate_hz)
    agree = math.ceil(params.agree_s * rate_hz / h)
    for left, right, cut in zip(results[:-1], results[1:], bounds[1:-1], strict=True):
        fc = cut // h
        l0, ls = left.first_frame, left.frame_labels
        r0, rs = right.first_frame, right.frame_labels
        lo, hi = fc - agree, fc + agree
        if not np.array_equal(ls[lo - l0 : hi - l0], rs[lo - r0 : hi - r0]):
            return None
    states = np.concatenate([r.frame_labels[slice(*r.own_frames)] for r in results])
    feats = FrameFeatures(
        *(np.concatenate([getattr(r.features, k) for r in results]) for k in FEATURE_NAMES)
    )
    act = activity_from_states(states, feats, time_s, rate_hz, ActivityParams(), signed=True)
    act.costs = np.concatenate([r.costs for r in results])
    act.features = feats
    return act, GaitEvents.join([r.gait for r in results])
