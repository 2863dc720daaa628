"""Small vectorised quaternion helpers, scalar first (``w, x, y, z``).

Every quaternion here is ``quat_wxyz``: an array of shape ``(..., 4)`` holding
``w, x, y, z``. A quaternion ``q`` that maps the sensor frame S to the earth frame E acts
on vectors as ``v_E = q * v_S * conj(q)`` (see DESIGN.md section 6). scipy's
:class:`scipy.spatial.transform.Rotation` uses ``x, y, z, w``; the conversions to and
from rotation matrices below hide that difference.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.spatial.transform import Rotation

__all__ = [
    "BLOCK_ROWS",
    "conjugate",
    "from_matrix",
    "inclination_error_deg",
    "multiply",
    "normalize",
    "quat_wxyz_from_up",
    "rotate",
    "to_matrix",
    "up_in_sensor",
]

Array = NDArray[np.float64]


#: Rows per block of element-wise work on long arrays: blocks fit the CPU cache, where
#: full-length temporaries would spend most of the time being allocated (page faults).
BLOCK_ROWS = 1 << 15


def _as_quat(quat_wxyz: ArrayLike) -> Array:
    q = np.asarray(quat_wxyz, dtype=np.float64)
    if q.shape[-1:] != (4,):
        raise ValueError(
            f"A quaternion array must have 4 columns (w, x, y, z); got shape {q.shape}."
        )
    return q


def _as_vec(vec: ArrayLike) -> Array:
    v = np.asarray(vec, dtype=np.float64)
    if v.shape[-1:] != (3,):
        raise ValueError(f"A vector array must have 3 columns (x, y, z); got shape {v.shape}.")
    return v


def normalize(quat_wxyz: ArrayLike) -> Array:
    """Scale quaternions to unit norm.

    Parameters
    ----------
    quat_wxyz : array_like, shape (..., 4)
        Quaternions ``w, x, y, z`` (any non-zero norm).

    Returns
    -------
    ndarray, shape (..., 4)
        Unit quaternions. Zero rows become NaN.
    """
    q = _as_quat(quat_wxyz)
    with np.errstate(invalid="ignore", divide="ignore"):
        return q / np.linalg.norm(q, axis=-1, keepdims=True)


def multiply(q1_wxyz: ArrayLike, q2_wxyz: ArrayLike) -> Array:
    """Hamilton product ``q1 * q2`` (apply ``q2`` first, then ``q1``), broadcasting.

    Parameters
    ----------
    q1_wxyz, q2_wxyz : array_like, shape (..., 4)
        Quaternions ``w, x, y, z``; leading dimensions broadcast.

    Returns
    -------
    ndarray, shape (..., 4)
    """
    a = _as_quat(q1_wxyz)
    b = _as_quat(q2_wxyz)
    w1, x1, y1, z1 = np.moveaxis(a, -1, 0)
    w2, x2, y2, z2 = np.moveaxis(b, -1, 0)
    return np.stack(
        [
            w1 * w2 - x1 * x2 - y1 * y2 - z1 * z2,
            w1 * x2 + x1 * w2 + y1 * z2 - z1 * y2,
            w1 * y2 - x1 * z2 + y1 * w2 + z1 * x2,
            w1 * z2 + x1 * y2 - y1 * x2 + z1 * w2,
        ],
        axis=-1,
    )


def conjugate(quat_wxyz: ArrayLike) -> Array:
    """Conjugate ``(w, -x, -y, -z)``: the inverse rotation of a unit quaternion.

    Parameters
    ----------
    quat_wxyz : array_like, shape (..., 4)

    Returns
    -------
    ndarray, shape (..., 4)
    """
    q = _as_quat(quat_wxyz).copy()
    q[..., 1:] *= -1.0
    return q


def to_matrix(quat_wxyz: ArrayLike) -> Array:
    """Rotation matrices ``R`` with ``R @ v == rotate(q, v)``.

    Parameters
    ----------
    quat_wxyz : array_like, shape (..., 4)
        Unit quaternions ``w, x, y, z`` (normalised here).

    Returns
    -------
    ndarray, shape (..., 3, 3)
    """
    q = normalize(quat_wxyz)
    w, x, y, z = np.moveaxis(q, -1, 0)
    rows = [
        [1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
        [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
        [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)],
    ]
    return np.stack([np.stack(r, axis=-1) for r in rows], axis=-2)


def from_matrix(matrix: ArrayLike) -> Array:
    """Convert rotation matrices to unit quaternions ``w, x, y, z`` (with ``w >= 0``).

    Parameters
    ----------
    matrix : array_like, shape (..., 3, 3)
        Proper rotation matrices (orthonormalised by scipy if slightly off).

    Returns
    -------
    ndarray, shape (..., 4)
    """
    m = np.asarray(matrix, dtype=np.float64)
    if m.shape[-2:] != (3, 3):
        raise ValueError(f"Rotation matrices must have shape (..., 3, 3); got {m.shape}.")
    lead = m.shape[:-2]
    xyzw = Rotation.from_matrix(m.reshape(-1, 3, 3)).as_quat()  # scipy order: x, y, z, w
    q = np.concatenate([xyzw[:, 3:], xyzw[:, :3]], axis=1)
    q[q[:, 0] < 0] *= -1.0
    return q.reshape(*lead, 4)


def rotate(quat_wxyz: ArrayLike, vec: ArrayLike) -> Array:
    """Rotate vectors: ``q * v * conj(q)`` (sensor -> earth for an orientation ``q``).

    Parameters
    ----------
    quat_wxyz : array_like, shape (..., 4)
        Unit quaternions ``w, x, y, z``.
    vec : array_like, shape (..., 3)
        Vectors; leading dimensions broadcast with ``quat_wxyz``.

    Returns
    -------
    ndarray, shape (..., 3)
    """
    q = _as_quat(quat_wxyz)
    v = _as_vec(vec)
    w = q[..., :1]
    u = q[..., 1:]
    t = 2.0 * np.cross(u, v)
    return v + w * t + np.cross(u, t)


def up_in_sensor(quat_wxyz: ArrayLike) -> Array:
    """Return the unit vector pointing up (earth +z), expressed in the sensor frame.

    ``u = R(q)^T [0, 0, 1]``, i.e. the third row of ``R(q)``. At rest the accelerometer
    reads ``+9.81 * u`` m/s^2.

    Parameters
    ----------
    quat_wxyz : array_like, shape (..., 4)
        Orientations sensor -> earth, ``w, x, y, z``.

    Returns
    -------
    ndarray, shape (..., 3)
    """
    q = _as_quat(quat_wxyz)
    flat = q.reshape(-1, 4)
    out = np.empty((flat.shape[0], 3))
    with np.errstate(invalid="ignore", divide="ignore"):
        for i in range(0, flat.shape[0], BLOCK_ROWS):
            w, x, y, z = flat[i : i + BLOCK_ROWS].T
            o = out[i : i + BLOCK_ROWS]
            # Normalising q scales these quadratic forms by 1 / |q|^2: divide once instead.
            scale = 2.0 / (w * w + x * x + y * y + z * z)
            o[:, 0] = (x * z - w * y) * scale
            o[:, 1] = (y * z + w * x) * scale
            o[:, 2] = 1.0 - (x * x + y * y) * scale
    return out.reshape((*q.shape[:-1], 3))


def quat_wxyz_from_up(up_sensor: ArrayLike) -> Array:
    """Smallest rotation that maps a sensor-frame "up" direction onto earth +z.

    The heading of the result is arbitrary (this is the shortest-arc rotation). Used to
    turn an accelerometer direction into an orientation.

    Parameters
    ----------
    up_sensor : array_like, shape (..., 3)
        Up direction in the sensor frame (any non-zero length), e.g. the low-pass
        filtered accelerometer in m/s^2.

    Returns
    -------
    ndarray, shape (..., 4)
        Unit quaternions ``q`` with ``rotate(q, up_sensor / |up_sensor|) == [0, 0, 1]``.
        For ``up_sensor`` pointing straight down the result is a 180 deg turn about x.
    """
    v = _as_vec(up_sensor)
    with np.errstate(invalid="ignore", divide="ignore"):
        a = v / np.linalg.norm(v, axis=-1, keepdims=True)
    # q = (1 + a.z, a x z) normalised; a x z = (a_y, -a_x, 0). For a_z < 0 write
    # 1 + a_z = (a_x^2 + a_y^2) / (1 - a_z) to avoid cancellation near "upside down".
    horizontal_sq = a[..., 0] ** 2 + a[..., 1] ** 2
    with np.errstate(invalid="ignore", divide="ignore"):
        w = np.where(a[..., 2] >= 0, 1.0 + a[..., 2], horizontal_sq / (1.0 - a[..., 2]))
    q = np.stack([w, a[..., 1], -a[..., 0], np.zeros_like(w)], axis=-1)
    flip = (horizontal_sq == 0) & (a[..., 2] < 0)
    q[flip] = np.array([0.0, 1.0, 0.0, 0.0])
    with np.errstate(invalid="ignore", divide="ignore"):
        # Scale to a largest component of 1 first: squares of tiny components (nearly
        # upside down) would underflow to inexact subnormals.
        q /= np.max(np.abs(q), axis=-1, keepdims=True)
    return normalize(q)


def inclination_error_deg(quat_est_wxyz: ArrayLike, quat_ref_wxyz: ArrayLike) -> Array:
    """Heading-free inclination error between two orientations (BROAD's metric).

    The angle between the estimated and the reference "up" vector seen from the sensor:
    ``e = 2 * arccos(sqrt(w^2 + z^2))`` of ``q_err = q_est * conj(q_ref)``.

    Parameters
    ----------
    quat_est_wxyz, quat_ref_wxyz : array_like, shape (..., 4)
        Orientations sensor -> earth (z up), ``w, x, y, z``.

    Returns
    -------
    ndarray, shape (...)
        Inclination error in degrees, in [0, 180]; NaN where an input is NaN.
    """
    err = normalize(multiply(quat_est_wxyz, conjugate(quat_ref_wxyz)))
    c = np.sqrt(err[..., 0] ** 2 + err[..., 3] ** 2)
    return np.degrees(2.0 * np.arccos(np.clip(c, 0.0, 1.0)))
