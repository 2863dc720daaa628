import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.spatial.transform import Rotation

from analysis import quaternion as qt


def _random_quat(n: int, seed: int = 0) -> np.ndarray:
    xyzw = Rotation.random(n, random_state=seed).as_quat()
    return np.concatenate([xyzw[:, 3:], xyzw[:, :3]], axis=1)


def _scipy(q_wxyz: np.ndarray) -> Rotation:
    return Rotation.from_quat(np.concatenate([q_wxyz[..., 1:], q_wxyz[..., :1]], axis=-1))


def test_multiply_matches_scipy_composition():
    a, b = _random_quat(50, 1), _random_quat(50, 2)
    expected = (_scipy(a) * _scipy(b)).as_matrix()
    np.testing.assert_allclose(qt.to_matrix(qt.multiply(a, b)), expected, atol=1e-12)


def test_multiply_broadcasts_and_identity():
    a = _random_quat(7)
    np.testing.assert_allclose(qt.multiply([1.0, 0, 0, 0], a), a, atol=1e-15)
    np.testing.assert_allclose(
        qt.multiply(a, qt.conjugate(a)), np.tile([1.0, 0, 0, 0], (7, 1)), atol=1e-12
    )


def test_rotate_matches_matrix_and_scipy():
    q = _random_quat(40, 3)
    v = np.random.default_rng(0).normal(size=(40, 3))
    rotated = qt.rotate(q, v)
    np.testing.assert_allclose(rotated, _scipy(q).apply(v), atol=1e-12)
    np.testing.assert_allclose(rotated, np.einsum("nij,nj->ni", qt.to_matrix(q), v), atol=1e-12)


def test_known_rotation_convention():
    # +90 deg about x maps sensor y onto earth z (sensor -> earth, w first)
    q = np.array([np.sqrt(0.5), np.sqrt(0.5), 0.0, 0.0])
    np.testing.assert_allclose(qt.rotate(q, [0.0, 1.0, 0.0]), [0.0, 0.0, 1.0], atol=1e-15)
    np.testing.assert_allclose(qt.up_in_sensor(q), [0.0, 1.0, 0.0], atol=1e-15)


def test_from_matrix_roundtrip_and_sign():
    q = _random_quat(30, 4)
    back = qt.from_matrix(qt.to_matrix(q))
    assert (back[:, 0] >= 0).all()
    np.testing.assert_allclose(np.abs(np.sum(back * q, axis=1)), 1.0, atol=1e-12)
    assert qt.from_matrix(np.eye(3)).shape == (4,)


def test_up_in_sensor_is_inverse_rotation_of_z():
    q = _random_quat(20, 5)
    np.testing.assert_allclose(
        qt.up_in_sensor(q), qt.rotate(qt.conjugate(q), [0.0, 0.0, 1.0]), atol=1e-12
    )


@settings(max_examples=200, deadline=None)
@given(
    arrays(np.float64, (3,), elements=st.floats(-20, 20)).filter(lambda v: np.linalg.norm(v) > 1e-3)
)
def test_quat_from_up_maps_to_z(v):
    q = qt.quat_wxyz_from_up(v)
    np.testing.assert_allclose(np.linalg.norm(q), 1.0, atol=1e-12)
    np.testing.assert_allclose(qt.rotate(q, v / np.linalg.norm(v)), [0.0, 0.0, 1.0], atol=1e-9)


def test_quat_from_up_pointing_down():
    q = qt.quat_wxyz_from_up([0.0, 0.0, -3.0])
    np.testing.assert_allclose(qt.rotate(q, [0.0, 0.0, -1.0]), [0.0, 0.0, 1.0], atol=1e-12)


def test_inclination_error_ignores_heading_and_measures_tilt():
    q = _random_quat(25, 6)
    yaw = Rotation.from_euler("z", np.linspace(-3, 3, 25)[:, None]).as_quat()
    yaw_wxyz = np.concatenate([yaw[:, 3:], yaw[:, :3]], axis=1)
    np.testing.assert_allclose(qt.inclination_error_deg(qt.multiply(yaw_wxyz, q), q), 0, atol=1e-5)
    tilt = np.array([np.cos(np.radians(5)), np.sin(np.radians(5)), 0.0, 0.0])  # 10 deg about x
    np.testing.assert_allclose(qt.inclination_error_deg(qt.multiply(tilt, q), q), 10.0, atol=1e-9)


def test_bad_shapes_raise_value_error():
    with pytest.raises(ValueError, match="4 columns"):
        qt.conjugate(np.zeros((3, 3)))
    with pytest.raises(ValueError, match="3 columns"):
        qt.rotate([1.0, 0, 0, 0], np.zeros(4))
    with pytest.raises(ValueError, match=r"\(\.\.\., 3, 3\)"):
        qt.from_matrix(np.eye(4))
