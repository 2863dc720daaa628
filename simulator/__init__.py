"""Physically consistent pelvis IMU simulator.

The ground-truth oracle of the tests and the signal source of the emulated sensor.

>>> from simulator import Scenario, Stand, Walk, simulate
>>> session = simulate(Scenario([Stand(10), Walk(20)]), rate_hz=100, seed=1)
>>> session.recording.acc_mps2.shape, session.truth.anterior_tilt_deg.shape
"""

from simulator.imu import ImuErrors
from simulator.scenario import Lie, Scenario, Sit, Stand, Turn, Walk
from simulator.session import (
    SACRAL_MOUNT_QUAT_WXYZ,
    Episode,
    SimulatedSession,
    Truth,
    simulate,
)
from simulator.stream import sensor_signal

__all__ = [
    "SACRAL_MOUNT_QUAT_WXYZ",
    "Episode",
    "ImuErrors",
    "Lie",
    "Scenario",
    "SimulatedSession",
    "Sit",
    "Stand",
    "Truth",
    "Turn",
    "Walk",
    "sensor_signal",
    "simulate",
]
