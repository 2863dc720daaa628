"""Thresholds of the hip-hike detector, with their reasoning."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

_INT_FIELDS = (
    "gait_min_strides",
    "gait_max_missed_strides",
    "gait_baseline_strides",
    "gait_baseline_min_strides",
)


@dataclass(frozen=True, kw_only=True)
class HipHikeParams:
    """Thresholds of the hip-hike detector (field names double as CLI/GUI option names).

    The defaults were chosen leave-one-person-out on the 15 healthy people of the real HAPT
    set (``bench/tune_flags.py``: every flag there is false) under the constraint that every
    simulated hike (5-8 deg static, 4-6 deg gait) is still found; the figures are in the
    report of that script and in ``tests/analysis/test_hiphike_real.py``.

    Attributes
    ----------
    static_threshold_deg : float
        How far the lateral tilt must move beyond this person's habitual tilt in the same
        activity (the *baseline*, below) for a static episode to start. 4 deg: healthy
        adults reproduce a posture within ~1-1.5 deg, sway is ~0.3-0.5 deg and this system
        measures lateral tilt to ~1 deg, so the noise floor is ~2 deg; 4 deg is twice that
        and still below a deliberate or compensatory hike (5-10 deg).
    static_release_deg : float
        The episode is held while the tilt stays at least this far beyond the baseline
        (hysteresis). 3 deg: 1 deg below the entry level, about three times the sway.
    static_min_duration_s : float
        Shortest static episode: a hike is a HELD posture. 5 s (chosen leave-one-person-out
        from 3 and 5 s; 8 s misses the simulator's 8 s standing hike): weight shifts,
        reaching and transitions (sit-to-stand ~2-3 s) are shorter.
    static_max_interruption_s : float
        Longest interruption an episode survives (samples below the release level, a short
        movement labelled with another activity, unknown tilt, lost data). 2 s: a short
        movement within a sit, not a new posture. A change to the other static activity
        (sitting <-> standing) ends the episode at once.
    static_baseline_min_s : float
        Time in an activity before its baseline - the median lateral tilt of the person in
        that activity so far this session, leaving out samples at or beyond the release
        level (so a hike does not become its own reference) - is used. Sitting tilts
        the belt (and a sensor at the side of it) differently from the calibration
        standing: on the real HAPT sessions the median sitting tilt is 4 deg from neutral
        standing (1.1 deg for standing), which a neutral-referenced 4 deg threshold
        flagged in 58 % of healthy sitting. 10 s of an activity give a median to ~0.5 deg.
    static_unknown_baseline_deg : float
        Entry threshold, relative to neutral standing, while the activity's baseline is not
        yet known. 30 deg, i.e. in practice no static flag before the person's habitual
        tilt in that activity is known (chosen leave-one-person-out from 15 and 30 deg): on
        HAPT the first bouts of healthy people sit up to 12-23 deg from a neutral that the
        automatic calibration got wrong. Such spans are counted as suppressed.
    static_activities : tuple of str
        Activities in which static episodes are sought (lying is excluded: obliquity
        relative to standing is not meaningful there).
    static_neutral_baseline : tuple of str
        Activities whose baseline is neutral (0 deg) from the start, until the person's own
        tilt in them has been measured (re-learnt like the others). None by default: on
        HAPT the automatic calibration's neutral is often not the first standing (taken
        from a later standing or from walking), and ``("standing",)`` raised the healthy
        standing flags from 0 to 12 per hour; a neutral a few degrees off would flag the
        first standing. The live dashboard uses ``("standing",)``: its calibration wizard
        has just measured neutral standing, and it gives feedback from the first second.
    static_rebaseline_after : tuple of str
        Activities after which the static baselines of the OTHER static activities are
        learnt afresh. Lying: a belt-worn sensor is pressed and turned on the body when
        the person lies down and gets up, and the habitual sitting/standing tilt after it
        is a new one. On HAPT the sitting after lying differs from the sitting before by
        4-10 deg in most healthy people, held for the whole bout; it raised half of the
        static flags left after the baselines. Sitting (chosen leave-one-person-out over
        lying alone): the standing after a sit differs from the standing before by 3-5 deg
        (the seat pushes the belt); a sitting baseline is kept while standing.
    gait_asymmetry_deg : float
        Side-specific swing pattern needed for a hiked stride, relative to this person's
        own strides. Per stride (two steps), the *asymmetry* is the mean tilt in the two
        mid-swings minus the stride mean, signed towards the swing side of the step that
        ends the stride: a constant frontal offset (calibration, a sensor at the side of
        the belt) contributes nothing, nor does a symmetric gait (its obliquity has odd
        harmonics of the stride only); a side that rises in its OWN swing does. The
        person's baseline (running median, below) is subtracted, so a habitual asymmetry
        is not flagged. The simulated 4-6 deg hikes give 1.2-1.7 deg; healthy HAPT strides
        0 +- 0.5 deg around a per-session median of up to +-1.1 deg. 1.0 deg (chosen
        leave-one-person-out from 0.8 and 1.0).
    gait_elevation_deg : float
        Swing elevation, relative to the stride's own mean, from which a swing counts as
        raised (normal gait: the swing side drops, -2 to -5 deg; the simulated hikes give
        +1 to +2.5 deg). Offset-free as well. 0.5 deg (chosen leave-one-person-out from 0
        and 0.5).
    gait_baseline_strides : int
        Number of recent valid strides whose median asymmetry is the person's baseline.
        200 strides (~3-4 min of walking): long enough that a hike of a minute or two does
        not become its own reference, short enough to follow a sensor that moved.
    gait_baseline_min_strides : int
        Strides needed before the baseline is used (before: 0, the symmetric gait).
    gait_max_baseline_deg : float
        The baseline is clipped to +-this, so a person hiking through a whole session is
        still flagged when the hike is larger than the habitual asymmetry of healthy
        people (on HAPT, per-session medians up to ~1.1 deg). 0.5 deg (chosen
        leave-one-person-out from 0.5 and 1.0).
    gait_min_strides : int
        Consecutive hiked swings of the same side for an episode. A compensation pattern is
        consistent; single strides (a kerb, a stumble, a turn) and the few asymmetric
        strides of a flight of stairs are not hip-hiking. 8 (~8-10 s of walking; chosen
        leave-one-person-out from 3, 5 and 8; the simulated hikes last 25-40 strides).
    gait_max_missed_strides : int
        Swings of the hiking side below the criteria that a run bridges when the hike
        resumes right after. 1: a single stride (a turn, a kerb) does not split an episode;
        two in a row end it. Bridged strides do not count towards ``gait_min_strides``.
    gait_activities : tuple of str
        Activities during which steps are evaluated.
    gait_min_activity_fraction : float
        Share of a step's samples that must carry one of ``gait_activities`` (0-1).
    min_step_s, max_step_s : float
        Plausible step time (IC to the next contralateral IC). 0.25-1.5 s covers cadences
        of 40-240 steps/min; other steps (pauses, missed contacts) break a run of strides.
    swing_start_fraction, swing_end_fraction : float
        Part of the step (0 at its first IC, 1 at the next) averaged for the swing
        elevation: 0.4-0.8, the middle half of the swing (toe-off at ~0.2 of the step).
    """

    static_threshold_deg: float = 4.0
    static_release_deg: float = 3.0
    static_min_duration_s: float = 5.0
    static_max_interruption_s: float = 2.0
    static_baseline_min_s: float = 10.0
    static_unknown_baseline_deg: float = 30.0
    static_activities: tuple[str, ...] = ("sitting", "standing")
    static_neutral_baseline: tuple[str, ...] = ()
    static_rebaseline_after: tuple[str, ...] = ("lying", "sitting")
    gait_asymmetry_deg: float = 1.0
    gait_elevation_deg: float = 0.5
    gait_baseline_strides: int = 200
    gait_baseline_min_strides: int = 10
    gait_max_baseline_deg: float = 0.5
    gait_min_strides: int = 8
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
        if self.static_unknown_baseline_deg < self.static_threshold_deg:
            raise ValueError(
                "static_unknown_baseline_deg must not be below static_threshold_deg; got "
                f"{self.static_unknown_baseline_deg} and {self.static_threshold_deg}."
            )
        for name in (
            "static_min_duration_s",
            "static_max_interruption_s",
            "static_baseline_min_s",
            "min_step_s",
            "gait_asymmetry_deg",
            "gait_max_baseline_deg",
        ):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative; got {getattr(self, name)}.")
        if self.max_step_s <= self.min_step_s:
            raise ValueError(
                f"max_step_s ({self.max_step_s}) must be greater than min_step_s "
                f"({self.min_step_s})."
            )
        for name, least in (
            ("gait_min_strides", 1),
            ("gait_max_missed_strides", 0),
            ("gait_baseline_strides", 1),
            ("gait_baseline_min_strides", 1),
        ):
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
        for name in (
            "static_activities",
            "static_neutral_baseline",
            "static_rebaseline_after",
            "gait_activities",
        ):
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
            if name.endswith(("_activities", "_after", "_baseline")):
                kwargs[name] = tuple(value.split(",")) if isinstance(value, str) else tuple(value)
            elif name in _INT_FIELDS:
                kwargs[name] = int(value)
            else:
                kwargs[name] = float(value)
        return cls(**kwargs)


@dataclass(frozen=True, kw_only=True)
class PelvicDropParams:
    """Thresholds of the excessive pelvic drop detector (Trendelenburg gait).

    The pattern: in single support the stance leg's hip abductors hold the pelvis; when
    they are weak the pelvis on the SWING side drops further than normal (Trendelenburg
    1895; the clinical sign, Hardcastle & Nade 1985). In normal gait the swing side drops
    a few degrees in loading response and is back above level by mid-swing: pelvic
    obliquity spans ~4-8 deg peak to peak over the stride (Kadaba et al. 1990; Perry &
    Burnfield 2010). The detector works on the same per-step swing measures as the gait
    hip-hike detector (:class:`analysis.hiphike.results.StepObliquity`, mid-swing mean
    relative to the stride mean, so a constant frontal offset contributes nothing) and
    compares each swing with this person's own strides. A swing is *dropped* when BOTH

    - its depth (mid-swing below the stride mean) exceeds the person's usual depth by
      ``depth_excess_deg``, and
    - its side is lower in its swing than the other side in its swing, beyond the
      person's usual asymmetry, by ``asymmetry_deg``.

    The second criterion gives the side (an exaggerated drop of one side also deepens
    the other side's measure, through the stride mean); the first keeps a hip-hike of
    the OTHER side - which makes this side look lower by comparison - from being read as
    a drop (its depth falls below the usual instead). An episode is ``min_strides``
    consecutive dropped swings of one side (``max_missed_strides`` bridged).

    On real lower-back data the mid-swing mean is not below the stride mean (healthy HAPT
    and mobgap people: median depth -3.5 to +1.2 deg per session; the swing side is
    already rising in mid-swing, as in the Kadaba curves), which is why the reference is
    the person's own running median and not a fixed normal depth.

    The person's usual swing is learnt from normal strides only (not a dropped one, not
    while a run is open), so a long drop does not become its own reference; when the
    session starts with the drop, the clipped baselines below still let it through.

    Chosen leave-one-person-out on the 15 healthy HAPT people (``bench/tune_drop.py``:
    every flag there is false) over depth 1.5/2.0/2.5 x asymmetry 0.5/0.8 x strides
    4/6/8 x asymmetry clip 0.3/0.5 x depth clip 3/4, among the settings that find every
    simulated drop (36, end to end on random mounts: slow rehab gait 78-84 steps/min with
    stride CV ~5-6 %, 6-7 deg extra drop - each side in turn, one side through most of
    the walking, one side from the first stride) and flag < 3 s in the simulated hike
    and turn sessions; ties go to the stricter setting. 10 of the 72 settings were
    feasible; every fold chose the defaults below; held out: 1 flag in 0.96 h of healthy
    walking (1.0/h), none on mobgap_lab. (On 28 further simulated drops with other
    seeds, 6 strides found 27 - missing a drop from the very first stride while the
    baseline was still learnt - and 4 strides all 28, with the same held-out flags.)

    Attributes
    ----------
    depth_excess_deg : float
        Depth beyond the person's usual (median) depth, deg. The simulated 6-7 deg extra
        drop gives 3-4 deg; 95 % of healthy HAPT strides stay within ~2.5 deg of their
        median (one side of a 5-95 % spread of ~3-5 deg). 2.5 deg.
    asymmetry_deg : float
        This swing's depth minus the other side's, halved (the hike detector's stride
        asymmetry with the opposite sign), beyond the person's usual, deg. The simulated
        drops give ~1.2 deg (0.3-2.0); healthy strides 0 +- ~1.2 deg (HAPT). 0.5 deg.
    baseline_strides : int
        Recent normal strides (two swings each) whose medians are the person's usual
        depth and asymmetry (as the hike detector's 200, ~3-4 min of walking).
    baseline_min_strides : int
        Strides needed before anything is flagged (the usual depth must be known).
    max_baseline_asymmetry_deg : float
        The usual asymmetry is clipped to +-this (per-session medians of healthy HAPT
        people: up to +-0.7 deg). 0.3 deg: a drop from the first stride (asymmetry ~1.2)
        still counts.
    max_baseline_depth_deg : float
        The usual depth is clipped to +-this (healthy HAPT medians -3.5 to +1.2 deg, the
        simulator's normal gait 2.8), so a person dropping from the first stride is still
        flagged. 3 deg.
    min_strides : int
        Consecutive dropped swings of one side for an episode: a compensation pattern is
        consistent, a kerb or a stumble is not. 6 (~9 s of slow walking).
    max_missed_strides : int
        Swings of that side below the criteria a run bridges (not counted). 2: slow
        irregular gait (stride CV 5-6 %) scatters the per-swing measure.
    """

    depth_excess_deg: float = 2.5
    asymmetry_deg: float = 0.5
    baseline_strides: int = 200
    baseline_min_strides: int = 10
    max_baseline_asymmetry_deg: float = 0.3
    max_baseline_depth_deg: float = 3.0
    min_strides: int = 6
    max_missed_strides: int = 2

    def __post_init__(self) -> None:
        for name in (
            "depth_excess_deg",
            "asymmetry_deg",
            "max_baseline_asymmetry_deg",
            "max_baseline_depth_deg",
        ):
            if not getattr(self, name) >= 0:
                raise ValueError(f"{name} must not be negative; got {getattr(self, name)}.")
        for name, least in (
            ("baseline_strides", 1),
            ("baseline_min_strides", 1),
            ("min_strides", 1),
            ("max_missed_strides", 0),
        ):
            value = getattr(self, name)
            if int(value) != value or value < least:
                raise ValueError(f"{name} must be a whole number >= {least}; got {value}.")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> PelvicDropParams:
        """Parameters from a (partial) dict, e.g. parsed CLI options; the rest default.

        Raises
        ------
        ValueError
            For a key that is not a parameter, or a value out of range.
        """
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(
                f"unknown pelvic-drop parameter(s) {', '.join(unknown)}; "
                f"known: {', '.join(sorted(known))}."
            )
        ints = {"baseline_strides", "baseline_min_strides", "min_strides", "max_missed_strides"}
        kwargs: dict[str, Any] = {k: int(v) if k in ints else float(v) for k, v in values.items()}
        return cls(**kwargs)
