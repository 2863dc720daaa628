"""Orientation of the IMU (sensor -> earth, z up, heading arbitrary) from acc + gyr.

Built on VQF (Laidig & Seel 2023, the ``vqf`` package):

- :func:`estimate_quat_wxyz` - the stable entry point of DESIGN.md section 6, offline
  (``vqf.offlineVQF``, acausal) or online (``vqf.VQF``, causal).
- :class:`OrientationTracker` - the causal filter fed chunk by chunk (live path). Its
  output does not depend on how the stream is cut into chunks and equals
  ``estimate_quat_wxyz(..., offline=False)``.

Gaps (lost samples, seen as jumps of ``time_s``; :func:`detect_gaps`) are handled in
three ways, the same on both paths:

- a gap of at most ``max_bridged_gap_s`` (default 0.1 s) is *bridged*: the missing samples
  are replaced by gyroscope values interpolated linearly between the samples around the
  gap, with a zero accelerometer vector (VQF skips the accelerometer update for
  ``[0, 0, 0]``), so the rotation in the gap is integrated instead of dropped, and no
  invented accelerometer data enters the inclination. The filled rows are not returned.
  Linear interpolation errs by about ``|w''| T^3 / 12``: ~0.5 deg for a 0.1 s gap in a
  2 Hz gait oscillation, but tens of degrees for gaps of a gait half-cycle, which is why
  longer gaps are not bridged;
- a longer gap is a *recovery*: the orientation is kept (no rotation assumed over the
  gap) and VQF's accelerometer time constant is lowered to ``recovery_tau_acc_s`` for
  ``recovery_s`` (motion-bias estimation paused meanwhile, the bias estimate is kept),
  so the inclination re-converges in about a second without jumping to the raw
  accelerometer; the offline path instead runs ``offlineVQF`` separately on each side
  of such a gap (heading may jump there; inclination does not care);
- a *restart*, for any gap where the accelerometer just before and just after it (both
  near 1 g, i.e. quasi-static) disagrees with the rotation assumed over the gap by more
  than ``gap_restart_deg``: the sensor was turned while data were lost. The online
  filter re-initialises its accelerometer low-pass (inclination = accelerometer
  direction, then its running mean), keeping the gyroscope bias; offline splits there.

Without a gyroscope (``gyr_rps=None``) the inclination comes from the low-pass filtered
accelerometer alone; see :func:`estimate_quat_wxyz`.

References
----------
D. Laidig and T. Seel, "VQF: Highly accurate IMU orientation estimation with bias
estimation and magnetic disturbance rejection", Information Fusion 91:187-204, 2023.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import vqf
from numpy.typing import ArrayLike, NDArray
from scipy import signal

from analysis import quaternion
from recordings.units import G_MPS2

__all__ = [
    "GYR_MAX_RPS",
    "OrientationParams",
    "OrientationTracker",
    "detect_gaps",
    "estimate_quat_wxyz",
]

Array = NDArray[np.float64]

#: Median |acc| between these bounds (m/s^2) means the data are in g, not m/s^2.
_ACC_G_RANGE = (0.5, 2.0)
#: Median |acc| outside these bounds (m/s^2) is not a body-worn accelerometer in m/s^2.
_ACC_PLAUSIBLE_RANGE = (3.0, 30.0)
#: |gyr| above this (rad/s: 4000 deg/s, the largest range of body-worn gyroscopes, as the
#: readers assume) is not a measurement: deg/s were passed, or (one sample) the value is
#: corrupt (:mod:`analysis.checks` leaves such samples out).
GYR_MAX_RPS = math.radians(4000.0)
#: Standard gravity in m/s^2, and the |acc| tolerance (m/s^2) for "quasi-static".
_QUASI_STATIC_MPS2 = 1.0
_NO_GAPS: tuple[NDArray[np.intp], NDArray[np.intp]] = (
    np.empty(0, dtype=np.intp),
    np.empty(0, dtype=np.intp),
)


@dataclass(frozen=True, kw_only=True)
class OrientationParams:
    """Parameters of the orientation estimate.

    Attributes
    ----------
    tau_acc_s : float
        Time constant of VQF's accelerometer low-pass in s (``tauAcc``, default 3 s).
        Smaller trusts the accelerometer more (faster, noisier during motion).
    motion_bias_estimation : bool
        VQF's gyroscope-bias estimation during motion.
    rest_bias_estimation : bool
        VQF's rest detection and gyroscope-bias estimation at rest.
    max_bridged_gap_s : float
        Longest gap (missing time in s) bridged by interpolating the gyroscope.
    gap_restart_deg : float
        Restart the inclination after a gap when the quasi-static accelerometer before
        and after it disagrees with the assumed rotation by more than this (deg).
    recovery_tau_acc_s : float
        VQF's accelerometer time constant (s) used for ``recovery_s`` after a gap longer
        than ``max_bridged_gap_s`` (online path only).
    recovery_s : float
        Duration of that faster accelerometer correction in s.
    acc_only_tau_s : float
        Time constant in s of the accelerometer low-pass used when there is no gyroscope.
        That filter runs across gaps up to this long and restarts after longer ones.
    """

    tau_acc_s: float = 3.0
    motion_bias_estimation: bool = True
    rest_bias_estimation: bool = True
    max_bridged_gap_s: float = 0.1
    gap_restart_deg: float = 10.0
    recovery_tau_acc_s: float = 0.5
    recovery_s: float = 3.0
    acc_only_tau_s: float = 1.0

    def __post_init__(self) -> None:
        for name in ("tau_acc_s", "acc_only_tau_s", "recovery_tau_acc_s"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be a positive number of seconds, got {value!r}.")
        if not (math.isfinite(self.recovery_s) and self.recovery_s >= 0):
            raise ValueError(f"recovery_s must be >= 0 seconds, got {self.recovery_s!r}.")
        if not (math.isfinite(self.gap_restart_deg) and self.gap_restart_deg > 0):
            raise ValueError(f"gap_restart_deg must be > 0 degrees, got {self.gap_restart_deg!r}.")
        if not (math.isfinite(self.max_bridged_gap_s) and self.max_bridged_gap_s >= 0):
            raise ValueError(
                f"max_bridged_gap_s must be >= 0 seconds, got {self.max_bridged_gap_s!r}."
            )

    def vqf_params(self) -> dict[str, Any]:
        """Keyword arguments for ``vqf.VQF`` / the ``params`` of ``vqf.offlineVQF``."""
        return {
            "tauAcc": float(self.tau_acc_s),
            "motionBiasEstEnabled": bool(self.motion_bias_estimation),
            "restBiasEstEnabled": bool(self.rest_bias_estimation),
        }


# --------------------------------------------------------------------------- validation


def _check_rate(rate_hz: float) -> float:
    try:
        rate = float(rate_hz)
    except (TypeError, ValueError):
        raise ValueError(f"rate_hz must be a number in Hz, got {rate_hz!r}.") from None
    if not (math.isfinite(rate) and rate > 0):
        raise ValueError(
            f"rate_hz must be a positive, finite sampling rate in Hz, got {rate_hz!r}."
        )
    return rate


def _check_xyz(values: ArrayLike, name: str, n: int | None = None) -> Array:
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] != 3:
        raise ValueError(
            f"{name} must have shape (N, 3) (one x, y, z row per sample), got {arr.shape}."
        )
    if n is not None and arr.shape[0] != n:
        raise ValueError(f"{name} has {arr.shape[0]} samples but acc_mps2 has {n}.")
    if not np.isfinite(arr).all():
        bad = ~np.isfinite(arr).all(axis=1)
        raise ValueError(
            f"{name} contains NaN or infinite values (first at sample {int(np.argmax(bad))}); "
            "drop such samples and pass time_s so the gap is handled."
        )
    return np.ascontiguousarray(arr)


def _check_time(time_s: ArrayLike | None, n: int) -> Array | None:
    if time_s is None:
        return None
    t = np.asarray(time_s, dtype=np.float64)
    if t.shape != (n,):
        raise ValueError(f"time_s must have shape ({n},) like acc_mps2, got {t.shape}.")
    if not np.isfinite(t).all():
        raise ValueError("time_s contains NaN or infinite values.")
    steps = np.diff(t)
    if (steps <= 0).any():
        i = int(np.argmax(steps <= 0)) + 1
        raise ValueError(
            f"time_s must be strictly increasing; sample {i} is not after sample {i - 1}."
        )
    return t


def _check_acc_units(acc_mps2: Array) -> None:
    if acc_mps2.shape[0] == 0:
        return
    median = float(np.median(np.linalg.norm(acc_mps2, axis=1)))
    if _ACC_G_RANGE[0] <= median <= _ACC_G_RANGE[1]:
        raise ValueError(
            f"acc_mps2 has a median magnitude of {median:.3g}, which looks like units of g; "
            "pass m/s^2 (multiply by 9.80665)."
        )
    if not _ACC_PLAUSIBLE_RANGE[0] <= median <= _ACC_PLAUSIBLE_RANGE[1]:
        raise ValueError(
            f"acc_mps2 has a median magnitude of {median:.3g} m/s^2; a worn accelerometer reads "
            "about 9.81 m/s^2, so the units or the data are wrong."
        )


def _check_gyr_units(gyr_rps: Array) -> None:
    if gyr_rps.shape[0] and float(np.abs(gyr_rps).max()) > GYR_MAX_RPS:
        raise ValueError(
            f"gyr_rps reaches {float(np.abs(gyr_rps).max()):.4g} rad/s, beyond any body-worn "
            "gyroscope; it looks like deg/s - pass rad/s (multiply by pi/180)."
        )


def detect_gaps(
    time_s: ArrayLike, rate_hz: float, *, previous_time_s: float | None = None
) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Find lost samples from the time stamps.

    A step of ``dt`` seconds is a gap when ``dt >= 1.5 / rate_hz`` (so time-stamp jitter
    below half a sample period is not a gap); ``round(dt * rate_hz) - 1`` samples are
    missing (at least 1).

    Parameters
    ----------
    time_s : array_like, shape (N,)
        Strictly increasing sample times in s.
    rate_hz : float
        Nominal sampling rate in Hz.
    previous_time_s : float, optional
        Time in s of the sample before ``time_s[0]`` (to find a gap before the first one).

    Returns
    -------
    index : ndarray of int, shape (G,)
        Samples preceded by a gap (index into ``time_s``).
    missing : ndarray of int, shape (G,)
        Number of samples lost before each of them (>= 1).
    """
    t = np.asarray(time_s, dtype=np.float64)
    limit = 1.5 / float(rate_hz)  # rint(dt * rate) >= 2  iff  dt * rate >= 1.5
    first_gap = previous_time_s is not None and t.size > 0 and t[0] - previous_time_s >= limit
    if not first_gap and (t.size < 2 or (t[1:] - t[:-1]).max() < limit):
        return _NO_GAPS  # the common case, kept cheap for the live path
    if previous_time_s is not None:
        t = np.concatenate([[previous_time_s], t])
    steps = np.diff(t)
    index = np.flatnonzero(steps >= limit)  # the same test as above, whatever the chunking
    missing = np.maximum(np.rint(steps[index] * float(rate_hz)).astype(np.intp) - 1, 1)
    offset = 0 if previous_time_s is not None else 1
    return index + offset, missing


