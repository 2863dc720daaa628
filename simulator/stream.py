"""The signal an emulated sensor streams: a simulated session, sensor frame, no IMU faults.

The emulator adds the link's faults (lost packets, clock drift, disconnects) itself, so
the signal here is the ideal one of :func:`simulator.simulate`.
"""

from __future__ import annotations

import numpy as np

from simulator.imu import ImuErrors
from simulator.scenario import Scenario
from simulator.session import simulate
from simulator.smooth import FloatArray


def sensor_signal(
    scenario: Scenario, *, rate_hz: float, start_s: float = 0.0, seed: int = 1
) -> tuple[FloatArray, FloatArray]:
    """Accelerometer (m/s^2) and gyroscope (rad/s) of ``scenario`` from ``start_s`` on.

    Parameters
    ----------
    scenario : Scenario
        What the simulated person does.
    rate_hz : float
        Sampling rate.
    start_s : float
        Stream from this time of the session on (e.g. just before a hip-hike).
    seed : int
        Simulator seed.

    Raises
    ------
    ValueError
        ``start_s`` is at or beyond the end of the session.
    """
    errors = ImuErrors(packet_loss=0.0, rate_error_ppm=0.0, quantize=False)
    rec = simulate(scenario, rate_hz=rate_hz, errors=errors, seed=seed).recording
    assert rec.gyr_rps is not None  # the simulator always has a gyroscope
    i = int(np.searchsorted(rec.time_s, start_s))
    if i >= rec.n_samples - 1:
        raise ValueError(
            f"start_s {start_s} is beyond the simulated session ({rec.time_s[-1]:.0f} s)"
        )
    return rec.acc_mps2[i:], rec.gyr_rps[i:]
