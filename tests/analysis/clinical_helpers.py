"""Simulated clinical sessions turned into calibrated Signals (shared by the clinic tests)."""

from __future__ import annotations

import numpy as np

from analysis.calibration import Calibration, calibrate_auto, mount_preset
from analysis.clinical import Signals, signals_from_imu
from analysis.orientation import estimate_quat_wxyz
from simulator.clinical import ClinicalScript, ClinicalSession, simulate_clinical


def calibrated(session: ClinicalSession, *, auto: bool = False) -> tuple[Signals, Calibration]:
    r = session.recording
    if auto:  # on the protocol before the first clinical item (stand, walk)
        n = int(np.searchsorted(r.time_s, session.items[0]["start_s"])) if session.items else None
        q = estimate_quat_wxyz(r.acc_mps2[:n], r.gyr_rps[:n], r.rate_hz, offline=True)
        cal = calibrate_auto(r.acc_mps2[:n], r.gyr_rps[:n], q, r.rate_hz, time_s=r.time_s[:n])
    else:
        cal = mount_preset("sacral-mm+")
    return signals_from_imu(r.time_s, r.acc_mps2, r.gyr_rps, r.rate_hz, cal), cal


def run(script: ClinicalScript, *, seed: int = 0, auto: bool = False,
        mount: object = None) -> tuple[ClinicalSession, Signals]:
    session = simulate_clinical(script, seed=seed, mount=mount)  # type: ignore[arg-type]
    return session, calibrated(session, auto=auto)[0]