# --------------------------------------------------------------------------- tracker


class OrientationTracker:
    """Causal orientation filter (``vqf.VQF``, 6D) fed in chunks of any length.

    Parameters
    ----------
    rate_hz : float
        Sampling rate in Hz.
    params : OrientationParams, optional
        Filter and gap parameters.

    Notes
    -----
    Feeding the same samples sample by sample, in chunks of any sizes, or in one call
    gives bitwise identical output, equal to ``estimate_quat_wxyz(..., offline=False)``.
    Whether a gyroscope is used is fixed by the first non-empty chunk. The unit check on
    the accelerometer (median magnitude) runs once, on the first second of data.

    Examples
    --------
    >>> tracker = OrientationTracker(rate_hz=100.0)
    >>> quat_wxyz = tracker.update(acc_chunk_mps2, gyr_chunk_rps)  # doctest: +SKIP
    """

    def __init__(self, rate_hz: float, *, params: OrientationParams | None = None) -> None:
        self.rate_hz = _check_rate(rate_hz)
        self.params = params if params is not None else OrientationParams()
        self._check_units = True
        self.reset()

    def reset(self) -> None:
        """Forget all data (the next sample starts a new estimate)."""
        self._vqf = vqf.VQF(1.0 / self.rate_hz, **self.params.vqf_params())
        self._use_gyr: bool | None = None
        self._last_time_s: float | None = None
        self._last_gyr_rps: Array | None = None
        self._last_acc_mps2: Array | None = None
        self._unit_buffer: list[Array] = []
        self._unit_buffered = 0
        self._acc_lp_b, self._acc_lp_a = _lowpass_coeffs(
            self.params.acc_only_tau_s, 1.0 / self.rate_hz
        )
        self._acc_lp_zi: Array | None = None
        self._recovery_left = 0

    @property
    def gyr_bias_rps(self) -> Array:
        """Current gyroscope-bias estimate in rad/s, shape (3,)."""
        bias, _sigma = self._vqf.getBiasEstimate()
        return np.asarray(bias, dtype=np.float64)

    @property
    def rest_detected(self) -> bool:
        """Whether VQF currently detects rest (after the last sample)."""
        return bool(self._vqf.getRestDetected())

    def update(
        self,
        acc_mps2: ArrayLike,
        gyr_rps: ArrayLike | None = None,
        *,
        time_s: ArrayLike | None = None,
    ) -> Array:
        """Feed a chunk of samples and get their orientations.

        Parameters
        ----------
        acc_mps2 : array_like, shape (n, 3)
            Accelerometer (specific force) in m/s^2, sensor frame. ``n`` may be 0.
        gyr_rps : array_like, shape (n, 3), optional
            Gyroscope in rad/s, sensor frame. ``None`` for the accelerometer-only
            fallback (worse during motion).
        time_s : array_like, shape (n,), optional
            Sample times in s, strictly increasing across chunks, to detect and handle
            gaps. Without it the samples are taken as contiguous.

        Returns
        -------
        ndarray, shape (n, 4)
            Unit quaternions ``w, x, y, z``, sensor -> earth (z up, heading arbitrary).

        Raises
        ------
        ValueError
            On wrong shapes, non-finite values, implausible units, time going backwards,
            or switching between with and without gyroscope.
        """
        acc = _check_xyz(acc_mps2, "acc_mps2")
        n = acc.shape[0]
        gyr = None if gyr_rps is None else _check_xyz(gyr_rps, "gyr_rps", n)
        t = _check_time(time_s, n)
        if n == 0:
            return np.empty((0, 4))
        if self._use_gyr is not None and self._use_gyr != (gyr is not None):
            raise ValueError(
                "This tracker was started "
                + ("with" if self._use_gyr else "without")
                + " a gyroscope; feed every chunk the same way (or call reset())."
            )
        if t is not None and self._last_time_s is not None and t[0] <= self._last_time_s:
            raise ValueError(
                f"time_s must keep increasing across chunks: {t[0]!r} s follows "
                f"{self._last_time_s!r} s."
            )
        if gyr is not None:
            _check_gyr_units(gyr)
        if self._check_units:
            self._buffer_unit_check(acc)

        if t is None:
            gap_index, gap_missing = _NO_GAPS
        else:
            gap_index, gap_missing = detect_gaps(t, self.rate_hz, previous_time_s=self._last_time_s)

        self._use_gyr = gyr is not None
        if gap_index.size == 0:
            kind = np.empty(0, dtype=np.int8)
        else:
            kind = _classify_gaps(
                acc,
                gyr,
                gap_index,
                gap_missing,
                self.rate_hz,
                self.params,
                previous=(self._last_acc_mps2, self._last_gyr_rps),
            )
        if gyr is None:
            out = self._update_acc_only(acc, gap_index[kind != _BRIDGE])
        else:
            out = self._update_vqf(acc, gyr, gap_index, gap_missing, kind)
            self._last_gyr_rps = gyr[-1].copy()
        self._last_acc_mps2 = acc[-1].copy()
        if t is not None:
            self._last_time_s = float(t[-1])
        return out

    # ---------------------------------------------------------------- internals

    def _buffer_unit_check(self, acc: Array) -> None:
        needed = max(1, math.ceil(self.rate_hz))
        take = acc[: needed - self._unit_buffered]
        buffered = np.concatenate([*self._unit_buffer, take])
        if buffered.shape[0] >= needed:
            _check_acc_units(buffered)
            self._check_units = False
            self._unit_buffer = []
        else:
            self._unit_buffer.append(take)
        self._unit_buffered = buffered.shape[0]

    def _update_vqf(
        self,
        acc: Array,
        gyr: Array,
        gap_index: NDArray[np.intp],
        gap_missing: NDArray[np.intp],
        kind: NDArray[np.int8],
    ) -> Array:
        if gap_index.size == 0 and self._recovery_left == 0:  # the common case
            return np.asarray(self._vqf.updateBatch(gyr, acc)["quat6D"])
        bridge = kind == _BRIDGE
        real = np.ones(acc.shape[0], dtype=bool)
        if bridge.any():
            acc, gyr, real = _bridge(
                acc, gyr, gap_index[bridge], gap_missing[bridge], self._last_gyr_rps
            )
        # recoveries and restarts, as indices into the (possibly expanded) arrays
        events = zip(
            np.flatnonzero(real)[gap_index[~bridge]].tolist(), kind[~bridge].tolist(), strict=True
        )
        n = acc.shape[0]
        quat = np.empty((n, 4))
        start = 0
        for at, what in [*events, (n, _BRIDGE)]:
            self._feed(gyr[start:at], acc[start:at], quat[start:at])
            start = at
            if what == _RESTART:
                quat[at] = self._restart_inclination(gyr[at], acc[at])
                start = at + 1
            elif what == _RECOVER:
                self._start_recovery()
        return quat[real] if not real.all() else quat

    def _feed(self, gyr: Array, acc: Array, out: Array) -> None:
        """Run VQF on contiguous samples, ending a recovery phase at the right sample."""
        start = 0
        n = acc.shape[0]
        while start < n:
            stop = n if self._recovery_left == 0 else min(n, start + self._recovery_left)
            out[start:stop] = self._vqf.updateBatch(gyr[start:stop], acc[start:stop])["quat6D"]
            self._advance_recovery(stop - start)
            start = stop

    def _advance_recovery(self, samples: int) -> None:
        if self._recovery_left == 0:
            return
        self._recovery_left -= samples
        if self._recovery_left == 0:
            self._set_tau_acc(self.params.tau_acc_s)
            if self.params.motion_bias_estimation:
                self._vqf.setMotionBiasEstEnabled(True)

    def _set_tau_acc(self, tau_s: float) -> None:
        """Change VQF's ``tauAcc`` with the low-pass restarted in steady state.

        ``VQF.setTauAcc`` adapts the filter state assuming it is at rest; after a phase
        of motion that leaves a transient with the new (slow) time constant, worth
        several degrees for ~10 s. Restarting in steady state at the last output avoids it.
        """
        v = self._vqf
        v.setTauAcc(tau_s)
        state = v.state
        if math.isnan(state["accLpState"][0]):  # still averaging its first samples
            return
        coeffs = v.coeffs
        b = np.asarray(coeffs["accLpB"], dtype=np.float64)
        a = np.asarray(coeffs["accLpA"], dtype=np.float64)
        lp_state = [
            float(z) for y in state["lastAccLp"] for z in vqf.VQF.filterInitialState(y, b, a)
        ]
        state["accLpState"] = lp_state
        v.state = state

    def _start_recovery(self) -> None:
        """Faster accelerometer correction for ``params.recovery_s`` after a long gap."""
        samples = round(self.params.recovery_s * self.rate_hz)
        if samples == 0:
            return
        if self._recovery_left == 0:
            self._set_tau_acc(self.params.recovery_tau_acc_s)
            if self.params.motion_bias_estimation:
                # a fast correction is not a bias measurement; the estimate itself is kept
                self._vqf.setMotionBiasEstEnabled(False)
        self._recovery_left = samples

    def _restart_inclination(self, gyr: Array, acc: Array) -> Array:
        """Process one sample after a contradicted gap: re-initialise the acc filters."""
        v = self._vqf
        state = v.state
        state["accLpState"] = [math.nan] * 6
        state["motionBiasEstRLpState"] = [math.nan] * 18
        state["motionBiasEstBiasLpState"] = [math.nan] * 4
        state["restDetected"] = False
        state["restT"] = 0.0
        state["restGyrLpState"] = [math.nan] * 6
        state["restAccLpState"] = [math.nan] * 6
        v.state = state
        # The first correction after the restart may be large; do not read it as bias.
        toggle = self.params.motion_bias_estimation and self._recovery_left == 0
        if toggle:
            v.setMotionBiasEstEnabled(False)
        v.update(np.ascontiguousarray(gyr), np.ascontiguousarray(acc))
        if toggle:
            v.setMotionBiasEstEnabled(True)
        quat = np.asarray(v.getQuat6D(), dtype=np.float64)
        self._advance_recovery(1)
        return quat

    def _update_acc_only(self, acc: Array, restarts: NDArray[np.intp]) -> Array:
        b, a = self._acc_lp_b, self._acc_lp_a
        lp = np.empty_like(acc)
        bounds = [0, *restarts.tolist(), acc.shape[0]]
        for k in range(len(bounds) - 1):
            start, stop = bounds[k], bounds[k + 1]
            if k > 0:  # a long gap: restart the low-pass from the next sample
                self._acc_lp_zi = None
            if stop > start:
                if self._acc_lp_zi is None:
                    self._acc_lp_zi = signal.lfilter_zi(b, a)[:, None] * acc[start]
                lp[start:stop], self._acc_lp_zi = signal.lfilter(
                    b, a, acc[start:stop], axis=0, zi=self._acc_lp_zi
                )
        return quaternion.quat_wxyz_from_up(lp)


