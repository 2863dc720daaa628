"""Shared helpers for the recordings tests."""

from __future__ import annotations

import numpy as np

from recordings import Gap, Marker, Recording


def make_recording(
    n: int = 500,
    rate_hz: float = 100.0,
    *,
    has_gyr: bool = True,
    has_mag: bool = False,
    seed: int = 0,
) -> Recording:
    """A plausible recording: gravity on z plus noise, a gap and a marker."""
    rng = np.random.default_rng(seed)
    time_s = np.arange(n) / rate_hz
    acc = rng.normal(0.0, 0.3, (n, 3))
    acc[:, 2] += 9.81
    return Recording(
        time_s=time_s,
        acc_mps2=acc,
        gyr_rps=rng.normal(0.0, 0.5, (n, 3)) if has_gyr else None,
        rate_hz=rate_hz,
        mag=rng.normal(0.0, 40.0, (n, 3)) if has_mag else None,
        device_time_s=time_s + 12.5,
        gaps=[Gap(1.0, 1.2, 19, "packet_loss")],
        markers=[Marker(0.5, "stand", "start of protocol")],
        meta={"subject_id": "S01", "session_id": "A", "device": {"name": "sim"}},
    )


def f32(a: np.ndarray) -> np.ndarray:
    """What float32 storage makes of ``a``."""
    return a.astype(np.float32).astype(np.float64)
