"""Whole-session analysis: a recording or CSV in, every pelviscope result out.

This is the one place in ``analysis`` that reads files (through :mod:`recordings`);
everything it calls is pure. The live app runs the same functions incrementally.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy.ndimage import maximum_filter1d

from analysis import quaternion as quat
from analysis.activity import classify_activity
from analysis.calibration import (
    Calibration,
    CalibrationError,
    calibrate_auto,
    rotation_from_up_and_anterior,
)
from analysis.gait import GaitResult, detect_gait, pelvis_stride_metrics
from analysis.hiphike import (
    HipHikeParams,
    detect_hip_hikes,
    hip_hike_labels,
    step_obliquities,
)
from analysis.orientation import estimate_quat_wxyz
from analysis.tilt import pelvic_tilt_deg
from recordings import Gap, Recording, load

FloatArray = NDArray[np.float64]
FORMAT = "pelviscope.analysis/1"
#: Bump when results change for the same input (invalidates the review window's cache).
ANALYSIS_VERSION = "1"
ACTIVITIES = ("standing", "walking", "sitting", "lying", "transition", "unknown")
Progress = Callable[[float, str], None]


@dataclass
class SessionResult:
    """Everything pelviscope derives from one session.

    Per-sample arrays have the recording's samples (no interpolation over gaps).
    """

    source: str
    meta: dict[str, Any]
    rate_hz: float
    time_s: FloatArray
    quat_wxyz: FloatArray
    anterior_tilt_deg: FloatArray
    lateral_tilt_deg: FloatArray
    activity: NDArray[np.str_]
    hip_hike: NDArray[np.str_]
    gaps: list[Gap]
    calibration: Calibration | None
    calibration_error: str | None
    segments: list[dict[str, Any]]
    transitions: list[dict[str, Any]]
    steps: list[dict[str, Any]]
    strides: pd.DataFrame
    swings: pd.DataFrame
    bouts: list[dict[str, Any]]
    episodes: list[dict[str, Any]]
    hip_hike_params: HipHikeParams
    notes: list[str] = field(default_factory=list)
    _ic_time_s: FloatArray = field(default_factory=lambda: np.empty(0))
    _ic_side: NDArray[np.str_] = field(default_factory=lambda: np.empty(0, dtype="<U7"))

    @property
    def duration_s(self) -> float:
        """First to last sample."""
        return float(self.time_s[-1] - self.time_s[0]) if self.time_s.size else 0.0

    @property
    def per_sample(self) -> pd.DataFrame:
        """The per-sample table of DESIGN section 3."""
        return pd.DataFrame(
            {
                "time_s": self.time_s,
                "anterior_tilt_deg": self.anterior_tilt_deg,
                "lateral_tilt_deg": self.lateral_tilt_deg,
                "activity": self.activity,
                "hip_hike": self.hip_hike,
            }
        )

    def gait_summary(self) -> dict[str, Any]:
        """The ``gait`` object of DESIGN section 4 (plus bout details)."""
        s = self.strides
        steps_in_bouts = [b["n_steps"] for b in self.bouts]
        cadences = [b["cadence_spm"] for b in self.bouts]
        cadence = float(np.average(cadences, weights=steps_in_bouts)) if cadences else float("nan")
        return {
            "cadence_spm": _num(cadence),
            # Complete strides (two steps each); the stride table has one per contact.
            "strides": sum(max(0, (b["n_steps"] - 1) // 2) for b in self.bouts),
            "obliquity_rom_deg": _num(s["obliquity_rom_deg"].median()) if len(s) else None,
            "anterior_tilt_rom_deg": _num(s["anterior_tilt_rom_deg"].median()) if len(s) else None,
            "steps": len(self.steps),
            "bouts": self.bouts,
            "left_swing_elevation_deg": self._swing_median("left"),
            "right_swing_elevation_deg": self._swing_median("right"),
        }

    def _swing_median(self, side: str) -> float | None:
        v = self.swings.loc[self.swings["swing_side"] == side, "elevation_deg"]
        return _num(float(v.median())) if len(v) else None

    def summary(self) -> dict[str, Any]:
        """Per-activity duration, tilt mean and SD, and share of time hip-hiking."""
        out: dict[str, Any] = {}
        dt = _sample_durations(self.time_s, self.rate_hz)
        for act in ACTIVITIES:
            sel = self.activity == act
            if not sel.any():
                continue
            ant, lat = self.anterior_tilt_deg[sel], self.lateral_tilt_deg[sel]
            duration = float(dt[sel].sum())
            out[act] = {
                "duration_s": duration,
                "anterior_tilt_deg": _stats(ant),
                "lateral_tilt_deg": _stats(lat),
                "hip_hike_pct": float(100 * dt[sel & (self.hip_hike != "")].sum() / duration),
            }
        return out

    def to_json(self) -> dict[str, Any]:
        """The ``analyze --json`` document (DESIGN section 4)."""
        cal = self.calibration
        calibration: dict[str, Any]
        if cal is None:
            calibration = {
                "method": "none",
                "sensor_to_pelvis_quat_wxyz": None,
                "quality": {"error": self.calibration_error},
            }
        else:
            calibration = cal.to_dict()
            calibration.pop("format")
        return {
            "format": FORMAT,
            "analysis_version": ANALYSIS_VERSION,
            "input": {
                "path": self.source,
                "duration_s": self.duration_s,
                "rate_hz": self.rate_hz,
                "samples": int(self.time_s.size),
                "gaps": [
                    {
                        "start_s": g.start_s,
                        "end_s": g.end_s,
                        "lost_samples": g.lost_samples,
                        "reason": g.reason,
                    }
                    for g in self.gaps
                ],
                "device": self.meta.get("device"),
                "start_time_utc": self.meta.get("start_time_utc"),
            },
            "calibration": calibration,
            "segments": self.segments,
            "transitions": self.transitions,
            "steps": self.steps,
            "gait": self.gait_summary(),
            "hip_hike_episodes": self.episodes,
            "hip_hike_params": self.hip_hike_params.to_dict(),
            "summary": self.summary(),
            "notes": self.notes,
        }

    def redetect(self, params: HipHikeParams) -> SessionResult:
        """Re-run only the hip-hike detection with new thresholds (fast)."""
        episodes = detect_hip_hikes(
            self.time_s,
            self.lateral_tilt_deg,
            self.activity,
            self._ic_time_s,
            self._ic_side,
            params=params,
        )
        labels = hip_hike_labels(self.time_s, episodes)
        swings = swing_elevations(
            self.time_s,
            self.lateral_tilt_deg,
            self.activity,
            self._ic_time_s,
            self._ic_side,
            params,
        )
        return _replace(
            self,
            episodes=[e.to_dict() for e in episodes],
            hip_hike=labels,
            hip_hike_params=params,
            swings=swings,
        )


def _replace(result: SessionResult, **changes: Any) -> SessionResult:
    return replace(result, **changes)


def _num(value: float) -> float | None:
    return None if value is None or not np.isfinite(value) else float(value)


def _stats(x: FloatArray) -> dict[str, float | None]:
    x = x[np.isfinite(x)]
    if not x.size:
        return {"mean": None, "sd": None}
    return {"mean": float(x.mean()), "sd": float(x.std())}


def _sample_durations(time_s: FloatArray, rate_hz: float) -> FloatArray:
    """Time each sample stands for; samples next to a gap count one nominal period."""
    dt = np.diff(time_s, append=time_s[-1] + 1 / rate_hz) if time_s.size else np.empty(0)
    return np.minimum(dt, 1.5 / rate_hz)


def _uniform_blocks(
    time_s: FloatArray, wanted: NDArray[np.bool_], max_fill_s: float = 0.5
) -> list[tuple[int, int]]:
    """Index ranges of ``wanted`` samples without gaps longer than ``max_fill_s``."""
    cut = np.zeros(time_s.size + 1, dtype=bool)
    cut[1:-1] = np.diff(time_s) > max_fill_s
    cut[1:-1] |= wanted[1:] != wanted[:-1]
    edges = np.concatenate(([0], np.nonzero(cut)[0], [time_s.size]))
    return [(int(a), int(b)) for a, b in itertools.pairwise(edges) if b - a > 1 and wanted[a]]


def _gait_on_blocks(
    time_s: FloatArray,
    acc_p: FloatArray,
    gyr_p: FloatArray | None,
    up_p: FloatArray,
    rate_hz: float,
    walking: NDArray[np.bool_],
) -> tuple[FloatArray, NDArray[np.str_], FloatArray, list[dict[str, Any]], list[str]]:
    """Gait events on each gap-free block around walking, on a uniform grid.

    Only spans labelled walking (plus 3 s either side, so no bout edge is lost) are
    searched: faster on long days, and no "steps" while sitting. Events that fall into a
    bridged gap are dropped.
    """
    ics, sides, conf, bouts, notes = [], [], [], [], []
    near_walking = maximum_filter1d(walking.astype(np.int8), int(6 * rate_hz) + 1) > 0
    for a, b in _uniform_blocks(time_s, near_walking):
        t = time_s[a:b]
        if t[-1] - t[0] < 3.0:
            continue
        grid = np.arange(t[0], t[-1], 1.0 / rate_hz)

        def on_grid(x: FloatArray, t: FloatArray = t, grid: FloatArray = grid) -> FloatArray:
            return np.stack([np.interp(grid, t, x[:, k]) for k in range(x.shape[1])], axis=1)

        res: GaitResult = detect_gait(
            on_grid(acc_p[a:b]),
            None if gyr_p is None else on_grid(gyr_p[a:b]),
            rate_hz=rate_hz,
            up_p=on_grid(up_p[a:b]),
        )
        ic = res.ic_time_s + t[0]
        nearest = np.abs(t[np.clip(np.searchsorted(t, ic), 0, t.size - 1)] - ic)
        keep = nearest <= 1.5 / rate_hz + 1e-9  # not inside a bridged gap
        ics.append(ic[keep])
        sides.append(res.ic_side[keep])
        conf.append(res.ic_confidence[keep])
        for bout in res.bouts:
            bouts.append(
                {
                    "start_s": bout.start_s + t[0],
                    "end_s": bout.end_s + t[0],
                    "n_steps": bout.n_steps,
                    "cadence_spm": bout.cadence_spm,
                    "stride_time_s": bout.stride_time_s,
                    "stride_time_cv_pct": bout.stride_time_cv_pct,
                    "step_asymmetry_pct": bout.step_asymmetry_pct,
                }
            )
        notes.extend(w for w in res.warnings if w not in notes)
    if not ics:
        return np.empty(0), np.empty(0, dtype="<U7"), np.empty(0), [], notes
    return np.concatenate(ics), np.concatenate(sides), np.concatenate(conf), bouts, notes


def swing_elevations(
    time_s: FloatArray,
    lateral_tilt_deg: FloatArray,
    activity: NDArray[np.str_],
    ic_time_s: FloatArray,
    ic_side: NDArray[np.str_],
    params: HipHikeParams,
) -> pd.DataFrame:
    """Mid-swing height of the swing side for every step, as the hip-hike detector sees it.

    Columns ``time_s`` (mid-step), ``swing_side`` and ``elevation_deg`` (+ = swing side
    raised above level; normal gait drops it by a few degrees). Invalid steps (pauses,
    unknown sides) are left out.
    """
    walking = np.isin(activity, params.gait_activities)
    steps = step_obliquities(time_s, lateral_tilt_deg, walking, ic_time_s, ic_side, params)
    rows = [
        (0.5 * (st.start_s + st.end_s), st.swing_side, st.elevation_deg)
        for st in steps
        if st.valid and np.isfinite(st.elevation_deg)
    ]
    return pd.DataFrame(rows, columns=["time_s", "swing_side", "elevation_deg"])


def analyze_recording(
    rec: Recording,
    *,
    source: str = "",
    calibration: Calibration | None = None,
    standing_tilt_deg: float | None = None,
    hip_hike_params: HipHikeParams | None = None,
    progress: Progress | None = None,
) -> SessionResult:
    """Analyse an in-memory recording (see :func:`analyze`)."""
    report = progress or (lambda fraction, what: None)
    if rec.n_samples < 2:
        raise ValueError(f"{source or 'recording'}: fewer than 2 samples - nothing to analyse")
    rate = rec.rate_hz
    notes = list(rec.warnings)
    if rec.gyr_rps is None:
        notes.append(
            "no gyroscope: orientation from the accelerometer only (less accurate while moving)"
        )
    report(0.05, "orientation")
    q = estimate_quat_wxyz(rec.acc_mps2, rec.gyr_rps, rate, offline=True, time_s=rec.time_s)
    report(0.45, "calibration")
    cal_error = None
    if calibration is None:
        try:
            calibration = calibrate_auto(rec.acc_mps2, rec.gyr_rps, q, rate, time_s=rec.time_s)
        except CalibrationError as exc:
            cal_error = str(exc)
            notes.append(f"calibration failed: {exc}; tilt angles and step sides are not reported")
    if calibration is not None and standing_tilt_deg is not None:
        calibration = calibration.with_standing_tilt(standing_tilt_deg)
    if calibration is not None:
        anterior, lateral = pelvic_tilt_deg(q, calibration)
        notes.extend(calibration.quality.notes)
    else:
        anterior = np.full(rec.n_samples, np.nan)
        lateral = np.full(rec.n_samples, np.nan)
    report(0.55, "activity")
    calibrated = calibration is not None
    act = classify_activity(
        rec.time_s,
        rec.acc_mps2,
        anterior if calibrated else None,
        lateral if calibrated else None,
        rate,
        quat_wxyz=q,
    )
    notes.extend(n for n in act.notes if n not in notes)
    report(0.7, "gait")
    up_s = quat.up_in_sensor(q)
    frame = calibration
    if frame is None:
        # Without a calibration only the vertical is known: steps and cadence still work.
        up_mean = up_s.mean(axis=0)
        helper = np.eye(3)[int(np.argmin(np.abs(up_mean)))]
        frame = Calibration(rotation_from_up_and_anterior(up_mean, helper), "vertical_only")
    gyr_p = None if rec.gyr_rps is None else frame.to_pelvis(rec.gyr_rps)
    ic_t, ic_side, ic_conf, bouts, gait_notes = _gait_on_blocks(
        rec.time_s,
        frame.to_pelvis(rec.acc_mps2),
        gyr_p,
        frame.to_pelvis(up_s),
        rate,
        act.labels == "walking",
    )
    if calibration is None:
        ic_side = np.full(ic_t.shape, "unknown", dtype="<U7")
    notes.extend(n for n in gait_notes if n not in notes)
    strides = pelvis_stride_metrics(rec.time_s, anterior, lateral, ic_t, ic_side)
    strides_df = pd.DataFrame(
        {
            "start_s": strides.start_s,
            "end_s": strides.end_s,
            "start_side": strides.start_side,
            "anterior_tilt_rom_deg": strides.anterior_tilt_rom_deg,
            "obliquity_rom_deg": strides.obliquity_rom_deg,
            "obliquity_mean_deg": strides.obliquity_mean_deg,
            "left_swing_obliquity_deg": strides.left_swing_obliquity_deg,
            "right_swing_obliquity_deg": strides.right_swing_obliquity_deg,
        }
    )
    report(0.85, "hip-hiking")
    params = hip_hike_params or HipHikeParams()
    episodes = detect_hip_hikes(rec.time_s, lateral, act.labels, ic_t, ic_side, params=params)
    result = SessionResult(
        source=source,
        meta=dict(rec.meta),
        rate_hz=rate,
        time_s=rec.time_s,
        quat_wxyz=q,
        anterior_tilt_deg=anterior,
        lateral_tilt_deg=lateral,
        activity=act.labels,
        hip_hike=hip_hike_labels(rec.time_s, episodes),
        gaps=list(rec.gaps),
        calibration=calibration,
        calibration_error=cal_error,
        segments=[{"activity": a, "start_s": t0, "end_s": t1} for a, t0, t1 in act.segments],
        transitions=[asdict(t) for t in act.transitions],
        steps=[
            {"time_s": float(t), "side": str(s), "event": "initial_contact", "confidence": float(c)}
            for t, s, c in zip(ic_t, ic_side, ic_conf, strict=True)
        ],
        strides=strides_df,
        swings=swing_elevations(rec.time_s, lateral, act.labels, ic_t, ic_side, params),
        bouts=bouts,
        episodes=[e.to_dict() for e in episodes],
        hip_hike_params=params,
        notes=notes,
        _ic_time_s=ic_t,
        _ic_side=ic_side,
    )
    report(1.0, "done")
    return result


def analyze(
    recording_or_csv_path: str | os.PathLike[str],
    *,
    acc_unit: str = "mps2",
    gyr_unit: str = "rps",
    calibration: Calibration | None = None,
    standing_tilt_deg: float | None = None,
    hip_hike_params: HipHikeParams | None = None,
    progress: Progress | None = None,
) -> SessionResult:
    """Analyse a recording (``.psrec``) or a CSV (DESIGN section 3) - DESIGN section 6.

    Parameters
    ----------
    recording_or_csv_path : path
        The input file.
    acc_unit, gyr_unit : str
        Units of a CSV's columns (``"mps2"``/``"g"``, ``"rps"``/``"dps"``).
    calibration : Calibration, optional
        Use this sensor-to-pelvis calibration instead of the automatic one.
    standing_tilt_deg : float, optional
        Absolute anterior tilt of the neutral standing posture, if measured.
    hip_hike_params : HipHikeParams, optional
        Hip-hike thresholds.
    progress : callable, optional
        ``progress(fraction, stage)`` is called as the analysis proceeds.

    Raises
    ------
    recordings.InputError
        Unreadable or invalid input (the message names file, position and reason).
    """
    rec = load(recording_or_csv_path, acc_unit=acc_unit, gyr_unit=gyr_unit)
    return analyze_recording(
        rec,
        source=str(recording_or_csv_path),
        calibration=calibration,
        standing_tilt_deg=standing_tilt_deg,
        hip_hike_params=hip_hike_params,
        progress=progress,
    )