_BRIDGE, _RECOVER, _RESTART = 0, 1, 2


def _classify_gaps(
    acc: Array,
    gyr: Array | None,
    gap_index: NDArray[np.intp],
    gap_missing: NDArray[np.intp],
    rate_hz: float,
    params: OrientationParams,
    previous: tuple[Array | None, Array | None] = (None, None),
) -> NDArray[np.int8]:
    """Decide for each gap: ``_BRIDGE``, ``_RECOVER`` or ``_RESTART`` (module docstring).

    ``previous`` holds the accelerometer and gyroscope sample before ``acc[0]`` (for a gap
    before the first sample of a chunk).
    """
    if gyr is None:  # acc-only low-pass: restart only once its memory is stale
        return np.where(gap_missing / rate_hz > params.acc_only_tau_s, _RECOVER, _BRIDGE).astype(
            np.int8
        )
    long_gap = gap_missing / rate_hz > params.max_bridged_gap_s
    kind = np.where(long_gap, _RECOVER, _BRIDGE).astype(np.int8)
    if gap_missing.size == 0:
        return kind
    ts = 1.0 / rate_hz
    for k in range(gap_index.size):
        i, m = int(gap_index[k]), int(gap_missing[k])
        acc_before, gyr_before = (acc[i - 1], gyr[i - 1]) if i > 0 else previous
        if acc_before is None or gyr_before is None:
            continue
        g_before, g_after = np.linalg.norm(acc_before), np.linalg.norm(acc[i])
        if (
            abs(g_before - G_MPS2) > _QUASI_STATIC_MPS2
            or abs(g_after - G_MPS2) > _QUASI_STATIC_MPS2
        ):
            continue  # linear acceleration: the accelerometer cannot judge the gap
        # the rotation the filter will assume over the gap: the bridge, or none
        rates = _gap_gyr(gyr_before, gyr[i], m) if not long_gap[k] else np.empty((0, 3))
        delta = _integrate_body_rates(np.concatenate([rates, gyr[i : i + 1]]), ts)
        predicted = quaternion.rotate(quaternion.conjugate(delta), acc_before / g_before)
        cos_angle = float(np.clip(np.dot(predicted, acc[i] / g_after), -1.0, 1.0))
        if math.degrees(math.acos(cos_angle)) > params.gap_restart_deg:
            kind[k] = _RESTART
    return kind


