"""Hip-hike episodes from the lateral pelvic tilt (issue #5, part 1).

An *episode* is a span of time in which one side of the pelvis is raised. Its side is the
raised side (DESIGN section 2: lateral tilt ``phi > 0`` means the LEFT side is higher), and
its ``peak_deg`` / ``mean_deg`` are signed so that positive = towards the raised side.
Two kinds are detected:

``static``
    A sustained lateral tilt while sitting or standing, relative to the calibrated neutral
    (the calibration standing posture, so a constant leg-length discrepancy or habitual
    obliquity is already part of "level"). An episode *enters* when ``|phi|`` reaches
    ``static_threshold_deg``, is held while ``|phi|`` stays at or above
    ``static_release_deg`` (hysteresis), tolerates interruptions (dips below the release
    level, short movements labelled with another activity, lost samples) of up to
    ``static_max_interruption_s``, and counts once it has lasted
    ``static_min_duration_s``.
``gait``
    Hip hiking while walking: the pelvis on the swing side rises instead of dropping.
    Each step (one initial contact, IC, to the next contralateral one) gives the *swing
    elevation*: the mean lateral tilt over the middle of the swing of the leg that lands
    at the step's end, signed so that positive = the swing side raised (normal walking:
    -2 to -5 deg, the swing side drops). A swing counts as hiked when its elevation is at
    least ``gait_elevation_deg`` AND the mean obliquity over the stride ending with it
    leans towards the swing side by at least ``gait_min_offset_deg`` (a hike of one side
    shifts the stride mean; a swapped or mistimed contact sequence flips the swing sign of
    both sides but leaves the mean level). ``gait_min_strides`` consecutive hiked swings
    of the same side make an episode, spanning those strides. Its ``mean_deg`` is then the
    sustained obliquity offset over the episode, its ``peak_deg`` the highest elevation.

The same state machines serve a whole recording (:func:`detect_hip_hikes`) and the live
app (:class:`HipHikeTracker`, fed chunk by chunk); the batch function *is* the tracker fed
one chunk, so both give the same episodes. :func:`hip_hike_labels` gives the per-sample
``hip_hike`` column of the CSV (DESIGN section 3).

Live use::

    tracker = HipHikeTracker(HipHikeParams(static_threshold_deg=5.0))
    for chunk in stream:  # samples, their activity, contacts found since the last chunk
        out = tracker.update(chunk.time_s, chunk.lateral_tilt_deg, chunk.activity,
                             chunk.ic_time_s, chunk.ic_side)
        show(out.flag, out.ongoing); store(out.closed)
    store(tracker.finish().closed)

The per-step swing elevation comes from :func:`step_obliquity`, a small pure function;
another estimator (e.g. from ``analysis.gait``) can replace it as long as it returns a
:class:`StepObliquity` row per step.

References
----------
J. Perry and J. M. Burnfield, *Gait Analysis: Normal and Pathological Function*, 2nd ed.,
SLACK, 2010 (pelvic obliquity: the swing side drops ~4-5 deg in loading response).
M. P. Kadaba, H. K. Ramakrishnan, M. E. Wootten, "Measurement of lower extremity
kinematics during level walking", J Orthop Res 8:383-392, 1990 (obliquity ROM ~8 deg).
R. Baker, "Pelvic angles: a mathematically rigorous definition which is consistent with a
conventional clinical understanding of the terms", Gait Posture 13:1-6, 2001.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]
SIDES = ("left", "right")
KINDS = ("static", "gait")


# ------------------------------------------------------------------------- parameters


@dataclass(frozen=True, kw_only=True)
class HipHikeParams:
    """Thresholds of the hip-hike detector (field names double as CLI/GUI option names).

    Attributes
    ----------
    static_threshold_deg : float
        Lateral tilt (relative to the calibrated neutral) at which a static episode
        starts. 4 deg: healthy adults reproduce their standing obliquity within ~1-1.5 deg
        between trials, postural sway is ~0.3-0.5 deg and this system measures lateral
        tilt to ~1 deg after calibration, so the noise floor is ~2 deg; 4 deg is twice
        that and still well below a deliberate or compensatory hike (5-10 deg). For scale:
        1 cm of leg-length difference over the ~20 cm hip-joint width is up to ~3 deg
        uncompensated (less in stance, knees and feet compensate) - and a constant one is
        already part of the neutral.
    static_release_deg : float
        The episode is held while the tilt stays at or above this level (hysteresis).
        3 deg: 1 deg below the entry level, about three times the sway amplitude, so the
        flag does not flicker around the threshold.
    static_min_duration_s : float
        Shortest static episode. 3 s: weight shifts, reaching and posture transitions
        (sit-to-stand ~2-3 s) are shorter; a held posture is longer.
    static_max_interruption_s : float
        Longest interruption an episode survives: samples below the release level, samples
        of a non-static activity (shifting on the chair, a short movement labelled
        ``transition``), unknown tilt or lost data. 2 s: a short movement within a sit,
        not a new posture. A change to the other static activity (sitting <-> standing)
        ends the episode at once.
    static_activities : tuple of str
        Activities in which static episodes are sought (lying is excluded: obliquity
        relative to standing is not meaningful there).
    gait_elevation_deg : float
        Swing elevation (mean lateral tilt in mid-swing, + = swing side raised) from which
        a swing counts as hiked. 1.5 deg: in normal gait the swing side drops 2-5 deg, so
        a swing side at or above level is already abnormal; the extra 1.5 deg covers a
        lateral calibration error (<= 1 deg) plus stride-to-stride noise (~0.5 deg).
    gait_min_offset_deg : float
        Mean obliquity over the stride ending with the swing, towards the swing side,
        needed as well. 1 deg: hiking one side by >= 1.5 deg from a ~3 deg drop lifts the
        stride mean by ~1.5-2 deg (the raised part lasts ~40 % of the stride); normal gait
        is symmetric (mean ~0 +- calibration error). Guards against contact sequences with
        swapped sides or mistimed contacts, which flip the swing sign of BOTH sides.
    gait_min_strides : int
        Consecutive hiked swings of the same side (= strides of that leg) for an episode.
        3 (~3-4 s): a compensation pattern is consistent; single strides (a kerb, a
        stumble, a turn) are not hip-hiking.
    gait_max_missed_strides : int
        Swings of the hiking side below the criteria that a run bridges when the hike
        resumes right after. 1: a single stride - a turn (the orientation filter reads the
        centripetal acceleration of a turn as ~2-3 deg of lateral tilt for a second or
        two), a kerb, a stumble - does not split an episode; two in a row end it. Bridged
        strides do not count towards ``gait_min_strides``.
    gait_activities : tuple of str
        Activities during which steps are evaluated.
    gait_min_activity_fraction : float
        Share of a step's samples that must carry one of ``gait_activities`` (0-1).
    min_step_s, max_step_s : float
        Plausible step time (IC to the next contralateral IC). 0.25-1.5 s covers cadences
        of 40-240 steps/min, including slow pathological gait; other steps (pauses,
        missed contacts) break a run of strides.
    swing_start_fraction, swing_end_fraction : float
        Part of the step (0 at its first IC, 1 at the next) that is averaged for the swing
        elevation: 0.4-0.8, the middle half of the swing, which runs from the toe-off at
        ~0.2 of the step (double support ~10 % of the stride) to the next contact.
    """

    static_threshold_deg: float = 4.0
    static_release_deg: float = 3.0
    static_min_duration_s: float = 3.0
    static_max_interruption_s: float = 2.0
    static_activities: tuple[str, ...] = ("sitting", "standing")
    gait_elevation_deg: float = 1.5
    gait_min_offset_deg: float = 1.0
    gait_min_strides: int = 3
    gait_max_missed_strides: int = 1
    gait_activities: tuple[str, ...] = ("walking",)
    gait_min_activity_fraction: float = 0.5
    min_step_s: float = 0.25
    max_step_s: float = 1.5
    swing_start_fraction: float = 0.4
    swing_end_fraction: float = 0.8

    def __post_init__(self) -> None:
        if not 0 < self.static_release_deg <= self.static_threshold_deg:
            raise ValueError(
                "static_release_deg must be positive and not above static_threshold_deg; got "
                f"{self.static_release_deg} and {self.static_threshold_deg}."
            )
        for name in ("static_min_duration_s", "static_max_interruption_s", "min_step_s"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative; got {getattr(self, name)}.")
        if self.max_step_s <= self.min_step_s:
            raise ValueError(
                f"max_step_s ({self.max_step_s}) must be greater than min_step_s "
                f"({self.min_step_s})."
            )
        for name, least in (("gait_min_strides", 1), ("gait_max_missed_strides", 0)):
            value = getattr(self, name)
            if int(value) != value or value < least:
                raise ValueError(f"{name} must be a whole number >= {least}; got {value}.")
        if not 0 <= self.gait_min_activity_fraction <= 1:
            raise ValueError(
                "gait_min_activity_fraction must be between 0 and 1; got "
                f"{self.gait_min_activity_fraction}."
            )
        if not 0 <= self.swing_start_fraction < self.swing_end_fraction <= 1:
            raise ValueError(
                "swing_start_fraction and swing_end_fraction must satisfy 0 <= start < end "
                f"<= 1; got {self.swing_start_fraction} and {self.swing_end_fraction}."
            )
        for name in ("static_activities", "gait_activities"):
            value = getattr(self, name)
            if isinstance(value, str) or not all(isinstance(a, str) for a in value):
                raise ValueError(f"{name} must be a sequence of activity names; got {value!r}.")
            object.__setattr__(self, name, tuple(value))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (tuples become lists)."""
        return {
            k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(self).items()
        }

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> HipHikeParams:
        """Parameters from a (partial) dict, e.g. parsed CLI options; the rest default.

        Raises
        ------
        ValueError
            For a key that is not a parameter, or a value out of range.
        """
        known = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise ValueError(
                f"unknown hip-hike parameter(s) {', '.join(unknown)}; known: {', '.join(known)}."
            )
        kwargs: dict[str, Any] = {}
        for name, value in values.items():
            if name.endswith("_activities"):
                kwargs[name] = tuple(value.split(",")) if isinstance(value, str) else tuple(value)
            elif name in ("gait_min_strides", "gait_max_missed_strides"):
                kwargs[name] = int(value)
            else:
                kwargs[name] = float(value)
        return cls(**kwargs)


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class HipHikeEpisode:
    """One hip-hike episode (the keys of DESIGN section 4 ``hip_hike_episodes``).

    Attributes
    ----------
    side : str
        The raised side, ``"left"`` or ``"right"``.
    kind : str
        ``"static"`` or ``"gait"``.
    activity : str
        Activity during the episode (``"walking"`` for gait episodes).
    start_s, end_s : float
        Span, s. Static: first and last sample beyond the thresholds. Gait: the IC that
        starts the first hiked step and the IC that ends the last one.
    peak_deg, mean_deg : float
        Highest and mean lateral tilt over the span, deg, positive = towards the raised
        side. For gait episodes the mean is the sustained obliquity offset across strides.
    """

    side: str
    kind: str
    activity: str
    start_s: float
    end_s: float
    peak_deg: float
    mean_deg: float

    @property
    def duration_s(self) -> float:
        """``end_s - start_s``, s."""
        return self.end_s - self.start_s

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (DESIGN section 4)."""
        return dataclasses.asdict(self)


class HipHikeUpdate(NamedTuple):
    """What :meth:`HipHikeTracker.update` reports.

    Attributes
    ----------
    closed : list of HipHikeEpisode
        Episodes that ended (final) since the previous update.
    ongoing : list of HipHikeEpisode
        Confirmed episodes still running; ``end_s``, ``peak_deg`` and ``mean_deg`` are
        provisional.
    flag : str
        ``"left"``, ``"right"`` or ``""``: the side raised right now (the most recently
        started ongoing episode).
    """

    closed: list[HipHikeEpisode]
    ongoing: list[HipHikeEpisode]
    flag: str


class StepObliquity(NamedTuple):
    """Lateral tilt over one step, IC to the next contralateral IC.

    Attributes
    ----------
    start_s, end_s : float
        The two contacts, s.
    swing_side : str
        Side of the leg swinging in this step (the one landing at ``end_s``), or ``""``
        when the step is not usable.
    valid : bool
        Alternating known sides, plausible duration, walking, samples present.
    elevation_deg : float
        Mean lateral tilt in mid-swing, positive = swing side raised, deg.
    sum_deg : float
        Sum of the finite lateral-tilt samples in ``[start_s, end_s)`` (+ = left up), deg.
    n_samples : int
        Their number.
    max_deg, min_deg : float
        Their extremes, deg.
    """

    start_s: float
    end_s: float
    swing_side: str
    valid: bool
    elevation_deg: float
    sum_deg: float
    n_samples: int
    max_deg: float
    min_deg: float


# ---------------------------------------------------------------------- step measure


def step_obliquity(
    time_s: FloatArray,
    lateral_tilt_deg: FloatArray,
    gait_activity: NDArray[np.bool_],
    t0_s: float,
    side0: str,
    t1_s: float,
    side1: str,
    params: HipHikeParams,
) -> StepObliquity:
    """Swing elevation and tilt statistics of the step from contact ``t0_s`` to ``t1_s``.

    Parameters
    ----------
    time_s, lateral_tilt_deg : ndarray, shape (N,)
        Samples covering the step (s, deg; + = left side higher). NaN tilts are skipped.
    gait_activity : ndarray of bool, shape (N,)
        Whether each sample is labelled with one of ``params.gait_activities``.
    t0_s, t1_s : float
        Consecutive initial contacts, s.
    side0, side1 : str
        Their sides; the swing side is ``side1`` (the leg that lands at ``t1_s``).
    params : HipHikeParams
        Step limits and swing window.

    Returns
    -------
    StepObliquity
    """
    return step_obliquities(
        time_s,
        lateral_tilt_deg,
        gait_activity,
        np.array([t0_s, t1_s]),
        np.array([side0, side1]),
        params,
    )[0]


def step_obliquities(
    time_s: FloatArray,
    lateral_tilt_deg: FloatArray,
    gait_activity: NDArray[np.bool_],
    ic_time_s: FloatArray,
    ic_side: NDArray[np.str_],
    params: HipHikeParams,
) -> list[StepObliquity]:
    """:func:`step_obliquity` for every pair of consecutive contacts, vectorised.

    Parameters
    ----------
    time_s, lateral_tilt_deg, gait_activity : ndarray, shape (N,)
        As for :func:`step_obliquity`.
    ic_time_s : ndarray, shape (K,)
        Initial contacts in time order, s.
    ic_side : ndarray of str, shape (K,)
        Their sides.
    params : HipHikeParams
        Step limits and swing window.

    Returns
    -------
    list of StepObliquity
        ``K - 1`` steps (contact k to contact k + 1).
    """
    ic_t = np.asarray(ic_time_s, dtype=float)
    sides = np.asarray(ic_side).astype(str)
    if ic_t.size < 2:
        return []
    t0, t1 = ic_t[:-1], ic_t[1:]
    side0, side1 = sides[:-1], sides[1:]
    dur = t1 - t0
    i0, i1 = np.searchsorted(time_s, t0), np.searchsorted(time_s, t1)
    finite = np.isfinite(lateral_tilt_deg)
    lat0 = np.where(finite, lateral_tilt_deg, 0.0)
    c_sum = np.concatenate(([0.0], np.cumsum(lat0)))
    c_n = np.concatenate(([0], np.cumsum(finite)))
    c_walk = np.concatenate(([0], np.cumsum(gait_activity)))
    total = c_sum[i1] - c_sum[i0]
    count = c_n[i1] - c_n[i0]
    # Extremes per step: consecutive steps tile the time axis, so reduceat over the
    # interleaved boundaries works (a sentinel makes the last boundary a valid index).
    bounds = np.empty(2 * t0.size, dtype=np.intp)
    bounds[0::2], bounds[1::2] = i0, i1
    hi_src = np.append(np.where(finite, lateral_tilt_deg, -np.inf), -np.inf)
    lo_src = np.append(np.where(finite, lateral_tilt_deg, np.inf), np.inf)
    hi = np.maximum.reduceat(hi_src, bounds)[0::2]
    lo = np.minimum.reduceat(lo_src, bounds)[0::2]
    empty = count == 0
    hi[empty], lo[empty] = -np.inf, np.inf
    span = np.maximum(i1 - i0, 1)
    walk_frac = (c_walk[i1] - c_walk[i0]) / span
    known = np.isin(side0, SIDES) & np.isin(side1, SIDES)
    valid = (
        known
        & (side0 != side1)
        & (dur >= params.min_step_s)
        & (dur <= params.max_step_s)
        & (i1 > i0)
        & (walk_frac >= params.gait_min_activity_fraction)
    )
    a = np.searchsorted(time_s, t0 + params.swing_start_fraction * dur)
    b = np.searchsorted(time_s, t0 + params.swing_end_fraction * dur)
    mid_n = c_n[b] - c_n[a]
    with np.errstate(invalid="ignore", divide="ignore"):
        mid_mean = (c_sum[b] - c_sum[a]) / mid_n
    valid &= mid_n > 0
    elevation = np.where(valid, mid_mean * np.where(side1 == "left", 1.0, -1.0), math.nan)
    return [
        StepObliquity(
            float(t0[k]),
            float(t1[k]),
            str(side1[k]) if valid[k] else "",
            bool(valid[k]),
            float(elevation[k]),
            float(total[k]),
            int(count[k]),
            float(hi[k]),
            float(lo[k]),
        )
        for k in range(t0.size)
    ]


@dataclass
class _Span:
    """An open candidate episode with running statistics (signed: + = raised side)."""

    side: str
    activity: str
    start_s: float
    end_s: float
    total: float = 0.0
    count: int = 0
    peak: float = -math.inf
    pend_total: float = 0.0
    pend_count: int = 0
    pend_peak: float = -math.inf
    confirmed: bool = False
    strides: int = 0
    misses: int = 0

    def commit(self) -> None:
        self.total += self.pend_total
        self.count += self.pend_count
        self.peak = max(self.peak, self.pend_peak)
        self.pend_total, self.pend_count, self.pend_peak = 0.0, 0, -math.inf

    def episode(self, kind: str) -> HipHikeEpisode:
        mean = self.total / self.count if self.count else math.nan
        peak = self.peak if self.count else math.nan
        return HipHikeEpisode(self.side, kind, self.activity, self.start_s, self.end_s, peak, mean)


class _StaticDetector:
    """Hysteresis state machine on runs of samples with the same (activity, level)."""

    def __init__(self, params: HipHikeParams) -> None:
        self.p = params
        self.span: _Span | None = None
        self.closed: list[HipHikeEpisode] = []

    def feed(self, t: FloatArray, lat: FloatArray, act_code: NDArray[np.intp]) -> None:
        p = self.p
        mag = np.abs(lat)
        level = np.where(
            mag >= p.static_threshold_deg, 2, np.where(mag >= p.static_release_deg, 1, 0)
        )
        level = (level * np.sign(np.nan_to_num(lat))).astype(np.intp)
        level[act_code < 0] = 0
        code = act_code * 8 + level  # unique per (activity, signed level)
        breaks = (
            np.nonzero((code[1:] != code[:-1]) | (np.diff(t) > p.static_max_interruption_s))[0] + 1
        )
        bounds = np.concatenate(([0], breaks, [t.size]))
        for i, j in itertools.pairwise(bounds.tolist()):
            self._run(t[i:j], lat[i:j], int(act_code[i]), int(level[i]))

    def _run(self, t: FloatArray, lat: FloatArray, act: int, level: int) -> None:
        p = self.p
        sp = self.span
        if sp is not None:
            sign = 1 if sp.side == "left" else -1
            same_act = act >= 0 and p.static_activities[act] == sp.activity
            if same_act and sign * level >= 1 and t[0] - sp.end_s <= p.static_max_interruption_s:
                sp.commit()
                self._add(sp, t, lat * sign)
                return
            if act >= 0 and not same_act:  # e.g. stood up: a new posture, a new episode
                self.close()
                self._run(t, lat, act, level)
                return
            k = int(np.searchsorted(t, sp.end_s + p.static_max_interruption_s, side="right"))
            if same_act and k > 0:
                signed = lat[:k] * sign
                sp.pend_total += float(signed.sum())
                sp.pend_count += k
                sp.pend_peak = max(sp.pend_peak, float(signed.max()))
            if k == t.size and not (same_act and sign * level >= 1):
                return
            self.close()
            t, lat = t[k:], lat[k:]
            if t.size == 0:
                return
        if act >= 0 and abs(level) == 2:
            side = "left" if level > 0 else "right"
            sp = _Span(side, p.static_activities[act], float(t[0]), float(t[0]))
            self.span = sp
            self._add(sp, t, lat * (1 if level > 0 else -1))

    def _add(self, sp: _Span, t: FloatArray, signed: FloatArray) -> None:
        sp.total += float(signed.sum())
        sp.count += t.size
        sp.peak = max(sp.peak, float(signed.max()))
        sp.end_s = float(t[-1])
        if sp.end_s - sp.start_s >= self.p.static_min_duration_s:
            sp.confirmed = True

    def close(self) -> None:
        if self.span is not None and self.span.confirmed:
            self.closed.append(self.span.episode("static"))
        self.span = None


class _GaitDetector:
    """Runs of hiked swings per side, fed one :class:`StepObliquity` at a time."""

    def __init__(self, params: HipHikeParams) -> None:
        self.p = params
        self.runs: dict[str, _Span] = {}
        self.prev: StepObliquity | None = None
        self.closed: list[HipHikeEpisode] = []

    def push(self, step: StepObliquity) -> None:
        p = self.p
        prev, self.prev = self.prev, step
        if not step.valid:
            self.close_all()
            return
        side = step.swing_side
        sign = 1.0 if side == "left" else -1.0
        offset = math.nan
        if prev is not None and prev.valid and prev.end_s == step.start_s:
            n = prev.n_samples + step.n_samples
            offset = sign * (prev.sum_deg + step.sum_deg) / n if n else math.nan
        hiked = step.elevation_deg >= p.gait_elevation_deg and offset >= p.gait_min_offset_deg
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
            run = _Span(side, "walking", step.start_s, step.end_s)
            self.runs[side] = run
        self._pend(run, step, sign)
        run.commit()
        run.end_s = step.end_s
        run.strides += 1
        run.misses = 0
        run.confirmed = run.strides >= p.gait_min_strides

    @staticmethod
    def _pend(run: _Span, step: StepObliquity, sign: float) -> None:
        if step.n_samples:
            run.pend_total += sign * step.sum_deg
            run.pend_count += step.n_samples
            run.pend_peak = max(run.pend_peak, step.max_deg if sign > 0 else -step.min_deg)

    def close(self, side: str) -> None:
        run = self.runs.pop(side)
        if run.confirmed:
            self.closed.append(run.episode("gait"))

    def close_all(self) -> None:
        for side in list(self.runs):
            self.close(side)


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
    """

    def __init__(
        self,
        params: HipHikeParams | None = None,
        *,
        max_ic_delay_s: float = 3.0,
        record_steps: bool = False,
    ) -> None:
        if max_ic_delay_s < 0:
            raise ValueError(f"max_ic_delay_s must not be negative; got {max_ic_delay_s}.")
        self.params = HipHikeParams() if params is None else params
        self.max_ic_delay_s = float(max_ic_delay_s)
        #: Every step evaluated so far (only with ``record_steps``; for reports).
        self.steps: list[StepObliquity] = []
        self._record_steps = record_steps
        self._static = _StaticDetector(self.params)
        self._gait = _GaitDetector(self.params)
        self._t = np.empty(0)
        self._lat = np.empty(0)
        self._walk = np.empty(0, dtype=bool)
        self._prev_ic: tuple[float, str] | None = None
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
        activity : array_like of str, shape (N,)
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
            else (self._prev_ic[0] if self._prev_ic else -math.inf)
        )
        if ics.size and ics[0] <= last_ic:
            raise ValueError(
                f"ic_time_s must keep increasing between updates: got {ics[0]} after {last_ic}."
            )
        p = self.params
        if t.size:
            self._last_t = float(t[-1])
            code = np.full(t.size, -1, dtype=np.intp)
            for k, name in enumerate(p.static_activities):
                code[act == name] = k
            code[~np.isfinite(lat)] = -1
            self._static.feed(t, lat, code)
            self._t = np.concatenate((self._t, t))
            self._lat = np.concatenate((self._lat, lat))
            self._walk = np.concatenate((self._walk, np.isin(act, p.gait_activities)))
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
        chain = ([self._prev_ic] if self._prev_ic is not None else []) + self._pending_ics[:ready]
        del self._pending_ics[:ready]
        steps = step_obliquities(
            self._t,
            self._lat,
            self._walk,
            np.array([t for t, _ in chain]),
            np.array([side for _, side in chain]),
            self.params,
        )
        for step in steps:
            self._gait.push(step)
        if self._record_steps:
            self.steps.extend(steps)
        self._prev_ic = chain[-1]

    def _trim(self) -> None:
        # Samples before the last evaluated contact are never needed again; neither are
        # samples older than a step plus the contact delay (a step from an older contact
        # is too long to be valid, whatever its samples).
        keep_s = self._last_t - (self.params.max_step_s + self.max_ic_delay_s + 1.0)
        if self._prev_ic is not None:
            keep_s = max(keep_s, self._prev_ic[0])
        i = int(np.searchsorted(self._t, keep_s))
        if i:
            self._t, self._lat, self._walk = self._t[i:], self._lat[i:], self._walk[i:]

    def _ongoing(self) -> list[HipHikeEpisode]:
        out = []
        sp = self._static.span
        if sp is not None and sp.confirmed:
            out.append(sp.episode("static"))
        out += [r.episode("gait") for r in self._gait.runs.values() if r.confirmed]
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
) -> list[HipHikeEpisode]:
    """Hip-hike episodes of a whole recording.

    Parameters
    ----------
    time_s : array_like, shape (N,)
        Sample times, s, strictly increasing (gaps allowed).
    lateral_tilt_deg : array_like, shape (N,)
        Lateral pelvic tilt relative to the calibrated neutral, deg, + = left side higher
        (e.g. from :func:`analysis.tilt.pelvic_tilt_deg`); NaN samples are skipped.
    activity : array_like of str, shape (N,)
        Activity label per sample (``sitting``, ``standing``, ``walking``, ...).
    ic_time_s : array_like, shape (K,)
        Initial contacts, s, strictly increasing.
    ic_side : array_like of str, shape (K,)
        Their sides, ``"left"`` / ``"right"`` (``"unknown"`` breaks a run of strides).
    params : HipHikeParams, optional
        Thresholds (defaults: see :class:`HipHikeParams`).

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
        time_s, lateral_tilt_deg, activity, ic_time_s, ic_side, params
    )[0]


def detect_hip_hikes_and_steps(
    time_s: ArrayLike,
    lateral_tilt_deg: ArrayLike,
    activity: ArrayLike,
    ic_time_s: ArrayLike,
    ic_side: ArrayLike,
    params: HipHikeParams | None = None,
) -> tuple[list[HipHikeEpisode], list[StepObliquity]]:
    """:func:`detect_hip_hikes` plus every step it evaluated (for per-step reports)."""
    tracker = HipHikeTracker(params, max_ic_delay_s=math.inf, record_steps=True)
    tracker.update(time_s, lateral_tilt_deg, activity, ic_time_s, ic_side)
    tracker.finish()
    return sorted(tracker.episodes, key=lambda e: e.start_s), tracker.steps


def hip_hike_labels(time_s: ArrayLike, episodes: list[HipHikeEpisode]) -> NDArray[np.str_]:
    """Per-sample ``hip_hike`` column of the CSV (DESIGN section 3).

    Parameters
    ----------
    time_s : array_like, shape (N,)
        Sample times, s, increasing.
    episodes : list of HipHikeEpisode
        Detected episodes.

    Returns
    -------
    ndarray of str, shape (N,)
        ``"left"``, ``"right"`` or ``""`` for each sample; a sample inside episodes of
        both sides gets the side of the episode with the higher ``peak_deg``.
    """
    t = np.asarray(time_s, dtype=np.float64)
    out = np.full(t.shape, "", dtype="<U5")
    for ep in sorted(episodes, key=lambda e: e.peak_deg if math.isfinite(e.peak_deg) else 0):
        i0 = int(np.searchsorted(t, ep.start_s, side="left"))
        i1 = int(np.searchsorted(t, ep.end_s, side="right"))
        out[i0:i1] = ep.side
    return out


# ------------------------------------------------------------------------ validation


def _check_samples(
    time_s: ArrayLike, lateral_tilt_deg: ArrayLike, activity: ArrayLike
) -> tuple[FloatArray, FloatArray, NDArray[np.str_]]:
    t = np.asarray(time_s, dtype=np.float64)
    lat = np.asarray(lateral_tilt_deg, dtype=np.float64)
    act = np.asarray(activity)
    if act.dtype.kind != "U":
        act = act.astype(str)
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


__all__ = [
    "HipHikeEpisode",
    "HipHikeParams",
    "HipHikeTracker",
    "HipHikeUpdate",
    "StepObliquity",
    "detect_hip_hikes",
    "hip_hike_labels",
    "step_obliquity",
]
