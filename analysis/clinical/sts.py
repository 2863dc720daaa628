"""Five-times sit-to-stand: total time against age norms, each rise, lean and lateral shift.

A rise leaves the seated pelvis angle (posterior tilt, measured at the start, seated),
leans forward to a peak and settles upright; the pelvis must have gone UP (twice
integrated vertical acceleration), so the lean of a sit-down is not taken for a rise. The
total is timed from the start of the first rise to standing after the fifth (the stopwatch
convention "stop when the person stands the fifth time"). The lateral shift
of a rise is the obliquity change from sitting at its largest: the unloaded side rises, so
``+`` (left side up) means the person favoured the RIGHT leg.

References
----------
R. W. Bohannon, "Reference values for the five-repetition sit-to-stand test: a
descriptive meta-analysis of data from elders", Percept Mot Skills 103(1):215-222, 2006.
Times above 11.4 s (60-69 years), 12.6 s (70-79) and 14.8 s (80-89) are worse than
average.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from analysis.clinical.signals import Outcome, Signals, State, lowpass
from analysis.motion import GRAVITY_MPS2

NORMS_SOURCE = (
    "Bohannon RW. Reference values for the five-repetition sit-to-stand test: a descriptive "
    "meta-analysis of data from elders. Percept Mot Skills 2006;103(1):215-222"
)
#: (lowest age, highest age, time above which performance is worse than average, s).
AGE_NORMS_S = ((60, 69, 11.4), (70, 79, 12.6), (80, 89, 14.8))


@dataclass(frozen=True, kw_only=True)
class StsParams:
    """Sit-to-stand detection.

    Attributes
    ----------
    reps : int
        Rises asked for.
    min_range_deg : float
        Sitting must be at least this much posterior of neutral standing.
    lean_min_deg : float
        A rise leans forward at least this much beyond the seated angle.
    onset_deg : float
        The rise starts where the tilt last sat within this of the seated angle.
    settled_dps : float
        Standing is reached when the tilt, back from the lean peak, changes slower.
    min_rise_m : float
        A movement that lowers the pelvis by more than this is a sit-down, not a rise.
    shift_threshold_deg : float
        A rise with a smaller lateral shift favours neither side.
    seated_s : float
        Seated time at the start giving the sitting angle.
    """

    reps: int = 5
    min_range_deg: float = 6.0
    lean_min_deg: float = 8.0
    onset_deg: float = 1.5
    settled_dps: float = 10.0
    min_rise_m: float = 0.1
    shift_threshold_deg: float = 2.0
    seated_s: float = 1.0


def norm_for_age(age_years: float | None) -> dict[str, Any] | None:
    """Bohannon's reference time for an age, or None outside 60-89 years."""
    if age_years is None:
        return None
    for lo, hi, limit in AGE_NORMS_S:
        if lo <= age_years <= hi + 0.999:
            return {"age_band": f"{lo}-{hi}", "worse_than_average_above_s": limit,
                    "source": NORMS_SOURCE}
    return None


def favoured_side(shift_deg: float, threshold_deg: float) -> str:
    """Side favoured by a rise with this obliquity change (+ left up = right favoured)."""
    if abs(shift_deg) < threshold_deg:
        return "none"
    return "right" if shift_deg > 0 else "left"


def find_rises(sig: Signals, params: StsParams | None = None) -> tuple[list[dict[str, Any]], str]:
    """Every completed rise and a note (empty, or why nothing can be found).

    A rise leaves the seated angle by more than ``lean_min_deg`` (the forward lean),
    starts where the tilt last sat within ``onset_deg`` of the seated angle, and reaches
    standing when, after the lean peak, the tilt has come back by at least a quarter of
    the excursion and stopped changing (``settled_dps``). Standing is not assumed to be
    exactly neutral: a belt that moved, or a person who stands tilted, still rises.

    Returns
    -------
    rises : list of dict
        ``rise_start_s``, ``stand_s``, ``peak_forward_lean_deg``, ``shift_deg``.
    note : str
        Why the seated angle is unusable (then ``rises`` is empty).
    """
    p = params or StsParams()
    n0 = int(p.seated_s * sig.rate_hz)
    if sig.n <= n0:
        return [], "waiting"
    tilt = lowpass(sig.anterior_tilt_deg, sig.rate_hz, 4.0)
    rate_dps = np.gradient(tilt, sig.time_s) if sig.n > 1 else np.zeros(sig.n)
    lat = lowpass(sig.lateral_tilt_deg, sig.rate_hz, 4.0)
    sit = float(np.median(tilt[:n0]))
    sit_lat = float(np.median(lat[:n0]))
    if -sit < p.min_range_deg:
        return [], (
            f"start seated, back upright and not against the backrest: the seated pelvis "
            f"({sit:+.0f} deg) is too close to standing to time the rises"
        )
    leave = sit + p.lean_min_deg
    t = sig.time_s
    rises: list[dict[str, Any]] = []
    i, n = n0, sig.n
    while i < n:
        up = np.flatnonzero(tilt[i:] > leave)
        if not up.size:
            break
        j = i + int(up[0])
        back = np.flatnonzero(tilt[i:j] <= sit + p.onset_deg)
        k0 = i + int(back[-1]) if back.size else i
        # The lean peak, then standing: back by a quarter of the excursion and settled.
        peak = j
        stand = -1
        for m in range(j, n):
            if tilt[m] > tilt[peak]:
                peak = m
                continue
            drop = tilt[peak] - tilt[m]
            if drop >= min(5.0, 0.25 * (tilt[peak] - sit)) and abs(rate_dps[m]) < p.settled_dps:
                stand = m
                break
        if stand < 0:
            break
        rise_m = _vertical_travel_m(sig, k0, stand)
        if rise_m < -p.min_rise_m:  # the pelvis went DOWN: a sit-down, not a rise
            i = stand + 1
            continue
        seg = lat[k0:stand + 1] - sit_lat
        shift = float(seg[np.argmax(np.abs(seg))]) if seg.size else 0.0
        rises.append({
            "rise_start_s": float(t[k0]),
            "stand_s": float(t[stand]),
            "rise_duration_s": float(t[stand] - t[k0]),
            "peak_forward_lean_deg": float(tilt[peak]),
            "vertical_travel_m": rise_m,
            "shift_deg": shift,
            "favoured_side": favoured_side(shift, p.shift_threshold_deg),
        })
        # Seated again (the sit-down's own lean is not a rise) before the next rise.
        seated = sit + 0.3 * (float(tilt[stand]) - sit)
        down = np.flatnonzero(tilt[stand:] < seated)
        if not down.size:
            break
        i = stand + int(down[0])
    return rises, ""


