"""Gait hip-hiking: runs of strides whose swing side rises in its own swing."""

from __future__ import annotations

import bisect
import math
from collections import Counter, deque
from collections.abc import Sequence

from analysis.hiphike.params import HipHikeParams
from analysis.hiphike.results import HipHikeEpisode, Span, StepObliquity, confidence

#: The neutral-referenced criterion used before the offset-free one (swing elevation above
#: the calibrated level and the stride mean leaning to the swing side). Only to count the
#: flags it would have raised and the new detector does not (``suppressed``).
LEVEL_ELEVATION_DEG = 1.5
LEVEL_OFFSET_DEG = 1.0

SUPPRESSED_OFFSET = "gait: steady sideways offset, not a rise in the swing"
SUPPRESSED_HABITUAL = "gait: within this person's usual left/right swing asymmetry"
SUPPRESSED_SHORT = "gait: raised swing in too few strides in a row"
SUPPRESSED_TURN = "gait: raised swing while turning (the pelvis leans into the turn)"


class GaitDetector:
    """Runs of hiked swings per side, fed one :class:`StepObliquity` at a time.

    A swing is hiked when its stride's asymmetry, less this person's baseline (median over
    the last ``gait_baseline_strides`` valid strides - one value per step, two per
    stride - clipped), reaches
    ``gait_asymmetry_deg`` towards its side and its elevation above the stride mean
    reaches ``gait_elevation_deg``.

    A stride that overlaps a turn (``turns``: ``(start_s, end_s)`` in time order) is left
    out: turning, the pelvis rotates and leans into the turn, and on real healthy people
    (HAPT, held out) every remaining gait flag lay on a stair landing's turn. Such a
    stride counts as not hiked - a miss, so an open run bridges up to
    ``gait_max_missed_strides`` of them and a longer turn ends it - and does not enter
    the person's baseline. A would-be flag it prevents is counted under
    ``SUPPRESSED_TURN``. Bridging every turning stride instead (a turn neither raising
    nor ending a run) joined the strides of two stair flights across their landing:
    held out on HAPT (``bench/tune_flags.py``) 6.2 upstairs flags/h against 0.0 as a miss.
    """

    def __init__(self, params: HipHikeParams, turns: Sequence[tuple[float, float]] = ()) -> None:
        self.p = params
        self._turns = sorted((float(a), float(b)) for a, b in turns)
        self._turn_i = 0
        self._turn_hits = {"left": 0, "right": 0}  # would-be hiked strides in a row
        self._turn_seen = {"left": False, "right": False}  # ... of which one was turning
        self.runs: dict[str, Span] = {}
        self.prev: StepObliquity | None = None
        self.closed: list[HipHikeEpisode] = []
        self.suppressed: Counter[str] = Counter()
        # Asymmetry of past strides, + = left side raised in its swing (side-free form).
        self._history: deque[float] = deque()
        self._sorted: list[float] = []  # the same values, sorted (for the median)
        self._shadow: dict[str, dict[str, int]] = {
            SUPPRESSED_OFFSET: {"left": 0, "right": 0},
            SUPPRESSED_HABITUAL: {"left": 0, "right": 0},
        }

    @property
    def baseline_deg(self) -> float:
        """The person's usual asymmetry so far (+ = left side raised in its swing), deg."""
        p = self.p
        s, n = self._sorted, len(self._sorted)
        if n < 2 * p.gait_baseline_min_strides:
            return 0.0
        b = s[n // 2] if n % 2 else 0.5 * (s[n // 2 - 1] + s[n // 2])
        return min(max(b, -p.gait_max_baseline_deg), p.gait_max_baseline_deg)

    def push(self, step: StepObliquity) -> None:
        """Evaluate the next step (steps come in time order)."""
        p = self.p
        prev, self.prev = self.prev, step
        if not step.valid:
            self._reset_shadow()
            self.close_all()
            return
        side = step.swing_side
        sign = 1.0 if side == "left" else -1.0
        baseline = self.baseline_deg
        beyond = step.asymmetry_deg - sign * baseline
        raised = step.elevation_deg >= p.gait_elevation_deg
        hiked = raised and beyond >= p.gait_asymmetry_deg  # NaN compares False
        # The stride is this step and the one before it (its asymmetry spans both).
        stride_start = prev.start_s if prev is not None and prev.valid else step.start_s
        turning = self._turning(stride_start, step.end_s)
        self._count_turn(side, hiked, turning=turning)
        if turning:
            hiked = False  # a miss: one turning stride is bridged, a longer turn ends the run
        else:
            self._count_shadow(step, side, hiked, raised)
        if math.isfinite(step.asymmetry_deg) and not turning:
            value = sign * step.asymmetry_deg
            self._history.append(value)
            bisect.insort(self._sorted, value)
            if len(self._history) > 2 * p.gait_baseline_strides:
                old = self._history.popleft()
                del self._sorted[bisect.bisect_left(self._sorted, old)]
        for run_side, other in self.runs.items():  # the step belongs to every open run
            if run_side != side:
                self._pend(other, step, -sign)
        run = self.runs.get(side)
        if not hiked:
            if run is not None and run.misses < p.gait_max_missed_strides:
                run.misses += 1  # kept open; this stride counts only if the hike resumes
                self._pend(run, step, sign)
            elif run is not None:
                self.close(side)
            return
        if run is None:
            run = Span(side, "walking", step.start_s, step.end_s)
            self.runs[side] = run
        self._pend(run, step, sign)
        run.pend_score_total += beyond
        run.pend_score_count += 1
        run.baseline_deg = sign * baseline
        run.commit()
        run.end_s = step.end_s
        run.strides += 1
        run.misses = 0
        run.confirmed = run.strides >= p.gait_min_strides

    def _count_shadow(self, step: StepObliquity, side: str, hiked: bool, raised: bool) -> None:
        p = self.p
        old = (
            step.level_elevation_deg >= LEVEL_ELEVATION_DEG and step.offset_deg >= LEVEL_OFFSET_DEG
        )
        habitual = raised and step.asymmetry_deg >= p.gait_asymmetry_deg
        for reason, fires in ((SUPPRESSED_OFFSET, old), (SUPPRESSED_HABITUAL, habitual)):
            counts = self._shadow[reason]
            if fires and not hiked:
                counts[side] += 1
                if counts[side] == p.gait_min_strides and not self._confirmed(side):
                    self.suppressed[reason] += 1
            else:
                counts[side] = 0

    def _turning(self, start_s: float, end_s: float) -> bool:
        turns = self._turns
        while self._turn_i < len(turns) and turns[self._turn_i][1] <= start_s:
            self._turn_i += 1  # steps come in time order: past turns are never needed again
        return self._turn_i < len(turns) and turns[self._turn_i][0] < end_s

    def _count_turn(self, side: str, hiked: bool, *, turning: bool) -> None:
        if not hiked:
            if not turning:
                self._turn_hits[side], self._turn_seen[side] = 0, False
            return
        self._turn_hits[side] += 1
        self._turn_seen[side] |= turning
        if (
            self._turn_seen[side]
            and self._turn_hits[side] >= self.p.gait_min_strides
            and not self._confirmed(side)
        ):
            self.suppressed[SUPPRESSED_TURN] += 1
            self._turn_hits[side], self._turn_seen[side] = 0, False

    def _confirmed(self, side: str) -> bool:
        run = self.runs.get(side)
        return run is not None and run.confirmed

    def _reset_shadow(self) -> None:
        self._turn_hits = {"left": 0, "right": 0}
        self._turn_seen = {"left": False, "right": False}
        for counts in self._shadow.values():
            counts["left"] = counts["right"] = 0

    @staticmethod
    def _pend(run: Span, step: StepObliquity, sign: float) -> None:
        if step.n_samples:
            run.pend_total += sign * step.sum_deg
            run.pend_count += step.n_samples
            run.pend_peak = max(run.pend_peak, step.max_deg if sign > 0 else -step.min_deg)

    def episode(self, run: Span) -> HipHikeEpisode:
        """The episode of a run, with its confidence and reason."""
        p = self.p
        score = run.score
        reason = (
            f"{run.side} side rose in its own swing in {run.strides} strides: "
            f"{score:.1f} deg more than the other side's swing (stride mean removed"
            + (
                f", beyond this person's usual {round(run.baseline_deg, 1) + 0.0:+.1f} deg)"
                if abs(run.baseline_deg) >= 0.05
                else ")"
            )
        )
        conf = confidence(score, p.gait_asymmetry_deg, run.strides, p.gait_min_strides)
        return run.episode("gait", conf, reason)

    def close(self, side: str) -> None:
        """End the open run of ``side`` (an episode if it was confirmed)."""
        run = self.runs.pop(side)
        if run.confirmed:
            self.closed.append(self.episode(run))
        elif run.strides >= 2:
            self.suppressed[SUPPRESSED_SHORT] += 1

    def close_all(self) -> None:
        """End every open run."""
        for side in list(self.runs):
            self.close(side)
