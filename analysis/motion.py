"""Simple motion primitives on raw IMU signals: stillness and walking-like periodicity.

Used where no calibration exists yet (automatic calibration) and as features of the
activity classifier. Window lengths and thresholds speak seconds and SI units.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy.ndimage import maximum_filter1d, uniform_filter1d

from recordings.units import G_MPS2

#: Standard gravity (:data:`recordings.units.G_MPS2`), under the name the stages use.
GRAVITY_MPS2 = G_MPS2

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]



def _window(rate_hz: float, seconds: float) -> int:
    return max(1, round(seconds * rate_hz))


def moving_std(x: FloatArray, rate_hz: float, window_s: float) -> FloatArray:
    """Centred moving standard deviation of ``x`` (N,) or (N, k) along axis 0."""
    w = _window(rate_hz, window_s)
    mean = uniform_filter1d(x, w, axis=0, mode="nearest")
    mean_sq = uniform_filter1d(x * x, w, axis=0, mode="nearest")
    return np.sqrt(np.maximum(mean_sq - mean * mean, 0.0))


def still_mask(
    acc_mps2: FloatArray,
    gyr_rps: FloatArray | None,
    rate_hz: float,
    *,
    acc_std_mps2: float = 0.15,
    gyr_rps_max: float = 0.1,
    window_s: float = 1.0,
) -> BoolArray:
    """Samples at which the sensor is quasi-static (standing, sitting or lying still).

    Parameters
    ----------
    acc_mps2 : ndarray (N, 3)
        Specific force, m/s^2.
    gyr_rps : ndarray (N, 3) or None
        Angular velocity, rad/s (ignored when None).
    rate_hz : float
        Sampling rate.
    acc_std_mps2 : float
        Largest moving standard deviation of each acc axis over ``window_s``.
    gyr_rps_max : float
        Largest low-passed angular speed (about 6 deg/s; postural sway is far below).
    window_s : float
        Analysis window.
    """
    still = moving_std(acc_mps2, rate_hz, window_s).max(axis=1) < acc_std_mps2
    if gyr_rps is not None:
        w = _window(rate_hz, window_s)
        speed = uniform_filter1d(np.linalg.norm(gyr_rps, axis=1), w, mode="nearest")
        still &= speed < gyr_rps_max
    return np.asarray(still)


def spans(mask: BoolArray, rate_hz: float, min_s: float = 0.0) -> list[tuple[int, int]]:
    """``[start, stop)`` index pairs of the runs of True in ``mask`` lasting >= ``min_s``."""
    edges = np.diff(np.concatenate(([0], mask.astype(np.int8), [0])))
    starts, stops = np.nonzero(edges == 1)[0], np.nonzero(edges == -1)[0]
    min_n = min_s * rate_hz
    return [(int(a), int(b)) for a, b in zip(starts, stops, strict=True) if b - a >= min_n]


def walking_mask(
    acc_mps2: FloatArray,
    rate_hz: float,
    *,
    window_s: float = 2.5,
    min_std_mps2: float = 0.6,
    min_periodicity: float = 0.3,
) -> BoolArray:
    """Samples inside walking-like movement: energetic and periodic at a step rhythm.

    The acceleration magnitude is autocorrelated in sliding windows; walking has a clear
    peak at the step period (0.3-1.0 s) and the stride period (twice that).

    Parameters
    ----------
    acc_mps2 : ndarray (N, 3)
        Specific force, m/s^2, any frame (only the magnitude is used).
    rate_hz : float
        Sampling rate.
    window_s : float
        Length of the analysis windows (hop: a quarter of it).
    min_std_mps2 : float
        Minimum standard deviation of the magnitude in a window.
    min_periodicity : float
        Minimum normalised autocorrelation at the stride period.
    """
    mag = np.linalg.norm(acc_mps2, axis=1)
    n = mag.size
    w = _window(rate_hz, window_s)
    hop = max(1, w // 4)
    lag_lo, lag_hi = _window(rate_hz, 0.3), _window(rate_hz, 2.0)
    out = np.zeros(n, dtype=bool)
    if n < w:
        return out
    starts = np.arange(0, n - w + 1, hop)
    idx = starts[:, None] + np.arange(w)[None, :]
    seg = mag[idx]
    seg = seg - seg.mean(axis=1, keepdims=True)
    std = seg.std(axis=1)
    active = std > min_std_mps2
    if not active.any():
        return out
    seg = seg[active]
    spec = np.fft.rfft(seg, 2 * w, axis=1)
    ac = np.fft.irfft(spec * np.conj(spec), axis=1)[:, : lag_hi + 1]
    ac = ac / np.maximum(ac[:, :1], 1e-12)
    best = ac[:, lag_lo:].max(axis=1)
    good_starts = starts[active][best > min_periodicity]
    flags = np.zeros(n + 1, dtype=np.int32)
    np.add.at(flags, good_starts, 1)
    np.add.at(flags, np.minimum(good_starts + w, n), -1)
    out = np.cumsum(flags[:n]) > 0
    # Bridge single failed windows inside a bout (a turn, a hesitation).
    bridged = maximum_filter1d(out.astype(np.int8), _window(rate_hz, 1.0)) > 0
    return np.asarray(bridged & (moving_std(mag, rate_hz, 2.0) > 0.5 * min_std_mps2))
