"""Device-clock handling: unwrapping a wrapping counter and mapping device time to host time.

The sensor stamps samples with its own crystal clock (which runs fast or slow by some
ppm); notifications arrive on the host after a latency that is never negative but
jitters by milliseconds. :class:`ClockModel` fits ``host_s = offset_s + slope *
device_s`` as the *lower envelope* of the ``(device_s, host_receive_s)`` pairs: the line
under every pair that is closest to them on average (the minimum-delay fit). Latency
jitter only lifts points above that line, so it does not bias the fit.
"""

from __future__ import annotations

import itertools

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]

#: A new pair this far under the fitted line triggers a refit (seconds).
REFIT_TOLERANCE_S = 50e-6
#: Largest clock rate error accepted from a fit; anything beyond is treated as noise.
MAX_DRIFT_PPM = 2000.0


def unwrap_counter(raw: int, predicted: float, modulus: int) -> int:
    """Unwrap a wrapping counter value to the representative nearest a prediction.

    Parameters
    ----------
    raw : int
        Counter value as received, ``0 <= raw < modulus``.
    predicted : float
        Predicted unwrapped value (e.g. last value plus elapsed time).
    modulus : int
        Counter period (``2**32`` for the device clock in microseconds).

    Returns
    -------
    int
        ``raw + k * modulus`` closest to ``predicted``.
    """
    k = round((predicted - raw) / modulus)
    return int(raw + k * modulus)


def _lower_hull(x: FloatArray, y: FloatArray) -> list[int]:
    """Indices of the lower convex hull of points sorted by ``x`` (monotone chain)."""
    hull: list[int] = []
    for i in range(x.shape[0]):
        while len(hull) >= 2:
            a, b = hull[-2], hull[-1]
            cross = (x[b] - x[a]) * (y[i] - y[a]) - (y[b] - y[a]) * (x[i] - x[a])
            if cross > 0:
                break
            hull.pop()
        hull.append(i)
    return hull


class ClockModel:
    """Online minimum-delay linear map from device time to host time.

    Pairs are reduced to the lowest one per ``bucket_s`` of device time (the notification
    that arrived fastest); the last ``max_buckets`` buckets are fitted. The fit is the
    lower-hull edge spanning the mean device time, which minimises the summed delay
    subject to no pair arriving before it was sent.

    Parameters
    ----------
    bucket_s : float
        Device-time width of one bucket in seconds.
    max_buckets : int
        Buckets kept (the fit window is ``bucket_s * max_buckets``).
    """

    def __init__(self, *, bucket_s: float = 0.5, max_buckets: int = 1200) -> None:
        self.bucket_s = bucket_s
        self.max_buckets = max_buckets
        self._origin_s: float | None = None
        self._buckets: dict[int, tuple[float, float]] = {}
        self._slope = 1.0
        self._offset_s = 0.0
        self._dirty = False

    @property
    def n_pairs(self) -> int:
        """Buckets currently held."""
        return len(self._buckets)

    @property
    def slope(self) -> float:
        """Host seconds per device second (1 + clock error)."""
        self._refit()
        return self._slope

    @property
    def drift_ppm(self) -> float:
        """Estimated device clock error in ppm (positive = device runs fast)."""
        return (1.0 / self.slope - 1.0) * 1e6

    def reset(self) -> None:
        """Forget every pair (e.g. after the device rebooted)."""
        self._origin_s = None
        self._buckets.clear()
        self._slope, self._offset_s, self._dirty = 1.0, 0.0, False

    def add(self, device_s: float, host_s: float) -> None:
        """Add one pair: a device time and the host time it was received at (or later)."""
        if self._origin_s is None:
            self._origin_s = device_s
        x = device_s - self._origin_s
        key = int(x // self.bucket_s)
        old = self._buckets.get(key)
        if old is None or host_s - x < old[1] - old[0]:
            self._buckets[key] = (x, host_s)
            # Refit when a bucket opens, or when this pair lies under the current line
            # (the fit must stay a lower envelope); not for every notification.
            below = host_s < self._offset_s + self._slope * x - REFIT_TOLERANCE_S
            self._dirty = self._dirty or old is None or below
        if len(self._buckets) > self.max_buckets:
            del self._buckets[min(self._buckets)]

    def _refit(self) -> None:
        if not self._dirty:
            return
        self._dirty = False
        pts = np.array([self._buckets[k] for k in sorted(self._buckets)], dtype=np.float64)
        x, y = pts[:, 0], pts[:, 1]
        slope = 1.0
        if x.shape[0] >= 2 and x[-1] - x[0] >= 2 * self.bucket_s:
            hull = _lower_hull(x, y)
            x_mean = float(np.mean(x))
            for a, b in itertools.pairwise(hull):
                if x[a] <= x_mean <= x[b]:
                    slope = float((y[b] - y[a]) / (x[b] - x[a]))
                    break
            if abs(slope - 1.0) > MAX_DRIFT_PPM * 1e-6:
                slope = 1.0
        self._slope = slope
        self._offset_s = float(np.min(y - slope * x))

    def to_host(self, device_s: FloatArray | float) -> FloatArray:
        """Map device times (seconds, unwrapped) to host times (seconds)."""
        self._refit()
        origin = self._origin_s if self._origin_s is not None else 0.0
        d = np.asarray(device_s, dtype=np.float64) - origin
        return np.asarray(self._offset_s + self._slope * d, dtype=np.float64)

    def to_device(self, host_s: float) -> float:
        """Inverse map: predicted device time (seconds) at a host time."""
        self._refit()
        origin = self._origin_s if self._origin_s is not None else 0.0
        return origin + (host_s - self._offset_s) / self._slope
