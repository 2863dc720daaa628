"""Step and stride length and walking speed from the pelvis's vertical excursion.

The inverted-pendulum model of Zijlstra & Hof (2003): in single support the pelvis
moves on an arc of radius ``l`` (the leg; here the height of the sensor above the
ground); a vertical excursion ``h`` within a step then means a forward travel of
``2 sqrt(2 l h - h^2)``. Real gait adds the double-support travel and the foot's length,
which the model does not see; a correction factor ``K`` (fitted to a reference system)
scales the result, and an offset ``c`` corrects the model's overestimate of short, slow
steps (fitted with it; step lengths below :data:`MIN_STEP_LENGTH_M` are clipped):

    step_length = K * 2 * sqrt(2 l h - h^2) - c

With ``c = 0`` this is the Mobilise-D form; on mobgap_lab it overestimated the slow
daily-activity bouts by 30-90 % (0.3-0.5 m/s walked, INDIP) at any single ``K``: held
out, speed MAE 0.12-0.16 m/s, bias -0.12 / +0.09 m/s. The affine form (both chosen on
the other person) brought it to MAE 0.049 / 0.077 m/s, bias -0.004 / +0.030 m/s, and
stride length MAE 0.073 / 0.096 m (HA_001 / MS_001 held out, ``bench/eval_spatial.py``).

``h`` comes from the vertical acceleration in the EARTH frame (sensor orientation
applied, so it does not depend on how the sensor is worn), integrated twice with the
drift removed by zero-phase Butterworth high-pass filters (0.1 Hz on the acceleration,
1 Hz on the velocity, 4th order - the Mobilise-D implementation of the model, mobgap
``SlZijlstra``), and taken as the range of the displacement between two consecutive
initial contacts.

The leg length ``l`` is ``--leg-length-m`` when given, else ``0.53 x`` body height
(greater-trochanter height, Winter 2009 anthropometry), else ``0.53 x 1.70 m``
(:data:`DEFAULT_HEIGHT_M`, an adult of average height: a 10 cm error in height moves
lengths by ~3 %).

References
----------
W. Zijlstra and A. L. Hof, "Assessment of spatio-temporal gait parameters from trunk
accelerations during human walking", Gait Posture 18(2):1-10, 2003.
D. A. Winter, *Biomechanics and Motor Control of Human Movement*, 4th ed., Wiley, 2009
(segment lengths as fractions of height).
C. Kirk et al., "Mobgap: ...", Sensors 26(13):4294 (the Mobilise-D pipeline; ``K``
4.587 / 4 = 1.15 for people with MS in its own fit).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.signal import butter, sosfiltfilt

FloatArray = NDArray[np.float64]

#: Body height assumed when neither leg length nor height is known, m.
DEFAULT_HEIGHT_M = 1.70
#: Shortest step length the affine model returns, m.
MIN_STEP_LENGTH_M = 0.05
#: Leg (greater trochanter) height as a fraction of body height (Winter 2009).
LEG_LENGTH_RATIO = 0.53
GRAVITY_MPS2 = 9.80665


@dataclass(frozen=True, kw_only=True)
class SpatialParams:
    """Parameters of the inverted-pendulum step length.

    Attributes
    ----------
    step_length_factor : float
        ``K``, dimensionless.
    step_length_offset_m : float
        ``c``, m. ``K`` and ``c`` were chosen leave-one-person-out on mobgap_lab against
        INDIP's walking speed per bout (``bench/eval_spatial.py``, grid K 1.0-2.4 x c
        0-0.45 m): on MS_001 (held out HA_001) K 2.04 / c 0.40, on HA_001 (held out
        MS_001) K 1.84 / c 0.30; the defaults are the choice on both people (K 2.04,
        c 0.40).
    acc_highpass_hz, velocity_highpass_hz : float
        Drift removal before each integration (Zijlstra & Hof 2003; mobgap).
    filter_order : int
        Butterworth order of both high-pass filters (applied forwards and backwards).
    min_step_s, max_step_s : float
        Plausible step time; other steps (pauses, missed contacts) get no length.
    """

    step_length_factor: float = 2.04
    step_length_offset_m: float = 0.4
    acc_highpass_hz: float = 0.1
    velocity_highpass_hz: float = 1.0
    filter_order: int = 4
    min_step_s: float = 0.25
    max_step_s: float = 1.5

    def __post_init__(self) -> None:
        if not self.step_length_factor > 0:
            raise ValueError(f"step_length_factor must be positive; got {self.step_length_factor}.")
        if not 0 < self.min_step_s < self.max_step_s:
            raise ValueError("min_step_s and max_step_s must satisfy 0 < min < max.")


def leg_length_m(leg_length_m: float | None = None, height_m: float | None = None) -> float:
    """The pendulum length: the given leg length, else 0.53 x height, else the default.

    Raises
    ------
    ValueError
        For a leg length outside 0.4-1.4 m or a height outside 0.8-2.5 m.
    """
    if leg_length_m is not None:
        if not 0.4 <= leg_length_m <= 1.4:
            raise ValueError(f"leg length must be 0.4-1.4 m; got {leg_length_m} m.")
        return float(leg_length_m)
    if height_m is not None:
        if not 0.8 <= height_m <= 2.5:
            raise ValueError(f"body height must be 0.8-2.5 m; got {height_m} m.")
        return LEG_LENGTH_RATIO * float(height_m)
    return LEG_LENGTH_RATIO * DEFAULT_HEIGHT_M


def vertical_acc_mps2(acc_mps2: ArrayLike, quat_wxyz: ArrayLike) -> FloatArray:
    """Earth-vertical acceleration (gravity removed), m/s^2, from sensor-frame samples.

    Parameters
    ----------
    acc_mps2 : array_like, shape (N, 3)
        Specific force in the sensor frame, m/s^2.
    quat_wxyz : array_like, shape (N, 4)
        Sensor -> earth orientation (earth z up), ``w, x, y, z``.

    Returns
    -------
    ndarray, shape (N,)
    """
    a = np.asarray(acc_mps2, dtype=np.float64)
    q = np.asarray(quat_wxyz, dtype=np.float64)
    w, x, y, z = q[:, 0], q[:, 1], q[:, 2], q[:, 3]
    # Third row of the rotation matrix: the earth z axis in sensor coordinates.
    r20 = 2 * (x * z - w * y)
    r21 = 2 * (y * z + w * x)
    r22 = 1 - 2 * (x * x + y * y)
    return r20 * a[:, 0] + r21 * a[:, 1] + r22 * a[:, 2] - GRAVITY_MPS2


def vertical_displacement_m(
    vertical_acc_mps2: ArrayLike, rate_hz: float, params: SpatialParams | None = None
) -> FloatArray:
    """Drift-free vertical displacement by double integration, m (zero-phase filters).

    NaN samples (gaps) are treated as zero acceleration.
    """
    p = params or SpatialParams()
    acc = np.nan_to_num(np.asarray(vertical_acc_mps2, dtype=np.float64))
    if acc.size < 3 * (p.filter_order + 1) * 2:
        return np.zeros_like(acc)
    nyq = 0.5 * rate_hz
    sos_a = butter(p.filter_order, p.acc_highpass_hz / nyq, btype="highpass", output="sos")
    sos_v = butter(p.filter_order, p.velocity_highpass_hz / nyq, btype="highpass", output="sos")
    vel = np.cumsum(sosfiltfilt(sos_a, acc)) / rate_hz
    return np.asarray(np.cumsum(sosfiltfilt(sos_v, vel)) / rate_hz, dtype=np.float64)


@dataclass(frozen=True)
class Steps:
    """Spatial measures of every step (contact k to contact k + 1).

    Attributes
    ----------
    start_s, end_s : ndarray, shape (K - 1,)
        The two contacts, s.
    side : ndarray of str
        Foot landing at ``end_s``.
    excursion_m : ndarray
        Range of the vertical displacement within the step, m (NaN if not usable).
    length_m : ndarray
        Step length, m (NaN for steps of implausible duration or unknown sides).
    """

    start_s: FloatArray
    end_s: FloatArray
    side: NDArray[np.str_]
    excursion_m: FloatArray
    length_m: FloatArray


def step_lengths(
    time_s: ArrayLike,
    vertical_displacement: ArrayLike,
    ic_time_s: ArrayLike,
    ic_side: ArrayLike,
    leg_length: float,
    params: SpatialParams | None = None,
) -> Steps:
    """Step lengths from the vertical excursion between consecutive contacts.

    Parameters
    ----------
    time_s : array_like, shape (N,)
        Sample times, s.
    vertical_displacement : array_like, shape (N,)
        :func:`vertical_displacement_m`, m.
    ic_time_s, ic_side : array_like, shape (K,)
        Initial contacts (s, increasing) and their feet.
    leg_length : float
        Pendulum length ``l``, m (:func:`leg_length_m`).
    params : SpatialParams, optional

    Returns
    -------
    Steps
    """
    p = params or SpatialParams()
    t = np.asarray(time_s, dtype=np.float64)
    d = np.asarray(vertical_displacement, dtype=np.float64)
    ic_t = np.asarray(ic_time_s, dtype=np.float64)
    sides = np.asarray(ic_side).astype(str)
    if ic_t.size < 2:
        e = np.empty(0)
        return Steps(e, e, np.empty(0, dtype="<U5"), e, e)
    t0, t1 = ic_t[:-1], ic_t[1:]
    i0 = np.searchsorted(t, t0)
    i1 = np.minimum(np.searchsorted(t, t1, side="right"), t.size)
    ok = (t1 - t0 >= p.min_step_s) & (t1 - t0 <= p.max_step_s) & (i1 - i0 >= 2)
    ok &= np.isin(sides[1:], ("left", "right")) & (sides[1:] != sides[:-1])
    # Range per step in one pass: reduceat over the interleaved step bounds (a padded
    # sentinel makes the last bound a valid index; only steps with >= 2 samples are used).
    bounds = np.empty(2 * t0.size, dtype=np.intp)
    bounds[0::2], bounds[1::2] = np.minimum(i0, d.size), np.minimum(i1, d.size)
    padded = np.append(d, 0.0)
    hi = np.maximum.reduceat(padded, bounds)[0::2]
    lo = np.minimum.reduceat(padded, bounds)[0::2]
    h = np.where(ok, hi - lo, np.nan)
    arg = np.clip(2.0 * leg_length * h - h * h, 0.0, None)
    length = p.step_length_factor * 2.0 * np.sqrt(arg) - p.step_length_offset_m
    length = np.where(np.isfinite(h), np.maximum(length, MIN_STEP_LENGTH_M), np.nan)
    return Steps(t0, t1, sides[1:], h, length)


def stride_spatial(steps: Steps) -> dict[str, FloatArray]:
    """Per stride (two consecutive usable steps): length, m, time, s, and speed, m/s.

    Returns
    -------
    dict
        ``start_s``, ``end_s``, ``length_m``, ``speed_mps`` (arrays, one per stride; a
        stride ends at every usable step that follows a usable step).
    """
    ok = np.isfinite(steps.length_m)
    pair = ok[:-1] & ok[1:] & (steps.end_s[:-1] == steps.start_s[1:])
    k = np.flatnonzero(pair)
    length = steps.length_m[k] + steps.length_m[k + 1]
    start, end = steps.start_s[k], steps.end_s[k + 1]
    return {
        "start_s": start,
        "end_s": end,
        "length_m": length,
        "speed_mps": length / (end - start),
    }


def bout_spatial(steps: Steps, bouts: Sequence[tuple[float, float]]) -> list[dict[str, Any]]:
    """Walking speed and mean stride length per bout (JSON-ready; ``None`` if unknown).

    A bout's speed is the summed length of its usable steps over their summed time; its
    stride length is twice the mean step length. Steps count when both contacts lie in
    ``[start_s - 0.05, end_s + 0.05]``.

    Returns
    -------
    list of dict
        ``{"start_s", "end_s", "n_steps", "walking_speed_mps", "stride_length_m"}``.
    """
    out = []
    ok = np.isfinite(steps.length_m)
    for b0, b1 in bouts:
        sel = ok & (steps.start_s >= b0 - 0.05) & (steps.end_s <= b1 + 0.05)
        n = int(sel.sum())
        dur = float(np.sum(steps.end_s[sel] - steps.start_s[sel]))
        total = float(np.sum(steps.length_m[sel]))
        out.append(
            {
                "start_s": float(b0),
                "end_s": float(b1),
                "n_steps": n,
                "walking_speed_mps": _num(total / dur) if n >= 2 and dur > 0 else None,
                "stride_length_m": _num(2.0 * total / n) if n >= 2 else None,
            }
        )
    return out


def _num(x: float, ndigits: int = 3) -> float | None:
    return round(float(x), ndigits) if math.isfinite(x) else None


def spatial_gait(
    time_s: ArrayLike,
    acc_mps2: ArrayLike,
    quat_wxyz: ArrayLike,
    rate_hz: float,
    ic_time_s: ArrayLike,
    ic_side: ArrayLike,
    bouts: Sequence[tuple[float, float]] = (),
    *,
    leg_length: float | None = None,
    height_m: float | None = None,
    params: SpatialParams | None = None,
) -> tuple[Steps, list[dict[str, Any]]]:
    """The whole chain: earth-vertical acceleration -> displacement -> steps -> bouts.

    Parameters
    ----------
    time_s : array_like, shape (N,)
        Sample times, s.
    acc_mps2 : array_like, shape (N, 3)
        Sensor-frame specific force, m/s^2.
    quat_wxyz : array_like, shape (N, 4)
        Sensor -> earth orientation (``SessionResult.quat_wxyz``).
    rate_hz : float
        Sampling rate.
    ic_time_s, ic_side : array_like, shape (K,)
        The session's initial contacts and feet.
    bouts : sequence of (float, float)
        Walking bouts ``(start_s, end_s)``.
    leg_length, height_m : float, optional
        :func:`leg_length_m`'s inputs (``--leg-length-m``, ``--height-m``).
    params : SpatialParams, optional

    Returns
    -------
    (Steps, list of dict)
        Every step, and :func:`bout_spatial` per bout.
    """
    disp = vertical_displacement_m(vertical_acc_mps2(acc_mps2, quat_wxyz), rate_hz, params)
    steps = step_lengths(
        time_s, disp, ic_time_s, ic_side, leg_length_m(leg_length, height_m), params
    )
    return steps, bout_spatial(steps, bouts)
