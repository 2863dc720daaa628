"""Simulate a whole session: scenario -> pelvis trajectory -> sensor samples + truth."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.spatial.transform import Rotation

from recordings.data import Gap, Recording
from recordings.units import G_MPS2 as GRAVITY_MPS2
from simulator.imu import ImuErrors, corrupt, packet_mask, sample_instants_s
from simulator.scenario import Scenario
from simulator.slip import Slip, mount_track, relative_angular_velocity_rps
from simulator.smooth import FloatArray
from simulator.trajectory import PelvisTrajectory

#: Upright sacral mount: sensor x up, y right, z anterior (the McRoberts MM+ convention).
SACRAL_MOUNT_QUAT_WXYZ = tuple(
    np.roll(Rotation.from_matrix([[0, 0, 1], [0, -1, 0], [1, 0, 0]]).as_quat(), 1).tolist()
)


@dataclass(frozen=True)
class Episode:
    """A true hip-hike episode (the keys of DESIGN section 4)."""

    side: str
    kind: str
    activity: str
    start_s: float
    end_s: float
    peak_deg: float
    mean_deg: float


@dataclass
class Truth:
    """Ground truth aligned with the simulated samples (after packet loss).

    Attributes
    ----------
    time_s : ndarray (N,)
        True sampling instants.
    anterior_tilt_deg, lateral_tilt_deg : ndarray (N,)
        Pelvic tilt per DESIGN section 2, relative to neutral standing.
    activity : ndarray of str (N,)
        Activity label per sample.
    quat_wxyz_pelvis, quat_wxyz_sensor : ndarray (N, 4)
        Pelvis -> earth and sensor -> earth orientation (earth z up).
    mount_quat_wxyz : ndarray (4,)
        Sensor -> pelvis rotation (``v_P = R v_S``).
    initial_contact_s, initial_contact_side : ndarray
        Every initial contact and its side (``"left"``/``"right"``), true time.
    episodes : list of Episode
        Hip-hike episodes.
    segments : list of dict
        ``{"activity", "start_s", "end_s"}`` spans of the script (true time).
    sensor_biases : dict
        The biases drawn for this session.
    """

    time_s: FloatArray
    anterior_tilt_deg: FloatArray
    lateral_tilt_deg: FloatArray
    activity: NDArray[np.str_]
    quat_wxyz_pelvis: FloatArray
    quat_wxyz_sensor: FloatArray
    mount_quat_wxyz: FloatArray
    initial_contact_s: FloatArray
    initial_contact_side: NDArray[np.str_]
    episodes: list[Episode] = field(default_factory=list)
    segments: list[dict[str, Any]] = field(default_factory=list)
    sensor_biases: dict[str, list[float]] = field(default_factory=dict)
    device_clock_scale: float = 1.0
    #: ``{"time_s", "angle_deg", "mount_quat_wxyz"}`` per sensor slip (true time; the
    #: sensor -> pelvis rotation after it); ``mount_quat_wxyz`` above is the initial one.
    mount_changes: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The truth as a document shaped like ``analyze --json`` (DESIGN section 4).

        Times are on the recording's (device) clock, so they compare directly with an
        analysis of the simulated recording.
        """
        k = self.device_clock_scale
        return {
            "format": "pelviscope.truth/1",
            "calibration": {"sensor_to_pelvis_quat_wxyz": self.mount_quat_wxyz.tolist()},
            "segments": [
                {"activity": s["activity"], "start_s": s["start_s"] * k, "end_s": s["end_s"] * k}
                for s in self.segments
            ],
            "steps": [
                {"time_s": float(t) * k, "side": str(side), "event": "initial_contact"}
                for t, side in zip(self.initial_contact_s, self.initial_contact_side, strict=True)
            ],
            "mount_changes": [
                {"time_s": c["time_s"] * k, "angle_deg": c["angle_deg"]} for c in self.mount_changes
            ],
            "hip_hike_episodes": [
                {
                    "side": e.side,
                    "kind": e.kind,
                    "activity": e.activity,
                    "start_s": e.start_s * k,
                    "end_s": e.end_s * k,
                    "peak_deg": e.peak_deg,
                    "mean_deg": e.mean_deg,
                }
                for e in self.episodes
            ],
        }


