"""Whole-session analysis: a recording or CSV in, every pelviscope result out.

This is the one place in ``analysis`` that reads files (through :mod:`recordings`);
everything it calls is pure. The live app runs the same functions incrementally.
"""

from __future__ import annotations

import contextlib
import itertools
import math
import multiprocessing
import os
import pickle
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy.ndimage import maximum_filter1d
from threadpoolctl import threadpool_limits

from analysis import quaternion as quat
from analysis.activity import (
    ActivityParams,
    ActivityResult,
    FrameFeatures,
    activity_from_states,
    classify_activity,
)
from analysis.calibration import (
    Calibration,
    CalibrationError,
    calibrate_auto,
    calibrate_from_head,
    rotation_from_up_and_anterior,
)
from analysis.checks import check_standing_tilt_deg, checked_recording
from analysis.gait import GaitResult, detect_gait, pelvis_stride_metrics
from analysis.gait.turns import detect_turns, yaw_rate_dps
from analysis.hiphike import (
    HipHikeEpisode,
    HipHikeParams,
    analyze_hip_hikes,
    hip_hike_labels,
)
from analysis.orientation import estimate_quat_wxyz
from analysis.parallel import (
    SharedArrays,
    make_pool,
    open_shared,
    open_shared_writable,
    share_work,
)
from analysis.tilt import pelvic_tilt_deg
from recordings import Gap, Recording, load
from recordings.json_safe import finite_json

FloatArray = NDArray[np.float64]
FORMAT = "pelviscope.analysis/1"
#: Bump when results change for the same input (invalidates the review window's cache).
ANALYSIS_VERSION = "5"
ACTIVITIES = ("standing", "walking", "sitting", "lying", "transition", "unknown")
Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class TiltPreview:
    """A session's tilt, known before its activity, gait and hip-hiking.

    Passed to ``analyze(..., on_tilt=...)`` so that a viewer can show the (final) tilt
    curves while the rest is still being analysed. The arrays are those of the result.
    """

    time_s: FloatArray
    anterior_tilt_deg: FloatArray
    lateral_tilt_deg: FloatArray
    calibration: Calibration | None


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
    #: Would-be hip-hike flags left out, by reason (``analysis.hiphike``).
    hip_hike_suppressed: dict[str, int] = field(default_factory=dict)
    #: ``{"start_s", "end_s", "angle_deg"}`` per turn, + = left (:mod:`analysis.gait.turns`).
    turns: list[dict[str, float]] = field(default_factory=list)
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
        weighed = [(b["cadence_spm"], b["n_steps"]) for b in self.bouts]
        weighed = [(c, n) for c, n in weighed if c is not None and np.isfinite(c) and n > 0]
        cadence = (
            float(np.average([c for c, _ in weighed], weights=[n for _, n in weighed]))
            if weighed
            else float("nan")
        )
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
        """The ``analyze --json`` document (DESIGN section 4).

        Every number in it is finite (a value that cannot be computed is None) and a
        plain Python type: ``json.dumps(doc, allow_nan=False)`` always works.
        """
        return finite_json(self._document())

    def _document(self) -> dict[str, Any]:
        cal = self.calibration
        calibration: dict[str, Any]
        if cal is None:
            calibration = {
                "method": "none",
                "sensor_to_pelvis_quat_wxyz": None,
                "quality": {"error": self.calibration_error, "verified": False},
            }
        else:
            calibration = cal.to_dict()
            calibration.pop("format")
            # Measured on a wearer (this session or a saved one) or only assumed (preset).
            calibration["quality"]["verified"] = not cal.method.startswith("preset:")
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
            "hip_hike_suppressed": self.hip_hike_suppressed,
            "turns": self.turns,
            "summary": self.summary(),
            "notes": self.notes,
        }

    def redetect(self, params: HipHikeParams) -> SessionResult:
        """Re-run only the hip-hike detection with new thresholds (fast)."""
        episodes, swings, suppressed = hip_hikes_and_swings(
            self.time_s,
            self.lateral_tilt_deg,
            self.activity,
            self._ic_time_s,
            self._ic_side,
            params,
            self.turns,
        )
        labels = hip_hike_labels(self.time_s, episodes)
        return _replace(
            self,
            episodes=[e.to_dict() for e in episodes],
            hip_hike=labels,
            hip_hike_params=params,
            swings=swings,
            hip_hike_suppressed=suppressed,
        )


