"""The hip-hike tracker (live, chunk by chunk) and the batch functions built on it."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from analysis.hiphike.gait import GaitDetector
from analysis.hiphike.params import HipHikeParams
from analysis.hiphike.results import FloatArray, HipHikeEpisode, HipHikeUpdate, StepObliquity
from analysis.hiphike.static import StaticDetector
from analysis.hiphike.steps import step_obliquities
from analysis.labels import Activity, Codes, Side, activity_codes

# -------------------------------------------------------------------------- tracker


class HipHikeTracker:
    """Live hip-hike detection, fed chunk by chunk; equals :func:`detect_hip_hikes`.

    A static episode is flagged in the update that brings the sample completing
    ``static_min_duration_s``; a gait episode in the update in which the contact ending
    its ``gait_min_strides``-th hiked swing is known and the samples up to it have arrived.

    Parameters
    ----------
    params : HipHikeParams, optional
        Thresholds.
    max_ic_delay_s : float
        Longest delay between an initial contact and the update that reports it. Samples
        are kept that long (plus a step) to evaluate late contacts; an open gait episode
        is closed when no contact has come for ``max_step_s + max_ic_delay_s`` (the step
        to the next contact would be too long to continue it).
        Contacts reported later than this are treated as after a pause.
    record_steps : bool
        Keep every evaluated step in ``steps``.
    turns : sequence of (float, float)
        ``(start_s, end_s)`` of the session's turns (batch only: the live path has no turn
        list and leaves turning strides in); strides overlapping one are left out of the
        gait detection (:class:`analysis.hiphike.gait.GaitDetector`).
    """

    def __init__(
        self,
        params: HipHikeParams | None = None,
        *,
        max_ic_delay_s: float = 3.0,
        record_steps: bool = False,
        turns: Sequence[tuple[float, float]] = (),
    ) -> None:
        if max_ic_delay_s < 0:
            raise ValueError(f"max_ic_delay_s must not be negative; got {max_ic_delay_s}.")
        self.params = HipHikeParams() if params is None else params
        self.max_ic_delay_s = float(max_ic_delay_s)
        #: Every step evaluated so far (only with ``record_steps``; for reports).
        self.steps: list[StepObliquity] = []
        self._record_steps = record_steps
        self._static = StaticDetector(self.params)
        self._gait = GaitDetector(self.params, turns)
        self._t = np.empty(0)
        self._lat = np.empty(0)
        self._walk = np.empty(0, dtype=bool)
        self._context_ics: list[tuple[float, str]] = []  # the last two contacts
        self._pending_ics: list[tuple[float, str]] = []
        self._last_t = -math.inf
        self.episodes: list[HipHikeEpisode] = []

    def update(
        self,
        time_s: ArrayLike,
        lateral_tilt_deg: ArrayLike,
        activity: ArrayLike,
        ic_time_s: ArrayLike = (),
        ic_side: ArrayLike = (),
    ) -> HipHikeUpdate:
        """Feed new samples and newly detected initial contacts.

        Parameters
        ----------
        time_s : array_like, shape (N,)
            Sample times, s, strictly increasing across all updates.
        lateral_tilt_deg : array_like, shape (N,)
            Lateral pelvic tilt, deg, + = left side higher (NaN = unknown).
        activity : array_like of int8 or str, shape (N,)
            Activity label per sample (DESIGN section 3).
        ic_time_s : array_like, shape (K,)
            Initial contacts detected since the previous update, s, increasing (they may
            lie before ``time_s``, up to ``max_ic_delay_s``).
        ic_side : array_like of str, shape (K,)
            ``"left"`` / ``"right"`` (anything else breaks a run of strides).

        Returns
        -------
        HipHikeUpdate
        """
        t, lat, act = _check_samples(time_s, lateral_tilt_deg, activity)
        ics, sides = _check_ics(ic_time_s, ic_side)
        if t.size and t[0] <= self._last_t:
            raise ValueError(
                f"time_s must keep increasing between updates: got {t[0]} after {self._last_t}."
            )
        last_ic = (
            self._pending_ics[-1][0]
            if self._pending_ics
            else (self._context_ics[-1][0] if self._context_ics else -math.inf)
        )
        if ics.size and ics[0] <= last_ic:
            raise ValueError(
                f"ic_time_s must keep increasing between updates: got {ics[0]} after {last_ic}."
            )
        p = self.params
        if t.size:
            self._last_t = float(t[-1])
            # Labels come in long runs: each run's label is looked up once.
            first = np.flatnonzero(np.r_[True, act[1:] != act[:-1]])
            run_of = np.repeat(np.arange(first.size), np.diff(np.r_[first, t.size]))
            labels = act[first]
            code = np.full(first.size, -1, dtype=np.intp)
            for k, name in enumerate(p.static_activities):
                code[labels == Activity.parse(name)] = k
            code = code[run_of]
            code[~np.isfinite(lat)] = -1
            reset = np.isin(labels, activity_codes(list(p.static_rebaseline_after)))[run_of]
            self._static.feed(t, lat, code, reset)
            self._t = np.concatenate((self._t, t))
            self._lat = np.concatenate((self._lat, lat))
            walk = np.isin(labels, activity_codes(list(p.gait_activities)))[run_of]
            self._walk = np.concatenate((self._walk, walk))
        self._pending_ics.extend(zip(ics.tolist(), sides.tolist(), strict=True))
        self._process_steps(final=False)
        last_step = self._gait.prev
        if (
            last_step is not None
            and self._last_t - last_step.end_s > p.max_step_s + self.max_ic_delay_s
        ):
            self._gait.close_all()  # walking stopped: the next step would be too long anyway
        self._trim()
        return self._report()

    def finish(self) -> HipHikeUpdate:
        """End of data: evaluate the remaining contacts and close every episode."""
        self._process_steps(final=True)
        self._static.close()
        self._gait.close_all()
        return self._report()

    @property
    def suppressed(self) -> dict[str, int]:
        """Would-be flags left out so far, by reason (plain words), for the report."""
        counts: Counter[str] = self._static.suppressed + self._gait.suppressed
        return {k: v for k, v in sorted(counts.items()) if v > 0}

    @property
    def flag(self) -> str:
        """The side raised right now (``"left"``, ``"right"``) or ``""``."""
        return _flag(self._ongoing())

    def _process_steps(self, *, final: bool) -> None:
        ready = 0
        while ready < len(self._pending_ics) and (
            final or self._pending_ics[ready][0] <= self._last_t
        ):
            ready += 1
        if not ready:
            return
        # The contact before the last one comes along: the first step's stride needs the
        # step before it (evaluated in an earlier update, so dropped again here).
        context = self._context_ics
        chain = context + self._pending_ics[:ready]
        del self._pending_ics[:ready]
        steps = step_obliquities(
            self._t,
            self._lat,
            self._walk,
            np.array([t for t, _ in chain]),
            np.array([side for _, side in chain]),
            self.params,
        )[max(len(context) - 1, 0) :]
        for step in steps:
            self._gait.push(step)
        if self._record_steps:
            self.steps.extend(steps)
        self._context_ics = chain[-2:]

    def _trim(self) -> None:
        # Samples before the contact before the last evaluated one are never needed again
        # (the next step's stride starts there); neither are samples older than two steps
        # plus the contact delay (a stride from an older contact is too long to be valid).
        p = self.params
        keep_s = self._last_t - (2 * p.max_step_s + self.max_ic_delay_s + 1.0)
        if self._context_ics:
            keep_s = max(keep_s, self._context_ics[0][0])
        i = int(np.searchsorted(self._t, keep_s))
        if i:
            self._t, self._lat, self._walk = self._t[i:], self._lat[i:], self._walk[i:]

    def _ongoing(self) -> list[HipHikeEpisode]:
        out = []
        sp = self._static.span
        if sp is not None and sp.confirmed:
            out.append(self._static.episode(sp))
        out += [self._gait.episode(r) for r in self._gait.runs.values() if r.confirmed]
        return out

    def _report(self) -> HipHikeUpdate:
        new = self._static.closed + self._gait.closed
        self._static.closed, self._gait.closed = [], []
        new.sort(key=lambda e: e.start_s)
        self.episodes.extend(new)
        ongoing = self._ongoing()
        return HipHikeUpdate(new, ongoing, _flag(ongoing))


def _flag(ongoing: list[HipHikeEpisode]) -> str:
    """Side of the most recently started ongoing episode, or ``""``."""
    return max(ongoing, key=lambda e: e.start_s).side if ongoing else ""


# ----------------------------------------------------------------------------- batch


def detect_hip_hikes(
    time_s: ArrayLike,
    lateral_tilt_deg: ArrayLike,
    activity: ArrayLike,
    ic_time_s: ArrayLike,
    ic_side: ArrayLike,
    params: HipHikeParams | None = None,
    *,
    turns: Sequence[tuple[float, float]] = (),
) -> list[HipHikeEpisode]:
    """Hip-hike episodes of a whole recording.

    Parameters
    ----------
    time_s : array_like, shape (N,)
        Sample times, s, strictly increasing (gaps allowed).
    lateral_tilt_deg : array_like, shape (N,)
        Lateral pelvic tilt relative to the calibrated neutral, deg, + = left side higher
        (e.g. from :func:`analysis.tilt.pelvic_tilt_deg`); NaN samples are skipped.
    activity : array_like of int8 or str, shape (N,)
        Activity label per sample (``sitting``, ``standing``, ``walking``, ...).
    ic_time_s : array_like, shape (K,)
        Initial contacts, s, strictly increasing.
    ic_side : array_like of str, shape (K,)
        Their sides, ``"left"`` / ``"right"`` (``"unknown"`` breaks a run of strides).
    params : HipHikeParams, optional
        Thresholds (defaults: see :class:`HipHikeParams`).
    turns : sequence of (float, float)
        ``(start_s, end_s)`` of the turns (:func:`analysis.gait.turns.detect_turns`);
        gait strides overlapping one are left out (counted as suppressed).

    Returns
    -------
    list of HipHikeEpisode
        In order of ``start_s``.

    Raises
    ------
    ValueError
        On inconsistent lengths or non-increasing times.
    """
    return detect_hip_hikes_and_steps(
        time_s, lateral_tilt_deg, activity, ic_time_s, ic_side, params, turns=turns
    )[0]


def detect_hip_hikes_and_steps(
    time_s: ArrayLike,
    lateral_tilt_deg: ArrayLike,
    activity: ArrayLike,
    ic_time_s: ArrayLike,
    ic_side: ArrayLike,
    params: HipHikeParams | None = None,
    *,
    turns: Sequence[tuple[float, float]] = (),
) -> tuple[list[HipHikeEpisode], list[StepObliquity]]:
    """:func:`detect_hip_hikes` plus every step it evaluated (for per-step reports)."""
    found = analyze_hip_hikes(
        time_s, lateral_tilt_deg, activity, ic_time_s, ic_side, params, turns=turns
    )
    return found.episodes, found.steps


class HipHikeAnalysis(NamedTuple):
    """Everything :func:`analyze_hip_hikes` found.

    Attributes
    ----------
    episodes : list of HipHikeEpisode
        In order of ``start_s``.
    steps : list of StepObliquity
        Every step evaluated.
    suppressed : dict of str to int
        Would-be flags left out, by reason in plain words (JSON ``hip_hike_suppressed``).
    """

    episodes: list[HipHikeEpisode]
    steps: list[StepObliquity]
    suppressed: dict[str, int]


def analyze_hip_hikes(
    time_s: ArrayLike,
    lateral_tilt_deg: ArrayLike,
    activity: ArrayLike,
    ic_time_s: ArrayLike,
    ic_side: ArrayLike,
    params: HipHikeParams | None = None,
    *,
    turns: Sequence[tuple[float, float]] = (),
) -> HipHikeAnalysis:
    """:func:`detect_hip_hikes` with the steps evaluated and the flags suppressed."""
    tracker = HipHikeTracker(params, max_ic_delay_s=math.inf, record_steps=True, turns=turns)
    tracker.update(time_s, lateral_tilt_deg, activity, ic_time_s, ic_side)
    tracker.finish()
    episodes = sorted(tracker.episodes, key=lambda e: e.start_s)
    return HipHikeAnalysis(episodes, tracker.steps, tracker.suppressed)


def hip_hike_labels(time_s: ArrayLike, episodes: list[HipHikeEpisode]) -> Codes:
    """Per-sample ``hip_hike`` column of the CSV (DESIGN section 3).

    Parameters
    ----------
    time_s : array_like, shape (N,)
        Sample times, s, increasing.
    episodes : list of HipHikeEpisode
        Detected episodes.

    Returns
    -------
    ndarray of int8, shape (N,)
        A :class:`~analysis.labels.Side` code per sample (``LEFT``, ``RIGHT`` or ``NONE``;
        :func:`~analysis.labels.side_names` gives the CSV's words); a sample inside
        episodes of both sides gets the side of the episode with the higher ``peak_deg``.
    """
    t = np.asarray(time_s, dtype=np.float64)
    out = np.full(t.shape, Side.NONE, np.int8)
    for ep in sorted(episodes, key=lambda e: e.peak_deg if math.isfinite(e.peak_deg) else 0):
        i0 = int(np.searchsorted(t, ep.start_s, side="left"))
        i1 = int(np.searchsorted(t, ep.end_s, side="right"))
        out[i0:i1] = Side.parse(ep.side)
    return out


# ------------------------------------------------------------------------ validation


def _check_samples(
    time_s: ArrayLike, lateral_tilt_deg: ArrayLike, activity: ArrayLike
) -> tuple[FloatArray, FloatArray, Codes]:
    t = np.asarray(time_s, dtype=np.float64)
    lat = np.asarray(lateral_tilt_deg, dtype=np.float64)
    act = activity_codes(activity)
    if t.ndim != 1 or lat.shape != t.shape or act.shape != t.shape:
        raise ValueError(
            "time_s, lateral_tilt_deg and activity must be 1-D and of equal length; got "
            f"shapes {t.shape}, {lat.shape} and {act.shape}."
        )
    if t.size > 1 and not (np.diff(t) > 0).all():
        i = int(np.argmin(np.diff(t) > 0)) + 1
        raise ValueError(f"time_s must be strictly increasing; sample {i} is at {t[i]} s.")
    return t, lat, act


def _check_ics(ic_time_s: ArrayLike, ic_side: ArrayLike) -> tuple[FloatArray, NDArray[np.str_]]:
    ics = np.asarray(ic_time_s, dtype=np.float64).reshape(-1)
    sides = np.asarray(ic_side).astype(str).reshape(-1)
    if ics.shape != sides.shape:
        raise ValueError(
            f"ic_time_s and ic_side must have equal length; got {ics.size} and {sides.size}."
        )
    if ics.size > 1 and not (np.diff(ics) > 0).all():
        raise ValueError("ic_time_s must be strictly increasing.")
    return ics, sides
