"""Live mount monitor (analysis.mount_live): message within 2 s of walking after a slip,
the new calibration within 10 s of walking, no message in a normal session."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from analysis.calibration import Calibration
from analysis.mount_live import MOVED_MESSAGE, MountMonitor, MountState
from analysis.orientation import estimate_quat_wxyz
from analysis.tilt import pelvic_tilt_deg
from simulator import Scenario, Sit, Stand, Walk, simulate
from simulator.presets import clinic_protocol
from simulator.session import SimulatedSession
from simulator.slip import Slip, sit_down_times_s


def _feed(s: SimulatedSession):
    rec = s.recording
    q = estimate_quat_wxyz(rec.acc_mps2, rec.gyr_rps, rec.rate_hz, offline=False, time_s=rec.time_s)
    monitor = MountMonitor(rec.rate_hz, Calibration(s.truth.mount_quat_wxyz, "preset:true"))
    raised = new = None
    for i in range(0, rec.n_samples, 10):  # 0.1 s chunks, as the live pipeline
        j = min(i + 10, rec.n_samples)
        st = monitor.update(rec.acc_mps2[i:j], rec.gyr_rps[i:j], q[i:j], rec.time_s[i:j])
        if st.message is not None and raised is None:
            assert st.message == MOVED_MESSAGE and st.suspend_flags
            raised = rec.time_s[j - 1]
        if st.calibration is not None and new is None:
            new = (rec.time_s[j - 1], st.calibration)
    return q, raised, new, monitor


@pytest.mark.parametrize(("seed", "angle", "axis"), [(3, 25.0, "x"), (5, -23.0, "y")])
def test_live_slip_message_and_recalibration(seed, angle, axis):
    sc = Scenario([Stand(8), Walk(20), Stand(4), Sit(40), Stand(6), Walk(20), Stand(4)])
    slip = Slip(at_s=sit_down_times_s(sc)[0], rotation_deg=angle, axis=axis)
    s = simulate(sc, mount=Rotation.random(random_state=seed), seed=seed, slips=[slip])
    q, raised, new, monitor = _feed(s)
    walk = next(
        g for g in s.truth.segments if g["activity"] == "walking" and g["start_s"] > slip.at_s
    )
    assert raised is not None and walk["start_s"] <= raised <= walk["start_s"] + 2.0
    assert new is not None and new[0] <= walk["start_s"] + 10.0
    assert monitor.state is MountState.OK
    t = s.truth.time_s
    after = (t > new[0]) & (t < walk["end_s"])
    anterior, lateral = pelvic_tilt_deg(q[after], new[1])
    assert np.sqrt(np.mean((anterior - s.truth.anterior_tilt_deg[after]) ** 2)) < 2.0
    assert np.sqrt(np.mean((lateral - s.truth.lateral_tilt_deg[after]) ** 2)) < 2.0


def test_live_normal_session_never_says_moved():
    s = simulate(clinic_protocol(), mount=Rotation.random(random_state=71), seed=1)
    _, raised, new, monitor = _feed(s)
    assert raised is None and new is None and monitor.state is MountState.OK