def _replace(result: SessionResult, **changes: Any) -> SessionResult:
    return replace(result, **changes)


def _num(value: float | None) -> float | None:
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


def _gait_on_blocks(
    time_s: FloatArray,
    acc_p: FloatArray,
    gyr_p: FloatArray | None,
    up_p: FloatArray,
    rate_hz: float,
    walking: NDArray[np.bool_],
    own: tuple[int, int] | None = None,
) -> tuple[FloatArray, NDArray[np.str_], FloatArray, list[dict[str, Any]], list[str]]:
    """Gait events on each gap-free block around walking, on a uniform grid.

    Only spans labelled walking (plus 3 s either side, so no bout edge is lost) are
    searched: faster on long days, and no "steps" while sitting. Events that fall into a
    bridged gap are dropped. ``own=(a, b)``: only blocks starting at a sample in
    ``[a, b)`` (one part of a session analysed in parts).
    """
    ics: list[FloatArray] = []
    sides: list[NDArray[np.str_]] = []
    conf: list[FloatArray] = []
    bouts: list[dict[str, Any]] = []
    notes: list[str] = []
    near_walking = maximum_filter1d(walking.astype(np.int8), int(6 * rate_hz) + 1) > 0
    for a, b in _uniform_blocks(time_s, near_walking):
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
        ics.append(ic[keep])
        sides.append(res.ic_side[keep])
        conf.append(res.ic_confidence[keep])
        for bout in res.bouts:
            bouts.append(
                {
                    "start_s": bout.start_s + t[0],
                    "end_s": bout.end_s + t[0],
                    "n_steps": bout.n_steps,
                    # A bout of one stride has no variability: None, not NaN.
                    "cadence_spm": _num(bout.cadence_spm),
                    "stride_time_s": _num(bout.stride_time_s),
                    "stride_time_cv_pct": _num(bout.stride_time_cv_pct),
                    "step_asymmetry_pct": _num(bout.step_asymmetry_pct),
                }
            )
        notes.extend(w for w in res.warnings if w not in notes)
    if not ics:
        return np.empty(0), np.empty(0, dtype="<U7"), np.empty(0), [], notes
    return np.concatenate(ics), np.concatenate(sides), np.concatenate(conf), bouts, notes


def hip_hikes_and_swings(
    time_s: FloatArray,
    lateral_tilt_deg: FloatArray,
    activity: NDArray[np.str_],
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
    return episodes, swings, suppressed


#: Sessions at least this long are analysed in parts on several processes (``workers=None``).
PARALLEL_MIN_S = 30 * 60.0
#: Target length of one part (parts are handed out to the processes as they get free).
PART_S = 3600.0
#: Data each part reads beyond its cuts so that the filters settle; discarded after.
_MARGIN_S = 60.0
#: Either side of a cut the activity decoded by both neighbouring parts must agree.
_AGREE_S = 20.0
#: A cut goes in the middle of the stillest window of this length ...
_QUIET_S = 20.0
#: ... within this distance of the even split.
_CUT_SEARCH_S = 600.0


def auto_workers(duration_s: float, workers: int | None = None) -> int:
    """Processes to analyse a session of ``duration_s`` with (1: in this process only).

    ``workers=None`` (auto): every usable core for sessions of at least
    :data:`PARALLEL_MIN_S`, one otherwise and inside a worker process (no nested pools,
    e.g. under ``analyze --jobs``).
    """
    if workers is not None:
        return max(1, int(workers))
    if duration_s < PARALLEL_MIN_S or multiprocessing.parent_process() is not None:
        return 1
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, 8))


def _hop(rate_hz: float) -> int:
    return max(1, round(ActivityParams().frame_s * rate_hz))


