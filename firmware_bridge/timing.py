"""Device-clock handling: unwrapping a wrapping counter and mapping device time to host time.

The sensor stamps samples with its own crystal clock (which runs fast or slow by some
ppm); notifications arrive on the host after a latency that is never negative but
jitters by milliseconds. :class:`ClockModel` fits ``host_s = offset_s + slope *
device_s`` as the *lower envelope* of the ``(device_s, host_receive_s)`` pairs: the line
under every pair that is closest to them on average (the minimum-delay fit). Latency
jitter only lifts points above that line, so it does not bias the slope.

The envelope alone cannot see the link's *minimum* one-way latency (every pair arrives
at least that late), so on its own it places every sample that much too late (about
3 ms over bumble's virtual link, more over a real radio). Where the device can report
its clock on request (our profile's GET_TIME), the client measures it NTP-style: a
burst of :class:`TimeExchange` s, of which :func:`estimate_offset` keeps the one with
the smallest round trip and takes the device time to have been read at the midpoint
``(t_send + t_receive) / 2`` on the host clock. :meth:`ClockModel.anchor` then makes the
fitted line pass through that point (the slope still comes from the envelope), clamped
so the line never lies above the lower envelope (which would mean a negative latency).

Error bound of the anchor: if the request took ``d_up`` to reach the device clock and the
reply ``d_down`` to come back, the midpoint is off by ``(d_up - d_down) / 2``: half the
asymmetry of the fastest round trip, and never more than half that round trip
(:attr:`OffsetEstimate.error_bound_s`).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass

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


@dataclass(frozen=True)
class TimeExchange:
    """One device-clock request: host send time, device time in the reply, host receive time.

    Attributes
    ----------
    send_host_s : float
        Host clock (seconds) just before the request was written.
    device_s : float
        Device clock (seconds) the reply carried (the moment the device answered).
    receive_host_s : float
        Host clock (seconds) when the reply arrived (stamped where data notifications are).
    """

    send_host_s: float
    device_s: float
    receive_host_s: float

    @property
    def round_trip_s(self) -> float:
        """Host time from request to reply (seconds)."""
        return self.receive_host_s - self.send_host_s


@dataclass(frozen=True)
class OffsetEstimate:
    """Device-to-host clock offset from the fastest of a burst of exchanges.

    Attributes
    ----------
    device_s : float
        Device time of the chosen exchange (seconds, as the device reported it).
    host_s : float
        Host time taken to correspond to it: the midpoint of send and receive.
    round_trip_s : float
        Round trip of the chosen (fastest) exchange.
    n_exchanges : int
        Exchanges in the burst.
    """

    device_s: float
    host_s: float
    round_trip_s: float
    n_exchanges: int

    @property
    def offset_s(self) -> float:
        """``device_s - host_s``: device clock minus host clock at this instant."""
        return self.device_s - self.host_s

    @property
    def error_bound_s(self) -> float:
        """Worst-case error of :attr:`host_s`: half the round trip.

        The actual error is ``(d_up - d_down) / 2`` (half the asymmetry of the two
        one-way delays of the chosen exchange), which can never exceed this.
        """
        return self.round_trip_s / 2


def estimate_offset(exchanges: Iterable[TimeExchange]) -> OffsetEstimate:
    """NTP-style offset: the exchange with the smallest round trip, read at its midpoint.

    Parameters
    ----------
    exchanges : iterable of TimeExchange
        A burst of requests (8 to 16 is plenty); those with a negative round trip (a
        clock glitch) are ignored.

    Returns
    -------
    OffsetEstimate
        Device time of the fastest exchange and the host time it is taken to mean.

    Raises
    ------
    ValueError
        When no usable exchange was given.
    """
    usable = [e for e in exchanges if e.round_trip_s >= 0]
    if not usable:
        raise ValueError("no usable time exchange")
    best = min(usable, key=lambda e: e.round_trip_s)
    return OffsetEstimate(device_s=best.device_s,
                          host_s=0.5 * (best.send_host_s + best.receive_host_s),
                          round_trip_s=best.round_trip_s, n_exchanges=len(usable))


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

    With an :meth:`anchor` (a device-time/host-time point measured by request, see
    :func:`estimate_offset`) the line keeps the envelope's slope but passes through the
    anchor instead of touching the envelope, which removes the link's minimum latency
    from the timestamps; if the anchor would put the line above any pair (a negative
    latency), the line is clamped down to the envelope.

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
        self._envelope_offset_s = 0.0
        self._anchor: tuple[float, float] | None = None
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

    @property
    def anchor_point(self) -> tuple[float, float] | None:
        """The ``(device_s, host_s)`` anchor in use, or None (envelope only)."""
        return self._anchor

    @property
    def latency_floor_s(self) -> float:
        """How far the fitted line lies under the lower envelope (seconds, >= 0).

        With an anchor this is the link's minimum one-way latency as measured (0 when
        there is no anchor, or when it was clamped to the envelope).
        """
        self._refit()
        return self._envelope_offset_s - self._offset_s if self._buckets else 0.0

    def reset(self) -> None:
        """Forget every pair and the anchor (e.g. after the device rebooted)."""
        self._origin_s = None
        self._buckets.clear()
        self._anchor = None
        self._slope, self._offset_s, self._dirty = 1.0, 0.0, False
        self._envelope_offset_s = 0.0

    def anchor(self, device_s: float, host_s: float) -> None:
        """Make the line pass through ``(device_s, host_s)`` (replaces any earlier anchor).

        Parameters
        ----------
        device_s : float
            Device time (seconds, unwrapped like the pairs given to :meth:`add`).
        host_s : float
            Host time it corresponds to (e.g. :attr:`OffsetEstimate.host_s`).
        """
        if self._origin_s is None:
            self._origin_s = device_s
        self._anchor = (device_s, host_s)
        self._dirty = True

    def add(self, device_s: float, host_s: float) -> None:
        """Add one pair: a device time and the host time it was received at (or later)."""
        if self._origin_s is None:
            self._origin_s = device_s
        x = device_s - self._origin_s
        key = int(x // self.bucket_s)
        old = self._buckets.get(key)
        if old is None or host_s - x < old[1] - old[0]:
            self._buckets[key] = (x, host_s)
            # Refit when a bucket opens, or when this pair lies under the current
            # envelope (the fit must stay a lower envelope); not for every notification.
            below = host_s < self._envelope_offset_s + self._slope * x - REFIT_TOLERANCE_S
            self._dirty = self._dirty or old is None or below
        if len(self._buckets) > self.max_buckets:
            del self._buckets[min(self._buckets)]

    def _refit(self) -> None:
        if not self._dirty:
            return
        self._dirty = False
        anchor_offset = None
        if self._anchor is not None and self._origin_s is not None:
            anchor_offset = self._anchor[1] - (self._anchor[0] - self._origin_s)
        if not self._buckets:
            self._slope = 1.0
            self._offset_s = self._envelope_offset_s = anchor_offset or 0.0
            return
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
        self._envelope_offset_s = float(np.min(y - slope * x))
        self._offset_s = self._envelope_offset_s
        if self._anchor is not None and self._origin_s is not None:
            anchored = self._anchor[1] - slope * (self._anchor[0] - self._origin_s)
            # Never above the envelope: that would make some pair arrive before it was sent.
            self._offset_s = min(anchored, self._envelope_offset_s)

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
