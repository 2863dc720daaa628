"""Anterior and lateral pelvic tilt (DESIGN section 2), for recorded and live data alike.

With ``u`` the unit up vector expressed in the pelvis frame P:

* anterior tilt ``theta = atan2(-u_x, u_z)`` (positive: pelvis tips forward),
* lateral tilt ``phi = asin(u_y)`` (positive: LEFT side higher).

Only the sensor's inclination enters (``u_P = M u_S``), so heading drift of a 6D filter
cannot leak into the angles.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from analysis import quaternion as quat
from analysis.calibration import Calibration
from analysis.orientation import OrientationParams, OrientationTracker

FloatArray = NDArray[np.float64]


def tilt_from_up_deg(
    up_pelvis: ArrayLike, *, standing_tilt_deg: float = 0.0
) -> tuple[FloatArray, FloatArray]:
    """Anterior and lateral tilt in degrees from up vectors in the pelvis frame (N, 3)."""
    u = np.asarray(up_pelvis, dtype=float)
    flat = u.reshape(-1, 3)
    anterior, lateral = np.empty(flat.shape[0]), np.empty(flat.shape[0])
    step = quat.BLOCK_ROWS
    for i in range(0, flat.shape[0], step):
        b = flat[i : i + step]
        anterior[i : i + step] = np.degrees(np.arctan2(-b[:, 0], b[:, 2])) + standing_tilt_deg
        lateral[i : i + step] = np.degrees(np.arcsin(np.clip(b[:, 1], -1.0, 1.0)))
    shape = u.shape[:-1]
    return anterior.reshape(shape)[()], lateral.reshape(shape)[()]  # [()]: scalars for one vector


def pelvic_tilt_deg(
    quat_wxyz: ArrayLike, calibration: Calibration
) -> tuple[FloatArray, FloatArray]:
    """Anterior and lateral pelvic tilt of every sample.

    Parameters
    ----------
    quat_wxyz : array_like, shape (N, 4)
        Sensor orientation, sensor -> earth (z up), ``w, x, y, z``.
    calibration : Calibration
        Sensor -> pelvis rotation and the optional absolute standing tilt.

    Returns
    -------
    anterior_tilt_deg, lateral_tilt_deg : ndarray, shape (N,)
        Relative to the calibration's neutral standing posture (plus
        ``calibration.standing_tilt_deg`` for the anterior tilt).
    """
    up_pelvis = calibration.to_pelvis(quat.up_in_sensor(quat_wxyz))
    return tilt_from_up_deg(up_pelvis, standing_tilt_deg=calibration.standing_tilt_deg)


def _up_quadratic_forms(m: FloatArray) -> FloatArray:
    """``B`` (16, 3) with ``up_P = (q q^T).ravel() @ B`` for unit quaternions ``q`` (w,x,y,z).

    Each component of the up vector in sensor axes is a quadratic form of ``q``
    (``2(xz - wy)``, ``2(yz + wx)``, ``w^2 - x^2 - y^2 + z^2``); the pelvis-frame ones are
    their combinations by ``M``. One small matrix product per live chunk instead of
    twenty array operations.
    """
    a = np.zeros((3, 4, 4))
    a[0, 1, 3] = a[0, 3, 1] = 1.0
    a[0, 0, 2] = a[0, 2, 0] = -1.0
    a[1, 2, 3] = a[1, 3, 2] = 1.0
    a[1, 0, 1] = a[1, 1, 0] = 1.0
    a[2] = np.diag([1.0, -1.0, -1.0, 1.0])
    return np.einsum("kj,jab->kab", m, a).reshape(3, 16).T


class TiltTracker:
    """Live tilt: causal orientation plus calibration, fed chunk by chunk.

    Identical to ``pelvic_tilt_deg(estimate_quat_wxyz(..., offline=False), calibration)``
    on the same samples, whatever the chunking.

    Parameters
    ----------
    rate_hz : float
        Sampling rate.
    calibration : Calibration or None
        None until the user calibrates; :meth:`update` then returns NaN angles but the
        orientation filter keeps running (so it is converged when calibration arrives).
    params : OrientationParams, optional
        Orientation filter parameters.
    """

    def __init__(
        self,
        rate_hz: float,
        calibration: Calibration | None = None,
        *,
        params: OrientationParams | None = None,
    ) -> None:
        self.orientation = OrientationTracker(rate_hz, params=params)
        self.calibration = calibration

    @property
    def calibration(self) -> Calibration | None:
        """The calibration in use (settable at any time, e.g. after the guided wizard)."""
        return self._calibration

    @calibration.setter
    def calibration(self, calibration: Calibration | None) -> None:
        self._calibration = calibration
        self._b = (
            None
            if calibration is None
            else _up_quadratic_forms(quat.to_matrix(calibration.sensor_to_pelvis_quat_wxyz))
        )

    def update(
        self,
        acc_mps2: ArrayLike,
        gyr_rps: ArrayLike | None = None,
        *,
        time_s: ArrayLike | None = None,
    ) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Feed a chunk; return ``(quat_wxyz, anterior_tilt_deg, lateral_tilt_deg)``."""
        q = self.orientation.update(acc_mps2, gyr_rps, time_s=time_s)
        if self._calibration is None or self._b is None:
            nan = np.full(q.shape[0], np.nan)
            return q, nan, nan.copy()
        up_p = (q[:, :, None] * q[:, None, :]).reshape(-1, 16) @ self._b  # q is unit (VQF)
        anterior, lateral = tilt_from_up_deg(
            up_p, standing_tilt_deg=self._calibration.standing_tilt_deg
        )
        return q, anterior, lateral
