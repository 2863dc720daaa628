"""Excessive pelvic drop in gait (Trendelenburg): the swing side drops beyond normal.

The opposite of a gait hip-hike (:mod:`analysis.hiphike.gait`): there the swing side is
RAISED in its own swing; here it drops further than this person's usual swing. Both read
the same per-step swing measures (:func:`analysis.hiphike.steps.step_obliquities`), so a
live session and a recording share one code path: :class:`PelvicDropTracker` is fed one
:class:`~analysis.hiphike.results.StepObliquity` at a time (live: the steps the hip-hike
tracker evaluates, ``HipHikeTracker(record_steps=True).steps``), and
:func:`detect_pelvic_drops` is that tracker fed a whole session's steps.

The episode's ``side`` is the side that DROPS (the swing side; its stance leg's hip
abductors are the weak ones), DESIGN section 4 ``pelvic_drop_episodes``.

References
----------
F. Trendelenburg, "Ueber den Gang bei angeborener Hüftgelenksluxation", Dtsch Med
Wochenschr 21:21-24, 1895.
J. A. Hardcastle and S. Nade, "The significance of the Trendelenburg test", J Bone Joint
Surg Br 67:741-746, 1985.
M. P. Kadaba, H. K. Ramakrishnan, M. E. Wootten, "Measurement of lower extremity
kinematics during level walking", J Orthop Res 8:383-392, 1990.
J. Perry and J. M. Burnfield, *Gait Analysis: Normal and Pathological Function*, 2nd ed.,
SLACK, 2010.
"""

from __future__ import annotations

import bisect
import dataclasses
import math
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from analysis.hiphike.params import PelvicDropParams
from analysis.hiphike.results import StepObliquity, confidence


