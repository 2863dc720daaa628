"""Live mount-change monitor: "sensor moved - walk a few steps to re-calibrate".

The causal counterpart of :func:`analysis.mount.detect_mount_changes`, fed chunk by
chunk with the sensor signals and the live (causal) orientation. It keeps the last few
seconds; from the first walking it learns the *walking frame* of the current mounting
(mean up + anterior direction). Later walking whose mean up vector departs from it by
more than ``up_change_deg`` in its first seconds - confirmed by the quiet upright
posture since the last walk having moved as the walking did (stairs and slopes change
walking, not standing) - raises the message; hip-hike flags should be suspended
meanwhile (:attr:`MountStatus.suspend_flags`). After ``recalibrate_walking_s``
of walking the new calibration is carried over (``M_new = M_old F_old^-1 F_new``) and
offered in :attr:`MountStatus.calibration`.

Qt-free: the live pipeline calls :meth:`MountMonitor.update` per chunk.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from analysis import quaternion as quat
from analysis.calibration import Calibration, CalibrationError, anterior_from_gait
from analysis.motion import spans, still_mask, walking_mask
from analysis.mount import WalkingFrame, _minimal_rotation, angle_deg, carried_calibration

FloatArray = NDArray[np.float64]

MOVED_MESSAGE = "sensor moved - walk a few steps to re-calibrate"


class MountState(enum.Enum):
    """Where the monitor is."""

    LEARNING = "learning"  # no walking frame of the current mounting yet
    OK = "ok"
    MOVED = "moved"  # the message is up, re-calibrating from walking


@dataclass(frozen=True, kw_only=True)
class MountLiveParams:
    """Thresholds of the live monitor.

    Attributes
    ----------
    buffer_s : float
        Signal kept (the longest walking used at once).
    min_walking_s : float
        Walking in the current bout before its mean posture is compared.
    learn_walking_s : float
        Walking that defines the walking frame of a mounting.
    recalibrate_walking_s : float
        Walking after a change before the new calibration is offered.
    up_change_deg : float
        Change of the walking up vector that counts.
    upright_within_deg : float
        A quiet span this close to the new walking up vector is standing.
    decide_within_s : float
        A bout is judged in its first seconds only (right after the quiet posture that
        confirms a change; later pauses in a flight of stairs confirm nothing).
    standing_change_deg : float
        Change of the quiet standing posture that confirms a change live. Larger than
        ``up_change_deg``: people stand differently at the top of a flight of stairs
        (HAPT: 4-7 deg); smaller slips are left to the offline analysis.
    max_change_deg : float
        Rhythmic movement further than this from upright walking (lying) is ignored.
    """

    buffer_s: float = 12.0
    min_walking_s: float = 1.0
    learn_walking_s: float = 8.0
    recalibrate_walking_s: float = 7.0
    up_change_deg: float = 5.0
    upright_within_deg: float = 12.0
    decide_within_s: float = 4.0
    standing_change_deg: float = 8.0
    max_change_deg: float = 60.0


@dataclass(frozen=True)
class MountStatus:
    """What the monitor says after a chunk.

    Attributes
    ----------
    state : MountState
        Current state.
    message : str or None
        :data:`MOVED_MESSAGE` while re-calibrating, else None.
    calibration : Calibration or None
        The new calibration, once, when it has just been measured (use it from now on).
    moved_at_s : float or None
        When the change was raised.
    """

    state: MountState
    message: str | None = None
    calibration: Calibration | None = None
    moved_at_s: float | None = None

    @property
    def suspend_flags(self) -> bool:
        """Hip-hike flags are not trustworthy until re-calibrated."""
        return self.state is MountState.MOVED


class MountMonitor:
    """Watch a live session for a change of the sensor's mounting.

    Parameters
    ----------
    rate_hz : float
        Sampling rate.
    calibration : Calibration
        The calibration in use (from the wizard, a saved one, ...).
    params : MountLiveParams, optional
        Thresholds.
    """

    def __init__(
        self, rate_hz: float, calibration: Calibration, *, params: MountLiveParams | None = None
    ) -> None:
        self.rate_hz = float(rate_hz)
        self.params = params or MountLiveParams()
        self.calibration = calibration
        self.state = MountState.LEARNING
        self._ref: WalkingFrame | None = None
        self._moved_at: float | None = None
        self._walk_s = 0.0  # walking in the current bout
        self._quiet_up: FloatArray | None = None  # last quiet posture since the last walk
        self._stand_up = _neutral_up(calibration)  # standing of the current mounting
        self._acc = np.empty((0, 3))
        self._gyr: FloatArray | None = None
        self._quat = np.empty((0, 4))
        self._time = np.empty(0)

    def set_calibration(self, calibration: Calibration) -> None:
        """A new calibration from the user (wizard): the walking frame is learnt again."""
        self.calibration = calibration
        self.state = MountState.LEARNING
        self._ref = None
        self._moved_at = None
        self._stand_up = _neutral_up(calibration)

    def update(
        self,
        acc_mps2: ArrayLike,
        gyr_rps: ArrayLike | None,
        quat_wxyz: ArrayLike,
        time_s: ArrayLike,
    ) -> MountStatus:
        """Feed a chunk (sensor signals, causal orientation, times); return the status."""
        self._append(acc_mps2, gyr_rps, quat_wxyz, time_s)
        p = self.params
        n = self._acc.shape[0]
        if n < int(2.5 * self.rate_hz):
            return self._status()
        walking = walking_mask(self._acc, self.rate_hz, window_s=2.0)
        bout = self._current_bout(walking)
        if bout is None:
            self._walk_s = 0.0
            self._note_quiet()
            return self._status()
        a, b = bout
        self._walk_s = (b - a) / self.rate_hz
        if self._walk_s < p.min_walking_s:
            return self._status()
        up = _mean_up(self._quat[a:b])
        if self.state is MountState.LEARNING:
            if self._walk_s >= p.learn_walking_s:
                self._ref = self._frame(a, b)
                if self._ref is not None:
                    self.state = MountState.OK
                    self._quiet_up = None
            return self._status()
        if self.state is MountState.OK:
            assert self._ref is not None
            change = angle_deg(up, self._ref.up)
            if (
                p.up_change_deg < change <= p.max_change_deg
                and self._walk_s <= p.decide_within_s
                and self._confirmed(up)
            ):
                self.state = MountState.MOVED
                self._moved_at = float(self._time[-1])
            elif change <= p.up_change_deg:
                if self._quiet_up is not None and (
                    angle_deg(self._quiet_up, self._ref.up) <= p.upright_within_deg
                ):
                    self._stand_up = self._quiet_up  # the standing before a normal walk
                self._quiet_up = None
            return self._status()
        # MOVED: re-calibrate from this bout's walking
        if self._walk_s >= p.recalibrate_walking_s and self._ref is not None:
            new = self._frame(a, b)
            if new is not None:
                self.calibration, _ = carried_calibration(
                    self.calibration, self._ref, new, "mount-change"
                )
                self._stand_up = _neutral_up(self.calibration)
                self._ref = new
                self.state = MountState.OK
                self._quiet_up = None
                return MountStatus(MountState.OK, None, self.calibration, self._moved_at)
        return self._status()

    # ------------------------------------------------------------------ internals

    def _status(self) -> MountStatus:
        moved = self.state is MountState.MOVED
        return MountStatus(self.state, MOVED_MESSAGE if moved else None, None, self._moved_at)

    def _append(self, acc: ArrayLike, gyr: ArrayLike | None, q: ArrayLike, t: ArrayLike) -> None:
        keep = int(self.params.buffer_s * self.rate_hz)
        self._acc = np.concatenate([self._acc, np.asarray(acc, float).reshape(-1, 3)])[-keep:]
        self._quat = np.concatenate([self._quat, np.asarray(q, float).reshape(-1, 4)])[-keep:]
        self._time = np.concatenate([self._time, np.asarray(t, float).ravel()])[-keep:]
        if gyr is not None:
            g = np.asarray(gyr, float).reshape(-1, 3)
            old = self._gyr if self._gyr is not None else np.empty((0, 3))
            self._gyr = np.concatenate([old, g])[-keep:]
        else:
            self._gyr = None

    def _current_bout(self, walking: NDArray[np.bool_]) -> tuple[int, int] | None:
        """The walking run reaching (within 0.5 s) the end of the buffer."""
        runs = spans(walking, self.rate_hz)
        if not runs:
            return None
        a, b = runs[-1]
        if b < walking.size - int(0.5 * self.rate_hz):
            return None
        return a, b

    def _note_quiet(self) -> None:
        """Remember the latest quiet posture (the standing before a walk)."""
        gyr = self._gyr if self._gyr is not None and self._gyr.shape == self._acc.shape else None
        quiet = spans(still_mask(self._acc, gyr, self.rate_hz), self.rate_hz, min_s=2.0)
        if quiet:
            a, b = quiet[-1]
            up = self._acc[a:b].mean(axis=0)
            self._quiet_up = up / np.linalg.norm(up)

    def _confirmed(self, walking_up: FloatArray) -> bool:
        """The quiet posture before this walk is the standing moved as the walking was.

        Stairs and slopes change the walking posture; the standing between them stays
        the standing of the mounting.
        """
        if self._quiet_up is None or self._ref is None:
            return False
        predicted = _minimal_rotation(self._ref.up, walking_up) @ self._stand_up
        to_new = angle_deg(self._quiet_up, predicted)
        to_old = angle_deg(self._quiet_up, self._stand_up)
        return to_old >= self.params.standing_change_deg and to_new < to_old / 2

    def _frame(self, a: int, b: int) -> WalkingFrame | None:
        """Walking frame of the buffered walking ``[a, b)``; None without a direction."""
        mask = np.zeros(self._acc.shape[0], dtype=bool)
        mask[a:b] = True
        try:
            direction, confidence, _ = anterior_from_gait(self._acc, self._quat, self.rate_hz, mask)
        except CalibrationError:
            return None
        if confidence < 0.5:
            return None
        ref = WalkingFrame(_mean_up(self._quat[a:b]) * (b - a), direction * (b - a))
        return ref


def _neutral_up(calibration: Calibration) -> FloatArray:
    """Up in sensor axes at the calibration's neutral standing."""
    return np.asarray(quat.to_matrix(calibration.sensor_to_pelvis_quat_wxyz)[2], dtype=float)


def _mean_up(quat_wxyz: FloatArray) -> FloatArray:
    up = quat.up_in_sensor(quat_wxyz).mean(axis=0)
    return np.asarray(up / np.linalg.norm(up), dtype=float)
