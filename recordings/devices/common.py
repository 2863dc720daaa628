"""What the research-wearable readers share: file facts, units, gaps, day spans."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from recordings.data import FloatArray, Gap, Recording
from recordings.errors import InputError
from recordings.plausibility import G_MPS2, drop_implausible

DPS_TO_RPS = math.pi / 180.0
#: A step between samples longer than this many sample periods is a gap.
GAP_PERIODS = 1.5


@dataclass(frozen=True)
class DeviceInfo:
    """What a research wearable's file says about itself, read without its samples.

    Attributes
    ----------
    kind : str
        ``"cwa"`` (Axivity AX3/AX6) or ``"geneactiv"``.
    rate_hz : float
        Nominal sample rate.
    start_local : datetime or None
        Device-clock (local) time of the first sample.
    duration_s : float
        First to last sample.
    has_gyr : bool
        The file holds angular rate (AX6); AX3 and GENEActiv do not.
    meta : dict
        The :class:`~recordings.Recording` metadata (``recordings/README.md`` keys).
    """

    kind: str
    rate_hz: float
    start_local: datetime | None
    duration_s: float
    has_gyr: bool
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DaySpan:
    """One calendar day (device clock) of a recording: ``[start_s, end_s)`` on ``time_s``."""

    date: str
    start_s: float
    end_s: float


def gaps_from_times(time_s: FloatArray, rate_hz: float) -> list[Gap]:
    """A :class:`Gap` wherever consecutive samples are more than 1.5 periods apart."""
    if time_s.size < 2:
        return []
    step = np.diff(time_s)
    idx = np.flatnonzero(step > GAP_PERIODS / rate_hz)
    return [
        Gap(
            float(time_s[i]),
            float(time_s[i + 1]),
            max(0, round(float(step[i]) * rate_hz) - 1),
            "time_jump",
        )
        for i in idx
    ]


def to_recording(
    name: str,
    time_s: FloatArray,
    acc_g: FloatArray | None,
    gyr_dps: FloatArray | None,
    info: DeviceInfo,
    gaps: list[Gap],
) -> Recording:
    """A :class:`Recording` in SI units (converted in place) from a reader's arrays.

    Raises
    ------
    InputError
        No samples or no accelerometer in the span read.
    """
    if acc_g is None:
        raise InputError(name, "", "no accelerometer data in the file")
    if time_s.size == 0:
        raise InputError(name, "", "no samples in the span read")
    acc_g *= G_MPS2
    if gyr_dps is not None:
        gyr_dps *= DPS_TO_RPS
    rec = Recording(
        time_s=time_s,
        acc_mps2=acc_g,
        gyr_rps=gyr_dps,
        rate_hz=info.rate_hz,
        gaps=gaps,
        meta=dict(info.meta),
    )
    return drop_implausible(rec, name)


def day_spans(info: DeviceInfo) -> list[DaySpan]:
    """The recording cut at the device clock's midnights (one span if the clock is unknown).

    The first and last days are partial: from the first sample, to the last.
    """
    end = info.duration_s + 1.0 / info.rate_hz
    if info.start_local is None:
        return [DaySpan("", 0.0, end)]
    spans: list[DaySpan] = []
    day = info.start_local.date()
    start_s = 0.0
    while start_s < end:
        midnight = datetime.combine(day + timedelta(days=1), datetime.min.time())
        stop_s = min(end, (midnight - info.start_local).total_seconds())
        spans.append(DaySpan(day.isoformat(), start_s, stop_s))
        start_s, day = stop_s, day + timedelta(days=1)
    return spans