@dataclass(frozen=True)
class PelvicDropEpisode:
    """One excessive pelvic drop episode (DESIGN section 4 ``pelvic_drop_episodes``).

    Attributes
    ----------
    side : str
        The side that drops (the swing side), ``"left"`` or ``"right"``.
    start_s, end_s : float
        The contact starting the first dropped swing and the one ending the last, s.
    peak_deg : float
        Deepest lateral tilt towards the dropping side in its dropped swings, relative to
        the calibrated neutral, deg, positive = that side LOWER.
    mean_deg : float
        Mean mid-swing depth of the dropped swings below their stride's mean, deg,
        positive = lower (offset-free; normal gait: about the person's usual depth).
    confidence : float
        0-1 as for hip-hikes (:func:`analysis.hiphike.results.confidence`).
    reason : str
        What fired it, in plain words.
    """

    side: str
    start_s: float
    end_s: float
    peak_deg: float
    mean_deg: float
    confidence: float = 1.0
    reason: str = ""

    @property
    def duration_s(self) -> float:
        """``end_s - start_s``, s."""
        return self.end_s - self.start_s

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (non-finite numbers become ``None``)."""
        out = dataclasses.asdict(self)
        for key in ("peak_deg", "mean_deg"):
            if not math.isfinite(out[key]):
                out[key] = None
        return out


class _RunningMedian:
    """Median of the last ``size`` values pushed."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._values: deque[float] = deque()
        self._sorted: list[float] = []

    def __len__(self) -> int:
        return len(self._sorted)

    def push(self, value: float) -> None:
        self._values.append(value)
        bisect.insort(self._sorted, value)
        if len(self._values) > self._size:
            old = self._values.popleft()
            del self._sorted[bisect.bisect_left(self._sorted, old)]

    def median(self) -> float:
        s, n = self._sorted, len(self._sorted)
        if not n:
            return math.nan
        return s[n // 2] if n % 2 else 0.5 * (s[n // 2 - 1] + s[n // 2])


@dataclass
class _Run:
    side: str
    start_s: float
    end_s: float
    strides: int = 0
    misses: int = 0
    peak_deg: float = -math.inf
    depth_total: float = 0.0
    excess_total: float = 0.0
    asym_total: float = 0.0


class PelvicDropTracker:
    """Runs of excessively dropped swings per side, fed one step at a time.

    Parameters
    ----------
    params : PelvicDropParams, optional
        Thresholds.
    turns : sequence of (float, float)
        ``(start_s, end_s)`` of the session's turns, in time order. A stride overlapping
        one counts as a miss and does not enter the baselines (turning, the pelvis leans
        into the turn - as for the hip-hike detector).
    """

    def __init__(
        self,
        params: PelvicDropParams | None = None,
        turns: Sequence[tuple[float, float]] = (),
    ) -> None:
        self.params = PelvicDropParams() if params is None else params
        p = self.params
        self._turns = sorted((float(a), float(b)) for a, b in turns)
        self._turn_i = 0
        self._depth = _RunningMedian(2 * p.baseline_strides)
        self._asym = _RunningMedian(2 * p.baseline_strides)  # + = left raised in its swing
        self._prev: StepObliquity | None = None
        self.runs: dict[str, _Run] = {}
        #: Every episode closed so far, in the order they ended.
        self.episodes: list[PelvicDropEpisode] = []

    # ------------------------------------------------------------------ state
    @property
    def baseline_known(self) -> bool:
        """Whether enough strides have been seen to judge a swing."""
        return len(self._depth) >= 2 * self.params.baseline_min_strides

    @property
    def usual_depth_deg(self) -> float:
        """The person's median swing depth so far (clipped), deg; NaN while unknown."""
        if not self.baseline_known:
            return math.nan
        lim = self.params.max_baseline_depth_deg
        return min(max(self._depth.median(), -lim), lim)

    @property
    def usual_asymmetry_deg(self) -> float:
        """The person's median stride asymmetry (+ = left raised in its swing), deg."""
        if not self.baseline_known:
            return 0.0
        lim = self.params.max_baseline_asymmetry_deg
        return min(max(self._asym.median(), -lim), lim)

    @property
    def ongoing(self) -> list[PelvicDropEpisode]:
        """Confirmed runs still open, as provisional episodes."""
        p = self.params
        return [self._episode(r) for r in self.runs.values() if r.strides >= p.min_strides]

    @property
    def flag(self) -> str:
        """The side dropping right now (latest-started confirmed run) or ``""``."""
        live = self.ongoing
        return max(live, key=lambda e: e.start_s).side if live else ""

    # ----------------------------------------------------------------- update
    def push(self, step: StepObliquity) -> list[PelvicDropEpisode]:
        """Evaluate the next step (in time order); returns the episodes it ended."""
        p = self.params
        prev, self._prev = self._prev, step
        closed_before = len(self.episodes)
        if not step.valid:
            self.close_all()
            return self.episodes[closed_before:]
        side = step.swing_side
        sign = 1.0 if side == "left" else -1.0
        stride_start = prev.start_s if prev is not None and prev.valid else step.start_s
        turning = self._turning(stride_start, step.end_s)
        depth = -step.elevation_deg
        excess = depth - self.usual_depth_deg  # NaN while the baseline is unknown
        asym = -(step.asymmetry_deg - sign * self.usual_asymmetry_deg)
        dropped = (
            not turning
            and excess >= p.depth_excess_deg  # NaN compares False
            and asym >= p.asymmetry_deg
        )
        # The person's usual swing is learnt from normal strides only: not a dropped one,
        # and not while a run is open (the drop deepens the other side's measure too), so
        # a long drop does not become its own reference.
        learn = not (turning or dropped or self.runs)
        if learn and math.isfinite(depth) and math.isfinite(step.asymmetry_deg):
            self._depth.push(depth)
            self._asym.push(sign * step.asymmetry_deg)
        run = self.runs.get(side)
        if not dropped:
            if run is not None and run.misses < p.max_missed_strides:
                run.misses += 1
            elif run is not None:
                self._close(side)
            return self.episodes[closed_before:]
        if run is None:
            run = self.runs[side] = _Run(side, step.start_s, step.end_s)
        run.end_s = step.end_s
        run.strides += 1
        run.misses = 0
        run.depth_total += depth
        run.excess_total += excess
        run.asym_total += asym
        if step.n_samples:
            run.peak_deg = max(run.peak_deg, -step.min_deg if sign > 0 else step.max_deg)
        return self.episodes[closed_before:]

    def finish(self) -> list[PelvicDropEpisode]:
        """End of data: close every run; returns the episodes that ended."""
        n = len(self.episodes)
        self.close_all()
        return self.episodes[n:]

    def close_all(self) -> None:
        """End every open run (a pause in walking, invalid steps)."""
        for side in list(self.runs):
            self._close(side)

    # ---------------------------------------------------------------- helpers
    def _close(self, side: str) -> None:
        run = self.runs.pop(side)
        if run.strides >= self.params.min_strides:
            self.episodes.append(self._episode(run))

    def _episode(self, run: _Run) -> PelvicDropEpisode:
        p = self.params
        n = max(run.strides, 1)
        excess, asym = run.excess_total / n, run.asym_total / n
        reason = (
            f"{run.side} side dropped in its own swing in {run.strides} strides: "
            f"{excess:.1f} deg deeper than this person's usual swing and "
            f"{asym:.1f} deg below the other side's (stride mean removed)"
        )
        return PelvicDropEpisode(
            run.side,
            run.start_s,
            run.end_s,
            run.peak_deg if math.isfinite(run.peak_deg) else math.nan,
            run.depth_total / n,
            round(confidence(excess, p.depth_excess_deg, run.strides, p.min_strides), 2),
            reason,
        )

    def _turning(self, start_s: float, end_s: float) -> bool:
        turns = self._turns
        while self._turn_i < len(turns) and turns[self._turn_i][1] <= start_s:
            self._turn_i += 1
        return self._turn_i < len(turns) and turns[self._turn_i][0] < end_s


def detect_pelvic_drops(
    steps: Iterable[StepObliquity],
    params: PelvicDropParams | None = None,
    turns: Sequence[tuple[float, float]] = (),
) -> list[PelvicDropEpisode]:
    """Excessive pelvic drop episodes of a whole session (the tracker fed every step).

    Parameters
    ----------
    steps : iterable of StepObliquity
        The session's steps in time order (``analyze_hip_hikes(...)[1]`` or
        :func:`analysis.hiphike.steps.step_obliquities`).
    params : PelvicDropParams, optional
        Thresholds.
    turns : sequence of (float, float)
        ``(start_s, end_s)`` of the turns (:func:`analysis.gait.turns.detect_turns`).

    Returns
    -------
    list of PelvicDropEpisode
        In time order of their start.
    """
    tracker = PelvicDropTracker(params, turns)
    for step in steps:
        tracker.push(step)
    tracker.finish()
    return sorted(tracker.episodes, key=lambda e: e.start_s)
