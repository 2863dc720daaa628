"""The sensor moving on the body: a belt clip that slips, a sensor put back differently.

A :class:`Slip` rotates the sensor relative to the pelvis, smoothly over a short time,
about an axis of the PELVIS frame (x anterior, y left, z up). After it the sensor -> pelvis
rotation is ``R_slip * M`` (``v_P = R_slip M v_S``). A belt clip caught by a chair
typically turns the sensor in the plane of the belt (about the pelvis x axis, the
sacrum's normal) or tips it (about the y axis).

>>> from simulator import Scenario, Sit, Stand, Walk, simulate
>>> from simulator.slip import Slip, sit_down_times_s
>>> sc = Scenario([Stand(8), Walk(20), Sit(60), Stand(5), Walk(20)])
>>> slip = Slip(at_s=sit_down_times_s(sc)[0], rotation_deg=25.0, axis="x")
>>> session = simulate(sc, slips=[slip], seed=1)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.spatial.transform import Rotation

from simulator.scenario import Scenario, Sit, posture_of
from simulator.smooth import FloatArray

_AXES = {"x": (1.0, 0.0, 0.0), "y": (0.0, 1.0, 0.0), "z": (0.0, 0.0, 1.0)}


@dataclass(frozen=True)
class Slip:
    """A rotation of the sensor on the body.

    Parameters
    ----------
    at_s : float
        Middle of the slip, seconds of true time from the start of the session.
    rotation_deg : float
        Angle of the rotation (signed, right-hand rule about ``axis``).
    axis : {"x", "y", "z"} or tuple of 3 floats
        Rotation axis in the pelvis frame.
    duration_s : float
        The slip takes this long (a smooth step).
    """

    at_s: float
    rotation_deg: float
    axis: str | tuple[float, float, float] = "x"
    duration_s: float = 0.5

    def rotation(self, fraction: float | FloatArray = 1.0) -> Rotation:
        """The pelvis-frame rotation after ``fraction`` (0-1) of the slip."""
        axis = np.asarray(_AXES[self.axis] if isinstance(self.axis, str) else self.axis, float)
        axis = axis / np.linalg.norm(axis)
        f = np.atleast_1d(np.asarray(fraction, float))
        return Rotation.from_rotvec(np.outer(f, axis) * np.radians(self.rotation_deg))


def _smoothstep(x: FloatArray) -> FloatArray:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


def mount_track(mount: Rotation, slips: Sequence[Slip], time_s: FloatArray) -> Rotation:
    """Sensor -> pelvis rotation at every instant of ``time_s`` (true time)."""
    track = Rotation.from_quat(np.tile(mount.as_quat(), (len(time_s), 1)))
    for slip in sorted(slips, key=lambda s: s.at_s):
        start = slip.at_s - slip.duration_s / 2
        fraction = _smoothstep((np.asarray(time_s) - start) / max(slip.duration_s, 1e-9))
        track = slip.rotation(fraction) * track
    return track


def relative_angular_velocity_rps(track: Rotation, time_s: FloatArray) -> FloatArray:
    """Angular velocity of the sensor relative to the pelvis, in sensor axes (N, 3)."""
    n = len(time_s)
    out = np.zeros((n, 3))
    if n < 2:
        return out
    dt = np.diff(np.asarray(time_s, float))
    step = (track[:-1].inv() * track[1:]).as_rotvec()  # body-frame increments
    rate = step / np.maximum(dt, 1e-9)[:, None]
    out[:-1] = rate
    out[1:] = 0.5 * (out[1:] + rate)  # centred on the samples
    return out


def sit_down_times_s(scenario: Scenario) -> list[float]:
    """Middle of every inserted sit-down transition (upright -> sitting), true time."""
    t = 0.0
    out: list[float] = []
    for prev, phase in zip([None, *scenario.phases[:-1]], scenario.phases, strict=True):
        if prev is not None and posture_of(prev) != posture_of(phase):
            if isinstance(phase, Sit) and posture_of(prev) == "upright":
                out.append(t + scenario.transition_s / 2)
            t += scenario.transition_s
        t += phase.duration_s
    return out
