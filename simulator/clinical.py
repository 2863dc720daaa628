"""Scripted clinical sessions with ground truth: guided tests and exercises.

A :class:`ClinicalScript` mixes the ordinary phases (:class:`~simulator.scenario.Stand`,
:class:`~simulator.scenario.Sit`, :class:`~simulator.scenario.Walk`) with the clinical
items below. It is compiled on top of :class:`~simulator.trajectory.PelvisTrajectory`
(same channels, same physics), adding a medio-lateral pelvis shift and foot touch-down
impacts, which the ordinary phases do not need.

Example
-------
>>> from simulator.clinical import ClinicalScript, SingleLegStance, simulate_clinical
>>> from simulator.scenario import Stand
>>> s = simulate_clinical(ClinicalScript([Stand(6), SingleLegStance("right", 12, 4.0)]))
>>> s.items[0]["hold_s"]
12.0
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.spatial.transform import Rotation

from recordings.data import Recording
from simulator.imu import ImuErrors, corrupt, packet_mask, sample_instants_s
from simulator.scenario import Lie, Phase, Scenario, Side, Sit, Stand, Walk, activity_of, posture_of
from simulator.session import SimulatedSession, Truth, _as_rotation, _gaps, _wxyz, ideal_imu
from simulator.smooth import FloatArray, SmoothSteps
from simulator.trajectory import (
    SIT_BACK_M,
    SIT_HEIGHT_M,
    DropTruth,
    HikeTruth,
    PelvisTrajectory,
    Segment,
    _impact_position,
    _transition,
)


@dataclass(frozen=True)
class SingleLegStance:
    """A single-leg stance (Trendelenburg test) from quiet standing.

    Parameters
    ----------
    side : {"left", "right"}
        The stance leg; the other foot is lifted.
    hold_s : float
        Time from foot-off to touch-down.
    drop_deg : float
        Drop of the UNSUPPORTED side relative to the standing before (+ = lower; a
        negative value is the normal response, the unsupported side raised).
    shift_s : float
        Weight shift onto the stance leg before the foot leaves the ground.
    shift_m : float
        Medio-lateral pelvis shift towards the stance side.
    sway_deg : float
        Postural sway while on one leg (larger than in double stance).
    stand_after_s : float
        Quiet standing after touch-down.
    """

    side: Side
    hold_s: float
    drop_deg: float = 0.0
    shift_s: float = 0.6
    shift_m: float = 0.04
    sway_deg: float = 0.6
    stand_after_s: float = 4.0

    @property
    def duration_s(self) -> float:
        """Total duration of the item."""
        return self.shift_s + self.hold_s + self.stand_after_s


@dataclass(frozen=True)
class SitToStandSet:
    """Repeated rises from a chair (five-times sit-to-stand), starting seated.

    Parameters
    ----------
    rep_s : tuple of float
        Time from one rise's start to the next one's (the last: its rise plus the
        sitting-down a next repetition would need). One rise per value.
    shift_side : {"left", "right"} or None
        Side the person favours while rising: the pelvis shifts towards it and the
        other side rises (the favoured side is loaded).
    shift_deg : float
        Obliquity during the rise (the unloaded side higher).
    lean_deg : float
        Peak forward lean of the pelvis during each rise, relative to standing.
    stand_after_s : float
        Standing after the last rise.
    """

    rep_s: tuple[float, ...] = (2.5, 2.5, 2.5, 2.5, 2.5)
    shift_side: Side | None = None
    shift_deg: float = 0.0
    lean_deg: float = 20.0
    stand_after_s: float = 4.0

    @property
    def duration_s(self) -> float:
        """Total duration of the item."""
        return sum(self.rep_s[:-1]) + _rise_s(self.rep_s[-1]) + self.stand_after_s


@dataclass(frozen=True)
class TiltSet:
    """Pelvic tilt control while standing: tilt to each target, hold, return.

    Parameters
    ----------
    targets_deg : tuple of float
        Anterior tilt of each hold (+ forward, - backward), relative to neutral.
    hold_s : tuple of float
        Hold duration at each target (same length as ``targets_deg``).
    move_s : float
        Time to move to a target and back.
    rest_s : float
        Neutral standing between holds.
    """

    targets_deg: tuple[float, ...]
    hold_s: tuple[float, ...]
    move_s: float = 1.5
    rest_s: float = 2.0
    sway_deg: float = 0.3

    @property
    def duration_s(self) -> float:
        """Total duration of the item."""
        return sum(2 * self.move_s + h + self.rest_s for h in self.hold_s)


Item = Phase | SingleLegStance | SitToStandSet | TiltSet


def _rise_s(cycle_s: float) -> float:
    return float(np.clip(0.4 * cycle_s, 0.8, 2.0))


@dataclass(frozen=True)
class ClinicalScript:
    """A clinical session: ordinary phases and clinical items in order.

    Parameters
    ----------
    items : list
        :class:`Stand`, :class:`Sit`, :class:`Walk`, :class:`SingleLegStance`,
        :class:`SitToStandSet` or :class:`TiltSet`. A sit-to-stand set starts seated
        (a transition to sitting is inserted if needed); the others start upright.
    transition_s : float
        Duration of the inserted posture transitions.
    """

    items: list[Item] = field(default_factory=list)
    transition_s: float = 2.5

    def __post_init__(self) -> None:
        if not self.items:
            raise ValueError("a clinical script needs at least one item")
        for i, item in enumerate(self.items):
            if isinstance(item, SitToStandSet) and (
                not item.rep_s or min(item.rep_s) < 1.8
            ):
                raise ValueError(f"item {i}: each repetition needs >= 1.8 s")
            if isinstance(item, TiltSet) and len(item.targets_deg) != len(item.hold_s):
                raise ValueError(f"item {i}: one hold time per target")
            if isinstance(item, SingleLegStance) and item.hold_s <= 0:
                raise ValueError(f"item {i}: hold_s must be positive")


_UPRIGHT = Stand(1.0)
_SEATED = Sit(1.0)


def _posture(item: Item) -> str:
    if isinstance(item, SitToStandSet):
        return "sitting"  # where it starts
    if isinstance(item, SingleLegStance | TiltSet):
        return "upright"
    return posture_of(item)


class ClinicalTrajectory(PelvisTrajectory):
    """Pelvis trajectory of a :class:`ClinicalScript` (see :class:`PelvisTrajectory`)."""

    def __init__(self, script: ClinicalScript, seed: int = 0) -> None:
        self.script = script
        self._ml_m = SmoothSteps()
        self._touchdown_s: list[float] = []
        #: Ground truth of each clinical item (dicts, session time).
        self.items: list[dict[str, Any]] = []
        first = script.items[0]
        base = first if isinstance(first, Stand | Sit | Lie | Walk) else (
            _SEATED if isinstance(first, SitToStandSet) else _UPRIGHT
        )
        # The base class reads the ordinary phases only for their walking options (stride
        # timing jitter); the clinical items are compiled by _compile below.
        plain = [it for it in script.items if isinstance(it, Stand | Sit | Lie | Walk)]
        super().__init__(Scenario(plain or [base]), seed=seed)

    # ------------------------------------------------------------------ compile
    def _compile(self) -> None:
        ch, sc = self._ch, self.script
        first = sc.items[0]
        start_phase: Phase = (
            first if isinstance(first, Stand | Sit | Lie | Walk)
            else (_SEATED if _posture(first) == "sitting" else _UPRIGHT)
        )
        if not isinstance(start_phase, Walk):
            ch.tilt_deg.initial = start_phase.tilt_deg
            ch.lateral_deg.initial = start_phase.lateral_deg
            ch.sway_deg.initial = start_phase.sway_deg
        if posture_of(start_phase) == "sitting":
            ch.height_m.initial, ch.back_m.initial = SIT_HEIGHT_M, SIT_BACK_M
        t = 0.0
        prev: Phase | None = None
        for i, item in enumerate(sc.items):
            target = item if isinstance(item, Stand | Sit | Lie | Walk) else (
                _SEATED if _posture(item) == "sitting" else _UPRIGHT
            )
            if prev is not None and posture_of(prev) != posture_of(target):
                _transition(ch, prev, target, t, sc.transition_s)
                self.segments.append(Segment("transition", t, t + sc.transition_s, -1))
                t += sc.transition_s
            if isinstance(item, Stand | Sit | Lie | Walk):
                if prev is not None and not isinstance(item, Walk) and (
                    posture_of(prev) == posture_of(item)
                ):
                    ch.tilt_deg.ramp_to(item.tilt_deg, t, 1.0)
                    ch.lateral_deg.ramp_to(item.lateral_deg, t, 1.0)
                    ch.sway_deg.ramp_to(item.sway_deg, t, 1.0)
                if isinstance(item, Walk):
                    nxt = sc.items[i + 1] if i + 1 < len(sc.items) else None
                    self._program_walk(item, nxt if isinstance(nxt, Walk) else None, t)
                self.segments.append(Segment(activity_of(item), t, t + item.duration_s, i))
                end = t + item.duration_s
                if isinstance(item, Walk) and item.hike_side is not None:
                    self.hikes.append(HikeTruth(item.hike_side, "gait", "walking", t, end))
                if isinstance(item, Walk) and item.drop_side is not None:
                    self.drops.append(DropTruth(item.drop_side, t, end))
                t = end
                prev = item
            elif isinstance(item, SingleLegStance):
                t = self._sls(item, i, t)
                prev = _UPRIGHT
            elif isinstance(item, SitToStandSet):
                t = self._sts(item, i, t)
                prev = _UPRIGHT
            else:
                t = self._tilt_set(item, i, t)
                prev = _UPRIGHT

    def _sls(self, s: SingleLegStance, i: int, t: float) -> float:
        ch = self._ch
        sign_ml = -1.0 if s.side == "right" else 1.0  # towards the stance side (y = left)
        level = ch.lateral_deg.last_level
        # The unsupported side drops: stance right -> left side lower -> lateral decreases.
        held = level - s.drop_deg if s.side == "right" else level + s.drop_deg
        calm = ch.sway_deg.last_level
        self._ml_m.ramp_to(sign_ml * s.shift_m, t, s.shift_s)
        ch.lateral_deg.ramp_to(held, t, s.shift_s)
        ch.sway_deg.ramp_to(s.sway_deg, t, s.shift_s)
        lift = t + s.shift_s
        down = lift + s.hold_s
        self._ml_m.ramp_to(0.0, down, 0.5)
        ch.lateral_deg.ramp_to(level, down, 0.4)
        ch.sway_deg.ramp_to(calm, down, 0.5)
        self._touchdown_s.append(down)
        end = down + s.stand_after_s
        self.segments.append(Segment("standing", t, end, i))
        self.items.append({"kind": "sls", "index": i, "side": s.side, "start_s": t,
                           "lift_s": lift, "touchdown_s": down, "hold_s": float(s.hold_s),
                           "scripted_drop_deg": float(s.drop_deg), "end_s": end})
        return end

    def _sts(self, s: SitToStandSet, i: int, t: float) -> float:
        ch = self._ch
        sit_tilt = ch.tilt_deg.last_level
        level = ch.lateral_deg.last_level
        sign = {"right": 1.0, "left": -1.0, None: 0.0}[s.shift_side]  # favour right: left up
        reps = []
        r0 = t
        for k, cycle in enumerate(s.rep_s):
            rise = _rise_s(cycle)
            ch.tilt_deg.ramp_to(s.lean_deg, r0, 0.45 * rise)
            ch.tilt_deg.ramp_to(0.0, r0 + 0.45 * rise, 0.55 * rise)
            ch.height_m.ramp_to(0.0, r0 + 0.3 * rise, 0.7 * rise)
            ch.back_m.ramp_to(0.0, r0, rise)
            if sign:
                ch.lateral_deg.ramp_to(level + sign * s.shift_deg, r0 + 0.1 * rise, 0.3 * rise)
                ch.lateral_deg.ramp_to(level, r0 + 0.7 * rise, 0.3 * rise)
                self._ml_m.ramp_to(-sign * 0.04, r0 + 0.1 * rise, 0.3 * rise)
                self._ml_m.ramp_to(0.0, r0 + 0.7 * rise, 0.3 * rise)
            self.segments.append(Segment("transition", r0, r0 + rise, i))
            reps.append({"rise_start_s": r0, "stand_s": r0 + rise})
            if k == len(s.rep_s) - 1:
                break
            down = rise
            pause = (cycle - rise - down) / 2
            d0 = r0 + rise + pause
            self.segments.append(Segment("standing", r0 + rise, d0, i))
            ch.tilt_deg.ramp_to(15.0, d0, 0.4 * down)
            ch.tilt_deg.ramp_to(sit_tilt, d0 + 0.4 * down, 0.6 * down)
            ch.height_m.ramp_to(SIT_HEIGHT_M, d0 + 0.2 * down, 0.8 * down)
            ch.back_m.ramp_to(SIT_BACK_M, d0, down)
            self.segments.append(Segment("transition", d0, d0 + down, i))
            self.segments.append(Segment("sitting", d0 + down, r0 + cycle, i))
            r0 += cycle
        end = reps[-1]["stand_s"] + s.stand_after_s
        self.segments.append(Segment("standing", reps[-1]["stand_s"], end, i))
        self.items.append({
            "kind": "sts", "index": i, "start_s": t, "end_s": end, "reps": reps,
            "total_s": reps[-1]["stand_s"] - reps[0]["rise_start_s"],
            "shift_side": s.shift_side, "scripted_shift_deg": float(s.shift_deg),
        })
        return end

    def _tilt_set(self, s: TiltSet, i: int, t: float) -> float:
        ch = self._ch
        ch.sway_deg.ramp_to(s.sway_deg, t, 0.5)
        holds = []
        c = t
        for target, hold in zip(s.targets_deg, s.hold_s, strict=True):
            ch.tilt_deg.ramp_to(target, c, s.move_s)
            ch.tilt_deg.ramp_to(0.0, c + s.move_s + hold, s.move_s)
            holds.append({"target_deg": float(target), "start_s": c + s.move_s,
                          "end_s": c + s.move_s + hold})
            c += 2 * s.move_s + hold + s.rest_s
        self.segments.append(Segment("standing", t, c, i))
        self.items.append({"kind": "tilt", "index": i, "start_s": t, "end_s": c,
                           "holds": holds})
        return c

    # --------------------------------------------------------------- kinematics
    def _local_offset_m(self, t_s: FloatArray) -> FloatArray:
        out = super()._local_offset_m(t_s)
        out[:, 1] += self._ml_m.value(t_s)
        if self._touchdown_s:
            out[:, 2] += _impact_position(t_s, np.asarray(self._touchdown_s) + 0.03, 2.0)
        return out


@dataclass
class ClinicalSession(SimulatedSession):
    """A simulated clinical session: recording, per-sample truth and per-item truth.

    ``items`` holds one dict per clinical item with its true times; single-leg stances
    carry ``drop_deg`` and sit-to-stand sets ``shift_deg`` measured on the TRUE lateral
    tilt (the scripted value plus the sway that happened), and tilt sets the true
    in-band spans of each hold.
    """

    items: list[dict[str, Any]] = field(default_factory=list)


def simulate_clinical(
    script: ClinicalScript,
    *,
    rate_hz: float = 100.0,
    mount: Rotation | NDArray[np.float64] | tuple[float, ...] | None = None,
    errors: ImuErrors | None = None,
    seed: int = 0,
) -> ClinicalSession:
    """Simulate a clinical session (parameters as :func:`simulator.session.simulate`)."""
    if rate_hz <= 0:
        raise ValueError(f"rate_hz must be positive, got {rate_hz}")
    errors = ImuErrors() if errors is None else errors
    rng = np.random.default_rng(seed)
    mount_rot = _as_rotation(mount)
    traj = ClinicalTrajectory(script, seed=seed)
    n = int(np.floor(traj.duration_s * rate_hz * (1 + errors.rate_error_ppm * 1e-6)))
    device_time_s, true_time_s = sample_instants_s(n, rate_hz, errors, rng)
    true_time_s = np.minimum(true_time_s, traj.duration_s)
    acc, gyr, r_pelvis = ideal_imu(traj, true_time_s, mount_rot)
    acc, gyr, biases = corrupt(acc, gyr, rate_hz, errors, rng)
    keep = packet_mask(n, errors, rng)
    up_p = r_pelvis[keep][:, 2, :]
    anterior = np.degrees(np.arctan2(-up_p[:, 0], up_p[:, 2]))
    lateral = np.degrees(np.arcsin(np.clip(up_p[:, 1], -1.0, 1.0)))
    t_true = true_time_s[keep]
    pelvis_rot = Rotation.from_matrix(r_pelvis[keep])
    truth = Truth(
        time_s=t_true,
        anterior_tilt_deg=anterior,
        lateral_tilt_deg=lateral,
        activity=traj.activity(t_true),
        quat_wxyz_pelvis=_wxyz(pelvis_rot),
        quat_wxyz_sensor=_wxyz(pelvis_rot * mount_rot),
        mount_quat_wxyz=_wxyz(mount_rot),
        initial_contact_s=traj.initial_contacts_s,
        initial_contact_side=traj.initial_contact_sides,
        segments=[{"activity": s.activity, "start_s": s.start_s, "end_s": s.end_s}
                  for s in traj.segments],
        sensor_biases=biases,
        device_clock_scale=1.0 + errors.rate_error_ppm * 1e-6,
    )
    recording = Recording(
        time_s=device_time_s[keep],
        acc_mps2=acc[keep],
        gyr_rps=gyr[keep],
        rate_hz=float(rate_hz),
        device_time_s=device_time_s[keep],
        gaps=_gaps(device_time_s, keep),
        meta={
            "device": "pelviscope simulator",
            "profile": "simulated",
            "firmware": "sim-1",
            "rate_hz": float(rate_hz),
            "ranges": {"acc_mps2": errors.acc_range_mps2, "gyr_rps": errors.gyr_range_rps},
            "timing": "device_clock",
            "simulated": {"seed": seed, "mount_quat_wxyz": _wxyz(mount_rot).tolist(),
                          "clinical": True},
        },
    )
    items = [_measure_item(dict(it), t_true, anterior, lateral) for it in traj.items]
    return ClinicalSession(recording=recording, truth=truth, trajectory=traj, items=items)


def _median(t: FloatArray, x: FloatArray, a: float, b: float) -> float:
    sel = (t >= a) & (t <= b)
    return float(np.median(x[sel])) if sel.any() else float("nan")


def _measure_item(
    item: dict[str, Any], t: FloatArray, anterior: FloatArray, lateral: FloatArray
) -> dict[str, Any]:
    """Add the truth measured on the true angles to an item."""
    if item["kind"] == "sls":
        base = _median(t, lateral, item["start_s"] - 1.0, item["start_s"])
        held = _median(t, lateral, item["lift_s"], item["touchdown_s"])
        item["drop_deg"] = (base - held) * (1.0 if item["side"] == "right" else -1.0)
    elif item["kind"] == "sts":
        base = _median(t, lateral, item["start_s"] - 1.0, item["start_s"])
        for rep in item["reps"]:
            sel = (t >= rep["rise_start_s"]) & (t <= rep["stand_s"])
            dev = lateral[sel] - base
            rep["shift_deg"] = float(dev[np.argmax(np.abs(dev))]) if sel.any() else 0.0
    elif item["kind"] == "tilt":
        for hold in item["holds"]:
            sel = (t >= hold["start_s"]) & (t <= hold["end_s"])
            hold["mean_deg"] = float(anterior[sel].mean()) if sel.any() else float("nan")
    return item


def standard_session(*, seed: int = 0) -> ClinicalScript:
    """A whole guided session: calibration, standing, both single-leg stances, 5xSTS, walk.

    The left stance shows a clear drop (positive Trendelenburg), the right one is
    normal; the person favours the right leg when rising.
    """
    rng = np.random.default_rng(seed)
    reps = tuple(float(v) for v in np.round(rng.uniform(2.0, 3.0, 5), 2))
    return ClinicalScript([
        Stand(6), Walk(14, cadence_spm=108), Stand(34, sway_deg=0.3),
        SingleLegStance("left", 18.0, drop_deg=5.0),
        SingleLegStance("right", 30.0, drop_deg=-1.0),
        Sit(5), SitToStandSet(reps, shift_side="right", shift_deg=4.0),
        Walk(20, cadence_spm=106), Stand(4),
    ])


def demo_script(kind: str, side: str = "right") -> ClinicalScript:
    """A short scripted execution of one test or exercise (for the emulated clinic screen).

    ``kind`` is a test or exercise name of :mod:`analysis.clinical` (``"sls"``, ``"sts"``,
    ``"standing"``, ``"walk"``, ``"tilt_control"``, ``"level_balance"``,
    ``"sts_no_shift"``, ``"level_walking"``); ``side`` the stance side of one-leg items.
    """
    leg: Side = "left" if side == "left" else "right"
    scripts: dict[str, list[Item]] = {
        "standing": [Stand(36)],
        "sls": [Stand(5), SingleLegStance(leg, 14.0, drop_deg=4.0)],
        "level_balance": [Stand(5), SingleLegStance(leg, 20.0, drop_deg=1.0, sway_deg=0.9)],
        "sts": [Sit(5), SitToStandSet((2.4, 2.6, 2.5, 2.8, 2.4), "right", 4.0)],
        "sts_no_shift": [Sit(5), SitToStandSet((2.4, 2.6, 2.5, 2.8, 2.4))],
        "walk": [Stand(4), Walk(24, cadence_spm=104), Stand(4)],
        "tilt_control": [Stand(5), TiltSet((8.0, -8.0, 8.0, -8.0, 8.0, -8.0), (4.0,) * 6)],
        "level_walking": [Stand(4), Walk(40, cadence_spm=100, hike_side=leg, hike_deg=6.0),
                          Stand(4)],
    }
    if kind not in scripts:
        raise ValueError(f"no demo for {kind!r}: use one of {', '.join(scripts)}")
    return ClinicalScript(scripts[kind])
