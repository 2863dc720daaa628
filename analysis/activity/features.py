"""Per-frame features (movement energy, gait periodicity, posture) and state costs."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import fft as sp_fft
from scipy.ndimage import uniform_filter1d
from scipy.signal import butter, sosfilt, sosfilt_zi, sosfiltfilt

from analysis.activity.params import LIE, SIT, STAND, UNKNOWN, WALK, ActivityParams
from recordings.units import G_MPS2

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]


def samples_in(seconds: float, rate_hz: float) -> int:
    """Whole samples in ``seconds`` (at least one)."""
    return max(1, round(seconds * rate_hz))


@functools.lru_cache(maxsize=16)
def _band_sos_cached(rate_hz: float, lo_hz: float, hi_hz: float) -> NDArray[np.float64]:
    sos = butter(2, [lo_hz, min(hi_hz, 0.45 * rate_hz)], "bandpass", fs=rate_hz, output="sos")
    return np.asarray(sos)


def _band_sos(rate_hz: float, params: ActivityParams) -> NDArray[np.float64]:
    return _band_sos_cached(float(rate_hz), *map(float, params.band_hz))


def gait_signal(
    acc_mps2: FloatArray,
    rate_hz: float,
    params: ActivityParams,
    zi: FloatArray | None = None,
) -> tuple[FloatArray, FloatArray]:
    """Causally band-passed acceleration magnitude (m/s^2), and the filter state.

    Parameters
    ----------
    acc_mps2 : ndarray (N, 3)
        Specific force, m/s^2, any frame.
    rate_hz : float
        Sampling rate.
    params : ActivityParams
        ``band_hz`` is used.
    zi : ndarray or None
        Filter state from the previous chunk (None: start at rest at 1 g).

    Returns
    -------
    signal : ndarray (N,)
    zi : ndarray
        State to pass with the next chunk; chunked and whole-array results are equal.
    """
    mag = np.linalg.norm(acc_mps2, axis=1)
    sos = _band_sos(rate_hz, params)
    if zi is None:
        zi = sosfilt_zi(sos) * (mag[0] if mag.size else G_MPS2)
    out, zo = sosfilt(sos, mag, zi=zi)
    return np.asarray(out), np.asarray(zo)


def _window_bounds(centres: IntArray, half: int, n: int) -> tuple[IntArray, IntArray]:
    return np.clip(centres - half, 0, n), np.clip(centres + half, 0, n)


def window_mean(x: FloatArray, centres: IntArray, half: int) -> FloatArray:
    """Mean of ``x`` (N,) or (N, k) over ``[c - half, c + half)``, clipped to the array."""
    a, b = _window_bounds(centres, half, x.shape[0])
    csum = np.concatenate([np.zeros((1, *x.shape[1:])), np.cumsum(x, axis=0)])
    count = np.maximum(b - a, 1).reshape(-1, *([1] * (x.ndim - 1)))
    return np.asarray((csum[b] - csum[a]) / count)


def window_std(x: FloatArray, centres: IntArray, half: int) -> FloatArray:
    """Standard deviation of ``x`` over the windows of :func:`window_mean`."""
    mean = window_mean(x, centres, half)
    mean_sq = window_mean(x * x, centres, half)
    return np.sqrt(np.maximum(mean_sq - mean * mean, 0.0))


def periodicity(
    signal: FloatArray, centres: IntArray, rate_hz: float, params: ActivityParams
) -> FloatArray:
    """Step periodicity per frame: the largest normalised autocorrelation at a step or stride lag.

    Parameters
    ----------
    signal : ndarray (N,)
        :func:`gait_signal` output.
    centres : ndarray of int (F,)
        Frame centres (sample indices); frames whose centred ``gait_window_s`` window
        does not fit inside the array get 0.
    rate_hz : float
        Sampling rate.
    params : ActivityParams
        Window and lag range.

    Returns
    -------
    ndarray (F,)
        Values in [-1, 1]; walking gives about 0.5-0.9, standing and sitting about 0.
    """
    w = samples_in(params.gait_window_s, rate_hz)
    half = w // 2
    lag_lo = samples_in(params.gait_period_s[0], rate_hz)
    lag_hi = samples_in(params.gait_period_s[1], rate_hz)
    out = np.zeros(centres.size)
    ok = np.nonzero((centres - half >= 0) & (centres - half + w <= signal.size))[0]
    # Zero padding to w + lag_hi keeps the wanted lags free of wrap-around.
    nfft = sp_fft.next_fast_len(w + lag_hi, real=True)
    for blk in range(0, ok.size, 2048):
        sel = ok[blk : blk + 2048]
        idx = (centres[sel] - half)[:, None] + np.arange(w)[None, :]
        seg = signal[idx]
        seg = seg - seg.mean(axis=1, keepdims=True)
        spec = sp_fft.rfft(seg, nfft, axis=1)
        power = spec.real**2 + spec.imag**2
        ac = sp_fft.irfft(power, nfft, axis=1)[:, : lag_hi + 1]
        # Unbiased normalisation, so longer lags are not penalised.
        ac = ac / (w - np.arange(lag_hi + 1))[None, :]
        out[sel] = ac[:, lag_lo:].max(axis=1) / np.maximum(ac[:, 0], 1e-9)
    return out


@dataclass
class FrameFeatures:
    """Per-frame features, all arrays (F,).

    Attributes
    ----------
    tilt_deg : anterior tilt, mean over ``tilt_window_s`` (minus ``standing_tilt_deg``)
    tilt_fine_deg : the same over one frame (for timing transitions)
    lateral_deg : lateral tilt, mean over ``tilt_window_s``
    energy_mps2 : SD of the band-passed acceleration magnitude over ``energy_window_s``
    periodicity : :func:`periodicity`
    vertical_mps2 : vertical acceleration (0.3-3 Hz, zero phase) over one frame, offline
        only (:func:`vertical_acceleration`; None live and where not computed)
    """

    tilt_deg: FloatArray
    tilt_fine_deg: FloatArray
    lateral_deg: FloatArray
    energy_mps2: FloatArray
    periodicity: FloatArray
    vertical_mps2: FloatArray | None = None


def frame_features(
    signal: FloatArray,
    anterior_tilt_deg: FloatArray,
    lateral_tilt_deg: FloatArray,
    centres: IntArray,
    rate_hz: float,
    params: ActivityParams,
) -> FrameFeatures:
    """Features of the frames centred at ``centres`` (shared by offline and live).

    Parameters
    ----------
    signal : ndarray (N,)
        :func:`gait_signal` output.
    anterior_tilt_deg, lateral_tilt_deg : ndarray (N,)
        Pelvic tilt per sample, deg (NaN where unknown).
    centres : ndarray of int (F,)
        Frame centres, sample indices into the arrays.
    rate_hz : float
        Sampling rate.
    params : ActivityParams
        Windows.
    """
    tilt_half = samples_in(params.tilt_window_s, rate_hz) // 2
    fine_half = max(1, samples_in(params.frame_s, rate_hz) // 2)
    tilt = anterior_tilt_deg - params.standing_tilt_deg
    return FrameFeatures(
        tilt_deg=window_mean(tilt, centres, tilt_half),
        tilt_fine_deg=window_mean(tilt, centres, fine_half),
        lateral_deg=window_mean(lateral_tilt_deg, centres, tilt_half),
        energy_mps2=window_std(signal, centres, samples_in(params.energy_window_s, rate_hz) // 2),
        periodicity=periodicity(signal, centres, rate_hz, params),
    )


def vertical_acceleration(
    acc_mps2: FloatArray,
    up_sensor: FloatArray,
    centres: IntArray,
    rate_hz: float,
    params: ActivityParams,
) -> FloatArray:
    """Vertical acceleration per frame (m/s^2): which way a posture change went.

    Rising (sit-to-stand) accelerates the pelvis upwards first and brakes it after;
    sitting down is the reverse: the order of the largest and smallest vertical
    acceleration tells the direction (Najafi et al. 2002, IEEE TBME 49(8):843-851, used
    the vertical acceleration's pattern the same way). On HAPT's labelled transitions
    the order is right for 28 of 30 stand-to-sit and 30 of 31 sit-to-stand.

    Parameters
    ----------
    acc_mps2 : ndarray (N, 3)
        Specific force, sensor frame.
    up_sensor : ndarray (N, 3)
        The vertical in sensor axes per sample (from the orientation, or the raw
        acceleration: it is averaged over a second here).
    centres : ndarray of int (F,)
        Frame centres.
    rate_hz : float
        Sampling rate.
    params : ActivityParams
        ``frame_s``.

    Returns
    -------
    ndarray (F,)
        Zero-phase band-passed (0.3-3 Hz) vertical specific force, mean over one frame;
        zeros when the session is too short to filter.
    """
    up = uniform_filter1d(
        np.asarray(up_sensor, float), samples_in(1.0, rate_hz), axis=0, mode="nearest"
    )
    up /= np.maximum(np.linalg.norm(up, axis=1, keepdims=True), 1e-9)
    vert = np.einsum("ij,ij->i", acc_mps2, up)
    sos = butter(2, [0.3, min(3.0, 0.45 * rate_hz)], "bandpass", fs=rate_hz, output="sos")
    if vert.size <= 3 * (2 * sos.shape[0] + 1) * 3:
        return np.zeros(centres.size)
    vert = sosfiltfilt(sos, vert)
    return window_mean(vert, centres, max(1, samples_in(params.frame_s, rate_hz) // 2))


def _sigmoid(x: FloatArray) -> FloatArray:
    return np.asarray(1.0 / (1.0 + np.exp(-np.clip(x, -50, 50))))


def gait_probability(f: FrameFeatures, params: ActivityParams) -> FloatArray:
    """Evidence (0-1) for walking from energy and periodicity alone."""
    p_per = _sigmoid((f.periodicity - params.walk_periodicity) / 0.06)
    p_en = _sigmoid((f.energy_mps2 - params.walk_min_std_mps2) / (0.2 * params.walk_min_std_mps2))
    return p_per * p_en


def state_costs(f: FrameFeatures, params: ActivityParams) -> FloatArray:
    """Negative log-evidence of each state of :data:`STATES` per frame, shape (F, 5).

    Frames with an unknown tilt (NaN) can only be walking (from the gait evidence) or
    unknown.
    """
    theta = np.radians(f.tilt_deg)
    phi = np.radians(f.lateral_deg)
    incl = np.degrees(np.arccos(np.clip(np.cos(theta) * np.cos(phi), -1, 1)))
    forward = np.clip(np.maximum(f.tilt_deg, 0) / np.maximum(incl, 1e-6), 0, 1) ** 2
    lying_thr = params.lying_incl_deg + forward * (
        params.lying_forward_incl_deg - params.lying_incl_deg
    )
    p_lie = _sigmoid((incl - lying_thr) / 3.0)
    p_low = _sigmoid((params.sit_tilt_deg - f.tilt_deg) / params.sit_tilt_scale_deg)
    p_sit = p_low * (1 - p_lie)
    p_up = (1 - p_low) * (1 - p_lie)
    p_gait = gait_probability(f, params)
    probs = np.stack(
        [
            p_sit * (1 - 0.5 * p_gait),
            p_up * (1 - p_gait),
            p_gait * (p_up + 0.3 * p_sit),
            p_lie,
        ],
        axis=1,
    )
    costs = np.empty((probs.shape[0], 5))
    costs[:, :4] = -np.log(probs + 1e-3)
    costs[:, UNKNOWN] = params.unknown_cost
    bad = ~np.isfinite(f.tilt_deg) | ~np.isfinite(f.lateral_deg)
    if bad.any():
        costs[bad, SIT] = costs[bad, STAND] = costs[bad, LIE] = 3 * params.unknown_cost
        costs[bad, WALK] = -np.log(p_gait[bad] + 1e-3)
        costs[bad, UNKNOWN] = 0.5 * params.unknown_cost
    return costs