def _integrate_body_rates(gyr_rps: Array, ts: float) -> Array:
    """Rotation quaternion ``w, x, y, z`` of body-frame rates applied one after the other."""
    angle = np.linalg.norm(gyr_rps, axis=1) * ts
    with np.errstate(invalid="ignore", divide="ignore"):
        axis = np.where(angle[:, None] > 0, gyr_rps * ts / angle[:, None], 0.0)
    steps = np.concatenate([np.cos(angle / 2)[:, None], np.sin(angle / 2)[:, None] * axis], axis=1)
    q = np.array([1.0, 0.0, 0.0, 0.0])
    for step in steps:
        q = quaternion.multiply(q, step)
    return q / np.linalg.norm(q)


def _gap_gyr(before: Array, after: Array, missing: int) -> Array:
    """Angular rates (missing, 3) in a gap, interpolated linearly."""
    frac = (np.arange(1, missing + 1, dtype=np.float64) / (missing + 1))[:, None]
    return np.asarray(before + frac * (after - before))


def _bridge(
    acc: Array,
    gyr: Array,
    index: NDArray[np.intp],
    missing: NDArray[np.intp],
    previous_gyr: Array | None,
) -> tuple[Array, Array, NDArray[np.bool_]]:
    """Insert ``missing[k]`` rows before ``index[k]``: interpolated gyr, zero acc."""
    fills = []
    for i, m in zip(index, missing, strict=True):
        before = gyr[i - 1] if i > 0 else previous_gyr
        if before is None:  # nothing known before the gap: hold the value after it
            before = gyr[i]
        fills.append(_gap_gyr(before, gyr[i], int(m)))
    gyr_fill = np.concatenate(fills)
    positions = np.repeat(index, missing)
    gyr_x = np.ascontiguousarray(np.insert(gyr, positions, gyr_fill, axis=0))
    acc_x = np.ascontiguousarray(np.insert(acc, positions, 0.0, axis=0))
    real = np.ones(gyr_x.shape[0], dtype=bool)
    real[positions + np.arange(positions.size)] = False
    return acc_x, gyr_x, real


