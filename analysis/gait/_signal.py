"""Signal helpers for gait analysis that speak seconds and hertz, not samples.

scipy counts smoothing widths and peak distances in samples; these thin wrappers take
``*_s`` / ``*_hz`` parameters and the ``rate_hz`` keyword instead (house style).
"""

from __future__ import annotations

import functools

import numpy as np
from numpy.typing import NDArray
from scipy.ndimage import gaussian_filter1d
from scipy.signal import butter, find_peaks, sosfiltfilt

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]
BoolArray = NDArray[np.bool_]


def check_vector_signal(name: str, x: object, n: int | None = None) -> FloatArray:
    """Return ``x`` as a finite ``(N, 3)`` float64 array or raise a readable ValueError."""
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] != 3:
        raise ValueError(f"{name} must have shape (N, 3); got shape {arr.shape}.")
    if n is not None and arr.shape[0] != n:
        raise ValueError(f"{name} has {arr.shape[0]} samples but the acceleration has {n}.")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite values; fill or cut gaps first.")
    return arr


def check_rate(rate_hz: float) -> float:
    """Return ``rate_hz`` as float or raise a ValueError when it is not a positive number."""
    rate = float(rate_hz)
    if not np.isfinite(rate) or rate <= 0:
        raise ValueError(
            f"rate_hz must be a positive number of samples per second; got {rate_hz!r}."
        )
    return rate


def gaussian_smooth(x: FloatArray, sigma_s: float, *, rate_hz: float, order: int = 0) -> FloatArray:
    """Gaussian smoothing (``order=1``: smoothed derivative, per second) along axis 0.

    Parameters
    ----------
    x : ndarray, shape (N,) or (N, M)
        Signal sampled at ``rate_hz``.
    sigma_s : float
        Standard deviation of the Gaussian kernel in seconds.
    rate_hz : float
        Sampling rate in Hz.
    order : int
        0 for smoothing, 1 for the derivative of the smoothed signal (unit of ``x`` per s).

    Returns
    -------
    ndarray, same shape as ``x``
    """
    y = gaussian_filter1d(x, sigma_s * rate_hz, axis=0, order=order, mode="nearest")
    return y * rate_hz**order if order else y


def butter_filtfilt(
    x: FloatArray,
    cutoff_hz: float | tuple[float, float],
    *,
    rate_hz: float,
    btype: str = "lowpass",
    order: int = 2,
) -> FloatArray:
    """Zero-phase Butterworth filter along axis 0 with the cutoff in Hz.

    Signals shorter than the filter's padding are returned demeaned/unfiltered rather than
    raising, so that very short inputs still give (empty) results.
    """
    cutoff = tuple(cutoff_hz) if isinstance(cutoff_hz, tuple | list) else float(cutoff_hz)
    sos = _butter_sos(order, cutoff, btype, float(rate_hz))
    padlen = 3 * (2 * len(sos) + 1)
    if x.shape[0] <= padlen:
        return np.asarray(x - x.mean(axis=0) if btype != "lowpass" else x, dtype=np.float64)
    return np.asarray(sosfiltfilt(sos, x, axis=0), dtype=np.float64)


@functools.lru_cache(maxsize=32)
def _butter_sos(
    order: int, cutoff_hz: float | tuple[float, ...], btype: str, rate_hz: float
) -> FloatArray:
    """Butterworth second-order sections, designed once per setting (do not modify)."""
    return np.asarray(butter(order, cutoff_hz, btype=btype, fs=rate_hz, output="sos"))


def peaks_s(
    x: FloatArray, *, rate_hz: float, min_height: float | None = None, min_distance_s: float = 0.0
) -> IntArray:
    """Indices of local maxima of ``x`` with a minimum separation given in seconds."""
    distance = max(1, round(min_distance_s * rate_hz))
    idx, _ = find_peaks(x, height=min_height, distance=distance)
    return np.asarray(idx, dtype=np.intp)


def up_from_acc(acc_p_mps2: FloatArray, *, rate_hz: float, cutoff_hz: float = 0.3) -> FloatArray:
    """Unit vector pointing up (against gravity) in frame P, from low-passed acceleration.

    Parameters
    ----------
    acc_p_mps2 : ndarray, shape (N, 3)
        Specific force in m/s^2 (reads +g along up at rest).
    rate_hz : float
        Sampling rate in Hz.
    cutoff_hz : float
        Low-pass cut-off of the gravity estimate (2nd-order Butterworth, zero phase).

    Returns
    -------
    ndarray, shape (N, 3)
        Unit vectors.
    """
    grav = butter_filtfilt(acc_p_mps2, cutoff_hz, rate_hz=rate_hz)
    norm = np.linalg.norm(grav, axis=1, keepdims=True)
    norm[norm < 1e-9] = 1.0
    return np.asarray(grav / norm, dtype=np.float64)


def earth_components(
    acc_p_mps2: FloatArray, up_p: FloatArray, *, rate_hz: float
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Vertical, forward and leftward dynamic acceleration in a heading-following frame.

    The forward axis is P's x axis projected on the horizontal plane, leftward completes a
    right-handed (forward, left, up) triad. Slow components (< 0.3 Hz) are removed.

    Returns
    -------
    (acc_v, acc_ap, acc_ml) : three ndarrays of shape (N,), m/s^2
    """
    ex = np.array([1.0, 0.0, 0.0]) - up_p[:, :1] * up_p
    ex_norm = np.linalg.norm(ex, axis=1, keepdims=True)
    ex_norm[ex_norm < 1e-6] = 1.0
    ex = ex / ex_norm
    ey = np.cross(up_p, ex)
    comps = np.column_stack(
        [
            np.einsum("ij,ij->i", acc_p_mps2, up_p),
            np.einsum("ij,ij->i", acc_p_mps2, ex),
            np.einsum("ij,ij->i", acc_p_mps2, ey),
        ]
    )
    dyn = comps - butter_filtfilt(comps, 0.3, rate_hz=rate_hz)
    return dyn[:, 0], dyn[:, 1], dyn[:, 2]
