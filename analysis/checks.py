"""What the analysis accepts: checks of a recording before anything is computed from it.

A recording that cannot be analysed (too short, a sample rate no body-worn IMU has, time
in the wrong unit, accelerations in the wrong unit) raises :class:`recordings.InputError`
with one plain sentence. A recording with a few impossible samples (NaN, infinity, beyond
any body-worn sensor's range: a corrupt value, not a measurement) is analysed without
them: they become gaps with a note, exactly like lost packets, and are never used.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from analysis.calibration import MAX_STANDING_TILT_DEG
from analysis.orientation import GYR_MAX_RPS
from recordings import Gap, InputError, Recording
from recordings.plausibility import bad_rows, limits

FloatArray = NDArray[np.float64]

#: Sample rates a body-worn IMU analysis is meaningful for. Below 5 Hz steps (up to
#: ~2.5 Hz) are not sampled and the gait filters cannot be designed; above 2 kHz the
#: input is not an IMU stream (or time_s is not in seconds).
MIN_RATE_HZ = 5.0
MAX_RATE_HZ = 2000.0
#: Shortest session analysed: two seconds hold one activity frame window (1 s) either
#: side and a few tilt samples; anything shorter says nothing about posture.
MIN_DURATION_S = 2.0
#: Longest session analysed (60 days: longer than any worn monitoring); a longer span
#: means a wrong time stamp, e.g. one corrupt time far from the others.
MAX_DURATION_S = 60 * 86400.0
#: More than this share of samples beyond the range (finite) is a unit problem, not damage.
#: Values that are not numbers are missing data, however many: they become gaps.
MAX_BEYOND_RANGE_SHARE = 0.01
#: 99th percentile of |angular rate| above this (rad/s, ~570 deg/s) means deg/s were given:
#: a pelvis turns at most a few hundred deg/s, and only briefly.
GYR_P99_MAX_RPS = 10.0
#: The median time step, in sample periods, must lie in this range (as for the
#: orientation filter, :func:`analysis.orientation.estimate_quat_wxyz`).
_STEP_PERIODS = (0.75, 1.5)


def check_standing_tilt_deg(standing_tilt_deg: float | None) -> float | None:
    """The measured standing tilt, or an ``InputError`` when it cannot be one.

    Raises
    ------
    recordings.InputError
        Not a finite number of degrees within +-:data:`MAX_STANDING_TILT_DEG`.
    """
    if standing_tilt_deg is None:
        return None
    try:
        value = float(standing_tilt_deg)
    except (TypeError, ValueError):
        value = math.nan
    if not (math.isfinite(value) and abs(value) <= MAX_STANDING_TILT_DEG):
        raise InputError(
            "standing_tilt_deg",
            "",
            f"must be a finite angle within +-{MAX_STANDING_TILT_DEG:g} deg (the measured "
            f"anterior tilt of neutral standing), got {standing_tilt_deg!r}",
        )
    return value


def sample_limits(meta: dict[str, Any] | None = None) -> tuple[float, float]:
    """Largest usable ``(|acc| m/s^2, |gyr| rad/s)`` per axis for a recording's samples.

    The readers' rule (:func:`recordings.plausibility.limits`: the sensor's stated range
    with a margin, else +-32 g and +-4000 deg/s), with the angular rate capped at
    ``GYR_MAX_RPS`` (4000 deg/s) also for a sensor stating a larger range: beyond it the
    orientation filter takes the data for deg/s, and no pelvis turns that fast.
    """
    acc_lim, gyr_lim = limits(meta or {})
    return acc_lim, min(gyr_lim, GYR_MAX_RPS)


def impossible_samples(
    acc_mps2: FloatArray,
    gyr_rps: FloatArray | None,
    time_s: FloatArray | None = None,
    meta: dict[str, Any] | None = None,
) -> NDArray[np.bool_]:
    """Samples no body-worn sensor can produce: not numbers, or beyond its range.

    The one rule of the offline check (:func:`checked_recording`), for a live path to
    drop such samples from a chunk the same way.

    Parameters
    ----------
    acc_mps2 : ndarray (N, 3)
        Specific force, m/s^2.
    gyr_rps : ndarray (N, 3) or None
        Angular rate, rad/s.
    time_s : ndarray (N,), optional
        Sample times; a non-finite time is impossible too.
    meta : dict, optional
        The recording's metadata (its ``ranges``, see :func:`sample_limits`).

    Returns
    -------
    ndarray of bool (N,)
        True for each sample to leave out.
    """
    acc_lim, gyr_lim = sample_limits(meta)
    bad = bad_rows(np.asarray(acc_mps2, dtype=float), acc_lim)
    if gyr_rps is not None:
        bad |= bad_rows(np.asarray(gyr_rps, dtype=float), gyr_lim)
    if time_s is not None:
        bad |= ~np.isfinite(np.asarray(time_s, dtype=float))
    return bad


def checked_recording(rec: Recording, source: str = "") -> Recording:
    """``rec`` ready for the analysis: impossible samples left out as gaps, or an error.

    Parameters
    ----------
    rec : Recording
        The session as loaded or built in memory.
    source : str
        Name of the input for messages (file path).

    Returns
    -------
    Recording
        ``rec`` itself when every sample is usable; else a copy without the samples
        that are not numbers or beyond the sensor's range (:func:`sample_limits`), each
        run of them a :class:`~recordings.Gap` with reason ``"out_of_range"``, and a
        warning.

    Raises
    ------
    recordings.InputError
        Too few usable samples, shorter than :data:`MIN_DURATION_S` or longer than
        :data:`MAX_DURATION_S`, time not increasing, a sample rate outside
        :data:`MIN_RATE_HZ`-:data:`MAX_RATE_HZ` or disagreeing with the time stamps,
        more than 1 % of the samples beyond the range, or units that are not m/s^2 and
        rad/s.
    """
    name = source or "recording"
    time_s = np.asarray(rec.time_s, dtype=float)
    acc = np.asarray(rec.acc_mps2, dtype=float)
    gyr = None if rec.gyr_rps is None else np.asarray(rec.gyr_rps, dtype=float)
    n = time_s.shape[0]
    if acc.shape != (n, 3) or (gyr is not None and gyr.shape != (n, 3)):
        raise InputError(name, "", "sample arrays of different lengths: the data are damaged")
    if n < 2:
        raise InputError(name, "", f"{n} sample(s): nothing to analyse")
    meta = rec.meta if isinstance(rec.meta, dict) else {}
    bad = impossible_samples(acc, gyr, time_s, meta)
    _check_scale(name, acc, gyr, bad, sample_limits(meta))
    if bad.any():
        rec = _without(rec, bad)
        time_s = np.asarray(rec.time_s, dtype=float)
        n = time_s.shape[0]
        if n < 2:
            raise InputError(name, "", f"{n} usable sample(s): nothing to analyse")
    steps = np.diff(time_s)
    if (steps <= 0).any():
        i = int(np.argmax(steps <= 0)) + 1
        raise InputError(
            name,
            f"sample {i}",
            f"time {time_s[i]:.6g} s is not after the previous sample's {time_s[i - 1]:.6g} s: "
            "samples must be in time order, each once",
        )
    try:
        rate_hz = float(rec.rate_hz)
    except (TypeError, ValueError):
        rate_hz = math.nan
    _check_rate(name, rate_hz, float(np.median(steps)))
    duration_s = float(time_s[-1] - time_s[0])
    if duration_s < MIN_DURATION_S:
        raise InputError(
            name,
            "",
            f"only {duration_s:.3g} s of data: at least {MIN_DURATION_S:g} s are needed",
        )
    if duration_s > MAX_DURATION_S:
        i = int(np.argmax(steps)) + 1
        raise InputError(
            name,
            f"sample {i}",
            f"time jumps by {steps[i - 1]:.4g} s, and the session spans more than "
            f"{MAX_DURATION_S / 86400:g} days: a time stamp is wrong",
        )
    return rec if type(rec.rate_hz) is float else replace(rec, rate_hz=rate_hz)


def _check_scale(
    name: str,
    acc: FloatArray,
    gyr: FloatArray | None,
    bad: NDArray[np.bool_],
    lims: tuple[float, float],
) -> None:
    """Many values beyond the range, or a wrong scale overall, is a unit problem: refuse."""
    acc_lim, gyr_lim = lims
    with np.errstate(invalid="ignore"):
        beyond = (np.abs(acc) > acc_lim).any(axis=1)
        if gyr is not None:
            beyond |= (np.abs(gyr) > gyr_lim).any(axis=1)
    share = float(beyond.mean())
    if share > MAX_BEYOND_RANGE_SHARE:
        first = int(np.argmax(beyond))
        raise InputError(
            name,
            f"sample {first}",
            f"{100 * share:.1f} % of the samples are beyond any body-worn sensor's range "
            f"(+-{acc_lim:.4g} m/s^2, +-{gyr_lim:.4g} rad/s): wrong units (acceleration "
            "must be m/s^2, angular rate rad/s) or damaged data",
        )
    good = ~bad
    if not good.any():
        return
    median_mps2 = float(np.median(np.linalg.norm(acc[good], axis=1)))
    if 0.5 <= median_mps2 <= 2.0:
        raise InputError(
            name,
            "column acc",
            f"median acceleration {median_mps2:.3g}: this looks like g, not m/s^2 "
            "(use the acceleration unit option, or multiply by 9.80665)",
        )
    if not 3.0 <= median_mps2 <= 30.0:
        raise InputError(
            name,
            "column acc",
            f"median acceleration {median_mps2:.3g} m/s^2: a worn accelerometer reads about "
            "9.81 m/s^2 at rest, so the unit or the data are wrong",
        )
    if gyr is not None:
        p99_rps = float(np.percentile(np.abs(gyr[good]).max(axis=1), 99))
        if p99_rps > GYR_P99_MAX_RPS:
            raise InputError(
                name,
                "column gyr",
                f"angular rate is above {p99_rps:.3g} rad/s for 1 % of the time, more than a "
                "pelvis turns: this looks like deg/s, not rad/s (use the angular-rate unit "
                "option, or multiply by pi/180)",
            )


def _check_rate(name: str, rate_hz: float, median_step_s: float) -> None:
    if not (math.isfinite(rate_hz) and MIN_RATE_HZ <= rate_hz <= MAX_RATE_HZ):
        hint = ""
        if math.isfinite(rate_hz) and rate_hz > 0:
            if MIN_RATE_HZ <= rate_hz * 1000 <= MAX_RATE_HZ:
                hint = "; is time_s in milliseconds?"
            elif rate_hz > MAX_RATE_HZ:
                hint = "; is time_s in seconds?"
        raise InputError(
            name,
            "",
            f"sample rate {rate_hz:.4g} Hz is outside {MIN_RATE_HZ:g}-{MAX_RATE_HZ:g} Hz, "
            f"the range of body-worn IMUs{hint}",
        )
    periods = median_step_s * rate_hz
    if not _STEP_PERIODS[0] <= periods <= _STEP_PERIODS[1]:
        if 500 <= periods <= 2000:
            hint = "; is time_s in milliseconds?"
        elif periods > _STEP_PERIODS[1]:
            hint = " (half the samples or more missing, or a wrong rate)"
        else:
            hint = " (a wrong rate, or time_s not in seconds)"
        raise InputError(
            name,
            "column time_s",
            f"samples are {median_step_s:.4g} s apart (median) but the sample rate is "
            f"{rate_hz:.4g} Hz{hint}",
        )


def _without(rec: Recording, bad: NDArray[np.bool_]) -> Recording:
    """``rec`` without the ``bad`` samples; each run of them becomes a gap."""
    time_s = np.asarray(rec.time_s, dtype=float)
    keep = ~bad
    idx = np.nonzero(bad)[0]
    starts = idx[np.concatenate(([True], np.diff(idx) > 1))]
    ends = idx[np.concatenate((np.diff(idx) > 1, [True]))] + 1
    gaps = list(rec.gaps)
    for a, b in zip(starts, ends, strict=True):
        before = time_s[a - 1] if a > 0 else time_s[b] if b < time_s.size else math.nan
        after = time_s[b] if b < time_s.size else before
        if math.isfinite(before) and math.isfinite(after):
            gaps.append(Gap(float(before), float(after), int(b - a), "out_of_range"))
    gaps.sort(key=lambda g: g.start_s)
    first = int(idx[0])
    where = f"{time_s[first]:.2f} s" if math.isfinite(time_s[first]) else f"sample {first}"
    note = (
        f"{idx.size} sample(s) not numbers or beyond any body-worn sensor's range (first at "
        f"{where}) were left out as gaps"
    )

    def sel(x: FloatArray | None) -> FloatArray | None:
        return None if x is None else np.asarray(x)[keep]

    acc = np.asarray(rec.acc_mps2)[keep]
    return replace(
        rec,
        time_s=time_s[keep],
        acc_mps2=acc,
        gyr_rps=sel(rec.gyr_rps),
        mag=sel(rec.mag) if rec.mag is not None and len(rec.mag) == bad.size else rec.mag,
        device_time_s=(
            sel(rec.device_time_s)
            if rec.device_time_s is not None and len(rec.device_time_s) == bad.size
            else rec.device_time_s
        ),
        gaps=gaps,
        warnings=[*rec.warnings, note],
    )
