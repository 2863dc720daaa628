"""The stages of a session analysis, each a function of arrays and its parameters.

:mod:`analysis.pipeline.offline` runs them over a whole session or over its parts; the
algorithms themselves live in the packages they name (``analysis.gait``,
``analysis.hiphike``, ...). Here is only what a session adds: gap-free blocks, the
calibration fallback, and turning results into tables.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy.ndimage import maximum_filter1d

from analysis import quaternion as quat
from analysis.activity import ActivityResult, classify_activity
from analysis.calibration import (
    Calibration,
    CalibrationError,
    calibrate_auto,
    rotation_from_up_and_anterior,
)
from analysis.clinical import LABELS as CLINICAL_LABELS
from analysis.clinical import Person, Signals, analyze_marked
from analysis.gait import GaitResult, detect_gait, pelvis_stride_metrics
from analysis.gait.spatial import SpatialParams, spatial_gait
from analysis.gait.turns import detect_turns, yaw_rate_dps
from analysis.hiphike import HipHikeEpisode, HipHikeParams, analyze_hip_hikes
from analysis.hiphike.drop import PelvicDropEpisode, detect_pelvic_drops
from analysis.hiphike.params import PelvicDropParams
from analysis.labels import Activity, Codes
from recordings import Recording

FloatArray = NDArray[np.float64]


def num(value: float | None) -> float | None:
    """``value`` as a float, None where it is missing or not finite (JSON ``null``)."""
    return None if value is None or not np.isfinite(value) else float(value)


@dataclass
class GaitEvents:
    """Initial contacts and walking bouts of a session (or of one part of it)."""

    ic_time_s: FloatArray = field(default_factory=lambda: np.empty(0))
    ic_side: NDArray[np.str_] = field(default_factory=lambda: np.empty(0, dtype="<U7"))
    ic_confidence: FloatArray = field(default_factory=lambda: np.empty(0))
    bouts: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @staticmethod
    def join(parts: list[GaitEvents]) -> GaitEvents:
        """The events of consecutive parts as one (notes once each)."""
        notes: list[str] = []
        for g in parts:
            notes.extend(w for w in g.notes if w not in notes)
        if not parts:
            return GaitEvents(notes=notes)
        return GaitEvents(
            np.concatenate([g.ic_time_s for g in parts]),
            np.concatenate([g.ic_side for g in parts]),
            np.concatenate([g.ic_confidence for g in parts]),
            [b for g in parts for b in g.bouts],
            notes,
        )


def input_notes(rec: Recording) -> list[str]:
    """What the user should know about the input before any result."""
    notes = list(rec.warnings)
    if rec.gyr_rps is None:
        notes.append(
            "no gyroscope: orientation from the accelerometer only (less accurate while moving)"
        )
    return notes


def calibrate(
    rec: Recording,
    q: FloatArray,
    calibration: Calibration | None,
    standing_tilt_deg: float | None,
    notes: list[str],
) -> tuple[Calibration | None, str | None]:
    """The given calibration, else the automatic one; and why there is none (appends notes)."""
    cal_error = None
    if calibration is None:
        try:
            calibration = calibrate_auto(
                rec.acc_mps2, rec.gyr_rps, q, rec.rate_hz, time_s=rec.time_s
            )
        except CalibrationError as exc:
            cal_error = str(exc)
            notes.append(f"calibration failed: {exc}; tilt angles and step sides are not reported")
    if calibration is not None:
        if standing_tilt_deg is not None:
            calibration = calibration.with_standing_tilt(standing_tilt_deg)
        notes.extend(calibration.quality.notes)
    return calibration, cal_error


def gait_frame(calibration: Calibration | None, q: FloatArray) -> Calibration:
    """The calibration, or without one a frame from the mean vertical (steps still work)."""
    if calibration is not None:
        return calibration
    up_mean = quat.up_in_sensor(q).mean(axis=0)
    helper = np.eye(3)[int(np.argmin(np.abs(up_mean)))]
    return Calibration(rotation_from_up_and_anterior(up_mean, helper), "vertical_only")


def activity_and_gait(
    rec: Recording,
    q: FloatArray,
    calibration: Calibration | None,
    anterior: FloatArray,
    lateral: FloatArray,
) -> tuple[ActivityResult, GaitEvents]:
    """Activity labels and gait events of a whole session."""
    rate = rec.rate_hz
    calibrated = calibration is not None
    act = classify_activity(
        rec.time_s,
        rec.acc_mps2,
        anterior if calibrated else None,
        lateral if calibrated else None,
        rate,
        quat_wxyz=q,
    )
    frame = gait_frame(calibration, q)
    gyr_p = None if rec.gyr_rps is None else frame.to_pelvis(rec.gyr_rps)
    gait = gait_on_blocks(
        rec.time_s,
        frame.to_pelvis(rec.acc_mps2),
        gyr_p,
        frame.to_pelvis(quat.up_in_sensor(q)),
        rate,
        act.labels == Activity.WALKING,
    )
    return act, gait


def uniform_blocks(
    time_s: FloatArray, wanted: NDArray[np.bool_], max_fill_s: float = 1.0
) -> list[tuple[int, int]]:
    """Index ranges of ``wanted`` samples without gaps longer than ``max_fill_s``.

    Shorter gaps (lost packets, a corrupt sample left out) are bridged so that they do
    not end a walking bout; steps found inside them are dropped later.
    """
    cut = np.zeros(time_s.size + 1, dtype=bool)
    cut[1:-1] = np.diff(time_s) > max_fill_s
    cut[1:-1] |= wanted[1:] != wanted[:-1]
    edges = np.concatenate(([0], np.nonzero(cut)[0], [time_s.size]))
    return [(int(a), int(b)) for a, b in itertools.pairwise(edges) if b - a > 1 and wanted[a]]


def gait_on_blocks(
    time_s: FloatArray,
    acc_p: FloatArray,
    gyr_p: FloatArray | None,
    up_p: FloatArray,
    rate_hz: float,
    walking: NDArray[np.bool_],
    own: tuple[int, int] | None = None,
) -> GaitEvents:
    """Gait events on each gap-free block around walking, on a uniform grid.

    Only spans labelled walking (plus 3 s either side, so no bout edge is lost) are
    searched: faster on long days, and no "steps" while sitting. Events that fall into a
    bridged gap are dropped. ``own=(a, b)``: only blocks starting at a sample in
    ``[a, b)`` (one part of a session analysed in parts).
    """
    blocks: list[GaitEvents] = []
    notes: list[str] = []
    near_walking = maximum_filter1d(walking.astype(np.int8), int(6 * rate_hz) + 1) > 0
    for a, b in uniform_blocks(time_s, near_walking):
        if own is not None and not own[0] <= a < own[1]:
            continue
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
        bouts = [
            {
                "start_s": bout.start_s + t[0],
                "end_s": bout.end_s + t[0],
                "n_steps": bout.n_steps,
                # A bout of one stride has no variability: None, not NaN.
                "cadence_spm": num(bout.cadence_spm),
                "stride_time_s": num(bout.stride_time_s),
                "stride_time_cv_pct": num(bout.stride_time_cv_pct),
                "step_asymmetry_pct": num(bout.step_asymmetry_pct),
            }
            for bout in res.bouts
        ]
        blocks.append(
            GaitEvents(ic[keep], res.ic_side[keep], res.ic_confidence[keep], bouts, [])
        )
        notes.extend(w for w in res.warnings if w not in notes)
    events = GaitEvents.join(blocks)
    events.notes = notes
    return events


def stride_table(
    time_s: FloatArray,
    anterior: FloatArray,
    lateral: FloatArray,
    ic_time_s: FloatArray,
    ic_side: NDArray[np.str_],
) -> pd.DataFrame:
    """Per-stride tilt and obliquity (:func:`analysis.gait.pelvis_stride_metrics`)."""
    strides = pelvis_stride_metrics(time_s, anterior, lateral, ic_time_s, ic_side)
    return pd.DataFrame(
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


@dataclass
class GaitPatterns:
    """Hip-hike and pelvic-drop episodes of a session, and the steps they were judged on."""

    episodes: list[HipHikeEpisode]
    swings: pd.DataFrame
    suppressed: dict[str, int]
    drops: list[PelvicDropEpisode]


def gait_patterns(
    time_s: FloatArray,
    lateral_tilt_deg: FloatArray,
    activity: Codes,
    ic_time_s: FloatArray,
    ic_side: NDArray[np.str_],
    params: HipHikeParams,
    drop_params: PelvicDropParams,
    turns: list[dict[str, float]] | None = None,
) -> GaitPatterns:
    """Hip-hikes (static and gait) and pelvic drops from one evaluation of the steps.

    Both gait patterns read the same per-step swing obliquity (the swing side's height
    against its stride's mean); strides overlapping a turn are left out of both.
    """
    spans = [(t["start_s"], t["end_s"]) for t in turns or ()]
    episodes, steps, suppressed = analyze_hip_hikes(
        time_s, lateral_tilt_deg, activity, ic_time_s, ic_side, params, turns=spans
    )
    rows = [
        (0.5 * (st.start_s + st.end_s), st.swing_side, st.elevation_deg)
        for st in steps
        if st.valid and np.isfinite(st.elevation_deg)
    ]
    swings = pd.DataFrame(rows, columns=["time_s", "swing_side", "elevation_deg"])
    drops = detect_pelvic_drops(steps, drop_params, turns=spans)
    return GaitPatterns(episodes, swings, suppressed, drops)


def hip_hikes_and_swings(
    time_s: FloatArray,
    lateral_tilt_deg: FloatArray,
    activity: Codes,
    ic_time_s: FloatArray,
    ic_side: NDArray[np.str_],
    params: HipHikeParams,
    turns: list[dict[str, float]] | None = None,
) -> tuple[list[HipHikeEpisode], pd.DataFrame, dict[str, int]]:
    """Hip-hike episodes, the swing side's mid-swing height per step, suppressed flags.

    The swing table, as the detector sees it, has columns ``time_s`` (mid-step),
    ``swing_side`` and ``elevation_deg`` (+ = swing side raised above the stride's mean;
    normal gait drops it by a few degrees). Invalid steps (pauses, unknown sides) are left
    out. The suppressed flags are counted by reason (JSON ``hip_hike_suppressed``).
    Gait strides overlapping one of ``turns`` (``{"start_s", "end_s", ...}``) are left out.
    """
    g = gait_patterns(
        time_s, lateral_tilt_deg, activity, ic_time_s, ic_side, params, PelvicDropParams(), turns
    )
    return g.episodes, g.swings, g.suppressed


def clinical_results(
    rec: Recording,
    calibration: Calibration | None,
    anterior: FloatArray,
    lateral: FloatArray,
    notes: list[str],
) -> dict[str, list[dict[str, Any]]]:
    """The guided tests and exercises marked in the recording (``tests``, ``exercises``).

    A recording made in the clinic screen (or marked by hand) holds markers named after
    :data:`analysis.clinical.LABELS`; each marked span is analysed as that test. Nothing
    without a calibration (every test reads calibrated tilt).
    """
    marked = [(m.time_s, m.label) for m in rec.markers]
    if not any(label in CLINICAL_LABELS for _, label in marked):
        return {"tests": [], "exercises": []}
    if calibration is None:
        notes.append("the marked clinical tests need a calibration: not analysed")
        return {"tests": [], "exercises": []}
    sig = Signals(
        rec.time_s, anterior, lateral, calibration.to_pelvis(rec.acc_mps2),
        None if rec.gyr_rps is None else calibration.to_pelvis(rec.gyr_rps), rec.rate_hz,
    )  # fmt: skip
    age = rec.meta.get("age_years")
    person = Person(age_years=float(age) if isinstance(age, int | float) else None)
    return analyze_marked(sig, marked, person)


def session_turns(rec: Recording, q: FloatArray) -> list[dict[str, float]]:
    """Turns of the whole session, walking or not (none without a gyroscope: no yaw)."""
    if rec.gyr_rps is None:
        return []
    yaw = yaw_rate_dps(quat.up_in_sensor(q), rec.gyr_rps)
    return detect_turns(rec.time_s, yaw, rate_hz=rec.rate_hz)


def spatial_of_bouts(
    rec: Recording,
    q: FloatArray,
    gait: GaitEvents,
    *,
    leg_length_m: float | None,
    height_m: float | None,
    params: SpatialParams,
) -> list[dict[str, Any]]:
    """Walking speed and stride length of each bout (:func:`analysis.gait.spatial.spatial_gait`).

    Each bout is processed on its own samples plus ``_SPATIAL_MARGIN_S`` either side, so a
    day costs what its walking costs.
    """
    out = []
    t = rec.time_s
    for bout in gait.bouts:
        b0, b1 = float(bout["start_s"]), float(bout["end_s"])
        i0 = int(np.searchsorted(t, b0 - _SPATIAL_MARGIN_S))
        i1 = int(np.searchsorted(t, b1 + _SPATIAL_MARGIN_S))
        k = (gait.ic_time_s >= t[i0]) & (gait.ic_time_s < t[max(i0, i1 - 1)])
        _, per_bout = spatial_gait(
            t[i0:i1], rec.acc_mps2[i0:i1], q[i0:i1], rec.rate_hz,
            gait.ic_time_s[k], gait.ic_side[k], [(b0, b1)],
            leg_length=leg_length_m, height_m=height_m, params=params,
        )  # fmt: skip
        out.append(per_bout[0])
    return out


#: Samples either side of a bout for its vertical displacement (the filters settle).
_SPATIAL_MARGIN_S = 3.0
