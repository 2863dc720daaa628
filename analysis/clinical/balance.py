"""Standing posture (30 s) and single-leg stance (Trendelenburg test).

Single-leg stance: the person stands still, shifts the weight onto the stance leg and
lifts the other foot. The weight shift and the touch-down are medio-lateral pelvis
movements: bursts of the gravity-free medio-lateral acceleration, found from the signal
(the touch-down also by its vertical impact). Between them the foot is off the ground.

Criterion (Hardcastle and Nade 1985): the test is NEGATIVE when the pelvis on the
unsupported side is held level or raised for 30 s; POSITIVE when it drops below level or
the posture cannot be held for 30 s (the time held is recorded). A drop counts beyond
``drop_tolerance_deg`` (2 deg, the repeatability of a sacral IMU's obliquity, not part of
the original visual test).

References
----------
P. Hardcastle and S. Nade, "The significance of the Trendelenburg test", J Bone Joint
Surg Br 67-B(5):741-746, 1985.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analysis.clinical.signals import (
    FloatArray,
    Outcome,
    Signals,
    State,
    lowpass,
    other,
    side_word,
)

TRENDELENBURG_SOURCE = (
    "Hardcastle P, Nade S. The significance of the Trendelenburg test. "
    "J Bone Joint Surg Br 1985;67-B(5):741-746"
)


@dataclass(frozen=True, kw_only=True)
class StandingParams:
    """Standing posture test.

    Attributes
    ----------
    duration_s : float
        Length of the test.
    max_range_deg : float
        Either angle moving more than this (max - min) means the person moved.
    max_linear_acc_mps2 : float
        A gravity-free acceleration beyond this (a step) means the person moved.
    """

    duration_s: float = 30.0
    max_range_deg: float = 5.0
    max_linear_acc_mps2: float = 1.2


def analyze_standing(
    sig: Signals, params: StandingParams | None = None, *, level_reference: str = "standing"
) -> Outcome:
    """Standing posture: mean anterior tilt, obliquity, sway; "repeat" if the person moved.

    Parameters
    ----------
    sig : Signals
        Samples from the instruction "stand still" on.
    params : StandingParams, optional
        Thresholds.
    level_reference : str
        What defines obliquity 0 (DESIGN section 2), reported with the result.
    """
    p = params or StandingParams()
    kind = "standing"
    if sig.n < 2:
        return Outcome(kind, State.WAITING, "Stand still, feet hip-width apart")
    t = sig.time_s - sig.time_s[0]
    lin = lowpass(sig.linear_acc_p_mps2(), sig.rate_hz, 5.0)
    moved_at = np.flatnonzero(np.linalg.norm(lin, axis=1) > p.max_linear_acc_mps2)
    for x in (sig.anterior_tilt_deg, sig.lateral_tilt_deg):
        dev = np.abs(x - np.median(x[: max(1, int(sig.rate_hz))]))
        big = np.flatnonzero(dev > p.max_range_deg / 2)
        if big.size:
            moved_at = np.append(moved_at, big[0])
    if moved_at.size:
        at = float(t[int(moved_at.min())])
        return Outcome(kind, State.REPEAT,
                       f"You moved at {at:.0f} s - repeat: stand still for {p.duration_s:.0f} s")
    if t[-1] < p.duration_s:
        return Outcome(kind, State.RUNNING, f"Stand still: {p.duration_s - t[-1]:.0f} s",
                       feedback={"remaining_s": p.duration_s - float(t[-1]),
                                 "anterior_tilt_deg": float(sig.anterior_tilt_deg[-1]),
                                 "lateral_tilt_deg": float(sig.lateral_tilt_deg[-1])})
    sel = t <= p.duration_s
    ant, lat = sig.anterior_tilt_deg[sel], sig.lateral_tilt_deg[sel]
    result = {
        "duration_s": float(t[sel][-1]),
        "anterior_tilt_deg": float(ant.mean()),
        "obliquity_deg": float(lat.mean()),
        "level_reference": level_reference,
        "sway_anterior_sd_deg": float(ant.std()),
        "sway_lateral_sd_deg": float(lat.std()),
        "sway_path_deg_per_s": float(
            np.hypot(np.diff(ant), np.diff(lat)).sum() / max(float(t[sel][-1]), 1e-9)
        ),
        "higher_side": _higher(float(lat.mean())),
    }
    return Outcome(kind, State.DONE, "Done - thank you", result=result)


def _higher(lateral_deg: float, tolerance_deg: float = 1.0) -> str:
    if abs(lateral_deg) < tolerance_deg:
        return "level"
    return "left" if lateral_deg > 0 else "right"


@dataclass(frozen=True, kw_only=True)
class StanceParams:
    """Single-leg stance.

    Attributes
    ----------
    max_hold_s : float
        Test length (Hardcastle and Nade: 30 s).
    shift_acc_mps2 : float
        Medio-lateral gravity-free acceleration (2 Hz low-pass) of a weight shift.
    impact_mps2 : float
        Vertical impact (above 3 Hz) of a touch-down.
    min_hold_s : float
        A shorter stance is "touched down at once".
    drop_tolerance_deg : float
        Measurement tolerance of the positive call.
    quiet_s : float
        Standing before the weight shift used as the level of the pelvis.
    """

    max_hold_s: float = 30.0
    shift_acc_mps2: float = 0.25
    impact_mps2: float = 1.0
    min_hold_s: float = 1.5
    drop_tolerance_deg: float = 2.0
    quiet_s: float = 1.0


def _bursts(ml: FloatArray, thr: float) -> list[tuple[int, int]]:
    """Index spans where ``|ml| > thr``, joined when closer than a few samples."""
    big = np.abs(ml) > thr
    edges = np.diff(np.concatenate(([0], big.astype(np.int8), [0])))
    return list(zip(np.flatnonzero(edges == 1).tolist(), np.flatnonzero(edges == -1).tolist(),
                    strict=True))


def analyze_single_leg_stance(
    sig: Signals, side: str, params: StanceParams | None = None, *, final: bool = True
) -> Outcome:
    """Single-leg stance on ``side``: drop of the unsupported side, time held, sway.

    Parameters
    ----------
    sig : Signals
        Samples from the instruction on (at least ``quiet_s`` of standing first).
    side : {"left", "right"}
        The stance leg.
    params : StanceParams, optional
        Thresholds.
    final : bool
        No more samples will come (a recording; live: the test was stopped).
    """
    if side not in ("left", "right"):
        raise ValueError(f"side must be 'left' or 'right', got {side!r}")
    p = params or StanceParams()
    kind, free = "sls", other(side)
    wait = Outcome(kind, State.WAITING,
                   f"Stand on your {side_word(side)} leg: lift the {free} foot", side=side)
    quiet_n = int(p.quiet_s * sig.rate_hz)
    if sig.n < quiet_n + 10:
        return wait
    t = sig.time_s
    lin = sig.linear_acc_p_mps2()
    ml = lowpass(lin[:, 1], sig.rate_hz, 2.0)
    vert_hp = lin[:, 2] - lowpass(lin[:, 2], sig.rate_hz, 3.0)
    bursts = [b for b in _bursts(ml, p.shift_acc_mps2) if b[0] >= quiet_n]
    if not bursts:
        if final:
            return Outcome(kind, State.REPEAT, f"No single-leg stance found - repeat: lift "
                           f"the {free} foot and hold", side=side)
        return wait
    a = bursts[0][0]
    toward = -1.0 if side == "right" else 1.0  # stance side on the y (left) axis
    if np.sign(ml[a]) != toward:
        return Outcome(kind, State.REPEAT, f"The weight went to the {free} side - repeat "
                       f"standing on the {side_word(side)} leg", side=side)
    # Foot-off: the end of the shift (its decelerating lobe has the other sign).
    lift = bursts[0][1]
    for s0, s1 in bursts[1:]:
        if t[s0] - t[a] <= 1.2 and np.sign(ml[s0]) != toward:
            lift = s1  # the decelerating lobe of the shift
        break
    lift_s = float(t[min(lift, sig.n - 1)])
    base = float(np.median(sig.lateral_tilt_deg[max(0, a - quiet_n): a]))
    # Touch-down: the next medio-lateral burst or a vertical impact after foot-off.
    after = t > lift_s + 0.3
    cand = after & ((np.abs(ml) > 1.4 * p.shift_acc_mps2) | (np.abs(vert_hp) > p.impact_mps2))
    idx = np.flatnonzero(cand)
    down_s = float(t[idx[0]]) if idx.size else None
    if down_s is not None and down_s - lift_s > p.max_hold_s:
        down_s = None
    held_full = down_s is None and t[-1] - lift_s >= p.max_hold_s
    if down_s is None and not held_full and not final:
        lat_now = float(np.median(sig.lateral_tilt_deg[-max(1, int(0.3 * sig.rate_hz)):]))
        drop_now = _drop(base, lat_now, side)
        return Outcome(kind, State.RUNNING, f"Hold: {t[-1] - lift_s:.0f} s", side=side,
                       feedback={"elapsed_s": float(t[-1] - lift_s), "drop_deg": drop_now,
                                 "unsupported_side": free, "level_deg": base,
                                 "dropped": drop_now > p.drop_tolerance_deg})
    if down_s is None and not held_full:
        return Outcome(kind, State.REPEAT, f"Stopped on one leg after {t[-1] - lift_s:.0f} s, "
                       "before the foot touched down - repeat", side=side)
    end_s = lift_s + p.max_hold_s if down_s is None else down_s
    hold_s = end_s - lift_s
    if hold_s < p.min_hold_s:
        return Outcome(kind, State.REPEAT, f"Touched down at once ({hold_s:.1f} s) - repeat: "
                       f"hold the {free} foot up", side=side)
    sel = (t >= lift_s + 0.3) & (t <= end_s - 0.2)
    if sel.sum() < 5:
        sel = (t >= lift_s) & (t <= end_s)
    lat, ant = sig.lateral_tilt_deg[sel], sig.anterior_tilt_deg[sel]
    drop = _drop(base, float(np.median(lat)), side)
    peak = _drop(base, float(lat.min() if side == "right" else lat.max()), side)
    reasons = []
    if drop > p.drop_tolerance_deg:
        reasons.append(f"the {free} side dropped {drop:.1f} deg")
    if hold_s < p.max_hold_s - 0.05:
        reasons.append(f"held {hold_s:.1f} s of {p.max_hold_s:.0f} s")
    positive = bool(reasons)
    result = {
        "stance_side": side,
        "unsupported_side": free,
        "drop_deg": drop,
        "peak_drop_deg": peak,
        "hold_s": hold_s,
        "level_deg": base,
        "lift_s": lift_s,
        "touchdown_s": down_s,
        "held_full_time": down_s is None,
        "sway_lateral_sd_deg": float(lat.std()),
        "sway_anterior_sd_deg": float(ant.std()),
        "trendelenburg": "positive" if positive else "negative",
        "criterion": (
            f"positive if the unsupported side drops > {p.drop_tolerance_deg:g} deg below its "
            f"standing level or the stance is not held {p.max_hold_s:.0f} s"
        ),
        "criterion_source": TRENDELENBURG_SOURCE,
        "findings": reasons,
    }
    msg = f"{side_word(side)} leg: " + ("; ".join(reasons) if reasons else "level, held")
    return Outcome(kind, State.DONE, msg, result=result, side=side)


def _drop(base_deg: float, lateral_deg: float, side: str) -> float:
    """Drop of the unsupported side (+ = lower) for stance on ``side``."""
    return (base_deg - lateral_deg) * (1.0 if side == "right" else -1.0)
