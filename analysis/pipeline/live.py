"""Incremental analysis of the live stream, wired from ``analysis`` (no Qt, no maths here).

One :class:`LivePipeline` takes each decoded batch, leaves out the samples no sensor can
produce (:func:`analysis.checks.impossible_samples`, the offline analysis's rule and
limits: not numbers, or beyond the sensor's range) and runs, in order: the causal
orientation + tilt (:class:`analysis.tilt.TiltTracker`), the guided calibration if one
is running, the fixed-lag activity tracker, a rolling gait detection for cadence and
initial contacts, the incremental hip-hike tracker and the pelvic-drop tracker.

Two wiring decisions (not analysis) are made here:

* The hip-hike tracker is fed each sample as it arrives, labelled with the activity
  tracker's provisional label (``ActivityUpdate.provisional``: the most recent decided
  label, held; decisions come ~1.9 s late). A held posture keeps its label, so a static
  hip-hike is flagged ``static_min_duration_s`` after it starts instead of ~1.9 s later;
  at posture changes the label lags by that much.
* Cadence and initial contacts come from :func:`analysis.gait.detect_gait` re-run on the
  last ``gait_window_s`` of gap-free data about once a second; contacts more than
  ``gait_settle_s`` old (no longer near the window edge) are passed on to the hip-hike
  tracker once, with the next batch. This is the one slow stage (30-60 ms per run), so
  it is not part of :meth:`LivePipeline.feed`: the caller runs :meth:`LivePipeline.update_gait`
  when :attr:`LivePipeline.gait_due` and it does not delay a redraw (after a paint).
* Pelvic drops are judged on the steps the hip-hike tracker evaluates (it keeps them,
  ``record_steps=True``): each new step goes to one
  :class:`analysis.hiphike.drop.PelvicDropTracker`, the tracker the offline analysis runs
  over a whole session's steps (``detect_pelvic_drops``) - one code path. The live path
  has no turn list (as for hip-hikes), so turning strides stay in.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from analysis import quaternion as quat
from analysis.activity import ActivityTracker, ActivityUpdate
from analysis.calibration import Calibration
from analysis.checks import impossible_samples, sample_limits
from analysis.gait import detect_gait
from analysis.guided_calibration import GuidedCalibration, GuidedStatus
from analysis.hiphike import HipHikeParams, HipHikeTracker, HipHikeUpdate
from analysis.hiphike.drop import PelvicDropEpisode, PelvicDropTracker
from analysis.hiphike.params import PelvicDropParams
from analysis.labels import Activity
from analysis.tilt import TiltTracker

FloatArray = NDArray[np.float64]
#: A hole in the data longer than this (s) restarts the rolling gait window (lost
#: packets, impossible samples left out): the gait detection assumes contiguous samples.
GAIT_BREAK_S = 0.5


@dataclass
class PelvicDropUpdate:
    """The pelvic-drop tracker's state after one batch.

    Attributes
    ----------
    closed : list of PelvicDropEpisode
        Episodes that ended in this batch.
    ongoing : list of PelvicDropEpisode
        Confirmed runs still open (provisional episodes).
    flag : str
        The side dropping now (``"left"``, ``"right"``) or ``""``.
    """

    closed: list[PelvicDropEpisode] = field(default_factory=list)
    ongoing: list[PelvicDropEpisode] = field(default_factory=list)
    flag: str = ""


@dataclass
class ChunkResult:
    """What one batch produced.

    Attributes
    ----------
    time_s : ndarray, shape (N,)
        Times of the samples used, s (session clock): the batch's without the impossible
        ones.
    anterior_tilt_deg, lateral_tilt_deg : ndarray, shape (N,)
        Tilt per sample used, deg (NaN before any calibration).
    activity : ActivityUpdate
        Labels decided in this call (they refer to earlier samples).
    hip_hike : HipHikeUpdate
        Closed and ongoing episodes, and the current flag.
    drop : PelvicDropUpdate
        Closed and ongoing pelvic-drop episodes, and the side dropping now.
    calibration : GuidedStatus or None
        Status of a running guided calibration.
    left_out : ndarray of bool, shape (M,) or None
        One per sample of the batch fed: True for an impossible sample, left out (used for
        nothing). None when every sample was used (the common case).
    """

    time_s: FloatArray
    anterior_tilt_deg: FloatArray
    lateral_tilt_deg: FloatArray
    activity: ActivityUpdate
    hip_hike: HipHikeUpdate
    drop: PelvicDropUpdate = field(default_factory=PelvicDropUpdate)
    calibration: GuidedStatus | None = None
    left_out: NDArray[np.bool_] | None = None


@dataclass
class _GaitWindow:
    """The last seconds of gap-free data in the sensor frame, for rolling gait detection."""

    acc: list[FloatArray] = field(default_factory=list)
    gyr: list[FloatArray] = field(default_factory=list)
    up: list[FloatArray] = field(default_factory=list)
    t: list[FloatArray] = field(default_factory=list)

    def add(self, t: FloatArray, acc: FloatArray, gyr: FloatArray | None, up: FloatArray) -> None:
        self.t.append(t)
        self.acc.append(acc)
        self.up.append(up)
        if gyr is not None:
            self.gyr.append(gyr)

    def keep_last(self, seconds: float) -> None:
        if not self.t:
            return
        t = np.concatenate(self.t)
        i = int(np.searchsorted(t, t[-1] - seconds))
        self.t = [t[i:]]
        self.acc = [np.concatenate(self.acc)[i:]]
        self.up = [np.concatenate(self.up)[i:]]
        if self.gyr:
            self.gyr = [np.concatenate(self.gyr)[i:]]

    def clear(self) -> None:
        self.acc, self.gyr, self.up, self.t = [], [], [], []

    @property
    def span_s(self) -> float:
        return float(self.t[-1][-1] - self.t[0][0]) if self.t else 0.0


class LivePipeline:
    """Tilt, calibration, activity, cadence, hip-hikes and pelvic drops, batch by batch.

    Parameters
    ----------
    rate_hz : float
        Sampling rate of the stream.
    calibration : Calibration
        Initial sensor-to-pelvis calibration (a mount preset until the user calibrates).
    hip_hike_params : HipHikeParams, optional
        Hip-hike thresholds.
    drop_params : PelvicDropParams, optional
        Pelvic-drop thresholds.
    gait_window_s : float
        Length of the rolling window for cadence and contacts.
    gait_every_s : float
        How often (data time) the gait detection re-runs.
    gait_settle_s : float
        Contacts younger than this (relative to the window end) are not yet passed on.
    meta : dict, optional
        What is known of the sensor, as in a recording's header: its ``ranges`` set the
        limits of a possible sample (:func:`analysis.checks.sample_limits`), so a sample
        left out here is one the analysis of the recorded file leaves out too.
    """

    def __init__(
        self,
        rate_hz: float,
        calibration: Calibration,
        *,
        hip_hike_params: HipHikeParams | None = None,
        drop_params: PelvicDropParams | None = None,
        gait_window_s: float = 10.0,
        gait_every_s: float = 1.0,
        gait_settle_s: float = 1.0,
        meta: dict[str, Any] | None = None,
    ) -> None:
        self.rate_hz = float(rate_hz)
        self.meta = dict(meta or {})
        #: Largest usable ``(|acc| m/s^2, |gyr| rad/s)`` per axis.
        self.limits = sample_limits(self.meta)
        #: Impossible samples left out since the start.
        self.left_out_samples = 0
        self.tilt = TiltTracker(self.rate_hz, calibration)
        self.activity = ActivityTracker(self.rate_hz)
        self.hip_hike_params = hip_hike_params or HipHikeParams()
        self.hip_hike = HipHikeTracker(self.hip_hike_params, record_steps=True)
        self.drop_params = drop_params or PelvicDropParams()
        self.drop = PelvicDropTracker(self.drop_params)
        self.guided: GuidedCalibration | None = None
        self.gait_window_s = gait_window_s
        self.gait_every_s = gait_every_s
        self.gait_settle_s = gait_settle_s
        self._gait = _GaitWindow()
        self._next_gait_s = -np.inf
        self._last_ic_s = -np.inf
        self._last_time_s = -np.inf
        self._new_ics: list[tuple[float, str]] = []
        #: The last initial contacts handed on, ``(time_s, side)`` (for the stride view).
        self.recent_contacts: deque[tuple[float, str]] = deque(maxlen=64)
        #: Most recent activity label decided by the activity tracker.
        self.current_activity = Activity.UNKNOWN
        #: Cadence of the rolling window, steps/min (NaN when not walking).
        self.cadence_spm = float("nan")
        self.last_hip_hike = HipHikeUpdate([], [], "")
        self.last_drop = PelvicDropUpdate()

    @property
    def calibration(self) -> Calibration:
        """The calibration in use."""
        cal = self.tilt.calibration
        assert cal is not None
        return cal

    def set_calibration(self, calibration: Calibration) -> None:
        """Use another calibration from the next batch on."""
        self.tilt.calibration = calibration
        self._gait.clear()

    def set_hip_hike_params(self, params: HipHikeParams) -> None:
        """New thresholds: the hip-hike tracker restarts (past episodes are kept by the caller)."""
        self.hip_hike_params = params
        self.hip_hike = HipHikeTracker(params, record_steps=True)
        self._new_ics.clear()

    def set_drop_params(self, params: PelvicDropParams) -> None:
        """New drop thresholds: the drop tracker restarts (past episodes are kept by the caller)."""
        self.drop_params = params
        self.drop = PelvicDropTracker(params)
        self.last_drop = PelvicDropUpdate()

    def start_guided(self, mode: Literal["walk", "bend"] = "walk") -> GuidedStatus:
        """Start a guided calibration; its status comes with each :class:`ChunkResult`."""
        self.guided = GuidedCalibration(self.rate_hz, mode=mode)
        return self.guided.status

    def cancel_guided(self) -> None:
        """Abandon a running guided calibration."""
        self.guided = None

    def interrupt(self) -> None:
        """The stream had a gap: rolling windows must not bridge it."""
        self._gait.clear()

    def feed(
        self, time_s: FloatArray, acc_mps2: FloatArray, gyr_rps: FloatArray | None
    ) -> ChunkResult:
        """Run every stage on one batch of samples (sensor frame, SI units).

        Samples that are not numbers or beyond the sensor's range are left out first
        (:attr:`ChunkResult.left_out`, counted in :attr:`left_out_samples`): every stage
        sees them as lost samples, as the offline analysis does. One vectorised check.
        """
        bad = impossible_samples(acc_mps2, gyr_rps, time_s, self.meta)
        if not bad.any():
            hole = time_s.size > 0 and time_s[0] - self._last_time_s > GAIT_BREAK_S
            return self._feed(time_s, acc_mps2, gyr_rps, 0 if hole else None)
        keep = ~bad
        self.left_out_samples += int(bad.sum())
        time_s, acc_mps2 = time_s[keep], acc_mps2[keep]
        gyr_rps = None if gyr_rps is None else gyr_rps[keep]
        if not time_s.size:  # nothing usable: nothing changes
            empty = np.empty(0)
            no_labels = ActivityUpdate(0, np.empty(0, np.int8), [])
            hip = HipHikeUpdate([], list(self.last_hip_hike.ongoing), self.last_hip_hike.flag)
            drop = PelvicDropUpdate([], list(self.last_drop.ongoing), self.last_drop.flag)
            return ChunkResult(empty, empty, empty.copy(), no_labels, hip, drop, None, bad)
        holes_s = np.diff(time_s, prepend=self._last_time_s)
        long_holes = np.flatnonzero(holes_s > GAIT_BREAK_S)
        gait_from = int(long_holes[-1]) if long_holes.size else None
        res = self._feed(time_s, acc_mps2, gyr_rps, gait_from)
        res.left_out = bad
        return res

    def _feed(
        self,
        time_s: FloatArray,
        acc_mps2: FloatArray,
        gyr_rps: FloatArray | None,
        gait_from: int | None,
    ) -> ChunkResult:
        """Every stage on usable samples; the gait window restarts at ``gait_from`` if given."""
        q, anterior, lateral = self.tilt.update(acc_mps2, gyr_rps, time_s=time_s)
        status = None
        if self.guided is not None:
            status = self.guided.update(acc_mps2, gyr_rps, q)
            if status.phase == "done" and status.calibration is not None:
                self.set_calibration(status.calibration)
                self.guided = None
            elif status.phase == "failed":
                self.guided = None
        act = self.activity.update(acc_mps2, anterior, lateral)
        labels = act.provisional
        if labels.size:
            self.current_activity = Activity(labels[-1])
        up = quat.up_in_sensor(q)
        if gait_from is None:
            self._gait.add(time_s, acc_mps2, gyr_rps, up)
        else:  # impossible samples left a hole the gait detection must not bridge
            self._gait.clear()
            g = slice(gait_from, None)
            self._gait.add(time_s[g], acc_mps2[g], None if gyr_rps is None else gyr_rps[g], up[g])
        self._last_time_s = float(time_s[-1]) if time_s.size else self._last_time_s
        ics = [ic for ic in self._new_ics if ic[0] > self._last_ic_s]
        self._new_ics.clear()
        if ics:
            self._last_ic_s = ics[-1][0]
            self.recent_contacts.extend(ics)
        hip = self.hip_hike.update(
            time_s, lateral, labels, [t for t, _ in ics], [s for _, s in ics]
        )
        self.last_hip_hike = hip
        return ChunkResult(time_s, anterior, lateral, act, hip, self._update_drop(), status)

    def _update_drop(self) -> PelvicDropUpdate:
        """Push the steps the hip-hike tracker evaluated since the last batch."""
        steps = self.hip_hike.steps
        closed = [ep for step in steps for ep in self.drop.push(step)]
        steps.clear()  # each step is pushed once; nothing else reads them live
        self.last_drop = PelvicDropUpdate(closed, self.drop.ongoing, self.drop.flag)
        return self.last_drop

    def finish(self) -> tuple[HipHikeUpdate, PelvicDropUpdate]:
        """End of data: evaluate the remaining contacts and close every episode."""
        self.last_hip_hike = self.hip_hike.finish()
        drop = self._update_drop()
        self.last_drop = PelvicDropUpdate(drop.closed + self.drop.finish(), [], "")
        return self.last_hip_hike, self.last_drop

    @property
    def gait_due(self) -> bool:
        """True when :meth:`update_gait` should run (every ``gait_every_s`` of data)."""
        return bool(self._gait.t) and float(self._gait.t[-1][-1]) >= self._next_gait_s

    def update_gait(self) -> None:
        """Re-run the gait detection on the rolling window: cadence and new contacts."""
        if not self._gait.t:
            return
        self._next_gait_s = float(self._gait.t[-1][-1]) + self.gait_every_s
        self._gait.keep_last(self.gait_window_s)
        if self._gait.span_s < 3.0:
            self.cadence_spm = float("nan")
            return
        cal, gw = self.calibration, self._gait
        res = detect_gait(
            cal.to_pelvis(gw.acc[0]),
            cal.to_pelvis(gw.gyr[0]) if gw.gyr else None,
            rate_hz=self.rate_hz,
            up_p=cal.to_pelvis(gw.up[0]),
        )
        t_all = gw.t[0]
        t_end = float(t_all[-1])
        at = np.clip(np.rint(res.ic_time_s * self.rate_hz).astype(np.int64), 0, t_all.size - 1)
        walking = self.current_activity == Activity.WALKING
        self.cadence_spm = res.cadence_spm if (walking and res.n_steps >= 4) else float("nan")
        for ic, side in zip(t_all[at], res.ic_side, strict=True):
            fresh = not self._new_ics or ic > self._new_ics[-1][0] + 0.2
            if fresh and self._last_ic_s + 0.2 < ic < t_end - self.gait_settle_s:
                self._new_ics.append((float(ic), str(side)))