# --------------------------------------------------------------------------- entry point


def estimate_quat_wxyz(
    acc_mps2: ArrayLike,
    gyr_rps: ArrayLike | None,
    rate_hz: float,
    *,
    offline: bool,
    time_s: ArrayLike | None = None,
    params: OrientationParams | None = None,
) -> Array:
    """Orientation of the sensor for every sample (DESIGN.md section 6).

    Parameters
    ----------
    acc_mps2 : array_like, shape (N, 3)
        Accelerometer (specific force, about +9.81 m/s^2 along up at rest) in m/s^2,
        sensor frame.
    gyr_rps : array_like, shape (N, 3) or None
        Gyroscope in rad/s, sensor frame. ``None`` selects the accelerometer-only
        fallback: the inclination of the low-pass filtered accelerometer
        (``params.acc_only_tau_s``). It is exact at rest but tilts towards every linear
        acceleration during motion (a few degrees when walking), so prefer a gyroscope.
    rate_hz : float
        Sampling rate in Hz.
    offline : bool
        ``True``: ``vqf.offlineVQF`` (acausal, looks ahead; for recorded sessions).
        ``False``: the causal ``vqf.VQF`` with rest detection and gyroscope-bias
        estimation, identical to :class:`OrientationTracker` fed in any chunks.
    time_s : array_like, shape (N,), optional
        Strictly increasing sample times in s. When given, lost samples are detected
        (:func:`detect_gaps`) and bridged or restarted from as the module docstring says.
    params : OrientationParams, optional
        Filter and gap parameters (default: VQF's defaults, 0.5 s bridged gaps).

    Returns
    -------
    ndarray, shape (N, 4)
        float64 unit quaternions ``w, x, y, z``: the rotation from the sensor frame to an
        earth frame with z up (heading arbitrary), ``v_earth = q * v_sensor * conj(q)``.

    Raises
    ------
    ValueError
        On wrong shapes, NaN/inf values, a non-positive rate, time not increasing, or
        units that look wrong (acc in g, gyr in deg/s).
    """
    rate = _check_rate(rate_hz)
    acc = _check_xyz(acc_mps2, "acc_mps2")
    n = acc.shape[0]
    gyr = None if gyr_rps is None else _check_xyz(gyr_rps, "gyr_rps", n)
    t = _check_time(time_s, n)
    params = params if params is not None else OrientationParams()
    _check_acc_units(acc)
    if gyr is not None:
        _check_gyr_units(gyr)
    if t is not None and n > 2:
        median_step_s = float(np.median(np.diff(t)))
        if not 0.75 / rate <= median_step_s <= 1.5 / rate:
            raise ValueError(
                f"time_s advances by {median_step_s:.4g} s per sample (median), which does not "
                f"match rate_hz={rate:g} Hz; is time_s in seconds?"
            )
    if n == 0:
        return np.empty((0, 4))
    if not offline:
        tracker = OrientationTracker(rate, params=params)
        tracker._check_units = False  # checked above on the whole input
        return tracker.update(acc, gyr, time_s=t)
    return _estimate_offline(acc, gyr, t, rate, params)


