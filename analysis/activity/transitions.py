"""Postural transitions located on the fine tilt signal (sit-to-stand, stand-to-sit, ...)."""

from __future__ import annotations

import itertools

import numpy as np
from numpy.typing import NDArray

from analysis.activity.features import FrameFeatures, samples_in
from analysis.activity.params import FAMILY_OF_STATE, ActivityParams

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]



def state_runs(states: IntArray) -> list[tuple[int, int, int]]:
    """``(state, start, stop)`` runs of equal values."""
    if states.size == 0:
        return []
    cut = np.nonzero(np.diff(states))[0] + 1
    starts = np.concatenate([[0], cut])
    stops = np.concatenate([cut, [states.size]])
    return [(int(states[a]), int(a), int(b)) for a, b in zip(starts, stops, strict=True)]


def _transition_kind(fa: int, fb: int) -> str | None:
    """Kind of a change between posture families (see ``FAMILY_OF_STATE``)."""
    if fa == fb or 3 in (fa, fb):
        return None
    if fb == 2:
        return "lie_down"
    if fa == 2:
        return "get_up"
    return "sit_to_stand" if fa == 0 else "stand_to_sit"


def locate_transitions(
    frame_states: IntArray,
    f: FrameFeatures,
    params: ActivityParams,
    *,
    signed: bool = True,
) -> list[tuple[str, int, int, float | None]]:
    """Posture changes between decoded runs: ``(kind, first_frame, stop_frame, lean_deg)``.

    Parameters
    ----------
    frame_states : ndarray of int (F,)
        Decoded states.
    f : FrameFeatures
        Per-frame features (``tilt_fine_deg`` and ``lateral_deg`` are used).
    params : ActivityParams
        Search windows and level fractions.
    signed : bool
        The tilt is a calibrated anterior tilt (look for the forward lean); False: it is
        a signless inclination change and only level crossings are used.
    """
    fr = 1.0 / params.frame_s
    search = samples_in(params.transition_search_s, fr)
    level_n = samples_in(params.level_window_s, fr)
    guard = samples_in(1.0, fr)
    x_tilt = f.tilt_fine_deg
    incl = np.degrees(
        np.arccos(np.clip(np.cos(np.radians(x_tilt)) * np.cos(np.radians(f.lateral_deg)), -1, 1))
    )
    runs = state_runs(FAMILY_OF_STATE[frame_states])
    out: list[tuple[str, int, int, float | None]] = []
    prev_stop = 0
    for (sa, a0, a1), (sb, b0, b1) in itertools.pairwise(runs):
        kind = _transition_kind(sa, sb)
        if kind is None:
            continue
        lying = kind in ("lie_down", "get_up")
        x = incl if lying else x_tilt
        lo, hi = max(a0, a1 - search, prev_stop), min(b1, b0 + search)
        la_sel = x[max(a0, a1 - guard - level_n) : max(a0 + 1, a1 - guard)]
        lb_sel = x[min(b1 - 1, b0 + guard) : min(b1, b0 + guard + level_n)]
        la, lb = np.nanmedian(la_sel), np.nanmedian(lb_sel)
        if not (np.isfinite(la) and np.isfinite(lb)):
            continue
        seg = x[lo:hi]
        frac = params.transition_level_frac
        lean: float | None = None
        if signed and not lying:
            p = int(np.nanargmax(seg))
            peak = float(seg[p])
            if peak - max(la, lb) >= params.min_lean_deg:
                lean = peak - max(la, lb)
                before = np.nonzero(seg[: p + 1] <= la + frac * (peak - la))[0]
                after = np.nonzero(seg[p:] <= lb + frac * (peak - lb))[0]
                start = lo + (int(before[-1]) if before.size else 0)
                stop = lo + p + (int(after[0]) if after.size else hi - lo - p - 1) + 1
                out.append((kind, start, stop, lean))
                prev_stop = stop
                continue
        # Level crossings: leave the first level, reach the second one.
        span = abs(lb - la)
        k = b0 - lo
        near_a = np.nonzero(np.abs(seg[: k + 1] - la) <= frac * span)[0]
        near_b = np.nonzero(np.abs(seg[k:] - lb) <= frac * span)[0]
        start = lo + (int(near_a[-1]) if near_a.size else 0)
        stop = lo + k + (int(near_b[0]) if near_b.size else hi - lo - k - 1) + 1
        out.append((kind, start, stop, None))
        prev_stop = stop
    return out
