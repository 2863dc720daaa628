"""A subject's key results over time: changes since the first and the last session, findings.

One query reads every session's results as columns (1,000 sessions in milliseconds);
the changes and the plain-language findings are computed on numpy arrays.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import select

from history.db import Database
from history.metrics import METRICS, Metric
from history.models import Session, Subject
from history.store import subject_id

FloatArray = NDArray[np.float64]

#: The smallest change of a metric without a published MDC that a finding mentions
#: (by unit). Not a detectable change: a floor below which a sentence would be noise.
NOTICEABLE = {"%": 5.0, "deg": 1.0, "/h": 1.0, "m/s": 0.05, "/min": 5.0}


@dataclass(frozen=True)
class MetricTrend:
    """One metric of one subject over their sessions (NaN where a session has none)."""

    metric: Metric
    values: FloatArray

    @property
    def known(self) -> NDArray[np.bool_]:
        """Sessions that have this value."""
        return np.isfinite(self.values)

    @property
    def count(self) -> int:
        """How many sessions have it."""
        return int(self.known.sum())

    def _ends(self) -> tuple[float, float, float] | None:
        v = self.values[self.known]
        if v.size == 0:
            return None
        return float(v[0]), float(v[-1]), float(v[-2]) if v.size > 1 else math.nan

    @property
    def first(self) -> float:
        """Value of the first session that has one (NaN if none)."""
        ends = self._ends()
        return math.nan if ends is None else ends[0]

    @property
    def last(self) -> float:
        """Value of the last session that has one."""
        ends = self._ends()
        return math.nan if ends is None else ends[1]

    @property
    def since_first(self) -> float:
        """Last minus first (NaN with fewer than two values)."""
        ends = self._ends()
        return math.nan if ends is None or math.isnan(ends[2]) else ends[1] - ends[0]

    @property
    def since_previous(self) -> float:
        """Last minus the one before it."""
        ends = self._ends()
        return math.nan if ends is None else ends[1] - ends[2]

    def beyond_mdc(self, change: float) -> bool | None:
        """Whether ``change`` exceeds the metric's MDC (None where none is published)."""
        if self.metric.mdc is None or math.isnan(change):
            return None
        return abs(change) > self.metric.mdc


@dataclass(frozen=True)
class SubjectTrends:
    """Every trend metric of one subject, sessions oldest first."""

    code: str
    affected_side: str | None
    recorded_utc: list[dt.datetime]
    kinds: list[str]
    metrics: list[MetricTrend]

    @property
    def days(self) -> FloatArray:
        """Days since the first session, per session."""
        if not self.recorded_utc:
            return np.empty(0)
        t0 = self.recorded_utc[0]
        return np.array([(t - t0).total_seconds() / 86400.0 for t in self.recorded_utc])

    def of(self, name: str) -> MetricTrend:
        """The trend of metric ``name``."""
        return next(m for m in self.metrics if m.metric.name == name)


def load_trends(db: Database, code: str) -> SubjectTrends:
    """Read subject ``code``'s sessions as one array per trend metric."""
    wanted = [m for m in METRICS if m.trend]
    columns = [getattr(Session, m.name) for m in wanted]
    with db.session() as s:
        sid = subject_id(s, code)
        side = s.scalar(select(Subject.affected_side).where(Subject.id == sid))
        rows = s.execute(
            select(Session.recorded_utc, Session.kind, *columns)
            .where(Session.subject_id == sid)
            .order_by(Session.recorded_utc, Session.id)
        ).all()
    table = np.array(
        [[np.nan if v is None else float(v) for v in row[2:]] for row in rows], dtype=np.float64
    ).reshape(len(rows), len(wanted))
    return SubjectTrends(
        code=code,
        affected_side=side,
        recorded_utc=[row[0] for row in rows],
        kinds=[row[1] for row in rows],
        metrics=[MetricTrend(m, table[:, i]) for i, m in enumerate(wanted)],
    )


def span_text(days: float) -> str:
    """A time span in plain words: "3 days", "6 weeks", "4 months"."""
    if days < 14:
        n, unit = round(days), "day"
    elif days < 90:
        n, unit = round(days / 7), "week"
    else:
        n, unit = round(days / 30.44), "month"
    return f"{n} {unit}{'' if n == 1 else 's'}"


def fmt_value(value: float, unit: str) -> str:
    """A value with its unit as a finding prints it (``32 %``, ``1.12 m/s``)."""
    if math.isnan(value):
        return "-"
    digits = 2 if unit == "m/s" else 0 if unit in ("%", "/min", "") else 1
    value = round(value, digits) + 0.0  # no "-0"
    sep = "" if unit in ("", "deg") else " "
    unit = "°" if unit == "deg" else unit
    return f"{value:.{digits}f}{sep}{unit}"


def findings(trends: SubjectTrends) -> list[str]:
    """Plain-language sentences on what changed from the first to the last session.

    A metric is mentioned when its change is beyond its MDC, or (without a published
    MDC) beyond :data:`NOTICEABLE` for its unit; a change within a published MDC is
    said to be possibly measurement noise.
    """
    out: list[str] = []
    days = trends.days
    for t in trends.metrics:
        change = t.since_first
        if math.isnan(change):
            continue
        m = t.metric
        known = np.nonzero(t.known)[0]
        span = span_text(float(days[known[-1]] - days[known[0]]))
        noticeable = NOTICEABLE.get(m.unit, 0.0)
        floor = m.mdc if m.mdc is not None else noticeable
        if abs(change) <= noticeable and abs(change) <= floor:
            continue
        verb = "rose" if change > 0 else "fell"
        sentence = (
            f"{m.label[0].upper()}{m.label[1:]} {verb} from {fmt_value(t.first, m.unit)} "
            f"to {fmt_value(t.last, m.unit)} over {span}"
        )
        if m.lower_is_better is not None and abs(change) > floor:
            better = (change < 0) == m.lower_is_better
            sentence += " (an improvement)" if better else " (a worsening)"
        if m.mdc is not None:
            mdc = fmt_value(m.mdc, m.unit)
            sentence += (
                f"; more than its minimal detectable change of {mdc}"
                if abs(change) > m.mdc
                else f"; within its minimal detectable change of {mdc}, so possibly "
                "measurement noise"
            )
        out.append(sentence + ".")
    return out