def _estimate_offline(
    acc: Array, gyr: Array | None, t: Array | None, rate_hz: float, params: OrientationParams
) -> Array:
    n = acc.shape[0]
    gap_index, gap_missing = _NO_GAPS if t is None else detect_gaps(t, rate_hz)
    split = _classify_gaps(acc, gyr, gap_index, gap_missing, rate_hz, params) != _BRIDGE
    bounds = [0, *gap_index[split].tolist(), n]
    quat = np.empty((n, 4))
    ts = 1.0 / rate_hz
    for start, stop in itertools.pairwise(bounds):
        if gyr is None:
            quat[start:stop] = quaternion.quat_wxyz_from_up(
                _lowpass_filtfilt(acc[start:stop], params.acc_only_tau_s, ts)
            )
            continue
        inside = (gap_index > start) & (gap_index < stop) & ~split
        a, g = acc[start:stop], gyr[start:stop]
        real = np.ones(stop - start, dtype=bool)
        if inside.any():
            a, g, real = _bridge(a, g, gap_index[inside] - start, gap_missing[inside], None)
        res = vqf.offlineVQF(g, a, None, ts, params.vqf_params())
        quat[start:stop] = res["quat6D"][real]
    return quat


def _lowpass_filtfilt(acc: Array, tau_s: float, ts: float) -> Array:
    """Zero-phase version of the accelerometer-only low-pass (same 2nd-order Butterworth)."""
    b, a = _lowpass_coeffs(tau_s, ts)
    if acc.shape[0] < 2:
        return acc.copy()
    return np.asarray(signal.filtfilt(b, a, acc, axis=0, padlen=min(9, acc.shape[0] - 1)))


def _lowpass_coeffs(tau_s: float, ts: float) -> tuple[Array, Array]:
    """VQF's 2nd-order Butterworth low-pass (time constant ``tau_s``) as scipy ``b, a``."""
    b, a = vqf.VQF.filterCoeffs(tau_s, ts)  # vqf omits the leading a0 = 1
    return np.asarray(b, dtype=np.float64), np.concatenate([[1.0], np.asarray(a, dtype=np.float64)])
