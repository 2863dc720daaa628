"""Pelvis trajectory (orientation and position) of a scripted session.

The scenario is compiled into smooth channels (posture angles, height, speed,
cadence, heading, gait and hip-hike envelopes). Orientation and position are closed-form
functions of time built from them, so they can be evaluated at any instant, and their
derivatives (angular velocity, acceleration) come from central differences of those
functions: the IMU signals are consistent with the trajectory by construction.

Pelvis orientation (pelvis frame P -> earth, z up) is the rotation-obliquity-tilt
sequence of DESIGN section 2: ``R = Rz(heading + rotation) Rx(obliquity) Ry(tilt)``, so
the anterior tilt is the ``Ry`` angle and the lateral tilt the ``Rx`` angle.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.interpolate import CubicSpline

from recordings.units import G_MPS2
from simulator.scenario import (
    Lie,
    Phase,
    Scenario,
    Sit,
    Stand,
    Walk,
    activity_of,
    posture_of,
)
from simulator.smooth import FloatArray, SmoothSteps

#: Standard gravity (:data:`recordings.units.G_MPS2`).
GRAVITY_MPS2 = G_MPS2

RAMP_S = 1.0  # duration of posture / gait-envelope ramps inside a phase
SIT_HEIGHT_M = -0.42  # pelvis height change from standing to sitting
LIE_HEIGHT_M = -0.75
SIT_BACK_M = -0.15  # pelvis moves backwards when sitting down
_FD_H_S = 5e-4  # step for central differences


@dataclass(frozen=True)
class Segment:
    """A labelled span of the session (truth)."""

    activity: str
    start_s: float
    end_s: float
    phase_index: int  # index in Scenario.phases, -1 for an inserted transition


@dataclass(frozen=True)
class HikeTruth:
    """A hip-hike episode of the script."""

    side: str
    kind: str  # "static" | "gait"
    activity: str
    start_s: float
    end_s: float


@dataclass(frozen=True)
class DropTruth:
    """An excessive pelvic drop (Trendelenburg) walk of the script; ``side`` drops."""

    side: str
    start_s: float
    end_s: float


#: Seed offset of the stride-irregularity draws (their own generator, so that sessions
#: without irregularity keep every other random draw as before).
_IRREGULAR_SEED = 0x6A17


@dataclass
class _Channels:
    tilt_deg: SmoothSteps = field(default_factory=SmoothSteps)
    lateral_deg: SmoothSteps = field(default_factory=SmoothSteps)
    height_m: SmoothSteps = field(default_factory=SmoothSteps)
    back_m: SmoothSteps = field(default_factory=SmoothSteps)
    speed_mps: SmoothSteps = field(default_factory=SmoothSteps)
    cadence_sps: SmoothSteps = field(default_factory=lambda: SmoothSteps(105.0 / 120.0))
    heading_deg: SmoothSteps = field(default_factory=SmoothSteps)
    gait: SmoothSteps = field(default_factory=SmoothSteps)
    hike_left: SmoothSteps = field(default_factory=SmoothSteps)
    hike_right: SmoothSteps = field(default_factory=SmoothSteps)
    sway_deg: SmoothSteps = field(default_factory=lambda: SmoothSteps(0.3))
    obl_amp_deg: SmoothSteps = field(default_factory=lambda: SmoothSteps(3.5))
    tilt_amp_deg: SmoothSteps = field(default_factory=lambda: SmoothSteps(1.5))
    rot_amp_deg: SmoothSteps = field(default_factory=lambda: SmoothSteps(4.0))
    hike_deg: SmoothSteps = field(default_factory=lambda: SmoothSteps(5.0))
    drop_left: SmoothSteps = field(default_factory=SmoothSteps)
    drop_right: SmoothSteps = field(default_factory=SmoothSteps)
    drop_deg: SmoothSteps = field(default_factory=lambda: SmoothSteps(6.5))
    irregular: SmoothSteps = field(default_factory=SmoothSteps)


def _transition(ch: _Channels, a: Phase, b: Phase, t0: float, dur: float) -> None:
    """Program the posture change from phase ``a`` to phase ``b`` over ``[t0, t0 + dur]``."""
    pa, pb = posture_of(a), posture_of(b)
    tilt_b = b.tilt_deg if not isinstance(b, Walk) else 0.0
    height = {"upright": 0.0, "sitting": SIT_HEIGHT_M, "lying": LIE_HEIGHT_M}
    back = {"upright": 0.0, "sitting": SIT_BACK_M, "lying": SIT_BACK_M}
    ch.lateral_deg.ramp_to(0.0, t0, 0.3 * dur)
    if (pa, pb) == ("upright", "sitting"):  # lean forward, then roll back onto the seat
        ch.tilt_deg.ramp_to(15.0, t0, 0.4 * dur)
        ch.tilt_deg.ramp_to(tilt_b, t0 + 0.4 * dur, 0.6 * dur)
        ch.height_m.ramp_to(height[pb], t0 + 0.2 * dur, 0.8 * dur)
    elif (pa, pb) == ("sitting", "upright"):  # lean forward, lift off, extend
        ch.tilt_deg.ramp_to(20.0, t0, 0.45 * dur)
        ch.tilt_deg.ramp_to(tilt_b, t0 + 0.45 * dur, 0.55 * dur)
        ch.height_m.ramp_to(height[pb], t0 + 0.3 * dur, 0.7 * dur)
    else:
        ch.tilt_deg.ramp_to(tilt_b, t0, dur)
        ch.height_m.ramp_to(height[pb], t0, dur)
    ch.back_m.ramp_to(back[pb], t0, dur)
    if isinstance(b, Stand | Sit | Lie):
        ch.lateral_deg.ramp_to(b.lateral_deg, t0 + 0.5 * dur, 0.5 * dur)
        ch.sway_deg.ramp_to(b.sway_deg, t0, dur)


class PelvisTrajectory:
    """Orientation and position of the pelvis for a :class:`Scenario`.

    Parameters
    ----------
    scenario : Scenario
        The script.
    seed : int
        Seed of the person-specific variability (sway, stride-to-stride variation).
    """

    def __init__(self, scenario: Scenario, seed: int = 0) -> None:
        self.scenario = scenario
        rng = np.random.default_rng(seed)
        self._sway_f_hz = rng.uniform(0.05, 0.5, size=(4, 6))
        self._sway_ph = rng.uniform(0, 2 * np.pi, size=(4, 6))
        self._stride_f_hz = rng.uniform(0.03, 0.25, size=5)
        self._stride_ph = rng.uniform(0, 2 * np.pi, size=5)
        self.segments: list[Segment] = []
        self.hikes: list[HikeTruth] = []
        self.drops: list[DropTruth] = []
        self._ch = _Channels()
        self._compile()
        self.duration_s = self.segments[-1].end_s
        self._jitter: CubicSpline | None = None
        if any(isinstance(p, Walk) and p.stride_cv > 0 for p in scenario.phases):
            # Random timing offsets (in strides) at every half stride, smooth in between.
            n = int(self._ch.cadence_sps.integral(np.array([self.duration_s]))[0] * 2) + 8
            knots = np.random.default_rng([seed, _IRREGULAR_SEED]).standard_normal(n)
            self._jitter = CubicSpline(0.5 * np.arange(n) - 2.0, knots)
        self.initial_contacts_s = np.empty(0)
        self.initial_contacts_s, self.initial_contact_sides = self._find_contacts()

    # ------------------------------------------------------------------ compile
    def _compile(self) -> None:
        ch, sc = self._ch, self.scenario
        first = sc.phases[0]
        if not isinstance(first, Walk):
            ch.tilt_deg.initial = first.tilt_deg
            ch.lateral_deg.initial = first.lateral_deg
            ch.sway_deg.initial = first.sway_deg
        p0 = posture_of(first)
        ch.height_m.initial = {"upright": 0.0, "sitting": SIT_HEIGHT_M, "lying": LIE_HEIGHT_M}[p0]
        ch.back_m.initial = 0.0 if p0 == "upright" else SIT_BACK_M
        t = 0.0
        prev: Phase | None = None
        for i, phase in enumerate(sc.phases):
            if prev is not None and posture_of(prev) != posture_of(phase):
                _transition(ch, prev, phase, t, sc.transition_s)
                self.segments.append(Segment("transition", t, t + sc.transition_s, -1))
                t += sc.transition_s
            elif prev is not None and not isinstance(phase, Walk):
                # Same posture family: e.g. standing -> standing with a hip-hike.
                ch.tilt_deg.ramp_to(phase.tilt_deg, t, RAMP_S)
                ch.lateral_deg.ramp_to(phase.lateral_deg, t, RAMP_S)
                ch.sway_deg.ramp_to(phase.sway_deg, t, RAMP_S)
            end = t + phase.duration_s
            if isinstance(phase, Walk):
                nxt = sc.phases[i + 1] if i + 1 < len(sc.phases) else None
                self._program_walk(phase, nxt, t)
            self.segments.append(Segment(activity_of(phase), t, end, i))
            if isinstance(phase, Stand | Sit | Lie) and phase.lateral_deg != 0.0:
                side = "left" if phase.lateral_deg > 0 else "right"
                self.hikes.append(HikeTruth(side, "static", activity_of(phase), t, end))
            if isinstance(phase, Walk) and phase.hike_side is not None:
                self.hikes.append(HikeTruth(phase.hike_side, "gait", "walking", t, end))
            if isinstance(phase, Walk) and phase.drop_side is not None:
                self.drops.append(DropTruth(phase.drop_side, t, end))
            prev = phase
            t = end

    def _program_walk(self, w: Walk, nxt: Phase | None, t0: float) -> None:
        ch = self._ch
        t1 = t0 + w.duration_s
        to_rest = not isinstance(nxt, Walk)
        ch.cadence_sps.ramp_to(w.cadence_spm / 120.0, t0, RAMP_S)
        ch.obl_amp_deg.ramp_to(w.obliquity_amp_deg, t0, RAMP_S)
        ch.tilt_amp_deg.ramp_to(w.tilt_amp_deg, t0, RAMP_S)
        ch.rot_amp_deg.ramp_to(w.rotation_amp_deg, t0, RAMP_S)
        ch.hike_deg.ramp_to(w.hike_deg, t0, RAMP_S)
        ch.tilt_deg.ramp_to(w.tilt_deg, t0, RAMP_S)
        ch.lateral_deg.ramp_to(0.0, t0, RAMP_S)
        ch.sway_deg.ramp_to(0.0, t0, RAMP_S)
        ch.gait.ramp_to(1.0, t0, RAMP_S)
        ch.hike_left.ramp_to(1.0 if w.hike_side == "left" else 0.0, t0, RAMP_S)
        ch.hike_right.ramp_to(1.0 if w.hike_side == "right" else 0.0, t0, RAMP_S)
        ch.drop_deg.ramp_to(w.drop_deg, t0, RAMP_S)
        ch.drop_left.ramp_to(1.0 if w.drop_side == "left" else 0.0, t0, RAMP_S)
        ch.drop_right.ramp_to(1.0 if w.drop_side == "right" else 0.0, t0, RAMP_S)
        # Knots of unit variance at every half stride: a stride (two knot intervals) varies
        # by sqrt(2) times the knot scale, hence stride_cv / sqrt(2).
        ch.irregular.ramp_to(w.stride_cv / np.sqrt(2.0), t0, RAMP_S)
        ch.speed_mps.ramp_to(w.speed_mps, t0, RAMP_S)
        for turn in w.turns:
            ts = t0 + turn.at_s
            ch.speed_mps.ramp_to(0.7 * w.speed_mps, ts - 0.5, 0.5 + 0.25 * turn.duration_s)
            ch.heading_deg.ramp_to(ch.heading_deg.last_level + turn.angle_deg, ts, turn.duration_s)
            ch.speed_mps.ramp_to(
                w.speed_mps, ts + 0.75 * turn.duration_s, 0.5 + 0.25 * turn.duration_s
            )
        if to_rest:
            for c in (
                ch.gait,
                ch.speed_mps,
                ch.hike_left,
                ch.hike_right,
                ch.drop_left,
                ch.drop_right,
            ):
                c.ramp_to(0.0, t1 - RAMP_S, RAMP_S)

    # --------------------------------------------------------------- kinematics
    def stride_phase(self, t_s: FloatArray) -> FloatArray:
        """Gait phase in strides: integers at right initial contacts, +0.5 at left ones."""
        s = self._ch.cadence_sps.integral(t_s)
        # Stride-to-stride variability (about 2 % of stride time), kept monotone.
        amp = 0.02
        for f, ph in zip(self._stride_f_hz, self._stride_ph, strict=True):
            s = s + amp * np.sin(2 * np.pi * f * t_s + ph)
        if self._jitter is not None:
            # Stride-to-stride irregularity (cane gait); the knots vary by ~0.1 stride per
            # stride at most, so the phase stays monotone.
            s = s + self._ch.irregular.value(t_s) * self._jitter(s)
        return s

    def _sway(self, t_s: FloatArray, row: int) -> FloatArray:
        f = self._sway_f_hz[row]
        ph = self._sway_ph[row]
        return np.sin(2 * np.pi * f[None, :] * t_s[:, None] + ph[None, :]).sum(axis=1) / 3.0

    def angles_deg(self, t_s: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Heading+rotation, lateral tilt and anterior tilt (degrees) at ``t_s``."""
        ch = self._ch
        t_s = np.asarray(t_s, dtype=float)
        s = self.stride_phase(t_s)
        g = ch.gait.value(t_s)
        two_pi_s = 2 * np.pi * s
        sway = ch.sway_deg.value(t_s)
        obl_amp = ch.obl_amp_deg.value(t_s)
        # Normal obliquity: after right contact the left (swing) side drops, lowest at
        # ~20 % of the stride; mirrored after left contact.
        obliquity = -obl_amp * np.sin(two_pi_s + 0.1 * np.pi) * g
        # Hip-hike: the hiking side is raised during its own swing phase (left swing is
        # centred at s = 0.3, right swing at s = 0.8) to `hike_deg` above level.
        depth = obl_amp * np.sin(0.7 * np.pi)  # normal drop at mid-swing
        lift = ch.hike_deg.value(t_s) + depth
        bump_left = ((1 + np.cos(2 * np.pi * (s - 0.3))) / 2) ** 2
        bump_right = ((1 + np.cos(2 * np.pi * (s - 0.8))) / 2) ** 2
        obliquity += lift * (
            ch.hike_left.value(t_s) * bump_left - ch.hike_right.value(t_s) * bump_right
        )
        # Excessive drop (Trendelenburg): the dropping side goes lower in its own swing.
        obliquity -= ch.drop_deg.value(t_s) * (
            ch.drop_left.value(t_s) * bump_left - ch.drop_right.value(t_s) * bump_right
        )
        lateral = ch.lateral_deg.value(t_s) + obliquity + sway * self._sway(t_s, 0)
        tilt = (
            ch.tilt_deg.value(t_s)
            + ch.tilt_amp_deg.value(t_s) * np.sin(2 * two_pi_s + 0.3 * np.pi) * g
            + sway * self._sway(t_s, 1)
        )
        # Pelvis rotation: the swing side moves forward, right side most forward at right contact.
        yaw = ch.heading_deg.value(t_s) + ch.rot_amp_deg.value(t_s) * np.cos(two_pi_s) * g
        yaw = yaw + 0.5 * sway * self._sway(t_s, 2)
        return yaw, lateral, tilt

    def rotation_matrices(self, t_s: FloatArray) -> FloatArray:
        """Pelvis -> earth rotation matrices, shape (N, 3, 3)."""
        yaw, lat, tilt = (np.radians(a) for a in self.angles_deg(t_s))
        return _rz_rx_ry(yaw, lat, tilt)

    def angular_velocity_pelvis_rps(self, t_s: FloatArray) -> FloatArray:
        """Angular velocity of the pelvis in the pelvis frame, rad/s, shape (N, 3)."""
        h = _FD_H_S
        yp, lp, tp = (np.radians(a) for a in self.angles_deg(t_s + h))
        ym, lm, tm = (np.radians(a) for a in self.angles_deg(t_s - h))
        _, lat, tilt = (np.radians(a) for a in self.angles_deg(t_s))
        dyaw, dlat, dtilt = (yp - ym) / (2 * h), (lp - lm) / (2 * h), (tp - tm) / (2 * h)
        # omega_P = Ry(tilt)^T [Rx(lat)^T (0, 0, dyaw) + (dlat, 0, 0)] + (0, dtilt, 0)
        cl, sl = np.cos(lat), np.sin(lat)
        ct, st = np.cos(tilt), np.sin(tilt)
        v = np.stack([dlat, sl * dyaw, cl * dyaw], axis=1)  # Rx^T (0,0,dyaw) + (dlat,0,0)
        wx = ct * v[:, 0] - st * v[:, 2]
        wz = st * v[:, 0] + ct * v[:, 2]
        return np.stack([wx, v[:, 1] + dtilt, wz], axis=1)

    def _local_offset_m(self, t_s: FloatArray) -> FloatArray:
        """Pelvis position relative to the walking path, in the heading frame, (N, 3)."""
        ch = self._ch
        s = self.stride_phase(t_s)
        g = ch.gait.value(t_s)
        speed = ch.speed_mps.value(t_s)
        ap = ch.back_m.value(t_s) + 0.012 * np.sin(4 * np.pi * (s - 0.05)) * g * np.minimum(
            speed, 1.5
        )
        ml = -0.02 * np.sin(2 * np.pi * (s - 0.03)) * g
        vert = ch.height_m.value(t_s) - 0.02 * np.cos(4 * np.pi * (s - 0.05)) * g
        sway = ch.sway_deg.value(t_s)
        ap = ap + 0.002 * sway * self._sway(t_s, 3)
        # Heel-strike transients: a sharp upward and braking acceleration after each contact.
        ap = ap + _impact_position(t_s, self.initial_contacts_s + 0.02, -1.5)
        vert = vert + _impact_position(t_s, self.initial_contacts_s + 0.04, 2.5)
        return np.stack([ap, ml, vert], axis=1)

    def _earth_offset_m(self, t_s: FloatArray) -> FloatArray:
        heading = np.radians(self._ch.heading_deg.value(t_s))
        local = self._local_offset_m(t_s)
        c, s = np.cos(heading), np.sin(heading)
        return np.stack(
            [c * local[:, 0] - s * local[:, 1], s * local[:, 0] + c * local[:, 1], local[:, 2]],
            axis=1,
        )

    def _path_velocity_mps(self, t_s: FloatArray) -> FloatArray:
        heading = np.radians(self._ch.heading_deg.value(t_s))
        v = self._ch.speed_mps.value(t_s)
        return np.stack([v * np.cos(heading), v * np.sin(heading), np.zeros_like(v)], axis=1)

    def acceleration_earth_mps2(self, t_s: FloatArray) -> FloatArray:
        """Linear acceleration of the pelvis in the earth frame (z up), m/s^2, (N, 3)."""
        h = _FD_H_S
        path = (self._path_velocity_mps(t_s + h) - self._path_velocity_mps(t_s - h)) / (2 * h)
        off = (
            self._earth_offset_m(t_s + h)
            - 2 * self._earth_offset_m(t_s)
            + self._earth_offset_m(t_s - h)
        ) / h**2
        return path + off

    # ------------------------------------------------------------------- truth
    def _find_contacts(self) -> tuple[FloatArray, NDArrayStr]:
        t = np.arange(0.0, self.duration_s, 0.005)
        s = self.stride_phase(t)
        g = self._ch.gait.value(t)
        half = np.floor(2 * s)
        idx = np.nonzero(np.diff(half) > 0)[0]
        times, sides = [], []
        for i in idx:
            # Linear interpolation of the crossing of the next half-stride level.
            level = (half[i] + 1) / 2
            frac = (level - s[i]) / (s[i + 1] - s[i])
            tc = t[i] + frac * (t[i + 1] - t[i])
            if g[i] >= 0.5:
                times.append(tc)
                sides.append("right" if int(half[i] + 1) % 2 == 0 else "left")
        return np.asarray(times, dtype=float), np.asarray(sides, dtype="<U5")

    def activity(self, t_s: FloatArray) -> NDArrayStr:
        """Truth activity label at each of ``t_s``."""
        starts = np.array([seg.start_s for seg in self.segments])
        labels = np.array([seg.activity for seg in self.segments])
        idx = np.clip(np.searchsorted(starts, t_s, side="right") - 1, 0, len(labels) - 1)
        return labels[idx]