def _vertical_travel_m(sig: Signals, a: int, b: int, settle_s: float = 0.3) -> float:
    """Pelvis height change from sample ``a`` to ``b`` (+ up), m; NaN when too short.

    Twice integrated vertical acceleration with the pelvis at rest at both ends: the
    velocity is detrended to zero there, which also removes a constant accelerometer bias.
    """
    b = min(sig.n, b + int(settle_s * sig.rate_hz))
    if b - a < 10:
        return float("nan")
    up = sig.up_p()[a:b]
    acc_v = np.einsum("ij,ij->i", sig.acc_p_mps2[a:b], up) - GRAVITY_MPS2
    t = sig.time_s[a:b]
    dt = np.diff(t)
    v = np.concatenate(([0.0], np.cumsum(0.5 * (acc_v[1:] + acc_v[:-1]) * dt)))
    v -= v[-1] * (t - t[0]) / (t[-1] - t[0])
    return float(np.sum(0.5 * (v[1:] + v[:-1]) * dt))


def analyze_sit_to_stand(
    sig: Signals,
    params: StsParams | None = None,
    *,
    age_years: float | None = None,
    final: bool = True,
) -> Outcome:
    """Five-times sit-to-stand from the samples since "go" (seated at the start).

    Parameters
    ----------
    sig : Signals
        Samples starting seated.
    params : StsParams, optional
        Detection thresholds and the number of rises.
    age_years : float, optional
        For the age norm (Bohannon 2006: 60-89 years).
    final : bool
        No more samples will come.
    """
    p = params or StsParams()
    kind = "sts"
    rises, note = find_rises(sig, p)
    if note == "waiting":
        return Outcome(kind, State.WAITING, "Sit, arms crossed; stand up fully 5 times, fast")
    if note:
        return Outcome(kind, State.REPEAT, note[0].upper() + note[1:])
    if len(rises) < p.reps:
        fb = {"rises": len(rises), "of": p.reps,
              "shift_deg": rises[-1]["shift_deg"] if rises else None}
        if final:
            return Outcome(kind, State.REPEAT, f"Only {len(rises)} of {p.reps} rises - repeat "
                           f"the test: stand up fully {p.reps} times", feedback=fb)
        msg = f"Rise {len(rises) + 1} of {p.reps}" if rises else "Stand up fully, 5 times"
        return Outcome(kind, State.RUNNING, msg, feedback=fb)
    used = rises[: p.reps]
    total = used[-1]["stand_s"] - used[0]["rise_start_s"]
    starts = [r["rise_start_s"] for r in used]
    cycle = np.diff(starts).tolist()
    shifts = np.array([r["shift_deg"] for r in used])
    sides = [r["favoured_side"] for r in used]
    mean_shift = float(shifts.mean())
    result: dict[str, Any] = {
        "reps": len(used),
        "total_s": float(total),
        "rep_times_s": [float(c) for c in cycle],
        "rises": used,
        "peak_forward_lean_deg": float(max(r["peak_forward_lean_deg"] for r in used)),
        "mean_shift_deg": mean_shift,
        "favoured_side": favoured_side(mean_shift, p.shift_threshold_deg),
        "rises_favouring": {s: sides.count(s) for s in ("left", "right", "none")},
        "extra_rises": len(rises) - len(used),
        "timing": "start of the first rise to standing after the last",
    }
    norm = norm_for_age(age_years)
    if norm is not None:
        norm["worse_than_average"] = bool(total > norm["worse_than_average_above_s"])
        result["norm"] = norm
    side = result["favoured_side"]
    msg = f"{total:.1f} s for {len(used)} rises" + (
        f", favouring the {side} leg" if side != "none" else ""
    )
    return Outcome(kind, State.DONE, msg, result=result)
