"""Scripted sessions for the simulator: a list of phases a person goes through.

Example
-------
>>> from simulator.scenario import Scenario, Stand, Walk, Sit, Turn
>>> s = Scenario([Stand(8), Walk(20, turns=(Turn(at_s=10, angle_deg=180),)), Sit(30)])

Postures of different kinds (standing/walking, sitting, lying) are joined by
automatically inserted transitions (sit-to-stand, stand-to-sit, lying down, getting
up) of ``Scenario.transition_s`` seconds, labelled ``"transition"``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Side = Literal["left", "right"]


@dataclass(frozen=True)
class Turn:
    """A change of walking direction inside a :class:`Walk`.

    Parameters
    ----------
    at_s : float
        Start of the turn, seconds after the start of the walk.
    angle_deg : float
        Heading change; positive turns left (counter-clockwise seen from above).
    duration_s : float
        Duration of the turn. Walking speed drops to 70 % around it.
    """

    at_s: float
    angle_deg: float
    duration_s: float = 3.0


@dataclass(frozen=True)
class Stand:
    """Quiet standing.

    Parameters
    ----------
    duration_s : float
        Duration of the phase.
    tilt_deg : float
        Anterior pelvic tilt relative to the neutral standing posture.
    lateral_deg : float
        Lateral pelvic tilt (obliquity) held in this phase; positive = left side up.
        A non-zero value is a static hip-hike (side = the raised side).
    sway_deg : float
        Amplitude of the slow postural sway of both angles.
    """

    duration_s: float
    tilt_deg: float = 0.0
    lateral_deg: float = 0.0
    sway_deg: float = 0.3


@dataclass(frozen=True)
class Sit:
    """Sitting; the pelvis rotates backwards (posterior tilt) relative to standing."""

    duration_s: float
    tilt_deg: float = -15.0
    lateral_deg: float = 0.0
    sway_deg: float = 0.2


@dataclass(frozen=True)
class Lie:
    """Lying supine (``tilt_deg`` -90: the anterior axis points up)."""

    duration_s: float
    tilt_deg: float = -90.0
    lateral_deg: float = 0.0
    sway_deg: float = 0.1


@dataclass(frozen=True)
class Walk:
    """Walking, with physiological pelvis kinematics phase-locked to the steps.

    Parameters
    ----------
    duration_s : float
        Duration, including 1 s of gait initiation at the start when coming from rest
        and 1 s of gait termination at the end when followed by rest.
    cadence_spm : float
        Steps per minute.
    speed_mps : float
        Walking speed.
    turns : tuple of Turn
        Changes of direction.
    hike_side : {"left", "right"} or None
        Gait hip-hiking: the pelvis on this side rises during its swing phase instead
        of dropping.
    hike_deg : float
        Elevation of the hiking side above level at mid-swing.
    drop_side : {"left", "right"} or None
        Excessive contralateral pelvic drop (Trendelenburg gait: weak hip abductors of
        the stance leg): the pelvis on this side drops further than normal during its
        own swing phase. The side is the side that DROPS (the swing side).
    drop_deg : float
        Extra drop of that side below the normal pattern at mid-swing, deg.
    stride_cv : float
        Extra stride-to-stride irregularity (slow rehab gait with a cane): each half
        stride's timing is jittered at random (independent of the slow modulation every
        walk has: stride CV ~2 % at 105 steps/min, ~4 % at 80), the two adding in
        quadrature: 0.035 at 80 steps/min gives a stride CV of ~5-5.5 %. 0 (default)
        leaves the gait exactly as before.
    obliquity_amp_deg, tilt_amp_deg, rotation_amp_deg : float
        Amplitudes of the normal pelvic obliquity (swing side drops), anterior tilt
        (two cycles per stride) and transverse rotation patterns.
    tilt_deg : float
        Mean anterior tilt while walking relative to neutral standing.
    """

    duration_s: float
    cadence_spm: float = 105.0
    speed_mps: float = 1.25
    turns: tuple[Turn, ...] = ()
    hike_side: Side | None = None
    hike_deg: float = 5.0
    drop_side: Side | None = None
    drop_deg: float = 6.5
    stride_cv: float = 0.0
    obliquity_amp_deg: float = 3.5
    tilt_amp_deg: float = 1.5
    rotation_amp_deg: float = 4.0
    tilt_deg: float = 1.0


Phase = Stand | Sit | Lie | Walk


def posture_of(phase: Phase) -> str:
    """Posture family of a phase: ``"upright"``, ``"sitting"`` or ``"lying"``."""
    if isinstance(phase, Sit):
        return "sitting"
    if isinstance(phase, Lie):
        return "lying"
    return "upright"


def activity_of(phase: Phase) -> str:
    """Activity label (DESIGN section 3) of a phase."""
    return {Stand: "standing", Sit: "sitting", Lie: "lying", Walk: "walking"}[type(phase)]


@dataclass(frozen=True)
class Scenario:
    """A session script.

    Parameters
    ----------
    phases : list of Phase
        What the person does, in order.
    transition_s : float
        Duration of each inserted posture transition (sit-to-stand etc.).
    """

    phases: list[Phase] = field(default_factory=list)
    transition_s: float = 2.5

    def __post_init__(self) -> None:
        if not self.phases:
            raise ValueError("a scenario needs at least one phase")
        for i, phase in enumerate(self.phases):
            if phase.duration_s <= 0:
                raise ValueError(f"phase {i} ({type(phase).__name__}) has no duration")
            if isinstance(phase, Walk):
                if not 40 <= phase.cadence_spm <= 160:
                    raise ValueError(f"phase {i}: cadence {phase.cadence_spm} spm is implausible")
                if not 0.0 <= phase.stride_cv <= 0.1:
                    raise ValueError(
                        f"phase {i}: stride_cv {phase.stride_cv} must be between 0 and 0.1"
                    )
                if phase.drop_side is not None and phase.hike_side == phase.drop_side:
                    raise ValueError(f"phase {i}: one side cannot both hike and drop")
                for turn in phase.turns:
                    if turn.at_s < 1.5 or turn.at_s + turn.duration_s > phase.duration_s - 1.5:
                        raise ValueError(
                            f"phase {i}: a turn must start >= 1.5 s after the walk starts and "
                            "end >= 1.5 s before it ends"
                        )

    @property
    def duration_s(self) -> float:
        """Total duration including the inserted transitions."""
        total = sum(p.duration_s for p in self.phases)
        for a, b in zip(self.phases, self.phases[1:], strict=False):
            if posture_of(a) != posture_of(b):
                total += self.transition_s
        return total
