"""Posture context: sitting vs standing decided over whole still pieces (offline only)."""

from __future__ import annotations

import itertools

import numpy as np
from numpy.typing import NDArray

from analysis.activity.features import FrameFeatures, samples_in
from analysis.activity.params import LIE, SIT, STAND, WALK, ActivityParams, PostureContextParams
from analysis.activity.transitions import state_runs

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]



def _softplus(x: float) -> float:
    return float(np.logaddexp(0.0, x))


def refine_sit_stand(
    frame_states: IntArray,
    f: FrameFeatures,
    params: ActivityParams,
) -> IntArray:
    """Sitting/standing frames relabelled per still piece from its context.

    See :class:`PostureContextParams` (``params.context``). Only frames decoded as
    sitting or standing change, and only between those two; walking, lying and unknown
    stay as decoded. A stretch without a still piece keeps its frame labels.

    Parameters
    ----------
    frame_states : ndarray of int (F,)
        Decoded states (:func:`decode_states`).
    f : FrameFeatures
        Per-frame features of the same frames (calibrated anterior tilt).
    params : ActivityParams
        ``sit_tilt_deg``, ``frame_s`` and ``context``.

    Returns
    -------
    ndarray of int (F,)
    """
    c = params.context
    out = np.asarray(frame_states, np.intp).copy()
    if not c.enabled or out.size == 0:
        return out
    upright = (out == SIT) | (out == STAND)
    min_piece = samples_in(c.min_piece_s, 1.0 / params.frame_s)
    min_context = samples_in(c.min_context_s, 1.0 / params.frame_s)
    tilt, fine = f.tilt_deg, f.tilt_fine_deg
    for _, a, b in (r for r in state_runs(upright.astype(np.intp)) if r[0] == 1):
        quiet = (f.energy_mps2[a:b] < c.quiet_energy_mps2) & np.isfinite(tilt[a:b])
        pieces = [
            (a + pa, a + pb)
            for v, pa, pb in state_runs(quiet.astype(np.intp))
            if v and pb - pa >= min_piece
        ]
        if not pieces:
            continue
        levels = [float(np.median(tilt[pa:pb])) for pa, pb in pieces]
        unary = np.array(
            [
                [
                    _softplus((lv - params.sit_tilt_deg) / c.level_scale_deg),
                    _softplus((params.sit_tilt_deg - lv) / c.level_scale_deg),
                ]
                for lv in levels
            ]
        )
        before = _neighbour(out, a - 1, -1, min_context)
        after = _neighbour(out, b, 1, min_context)
        for end, state, gap in ((0, before, (a, pieces[0][0])), (-1, after, (pieces[-1][1], b))):
            lv = levels[end]
            leaned = _peak(fine, *gap) - lv >= c.lean_deg
            if state == WALK and not leaned:
                unary[end, 0] += c.walk_neighbour_cost
            elif state == LIE:
                unary[end, 1] += c.lying_neighbour_cost
        pair = []
        for (_, pb), (qa, _), la, lb in zip(
            pieces[:-1], pieces[1:], levels[:-1], levels[1:], strict=True
        ):
            lean = float(
                np.clip((_peak(fine, pb, qa) - max(la, lb) - c.lean_deg) / c.lean_span_deg, 0, 1)
            )
            d = (lb - la) / c.direction_scale_deg
            same, change = c.lean_same_cost * lean, c.no_lean_switch_cost * (1 - lean)
            up_first = _vertical_order(f.vertical_mps2, pb, qa, c)
            pair.append(
                np.array(
                    [
                        [same, change + _softplus(-d) + c.vertical_cost * max(0.0, -up_first)],
                        [change + _softplus(d) + c.vertical_cost * max(0.0, up_first), same],
                    ]
                )
            )
        labels = _viterbi2(unary, pair)
        piece_states = np.where(labels == 0, SIT, STAND)
        # Each piece's label reaches to the lean peak (or midpoint) of the gap on either side.
        cuts = [a]
        for (_, pb), (qa, _) in itertools.pairwise(pieces):
            seg = fine[pb:qa]
            cuts.append(pb + (int(np.nanargmax(seg)) if np.isfinite(seg).any() else (qa - pb) // 2))
        cuts.append(b)
        for k in range(len(pieces)):
            out[cuts[k] : cuts[k + 1]] = piece_states[k]
    return out


def _neighbour(states: IntArray, i: int, step: int, min_frames: int) -> int | None:
    """State of the first run of at least ``min_frames`` from frame ``i`` in direction ``step``.

    Shorter runs are the movement of a posture change (a second of "walking" while
    getting up), not what the posture borders on. None: no such run before the end.
    """
    n = states.size
    while 0 <= i < n:
        j = i
        while 0 <= j + step < n and states[j + step] == states[i]:
            j += step
        if abs(j - i) + 1 >= min_frames:
            return int(states[i])
        i = j + step
    return None


def _vertical_order(vertical: FloatArray | None, a: int, b: int, c: PostureContextParams) -> float:
    """+1 when the gap ``[a, b)`` accelerates up before down (rising), -1 the reverse.

    Scaled down towards 0 for a small swing (below ``c.vertical_full_mps2``); 0 without
    the feature. A frame either side is included (the pieces' edges hold the start).
    """
    if vertical is None:
        return 0.0
    seg = vertical[max(0, a - 2) : b + 2]
    if seg.size < 2:
        return 0.0
    hi, lo = int(np.argmax(seg)), int(np.argmin(seg))
    swing = float(seg[hi] - seg[lo])
    return float(np.sign(lo - hi)) * min(1.0, swing / c.vertical_full_mps2)


def _peak(x: FloatArray, a: int, b: int) -> float:
    """Largest finite value of ``x[a:b]`` (a frame either side included); -inf if none."""
    seg = x[max(0, a - 1) : b + 1]
    seg = seg[np.isfinite(seg)]
    return float(seg.max()) if seg.size else -np.inf


def _viterbi2(unary: FloatArray, pair: list[FloatArray]) -> IntArray:
    """Cheapest label chain: ``unary`` (K, 2) costs, ``pair[k]`` (2, 2) from piece k to k+1."""
    k = unary.shape[0]
    v = unary[0].copy()
    back = np.zeros((k, 2), np.intp)
    for i in range(1, k):
        tot = v[:, None] + pair[i - 1]
        back[i] = np.argmin(tot, axis=0)
        v = tot[back[i], [0, 1]] + unary[i]
    path = np.empty(k, np.intp)
    path[-1] = int(np.argmin(v))
    for i in range(k - 1, 0, -1):
        path[i - 1] = back[i, path[i]]
    return path
