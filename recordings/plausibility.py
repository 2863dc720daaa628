"""Physical-range checks: samples no sensor can produce become gaps, never data.

A value beyond what the sensor can measure (a flipped bit in another tool's file, an
overflow when converting, a crafted file) would otherwise pass as a real movement: one
1e10 m/s^2 sample takes the walking time of a session to zero. Every reader applies
:func:`drop_implausible` to what it loaded, so both input formats share one rule.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from recordings.data import Gap, Recording
from recordings.units import G_MPS2

#: Standard gravity, m/s^2 per g.
#: Largest acceleration accepted when the recording does not state its range: beyond
#: the +-16 g of body-worn IMUs with room for high-g parts (per component).
DEFAULT_MAX_ACC_MPS2 = 32.0 * G_MPS2
#: Largest angular rate accepted when the range is unknown (4000 deg/s, per component).
DEFAULT_MAX_GYR_RPS = math.radians(4000.0)
#: A stated full-scale range is widened by this factor (calibration can scale values a
#: little past the raw range).
RANGE_MARGIN = 1.25
#: Smallest full-scale ranges real sensors have (+-2 g, +-125 deg/s): a header stating
#: less is not trusted to drop data.
MIN_RANGE_ACC_MPS2 = 2.0 * G_MPS2
MIN_RANGE_GYR_RPS = math.radians(125.0)
#: Why a gap made here exists.
REASON = "out_of_range"


def _stated(ranges: dict[str, Any], si_key: str, other_key: str, scale: float) -> float | None:
    for key, factor in ((si_key, 1.0), (other_key, scale)):
        value = ranges.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            full_scale = float(value) * factor
            if math.isfinite(full_scale) and full_scale > 0:
                return full_scale
    return None


def limits(meta: dict[str, Any]) -> tuple[float, float]:
    """Largest plausible ``(|acc| m/s^2, |gyr| rad/s)`` per component for a recording.

    From the header's ``ranges`` (``acc_mps2`` or ``acc_g``, ``gyr_rps`` or ``gyr_dps``)
    times :data:`RANGE_MARGIN` when stated, else the generous defaults.
    """
    ranges = meta.get("ranges")
    if not isinstance(ranges, dict):
        ranges = {}
    acc = _stated(ranges, "acc_mps2", "acc_g", G_MPS2)
    gyr = _stated(ranges, "gyr_rps", "gyr_dps", math.pi / 180.0)
    acc_lim = DEFAULT_MAX_ACC_MPS2 if acc is None else max(acc, MIN_RANGE_ACC_MPS2) * RANGE_MARGIN
    gyr_lim = DEFAULT_MAX_GYR_RPS if gyr is None else max(gyr, MIN_RANGE_GYR_RPS) * RANGE_MARGIN
    return acc_lim, gyr_lim


def _within(values: NDArray[np.float64], limit: float) -> bool:
    # Two reductions and no temporary array: the clean file's fast path. NaN fails both.
    return values.size == 0 or bool(values.max() <= limit and values.min() >= -limit)


def bad_rows(values: NDArray[np.float64], limit: float) -> NDArray[np.bool_]:
    """Rows of ``values`` (N, 3) with a component beyond ``+-limit`` or not a number."""
    with np.errstate(invalid="ignore"):
        return np.asarray(~(np.abs(values) <= limit).all(axis=1))


def drop_implausible(rec: Recording, name: str) -> Recording:
    """``rec`` without samples that are not finite or beyond the sensor's range.

    Each run of such samples becomes a :class:`Gap` with reason ``"out_of_range"``
    (``lost_samples`` = the samples dropped) between the kept samples around it; one
    warning names the file, how many samples were dropped and the first bad value.

    Parameters
    ----------
    rec : Recording
        As a reader loaded it (``acc_mps2``, ``gyr_rps`` are checked per component).
    name : str
        The file, for the warning.

    Returns
    -------
    Recording
        ``rec`` itself when every sample is plausible (the common case, one vectorised
        check), else a copy without the bad samples.
    """
    acc_lim, gyr_lim = limits(rec.meta)
    gyr = rec.gyr_rps
    acc_ok = _within(rec.acc_mps2, acc_lim)
    gyr_ok = gyr is None or _within(gyr, gyr_lim)
    if acc_ok and gyr_ok:
        return rec
    acc_bad = np.zeros(rec.n_samples, dtype=bool) if acc_ok else bad_rows(rec.acc_mps2, acc_lim)
    bad = acc_bad.copy()
    if gyr is not None and not gyr_ok:
        bad |= bad_rows(gyr, gyr_lim)
    keep = ~bad
    first = int(np.flatnonzero(bad)[0])
    if acc_bad[first] or gyr is None:
        channel, value, unit = "acc_mps2", rec.acc_mps2[first], "m/s^2"
    else:
        channel, value, unit = "gyr_rps", gyr[first], "rad/s"
    shown = ", ".join(f"{v:.4g}" for v in value)
    edges = np.flatnonzero(np.diff(np.concatenate([[0], bad.view(np.int8), [0]])))
    gaps = list(rec.gaps)
    for a, b in zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True):
        if a > 0 and b < rec.n_samples:
            gaps.append(Gap(float(rec.time_s[a - 1]), float(rec.time_s[b]), b - a, REASON))
    n_bad = int(bad.sum())
    warning = (
        f"{name}: {n_bad} sample(s) in {edges.size // 2} place(s) were not finite or beyond "
        f"the sensor's range (|acc| <= {acc_lim:.4g} m/s^2, |gyr| <= {gyr_lim:.4g} rad/s) "
        f"and were dropped as gaps; the first at {float(rec.time_s[first]):.3f} s: "
        f"{channel} = ({shown}) {unit}"
    )

    def kept(a: NDArray[np.float64] | None) -> NDArray[np.float64] | None:
        return None if a is None else a[keep]

    time_s = rec.time_s[keep]
    acc = rec.acc_mps2[keep]
    return dataclasses.replace(
        rec,
        time_s=time_s,
        acc_mps2=acc,
        gyr_rps=kept(gyr),
        mag=kept(rec.mag),
        device_time_s=kept(rec.device_time_s),
        gaps=sorted(gaps, key=lambda g: g.start_s),
        warnings=[*rec.warnings, warning],
    )
