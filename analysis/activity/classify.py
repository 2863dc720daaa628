"""Offline activity classification of a whole session: :func:`classify_activity`."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.ndimage import uniform_filter1d

from analysis import quaternion as quat
from analysis.activity.context import refine_sit_stand
from analysis.activity.decoder import Decoder
from analysis.activity.features import (
    FrameFeatures,
    frame_features,
    gait_signal,
    periodicity,
    samples_in,
    state_costs,
    vertical_acceleration,
    window_mean,
    window_std,
)
from analysis.activity.params import ACTIVITY_OF_STATE, UNKNOWN, ActivityParams
from analysis.activity.results import ActivityResult, TransitionEvent
from analysis.activity.transitions import locate_transitions
from analysis.labels import Activity, Codes

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]



def _check_inputs(
    acc_mps2: ArrayLike, tilts: tuple[ArrayLike | None, ArrayLike | None], rate_hz: float
) -> tuple[FloatArray, FloatArray | None, FloatArray | None]:
    if not np.isfinite(rate_hz) or rate_hz <= 0:
        raise ValueError(f"rate_hz must be a positive number of samples per second, got {rate_hz}")
    acc = np.asarray(acc_mps2, dtype=float)
    if acc.ndim != 2 or acc.shape[1] != 3:
        raise ValueError(f"acc_mps2 must have shape (N, 3), got {acc.shape}")
    if not np.isfinite(acc).all():
        raise ValueError("acc_mps2 contains NaN or infinite values")
    if acc.shape[0] and not 3.0 < np.median(np.linalg.norm(acc, axis=1)) < 30.0:
        raise ValueError(
            "acc_mps2 does not look like m/s^2 (median magnitude far from 9.81); "
            "multiply accelerations in g by 9.80665"
        )
    out: list[FloatArray | None] = []
    for name, t in zip(("anterior_tilt_deg", "lateral_tilt_deg"), tilts, strict=True):
        if t is None:
            out.append(None)
            continue
        arr = np.asarray(t, dtype=float)
        if arr.shape != (acc.shape[0],):
            raise ValueError(f"{name} must have shape ({acc.shape[0]},), got {arr.shape}")
        out.append(arr)
    if (out[0] is None) != (out[1] is None):
        raise ValueError("give both anterior_tilt_deg and lateral_tilt_deg, or neither")
    return acc, out[0], out[1]


def _frame_centres(n: int, rate_hz: float, params: ActivityParams) -> tuple[int, IntArray]:
    hop = samples_in(params.frame_s, rate_hz)
    n_frames = (n + hop - 1) // hop
    return hop, np.arange(n_frames) * hop + hop // 2


def _inclination_from_upright(
    up_sensor: FloatArray,
    signal: FloatArray,
    centres: IntArray,
    rate_hz: float,
    params: ActivityParams,
) -> tuple[FloatArray, list[str]]:
    """Signless inclination change (deg, per sample) from the first quiet upright posture.

    Upright is found next to walking: the first quiet posture within 10 deg of the
    mean walking posture, else the mean walking posture itself. Without walking
    (< 5 s) the inclination is NaN throughout, so every still frame decodes as
    ``unknown``: the sensor may be clipped on any way round, and the first still
    posture of such a session is as likely sitting (a wheelchair user) or lying (a
    bed-bound patient) as standing. A clinician reading "standing" for a patient who
    never stood would be misled about exactly what the session is for; "unknown", with
    a note saying that a mount preset or a saved calibration names the postures, is
    what can honestly be said.
    """
    half = samples_in(params.tilt_window_s, rate_hz) // 2
    up_f = window_mean(up_sensor, centres, half)
    up_f /= np.linalg.norm(up_f, axis=1, keepdims=True)
    energy = window_std(signal, centres, samples_in(params.energy_window_s, rate_hz) // 2)
    per = periodicity(signal, centres, rate_hz, params)
    gait = (per > params.walk_periodicity) & (energy > params.walk_min_std_mps2)
    notes = []
    ref = None
    if gait.sum() * params.frame_s >= 5.0:
        walk_up = up_f[gait].mean(axis=0)
        walk_up /= np.linalg.norm(walk_up)
        quiet = (energy < 0.1) & (np.degrees(np.arccos(np.clip(up_f @ walk_up, -1, 1))) < 10)
        run = samples_in(3.0, 1 / params.frame_s)
        csum = np.concatenate([[0], np.cumsum(quiet)])
        ok = np.nonzero(csum[run:] - csum[:-run] == run)[0]
        if ok.size:
            ref = up_f[ok[0] : ok[0] + run].mean(axis=0)
            notes.append("uncalibrated: upright reference is the first quiet upright posture")
        else:
            ref = walk_up
            notes.append("uncalibrated: upright reference is the mean walking posture")
    else:
        notes.append(
            "uncalibrated and no walking: which way is upright is unknown, so still "
            "postures are reported as 'unknown' (not guessed); give a mount preset or a "
            "saved calibration to label sitting, standing and lying"
        )
        return np.full(up_sensor.shape[0], np.nan), notes
    ref = ref / np.linalg.norm(ref)
    # Average before taking the angle: the angle of each raw sample is biased upwards.
    u = uniform_filter1d(up_sensor, samples_in(params.frame_s, rate_hz), axis=0, mode="nearest")
    u /= np.linalg.norm(u, axis=1, keepdims=True)
    notes.append(
        "uncalibrated: posture from the signless inclination change; standing forward "
        "bends read as sitting and transitions are located without the forward-lean check"
    )
    return np.degrees(np.arccos(np.clip(u @ ref, -1, 1))), notes


def _segments(
    labels: Codes, time_s: FloatArray, rate_hz: float
) -> list[tuple[str, float, float]]:
    if labels.size == 0:
        return []
    cut = np.nonzero(labels[1:] != labels[:-1])[0] + 1
    starts = np.concatenate([[0], cut])
    ends = [float(time_s[i]) for i in cut] + [float(time_s[-1] + 1.0 / rate_hz)]
    return [
        (Activity(labels[a]).label, float(time_s[a]), e)
        for a, e in zip(starts, ends, strict=True)
    ]


def classify_activity(
    time_s: ArrayLike | None,
    acc_mps2: ArrayLike,
    anterior_tilt_deg: ArrayLike | None,
    lateral_tilt_deg: ArrayLike | None,
    rate_hz: float,
    *,
    quat_wxyz: ArrayLike | None = None,
    params: ActivityParams | None = None,
) -> ActivityResult:
    """Label every sample as sitting, standing, walking, lying, transition or unknown.

    Parameters
    ----------
    time_s : array_like (N,) or None
        Sample times in s (None: ``arange(N) / rate_hz``); used for segment and event
        times only (frames count samples).
    acc_mps2 : array_like (N, 3)
        Specific force, m/s^2, sensor frame.
    anterior_tilt_deg, lateral_tilt_deg : array_like (N,) or None
        Pelvic tilt (:func:`analysis.tilt.pelvic_tilt_deg`), deg; NaN where unknown.
        None: uncalibrated - the posture comes from the inclination change relative to
        the first quiet upright posture (see the module docstring).
    rate_hz : float
        Sampling rate.
    quat_wxyz : array_like (N, 4), optional
        Sensor orientation for the uncalibrated path (default: the accelerometer's
        direction, averaged over ``tilt_window_s``).
    params : ActivityParams, optional
        Thresholds and durations.

    Returns
    -------
    ActivityResult

    Raises
    ------
    ValueError
        Wrong shapes, non-finite acceleration, acceleration not in m/s^2, bad rate.
    """
    p = params or ActivityParams()
    acc, ant, lat = _check_inputs(acc_mps2, (anterior_tilt_deg, lateral_tilt_deg), rate_hz)
    n = acc.shape[0]
    t = np.arange(n) / rate_hz if time_s is None else np.asarray(time_s, dtype=float)
    if t.shape != (n,):
        raise ValueError(f"time_s must have shape ({n},), got {t.shape}")
    if n == 0:
        return ActivityResult(np.empty(0, np.int8), [], [])
    signal, _ = gait_signal(acc, rate_hz, p)
    _, centres = _frame_centres(n, rate_hz, p)
    notes: list[str] = []
    signed = ant is not None
    if ant is None or lat is None:
        up = acc if quat_wxyz is None else quat.up_in_sensor(np.asarray(quat_wxyz, dtype=float))
        incl, notes = _inclination_from_upright(up, signal, centres, rate_hz, p)
        ant, lat = -incl, np.zeros(n)
        p_eff = _replace_standing(p)
    else:
        p_eff = p
    feats = frame_features(signal, ant, lat, centres, rate_hz, p_eff)
    up = acc if quat_wxyz is None else quat.up_in_sensor(np.asarray(quat_wxyz, dtype=float))
    feats.vertical_mps2 = vertical_acceleration(acc, up, centres, rate_hz, p_eff)
    costs = state_costs(feats, p_eff)
    states = decode_states(costs, p)
    result = activity_from_states(states, feats, t, rate_hz, p_eff, signed=signed, notes=notes)
    result.features, result.costs = feats, costs
    return result


def decode_states(costs: FloatArray, params: ActivityParams) -> IntArray:
    """Offline decode: the most likely state per frame (index into :data:`STATES`).

    Parameters
    ----------
    costs : ndarray (F, 5)
        :func:`state_costs` output.
    params : ActivityParams
        Minimum durations and the switching cost.
    """
    return Decoder(params.min_frames(), params.switch_cost).decode(costs)


def activity_from_states(
    states: IntArray,
    feats: FrameFeatures,
    time_s: FloatArray,
    rate_hz: float,
    params: ActivityParams,
    *,
    signed: bool = True,
    notes: list[str] | None = None,
) -> ActivityResult:
    """Per-sample labels, segments and transitions from decoded frame states.

    The last step of :func:`classify_activity`, separate so that frame states decoded
    in parts (``analysis.session``'s parallel path) end the same way.

    Parameters
    ----------
    states : ndarray of int (F,)
        Decoded state per frame (:func:`decode_states`).
    feats : FrameFeatures
        The frames' features (arrays of F).
    time_s : ndarray (N,)
        Sample times; frames cover ``hop`` samples each from the first sample.
    rate_hz : float
        Sampling rate.
    params : ActivityParams
        The effective parameters (those the costs were computed with).
    signed : bool
        The tilt was a calibrated anterior tilt (see :func:`locate_transitions`).
    notes : list of str, optional
        Notes so far (extended and returned in the result).
    """
    t = time_s
    n = t.size
    hop = samples_in(params.frame_s, rate_hz)
    notes = list(notes or [])
    refined = refine_sit_stand(states, feats, params) if signed else states
    frame_lab = ACTIVITY_OF_STATE[refined]
    events: list[TransitionEvent] = []
    for kind, f0, f1, lean in locate_transitions(refined, feats, params, signed=signed):
        frame_lab[f0:f1] = Activity.TRANSITION
        s0, s1 = min(f0 * hop, n - 1), min(f1 * hop, n) - 1
        events.append(TransitionEvent(kind, float(t[s0]), float(t[s1] - t[s0] + 1 / rate_hz), lean))
    labels = np.repeat(frame_lab, hop)[:n]
    if np.any(states == UNKNOWN):
        notes.append("some samples are 'unknown': no usable posture (e.g. tilt not available)")
    return ActivityResult(labels, _segments(labels, t, rate_hz), events, notes, states)


def _replace_standing(p: ActivityParams) -> ActivityParams:
    """Parameters for a signless inclination fed as (negative) tilt."""
    return replace(p, standing_tilt_deg=0.0, sit_tilt_deg=-p.uncalibrated_sit_incl_deg)
