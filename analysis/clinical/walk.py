"""Walk test (10 m or 2 min): cadence, per-side obliquity and tilt ROM, symmetry.

Steps and their sides come from :func:`analysis.gait.detect_gait`; per-stride pelvis ranges
from :func:`analysis.gait.strides.pelvis_stride_metrics`; walking speed and stride length
from :mod:`analysis.gait.spatial` (inverted pendulum, Zijlstra & Hof 2003). A stride is
attributed to the side whose contact starts it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from analysis.clinical.signals import FloatArray, Outcome, Signals, State
from analysis.gait import detect_gait
from analysis.gait.spatial import bout_spatial, leg_length_m, step_lengths, vertical_displacement_m
from analysis.gait.strides import pelvis_stride_metrics
from analysis.motion import GRAVITY_MPS2, still_mask


@dataclass(frozen=True, kw_only=True)
class WalkParams:
    """Walk test.

    Attributes
    ----------
    min_steps : int
        Fewer steps cannot give per-side figures: "repeat".
    duration_s : float or None
        Timed test (e.g. 120 for the 2-minute walk); None: a distance test ending when the
        person stops.
    stop_still_s : float
        A distance test ends by itself (live) once the person has stood still this long
        after walking.
    leg_length_m : float or None
        For the walking speed (:func:`analysis.gait.spatial.leg_length_m`'s default when
        None).
    """

    min_steps: int = 8
    duration_s: float | None = None
    leg_length_m: float | None = None
    stop_still_s: float = 2.0


def _stopped_walking(sig: Signals, p: WalkParams) -> bool:
    """A distance test is over: the person moved for a while and now stands still."""
    if p.duration_s is not None or sig.duration_s < p.stop_still_s + 3.0:
        return False
    still = still_mask(sig.acc_p_mps2, sig.gyr_p_rps, sig.rate_hz)
    tail = int(p.stop_still_s * sig.rate_hz)
    return bool(still[-tail:].all() and (~still).sum() >= 3.0 * sig.rate_hz)


def _spatial(sig: Signals, ic_s: FloatArray, ic_side: np.ndarray, *,
             leg_length_m_: float | None) -> dict[str, Any]:
    """Walking speed and stride length (:mod:`analysis.gait.spatial`, Zijlstra & Hof)."""
    vertical = np.einsum("ij,ij->i", sig.acc_p_mps2, sig.up_p()) - GRAVITY_MPS2
    disp = vertical_displacement_m(vertical, sig.rate_hz)
    steps = step_lengths(sig.time_s, disp, ic_s, ic_side, leg_length_m(leg_length_m_))
    bout = bout_spatial(steps, [(float(ic_s[0]), float(ic_s[-1]))])[0]
    return {"walking_speed_mps": bout["walking_speed_mps"],
            "stride_length_m": bout["stride_length_m"]}


def _symmetry_index(left: float, right: float) -> float:
    """``100 * |L - R| / mean(L, R)``, % (0 = symmetric; NaN when unknown)."""
    mean = (left + right) / 2
    return float(100 * abs(left - right) / mean) if np.isfinite(mean) and mean > 0 else np.nan


def analyze_walk(sig: Signals, params: WalkParams | None = None, *, final: bool = True) -> Outcome:
    """Walk test from the samples since "go".

    Parameters
    ----------
    sig : Signals
        Samples of the walk (standing before and after is allowed).
    params : WalkParams, optional
        Minimum steps and the timed duration.
    final : bool
        No more samples will come.
    """
    p = params or WalkParams()
    kind = "walk"
    if p.duration_s is not None and sig.duration_s < p.duration_s and not final:
        return Outcome(kind, State.RUNNING, f"Walk: {p.duration_s - sig.duration_s:.0f} s",
                       feedback={"elapsed_s": sig.duration_s})
    if not final and not _stopped_walking(sig, p):
        # Steps are counted at the end (the live screen shows the time).
        return Outcome(kind, State.RUNNING, "Walk at your usual pace",
                       feedback={"elapsed_s": sig.duration_s})
    if sig.n < int(2 * sig.rate_hz):
        return Outcome(kind, State.REPEAT, "Too short - repeat: walk at your usual pace")
    gait = detect_gait(sig.acc_p_mps2, sig.gyr_p_rps, rate_hz=sig.rate_hz, up_p=sig.up_p())
    if gait.n_steps < p.min_steps:
        return Outcome(kind, State.REPEAT, f"Only {gait.n_steps} steps found - repeat: walk at "
                       f"least {p.min_steps} steps at your usual pace")
    t0 = float(sig.time_s[0])
    ic = gait.ic_time_s + t0
    st = pelvis_stride_metrics(sig.time_s, sig.anterior_tilt_deg, sig.lateral_tilt_deg,
                               ic, gait.ic_side, ic_bout=gait.ic_bout)
    per_side: dict[str, Any] = {}
    for side in ("left", "right"):
        sel = st.start_side == side
        swing = st.left_swing_obliquity_deg if side == "left" else st.right_swing_obliquity_deg
        steps = np.diff(ic)[gait.ic_side[1:] == side] if ic.size > 1 else np.empty(0)
        steps = steps[steps <= gait.max_step_s]
        per_side[side] = {
            "strides": int(sel.sum()),
            "obliquity_rom_deg": float(np.median(st.obliquity_rom_deg[sel])) if sel.any()
            else None,
            "anterior_tilt_rom_deg": float(np.median(st.anterior_tilt_rom_deg[sel])) if sel.any()
            else None,
            "swing_obliquity_deg": float(np.nanmedian(swing)) if np.isfinite(swing).any()
            else None,
            "step_time_s": float(steps.mean()) if steps.size else None,
        }
    left, right = per_side["left"], per_side["right"]
    result = {
        "steps": gait.n_steps,
        "duration_s": float(ic[-1] - ic[0]) if ic.size > 1 else 0.0,
        "cadence_spm": gait.cadence_spm,
        "strides": int(st.start_s.size),
        "per_side": per_side,
        "step_time_symmetry_pct": _symmetry_index(
            left["step_time_s"] or np.nan, right["step_time_s"] or np.nan),
        "obliquity_rom_symmetry_pct": _symmetry_index(
            left["obliquity_rom_deg"] or np.nan, right["obliquity_rom_deg"] or np.nan),
        **_spatial(sig, ic, gait.ic_side, leg_length_m_=p.leg_length_m),
    }
    return Outcome(kind, State.DONE, f"{gait.n_steps} steps, {gait.cadence_spm:.0f} steps/min",
                   result=result)