@dataclass
class SimulatedSession:
    """A simulated recording and its ground truth."""

    recording: Recording
    truth: Truth
    trajectory: PelvisTrajectory


def _as_rotation(mount: Rotation | NDArray[np.float64] | tuple[float, ...] | None) -> Rotation:
    if mount is None:
        return Rotation.from_quat(np.roll(np.asarray(SACRAL_MOUNT_QUAT_WXYZ), -1))
    if isinstance(mount, Rotation):
        return mount
    q = np.asarray(mount, dtype=float)
    return Rotation.from_quat(np.roll(q, -1))  # w,x,y,z -> scipy's x,y,z,w


def _wxyz(rot: Rotation) -> FloatArray:
    q = np.roll(rot.as_quat(), 1, axis=-1)
    return q * np.where(q[..., :1] < 0, -1.0, 1.0)  # w >= 0


def ideal_imu(
    trajectory: PelvisTrajectory,
    true_time_s: FloatArray,
    mount: Rotation,
    slips: Sequence[Slip] = (),
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Error-free sensor signals at ``true_time_s``.

    With ``slips`` the mount changes during the session (:mod:`simulator.slip`); the
    sensor's own rotation on the body adds to its angular velocity.

    Returns
    -------
    acc_mps2, gyr_rps : ndarray (N, 3)
        Specific force and angular velocity in the SENSOR frame.
    r_pelvis : ndarray (N, 3, 3)
        Pelvis -> earth rotation matrices.
    """
    r_pelvis = trajectory.rotation_matrices(true_time_s)
    m = mount.as_matrix()  # sensor -> pelvis
    specific_force_e = trajectory.acceleration_earth_mps2(true_time_s)
    specific_force_e[:, 2] += GRAVITY_MPS2
    f_pelvis = np.einsum("nji,nj->ni", r_pelvis, specific_force_e)  # R^T f
    w_pelvis = trajectory.angular_velocity_pelvis_rps(true_time_s)
    if not slips:
        return f_pelvis @ m, w_pelvis @ m, r_pelvis  # (M^T v)^T = v^T M
    track = mount_track(mount, slips, true_time_s)
    mt = track.as_matrix()
    gyr = np.einsum("nji,nj->ni", mt, w_pelvis) + relative_angular_velocity_rps(track, true_time_s)
    return np.einsum("nji,nj->ni", mt, f_pelvis), gyr, r_pelvis


def simulate(
    scenario: Scenario,
    *,
    rate_hz: float = 100.0,
    mount: Rotation | NDArray[np.float64] | tuple[float, ...] | None = None,
    errors: ImuErrors | None = None,
    seed: int = 0,
    slips: Sequence[Slip] = (),
) -> SimulatedSession:
    """Simulate a pelvis IMU session.

    Parameters
    ----------
    scenario : Scenario
        What the person does.
    rate_hz : float
        Nominal output data rate.
    mount : Rotation or quaternion (w, x, y, z) or None
        Sensor -> pelvis rotation (how the sensor is clipped on). None: upright sacral
        mount (:data:`SACRAL_MOUNT_QUAT_WXYZ`).
    errors : ImuErrors or None
        Sensor error model; None uses the defaults (noise, bias, quantisation).
    seed : int
        Seed for the person's variability and the sensor errors.
    slips : sequence of Slip
        Moments the sensor moves on the body (:class:`simulator.slip.Slip`); the truth
        lists them in ``mount_changes``.

    Returns
    -------
    SimulatedSession
        ``recording`` (what a sensor would have delivered; ``time_s`` is the device
        clock) and ``truth`` aligned with its samples.
    """
    if rate_hz <= 0:
        raise ValueError(f"rate_hz must be positive, got {rate_hz}")
    errors = ImuErrors() if errors is None else errors
    rng = np.random.default_rng(seed)
    mount_rot = _as_rotation(mount)
    traj = PelvisTrajectory(scenario, seed=seed)
    n = int(np.floor(traj.duration_s * rate_hz * (1 + errors.rate_error_ppm * 1e-6)))
    device_time_s, true_time_s = sample_instants_s(n, rate_hz, errors, rng)
    true_time_s = np.minimum(true_time_s, traj.duration_s)
    acc, gyr, r_pelvis = ideal_imu(traj, true_time_s, mount_rot, slips)
    acc, gyr, biases = corrupt(acc, gyr, rate_hz, errors, rng)
    keep = packet_mask(n, errors, rng)

    pelvis_rot = Rotation.from_matrix(r_pelvis[keep])
    up_p = r_pelvis[keep][:, 2, :]  # earth z in pelvis coordinates = R^T e_z
    anterior = np.degrees(np.arctan2(-up_p[:, 0], up_p[:, 2]))
    lateral = np.degrees(np.arcsin(np.clip(up_p[:, 1], -1.0, 1.0)))
    t_true = true_time_s[keep]
    activity = traj.activity(t_true)
    episodes = [_episode(h, t_true, lateral) for h in traj.hikes]

    truth = Truth(
        time_s=t_true,
        anterior_tilt_deg=anterior,
        lateral_tilt_deg=lateral,
        activity=activity,
        quat_wxyz_pelvis=_wxyz(pelvis_rot),
        quat_wxyz_sensor=_wxyz(
            pelvis_rot * (mount_track(mount_rot, slips, t_true) if slips else mount_rot)
        ),
        mount_quat_wxyz=_wxyz(mount_rot),
        initial_contact_s=traj.initial_contacts_s,
        initial_contact_side=traj.initial_contact_sides,
        episodes=episodes,
        segments=[
            {"activity": s.activity, "start_s": s.start_s, "end_s": s.end_s} for s in traj.segments
        ],
        sensor_biases=biases,
        device_clock_scale=1.0 + errors.rate_error_ppm * 1e-6,
        mount_changes=_mount_changes(mount_rot, slips),
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
            "simulated": {"seed": seed, "mount_quat_wxyz": _wxyz(mount_rot).tolist()},
        },
    )
    return SimulatedSession(recording=recording, truth=truth, trajectory=traj)


def _mount_changes(mount: Rotation, slips: Sequence[Slip]) -> list[dict[str, Any]]:
    out = []
    for slip in sorted(slips, key=lambda s: s.at_s):
        after = mount_track(mount, slips, np.array([slip.at_s + slip.duration_s]))[0]
        out.append(
            {
                "time_s": float(slip.at_s),
                "angle_deg": abs(float(slip.rotation_deg)),
                "mount_quat_wxyz": _wxyz(after).tolist(),
            }
        )
    return out


def _episode(h: Any, t_s: FloatArray, lateral_deg: FloatArray) -> Episode:
    sel = (t_s >= h.start_s) & (t_s <= h.end_s)
    signed = lateral_deg[sel] * (1.0 if h.side == "left" else -1.0)
    peak = float(signed.max()) if signed.size else 0.0
    mean = float(signed.mean()) if signed.size else 0.0
    return Episode(h.side, h.kind, h.activity, h.start_s, h.end_s, peak, mean)


def _gaps(device_time_s: FloatArray, keep: NDArray[np.bool_]) -> list[Gap]:
    """One :class:`Gap` per run of lost samples (between kept neighbours)."""
    lost = ~keep
    if not lost.any():
        return []
    edges = np.diff(np.concatenate(([0], lost.astype(np.int8), [0])))
    starts, ends = np.nonzero(edges == 1)[0], np.nonzero(edges == -1)[0]
    gaps = []
    for a, b in zip(starts, ends, strict=True):
        before = device_time_s[a - 1] if a > 0 else device_time_s[0]
        after = device_time_s[b] if b < device_time_s.size else device_time_s[-1]
        gaps.append(Gap(float(before), float(after), int(b - a), "packet_loss"))
    return gaps