def cut_points(
    acc_mps2: FloatArray, gyr_rps: FloatArray | None, rate_hz: float, n_parts: int
) -> list[int]:
    """Sample indices ``[0, c1, ..., n]`` splitting a session into parts at still moments.

    Each cut is the centre of the stillest :data:`_QUIET_S` window (least summed angular
    rate, or acceleration-magnitude deviation without a gyroscope) within
    :data:`_CUT_SEARCH_S` of the even split, rounded to a whole activity frame so that
    the parts' frames are the session's frames.
    """
    n = acc_mps2.shape[0]
    hop = _hop(rate_hz)
    margin = 2 * _margin(rate_hz)
    bounds = [0]
    w = max(1, round(_QUIET_S * rate_hz))
    for k in range(1, n_parts):
        ideal = round(k * n / n_parts)
        lo = max(bounds[-1] + margin, ideal - round(_CUT_SEARCH_S * rate_hz))
        hi = min(n - margin, ideal + round(_CUT_SEARCH_S * rate_hz))
        if hi - lo <= w:
            continue
        if gyr_rps is not None:
            motion = np.linalg.norm(gyr_rps[lo:hi], axis=1)
        else:
            motion = np.abs(np.linalg.norm(acc_mps2[lo:hi], axis=1) - 9.81)
        csum = np.concatenate(([0.0], np.cumsum(motion)))
        best = int(np.argmin(csum[w:] - csum[:-w]))
        cut = (lo + best + w // 2) // hop * hop
        if bounds[-1] + margin <= cut <= n - margin:
            bounds.append(cut)
    bounds.append(n)
    return bounds


def _margin(rate_hz: float) -> int:
    hop = _hop(rate_hz)
    return math.ceil(_MARGIN_S * rate_hz / hop) * hop


#: Recordings at least this large are read into shared memory by :func:`loaded`
#: (about 20 min at 100 Hz: shorter sessions are analysed in one process).
_SHARED_READ_BYTES = 5_000_000


@contextlib.contextmanager
def loaded(
    path: str | os.PathLike[str], *, acc_unit: str = "mps2", gyr_unit: str = "rps"
) -> Iterator[Recording]:
    """``recordings.load`` for :func:`analyze_recording` inside the ``with`` block.

    A long native recording is read straight into RAM-backed files that the worker
    processes open (nothing is copied for them). The files are removed on leaving the
    block; the arrays stay valid.
    """
    size = os.path.getsize(path) if os.path.isfile(path) else 0
    # float32 channels become float64: about twice the file's size
    shared = SharedArrays(3 * size) if size >= _SHARED_READ_BYTES else None
    if shared is not None and not shared.in_ram:
        shared.close()  # a disk-backed temp folder would only slow reading down
        shared = None
    try:

        def empty(name: str, shape: tuple[int, ...]) -> FloatArray:
            assert shared is not None
            return np.asarray(shared.empty(f"input-{name}", shape))

        yield load(
            path, acc_unit=acc_unit, gyr_unit=gyr_unit, empty=None if shared is None else empty
        )
    finally:
        if shared is not None:
            shared.close()


def _orientation_part(paths: dict[str, str], part: tuple[int, int, int, int], rate: float) -> bool:
    """Orientation of samples ``[a, b)`` from ``[ea, eb)``, into the shared ``quat``.

    Also their tilt if the calibration is known by then (:func:`_publish_calibration`);
    returns whether it was.
    """
    a, b, ea, eb = part
    gyr = open_shared(paths, "gyr")[ea:eb] if "gyr" in paths else None
    q = estimate_quat_wxyz(
        open_shared(paths, "acc")[ea:eb],
        gyr,
        rate,
        offline=True,
        time_s=open_shared(paths, "time")[ea:eb],
    )
    out = open_shared_writable(paths, "quat")
    out[a:b] = q[a - ea : b - ea]
    out.flush()
    try:
        with open(paths["calibration"], "rb") as f:
            cal = pickle.load(f)
    except FileNotFoundError:
        return False
    _tilt_part(paths, a, b, cal)
    return True


def _publish_calibration(
    paths: dict[str, str], cal: Calibration, standing_tilt_deg: float | None
) -> None:
    """Make the final calibration known to the parts still to come (atomic)."""
    tmp = paths["calibration"] + ".tmp"
    with open(tmp, "wb") as f:
        pickle.dump(_with_standing_tilt(cal, standing_tilt_deg), f)
    os.replace(tmp, paths["calibration"])


def _tilt_part(paths: dict[str, str], a: int, b: int, cal: Calibration) -> None:
    """Tilt of samples ``[a, b)`` (per sample: no margins), into the shared arrays."""
    anterior, lateral = pelvic_tilt_deg(open_shared(paths, "quat")[a:b], cal)
    for name, values in (("anterior", anterior), ("lateral", lateral)):
        out = open_shared_writable(paths, name)
        out[a:b] = values
        out.flush()


def _activity_gait_part(
    paths: dict[str, str], part: tuple[int, int, int, int], rate: float, cal: Calibration
) -> dict[str, Any]:
    """Activity frames and gait events of one part (tilt from the shared arrays)."""
    a, b, ea, eb = part
    t = open_shared(paths, "time")[ea:eb]
    acc = open_shared(paths, "acc")[ea:eb]
    gyr = open_shared(paths, "gyr")[ea:eb] if "gyr" in paths else None
    q = open_shared(paths, "quat")[ea:eb]
    anterior, lateral = open_shared(paths, "anterior")[ea:eb], open_shared(paths, "lateral")[ea:eb]
    act = classify_activity(t, acc, anterior, lateral, rate, quat_wxyz=q)
    assert act.features is not None and act.costs is not None
    hop = _hop(rate)
    f0, f1 = (a - ea) // hop, -(-(b - ea) // hop)
    gyr_p = None if gyr is None else cal.to_pelvis(gyr)
    ic_t, ic_side, ic_conf, bouts, gait_notes = _gait_on_blocks(
        t,
        cal.to_pelvis(acc),
        gyr_p,
        cal.to_pelvis(quat.up_in_sensor(q)),
        rate,
        act.labels == "walking",
        own=(a - ea, b - ea),
    )
    feats = act.features
    return {
        "frames": (ea // hop, act.frame_labels),
        "own_frames": (f0, f1),
        "features": FrameFeatures(*(getattr(feats, k)[f0:f1] for k in _FEATURE_NAMES)),
        "costs": act.costs[f0:f1],
        "activity_notes": act.notes,
        "gait": (ic_t, ic_side, ic_conf, bouts, gait_notes),
    }


_FEATURE_NAMES = (
    "tilt_deg",
    "tilt_fine_deg",
    "lateral_deg",
    "energy_mps2",
    "periodicity",
    "vertical_mps2",
)


def analyze_recording(
    rec: Recording,
    *,
    source: str = "",
    calibration: Calibration | None = None,
    standing_tilt_deg: float | None = None,
    hip_hike_params: HipHikeParams | None = None,
    progress: Progress | None = None,
    workers: int | None = None,
    on_tilt: Callable[[TiltPreview], None] | None = None,
) -> SessionResult:
    """Analyse an in-memory recording (see :func:`analyze`).

    The recording is checked first (:func:`analysis.checks.checked_recording`): samples
    that are not numbers or beyond any sensor's range are left out as gaps (with a note).

    Raises
    ------
    recordings.InputError
        Unusable input: too few samples or shorter than 2 s, a sample rate outside
        5-2000 Hz or disagreeing with ``time_s``, time not increasing, wrong units, more
        than 1 % impossible samples, or a standing tilt that is not a finite angle within
        +-45 deg. ``source`` names the input in the message.
    """
    report = progress or (lambda fraction, what: None)
    standing_tilt_deg = check_standing_tilt_deg(standing_tilt_deg)
    rec = checked_recording(rec, source)
    rate = rec.rate_hz
    n_workers = auto_workers(float(rec.time_s[-1] - rec.time_s[0]), workers)
    if n_workers > 1:
        bounds = cut_points(
            rec.acc_mps2,
            rec.gyr_rps,
            rate,
            max(n_workers, round((rec.time_s[-1] - rec.time_s[0]) / PART_S)),
        )
        if len(bounds) > 2:
            return _analyze_in_parts(
                rec,
                bounds,
                n_workers,
                source,
                calibration,
                standing_tilt_deg,
                hip_hike_params,
                report,
                on_tilt,
            )
    notes = _input_notes(rec)
    report(0.05, "orientation")
    q = estimate_quat_wxyz(rec.acc_mps2, rec.gyr_rps, rate, offline=True, time_s=rec.time_s)
    report(0.45, "calibration")
    calibration, cal_error = _calibrate(rec, q, calibration, standing_tilt_deg, notes)
    if calibration is not None:
        anterior, lateral = pelvic_tilt_deg(q, calibration)
    else:
        anterior = np.full(rec.n_samples, np.nan)
        lateral = np.full(rec.n_samples, np.nan)
    if on_tilt is not None:
        on_tilt(TiltPreview(rec.time_s, anterior, lateral, calibration))
    report(0.55, "activity")
    act, gait = _activity_and_gait(rec, q, calibration, anterior, lateral, report)
    return _finish(
        rec,
        source,
        q,
        calibration,
        cal_error,
        anterior,
        lateral,
        act,
        gait,
        notes,
        hip_hike_params,
        report,
    )


def _input_notes(rec: Recording) -> list[str]:
    notes = list(rec.warnings)
    if rec.gyr_rps is None:
        notes.append(
            "no gyroscope: orientation from the accelerometer only (less accurate while moving)"
        )
    return notes


def _calibrate(
    rec: Recording,
    q: FloatArray,
    calibration: Calibration | None,
    standing_tilt_deg: float | None,
    notes: list[str],
) -> tuple[Calibration | None, str | None]:
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
        calibration = _with_standing_tilt(calibration, standing_tilt_deg)
        notes.extend(calibration.quality.notes)
    return calibration, cal_error


def _with_standing_tilt(calibration: Calibration, standing_tilt_deg: float | None) -> Calibration:
    """The calibration with the measured absolute standing tilt, if one was given."""
    if standing_tilt_deg is None:
        return calibration
    return calibration.with_standing_tilt(standing_tilt_deg)


_Gait = tuple[FloatArray, NDArray[np.str_], FloatArray, list[dict[str, Any]], list[str]]


def _activity_and_gait(
    rec: Recording,
    q: FloatArray,
    calibration: Calibration | None,
    anterior: FloatArray,
    lateral: FloatArray,
    report: Progress,
) -> tuple[ActivityResult, _Gait]:
    """Activity labels and gait events of the whole session in this process."""
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
    report(0.7, "gait")
    up_s = quat.up_in_sensor(q)
    frame = calibration
    if frame is None:
        # Without a calibration only the vertical is known: steps and cadence still work.
        up_mean = up_s.mean(axis=0)
        helper = np.eye(3)[int(np.argmin(np.abs(up_mean)))]
        frame = Calibration(rotation_from_up_and_anterior(up_mean, helper), "vertical_only")
    gyr_p = None if rec.gyr_rps is None else frame.to_pelvis(rec.gyr_rps)
    gait = _gait_on_blocks(
        rec.time_s,
        frame.to_pelvis(rec.acc_mps2),
        gyr_p,
        frame.to_pelvis(up_s),
        rate,
        act.labels == "walking",
    )
    return act, gait


def _analyze_in_parts(
    rec: Recording,
    bounds: list[int],
    n_workers: int,
    source: str,
    calibration: Calibration | None,
    standing_tilt_deg: float | None,
    hip_hike_params: HipHikeParams | None,
    report: Progress,
    on_tilt: Callable[[TiltPreview], None] | None,
) -> SessionResult:
    """:func:`analyze_recording` with the heavy stages run per part on ``n_workers``.

    Orientation, tilt, activity features and decoding, and gait run on each part (cut
    at a still moment, :func:`cut_points`) plus :data:`_MARGIN_S` either side; the
    calibration (from the whole orientation, as without parts), the activity
    transitions, strides and hip-hiking run here on the joined results. Where the
    activity decoded by two neighbouring parts disagrees near their cut, activity and
    gait are recomputed for the whole session here (the rare safe path).
    """
    rate, n = rec.rate_hz, rec.n_samples
    margin = _margin(rate)
    parts = [(a, b, max(0, a - margin), min(n, b + margin)) for a, b in itertools.pairwise(bounds)]
    notes = _input_notes(rec)
    shared = SharedArrays(n * 8 * (1 + 3 + 3 + 4 + 1 + 1))  # time, acc, gyr, quat, tilts
    pool = None
    blas_limit = None
    try:
        shared.put("time", rec.time_s)
        shared.put("acc", rec.acc_mps2)
        if rec.gyr_rps is not None:
            shared.put("gyr", rec.gyr_rps)
        q_out = shared.empty("quat", (n, 4))
        ant_out, lat_out = shared.empty("anterior", (n,)), shared.empty("lateral", (n,))
        # The analysis multiplies long (N, 3) arrays by 3 x 3 matrices: OpenBLAS runs
        # those on all cores, and with every core busy with a part of the session its
        # spinning threads make them several times slower. One BLAS thread each.
        blas_limit = threadpool_limits(1, user_api="blas")
        pool, forked = make_pool(n_workers - 1)
        # Parts compute their tilt with their orientation once the calibration is known:
        # from the start if given, else usually after the first part (calibrate_auto
        # settles on the first 30 min when they hold standing then walking).
        shared.paths["calibration"] = os.path.join(shared.dir, "calibration.pickle")
        if calibration is not None:
            _publish_calibration(shared.paths, calibration, standing_tilt_deg)
        early: Calibration | None = None

        def after_orientation(i: int) -> None:
            nonlocal early
            if i == 0 and calibration is None:
                early = calibrate_from_head(
                    rec.acc_mps2[: bounds[1]],
                    None if rec.gyr_rps is None else rec.gyr_rps[: bounds[1]],
                    np.asarray(q_out[: bounds[1]]),
                    rate,
                    time_s=rec.time_s[: bounds[1]],
                )
                if early is not None:
                    _publish_calibration(shared.paths, early, standing_tilt_deg)

        report(0.05, "orientation")
        tilted = share_work(
            pool,
            shared.dir,
            _orientation_part,
            [(shared.paths, part, rate) for part in parts],
            submit_in_thread=not forked,
            after=after_orientation,
        )
        q = np.asarray(q_out).view(np.ndarray)
        report(0.45, "calibration")
        calibration, cal_error = _calibrate(
            rec, q, calibration if calibration is not None else early, standing_tilt_deg, notes
        )
        if calibration is None:
            anterior = np.full(n, np.nan)
            lateral = np.full(n, np.nan)
        else:
            share_work(
                pool,
                shared.dir,
                _tilt_part,
                [
                    (shared.paths, a, b, calibration)
                    for (a, b, _, _), done in zip(parts, tilted, strict=True)
                    if not done
                ],
                submit_in_thread=not forked,
            )
            anterior = np.asarray(ant_out).view(np.ndarray)
            lateral = np.asarray(lat_out).view(np.ndarray)
        preview = TiltPreview(rec.time_s, anterior, lateral, calibration)

        def tilt_known() -> None:
            if on_tilt is not None:
                on_tilt(preview)
            report(0.55, "activity")

        if calibration is None:
            tilt_known()
            # Uncalibrated activity uses a session-wide upright reference: whole session.
            act, gait = _activity_and_gait(rec, q, calibration, anterior, lateral, report)
        else:
            results = share_work(
                pool,
                shared.dir,
                _activity_gait_part,
                [(shared.paths, part, rate, calibration) for part in parts],
                submit_in_thread=not forked,
                first=tilt_known,  # the pool starts on the parts meanwhile
            )
            report(0.7, "gait")
            joined = _join_parts(rec, results, bounds)
            if joined is None:
                act, gait = _activity_and_gait(rec, q, calibration, anterior, lateral, report)
            else:
                act, gait = joined
    finally:
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
        if blas_limit is not None:
            blas_limit.restore_original_limits()
        shared.close()
    return _finish(
        rec,
        source,
        q,
        calibration,
        cal_error,
        anterior,
        lateral,
        act,
        gait,
        notes,
        hip_hike_params,
        report,
    )


def _join_parts(
    rec: Recording, results: list[dict[str, Any]], bounds: list[int]
) -> tuple[ActivityResult, _Gait] | None:
    """Activity and gait of the session from its parts (None: parts disagree at a cut)."""
    rate = rec.rate_hz
    hop = _hop(rate)
    agree = math.ceil(_AGREE_S * rate / hop)
    for left, right, cut in zip(results[:-1], results[1:], bounds[1:-1], strict=True):
        fc = cut // hop
        (l0, ls), (r0, rs) = left["frames"], right["frames"]
        lo, hi = fc - agree, fc + agree
        if not np.array_equal(ls[lo - l0 : hi - l0], rs[lo - r0 : hi - r0]):
            return None
    states = np.concatenate([r["frames"][1][slice(*r["own_frames"])] for r in results])
    feats = FrameFeatures(
        *(np.concatenate([getattr(r["features"], k) for r in results]) for k in _FEATURE_NAMES)
    )
    act = activity_from_states(states, feats, rec.time_s, rate, ActivityParams(), signed=True)
    act.costs = np.concatenate([r["costs"] for r in results])
    act.features = feats
    gaits = [r["gait"] for r in results]
    notes: list[str] = []
    for g in gaits:
        notes.extend(w for w in g[4] if w not in notes)
    gait: _Gait = (
        np.concatenate([g[0] for g in gaits]),
        np.concatenate([g[1] for g in gaits]),
        np.concatenate([g[2] for g in gaits]),
        [b for g in gaits for b in g[3]],
        notes,
    )
    return act, gait


def _finish(
    rec: Recording,
    source: str,
    q: FloatArray,
    calibration: Calibration | None,
    cal_error: str | None,
    anterior: FloatArray,
    lateral: FloatArray,
    act: ActivityResult,
    gait: _Gait,
    notes: list[str],
    hip_hike_params: HipHikeParams | None,
    report: Progress,
) -> SessionResult:
    """Strides, hip-hiking and the result object (the same for whole and parts)."""
    notes.extend(n for n in act.notes if n not in notes)
    ic_t, ic_side, ic_conf, bouts, gait_notes = gait
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
    turns = _turns(rec, q)
    episodes, swings, suppressed = hip_hikes_and_swings(
        rec.time_s, lateral, act.labels, ic_t, ic_side, params, turns
    )
    result = SessionResult(
        source=source,
        meta=dict(rec.meta),
        rate_hz=rec.rate_hz,
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
        swings=swings,
        bouts=bouts,
        episodes=[e.to_dict() for e in episodes],
        hip_hike_params=params,
        notes=notes,
        hip_hike_suppressed=suppressed,
        turns=turns,
        _ic_time_s=ic_t,
        _ic_side=ic_side,
    )
    report(1.0, "done")
    return result


def _turns(rec: Recording, q: FloatArray) -> list[dict[str, float]]:
    """Turns of the whole session, walking or not (none without a gyroscope: no yaw)."""
    if rec.gyr_rps is None:
        return []
    yaw = yaw_rate_dps(quat.up_in_sensor(q), rec.gyr_rps)
    return detect_turns(rec.time_s, yaw, rate_hz=rec.rate_hz)


def analyze(
    recording_or_csv_path: str | os.PathLike[str],
    *,
    acc_unit: str = "mps2",
    gyr_unit: str = "rps",
    calibration: Calibration | None = None,
    standing_tilt_deg: float | None = None,
    hip_hike_params: HipHikeParams | None = None,
    progress: Progress | None = None,
    workers: int | None = None,
    on_tilt: Callable[[TiltPreview], None] | None = None,
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
    workers : int, optional
        Processes to use (None: every core for sessions of 30 min or more, see
        :func:`auto_workers`; 1: this process only). Long sessions are cut into parts at
        still moments (:func:`cut_points`); results match the whole-session analysis
        except within seconds of a cut (tilt differs by hundredths of a degree there).
        Where workers cannot be forked (Qt loaded, threads running, not Linux) they
        import the main module: a script then needs ``if __name__ == "__main__":``.
    on_tilt : callable, optional
        ``on_tilt(TiltPreview)`` is called once the tilt of the whole session is known,
        before activity, gait and hip-hiking (progressive display).

    Raises
    ------
    recordings.InputError
        Unreadable or invalid input (the message names file, position and reason).
    """
    with loaded(recording_or_csv_path, acc_unit=acc_unit, gyr_unit=gyr_unit) as rec:
        return analyze_recording(
            rec,
            source=str(recording_or_csv_path),
            calibration=calibration,
            standing_tilt_deg=standing_tilt_deg,
            hip_hike_params=hip_hike_params,
            progress=progress,
            workers=workers,
            on_tilt=on_tilt,
        )