NDArrayStr = np.ndarray


def _impact_position(t_s: FloatArray, centres_s: FloatArray, peak_mps2: float) -> FloatArray:
    """Position whose second derivative is a Ricker pulse of ``peak_mps2`` at each centre.

    ``-sigma^2 exp(-x^2 / 2 sigma^2)`` has the Ricker (Mexican hat) wavelet as its second
    derivative: zero net velocity and position change, so the pulse is physical.
    """
    sigma = 0.025
    if centres_s.size == 0:
        return np.zeros_like(t_s)
    j = np.clip(np.searchsorted(centres_s, t_s), 1, centres_s.size - 1)
    out = np.zeros_like(t_s)
    for k in (j - 1, j):  # the two nearest contacts; pulses are ~0.05 s wide
        x = t_s - centres_s[k]
        out += -peak_mps2 * sigma**2 * np.exp(-(x**2) / (2 * sigma**2))
    return out


def _rz_rx_ry(yaw: FloatArray, lat: FloatArray, tilt: FloatArray) -> FloatArray:
    """``Rz(yaw) @ Rx(lat) @ Ry(tilt)`` for arrays of angles in radians, (N, 3, 3)."""
    cz, sz = np.cos(yaw), np.sin(yaw)
    cx, sx = np.cos(lat), np.sin(lat)
    cy, sy = np.cos(tilt), np.sin(tilt)
    r = np.empty((*yaw.shape, 3, 3))
    r[..., 0, 0] = cz * cy - sz * sx * sy
    r[..., 0, 1] = -sz * cx
    r[..., 0, 2] = cz * sy + sz * sx * cy
    r[..., 1, 0] = sz * cy + cz * sx * sy
    r[..., 1, 1] = cz * cx
    r[..., 1, 2] = sz * sy - cz * sx * cy
    r[..., 2, 0] = -cx * sy
    r[..., 2, 1] = sx
    r[..., 2, 2] = cx * cy
    return r
