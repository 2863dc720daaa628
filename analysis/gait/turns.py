"""Turns from the lower-back yaw rate: start, end and signed angle (DESIGN section 4).

The yaw rate is the vertical component of the angular velocity in the earth frame,
``up_sensor . gyr`` (``up_sensor`` from the orientation the session already estimates).
It needs no heading and no sensor-to-pelvis calibration, and is the same for a turn while
walking, standing or sitting on a swivel chair. Positive = to the left (counter-clockwise
seen from above), as DESIGN section 4 defines a turn's angle.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from analysis.gait._signal import butter_filtfilt, check_rate

FloatArray = NDArray[np.float64]


@dataclass(frozen=True, kw_only=True)
class TurnParams:
    """Parameters of :func:`detect_turns`; the El-Gohary lower-back turn detector.

    The approach and the defaults follow El-Gohary et al. (2014), "Continuous monitoring
    of turning in patients with movement disability", Sensors 14(1):356-369,
    doi:10.3390/s140100356, as Mobilise-D uses it (mobgap's ``TdElGohary``) and as Pham et
    al. (2017), Front. Neurol. 8:135, doi:10.3389/fneur.2017.00135, validated it at home:
    the yaw rate is low-pass filtered, a turn is a span of one sign where the filtered
    rate stays above a low threshold and peaks above a higher one, close spans of the same
    direction are one turn, and only turns of at least 45 deg and 0.5-10 s are kept.

    Checked on the INDIP turns of ``shared/data/mobgap_lab`` (``bench/eval_turns.py``):
    the defaults were not tuned there. Choosing ``lowpass_hz``, ``span_rate_dps``,
    ``peak_rate_dps`` and ``merge_gap_s`` on one participant (54 sets) and scoring the
    other, the two folds chose different sets and neither beat the defaults clearly
    held out (HA_001: 2 of 7 INDIP turns found, F1 0.235 vs 0.222; MS_001: 11 of 11, F1
    0.759 both; median |angle error| within 3 deg of the defaults'), so the literature
    values are kept. INDIP's angles are a weak judge here: this sensor's own yaw
    integral over INDIP's own turn spans differs from INDIP's angle by a median 42 deg
    (MS_001) and 70 deg (HA_001, with the opposite sign on 5 of its 7 short turns). On
    the simulator (random mounts; 90, -180 and 135 deg turns while walking, 8 seeds) all
    24 turns are found with their direction, angle errors -6.3 to +4.7 deg.

    Attributes
    ----------
    lowpass_hz : float
        Low-pass cutoff of the yaw rate (2nd-order Butterworth, zero phase). The pelvis
        yaws back and forth by a few degrees with every step (about 1 Hz at a stride
        cadence of 55-60 /min, with up to 30-40 deg/s peaks); a turn changes heading over
        0.5-4 s. 1.5 Hz is El-Gohary's cutoff: it removes most of the step oscillation and
        keeps a 0.5 s turn.
    span_rate_dps : float
        A turn's start and end: where the filtered ``|yaw rate|`` falls below this
        (El-Gohary and mobgap: 5 deg/s). Lower values start a turn earlier but let the
        residual step oscillation and gyroscope drift join neighbouring turns.
    peak_rate_dps : float
        A span is a turn only if its ``|yaw rate|`` peaks above this (El-Gohary and
        mobgap: 15 deg/s); slow heading drift while walking a gentle curve stays below.
    merge_gap_s : float
        Spans of the same direction closer than this are one turn (a turn walked in steps
        dips below ``span_rate_dps`` between them). mobgap merges at 0.05 s; spans of
        opposite direction are never merged (a left turn then a right turn are two turns,
        as INDIP reports them).
    min_angle_deg : float
        Smallest ``|angle|`` reported (45 deg: the usual definition of a turn, El-Gohary;
        issue 17 asks for turns >= 45 deg).
    min_duration_s, max_duration_s : float
        Duration limits (El-Gohary: 0.5-10 s). Longer spans are slow drifts (or a walk
        around a curve) rather than a turn.
    """

    lowpass_hz: float = 1.5
    span_rate_dps: float = 5.0
    peak_rate_dps: float = 15.0
    merge_gap_s: float = 0.05
    min_angle_deg: float = 45.0
    min_duration_s: float = 0.5
    max_duration_s: float = 10.0


def yaw_rate_dps(up_sensor: ArrayLike, gyr_rps: ArrayLike) -> FloatArray:
    """Vertical (earth-frame) component of the angular velocity, deg/s, + = to the left.

    Parameters
    ----------
    up_sensor : array_like, shape (N, 3)
        Unit vector pointing up, in the sensor frame (:func:`analysis.quaternion.up_in_sensor`).
    gyr_rps : array_like, shape (N, 3)
        Angular velocity in the sensor frame, rad/s (right-handed).

    Returns
    -------
    ndarray, shape (N,)
    """
    up = np.asarray(up_sensor, dtype=np.float64)
    gyr = np.asarray(gyr_rps, dtype=np.float64)
    if up.shape != gyr.shape or up.ndim != 2 or up.shape[1] != 3:
        raise ValueError(
            f"up_sensor and gyr_rps must both have shape (N, 3); got {up.shape} and {gyr.shape}."
        )
    return np.asarray(np.rad2deg(np.einsum("ij,ij->i", up, gyr)), dtype=np.float64)


def detect_turns(
    time_s: ArrayLike,
    yaw_rate_dps: ArrayLike,
    *,
    rate_hz: float,
    params: TurnParams | None = None,
) -> list[dict[str, float]]:
    """Turns of a session from its yaw rate.

    Parameters
    ----------
    time_s : array_like, shape (N,)
        Sample times, s (increasing; gaps allowed: no sample stands for more than 1.5
        nominal periods in the angle).
    yaw_rate_dps : array_like, shape (N,)
        Earth-frame yaw rate (:func:`yaw_rate_dps`), deg/s, + = to the left. Non-finite
        samples count as no rotation.
    rate_hz : float
        Nominal sampling rate, Hz.
    params : TurnParams, optional
        Thresholds (defaults: :class:`TurnParams`).

    Returns
    -------
    list of dict
        ``{"start_s", "end_s", "angle_deg"}`` per turn in time order; ``angle_deg`` is the
        integral of the filtered yaw rate over the turn, positive = to the left.
    """
    p = params or TurnParams()
    rate = check_rate(rate_hz)
    t = np.asarray(time_s, dtype=np.float64)
    w = np.asarray(yaw_rate_dps, dtype=np.float64)
    if t.shape != w.shape or t.ndim != 1:
        raise ValueError(
            f"time_s and yaw_rate_dps must have the same shape (N,); got {t.shape}, {w.shape}."
        )
    if t.size < 2:
        return []
    w = butter_filtfilt(np.where(np.isfinite(w), w, 0.0), p.lowpass_hz, rate_hz=rate)
    dt = np.minimum(np.diff(t, append=t[-1] + 1.0 / rate), 1.5 / rate)
    spans = _spans(w, p.span_rate_dps, p.peak_rate_dps)
    spans = _merged(spans, t, p.merge_gap_s)
    cum = np.concatenate([[0.0], np.cumsum(w * dt)])
    turns = []
    for a, b, _ in spans:
        start_s, end_s = float(t[a]), float(t[b - 1])
        angle = float(cum[b] - cum[a])
        if abs(angle) < p.min_angle_deg:
            continue
        if not p.min_duration_s <= end_s - start_s <= p.max_duration_s:
            continue
        turns.append({"start_s": start_s, "end_s": end_s, "angle_deg": angle})
    return turns


def _spans(w: FloatArray, span_dps: float, peak_dps: float) -> list[tuple[int, int, int]]:
    """``(a, b, sign)``: runs ``[a, b)`` of one sign above ``span_dps`` that reach ``peak_dps``."""
    sign = np.where(w > span_dps, 1, np.where(w < -span_dps, -1, 0))
    change = np.flatnonzero(np.diff(sign)) + 1
    bounds = np.concatenate([[0], change, [sign.size]])
    out = []
    for a, b in itertools.pairwise(bounds):
        s = int(sign[a])
        if s and float(np.max(np.abs(w[a:b]))) >= peak_dps:
            out.append((int(a), int(b), s))
    return out


def _merged(
    spans: list[tuple[int, int, int]], t: FloatArray, gap_s: float
) -> list[tuple[int, int, int]]:
    """Consecutive spans of the same sign less than ``gap_s`` apart, joined."""
    out: list[tuple[int, int, int]] = []
    for a, b, s in spans:
        if out and out[-1][2] == s and t[a] - t[out[-1][1] - 1] <= gap_s:
            out[-1] = (out[-1][0], b, s)
        else:
            out.append((a, b, s))
    return out
