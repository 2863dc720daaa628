"""The offline analysis of a session: a recording or CSV in, a :class:`SessionResult` out.

The one place in ``analysis`` that reads files (through :mod:`recordings`). A session
runs its stages (:mod:`analysis.pipeline.stages`) in this process, or - when long - in
parts on several processes in explicit rounds: orientation of every part; the
calibration from the whole session here; tilt of every part; activity and gait of every
part with the calibration as an argument; then strides and hip-hiking here on the joined
results. Either way the result is assembled by :func:`assemble`.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from dataclasses import asdict, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray
from threadpoolctl import threadpool_limits

from analysis.activity import ActivityResult
from analysis.calibration import Calibration
from analysis.checks import check_standing_tilt_deg, checked_recording
from analysis.gait.cycle import cycles_json, stride_cycles
from analysis.gait.spatial import leg_length_m
from analysis.hiphike import HipHikeParams, hip_hike_labels
from analysis.orientation import estimate_quat_wxyz
from analysis.pipeline import tasks
from analysis.pipeline.params import SessionParams
from analysis.pipeline.parts import auto_workers, cut_points, join_parts, parts_of
from analysis.pipeline.result import Progress, SessionResult, TiltPreview
from analysis.pipeline.stages import (
    GaitEvents,
    activity_and_gait,
    calibrate,
    clinical_results,
    gait_patterns,
    input_notes,
    session_turns,
    spatial_of_bouts,
    stride_table,
)
from analysis.pipeline.workers import SharedArrays, make_pool, share_work
from analysis.tilt import pelvic_tilt_deg
from recordings import Recording, load

FloatArray = NDArray[np.float64]

#: Recordings at least this large are read into shared memory by :func:`loaded`
#: (about 20 min at 100 Hz: shorter sessions are analysed in one process).
SHARED_READ_BYTES = 5_000_000


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
    shared = SharedArrays(3 * size) if size >= SHARED_READ_BYTES else None
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


def session_params(
    params: SessionParams | None = None,
    *,
    calibration: Calibration | None = None,
    standing_tilt_deg: float | None = None,
    hip_hike_params: HipHikeParams | None = None,
    workers: int | None = None,
) -> SessionParams:
    """``params`` with the keyword arguments of :func:`analyze` that were given."""
    params = params or SessionParams()
    changes: dict[str, Any] = {}
    if calibration is not None:
        changes["calibration"] = calibration
    if standing_tilt_deg is not None:
        changes["standing_tilt_deg"] = standing_tilt_deg
    if hip_hike_params is not None:
        changes["hip_hike"] = hip_hike_params
    if workers is not None:
        changes["workers"] = workers
    return replace(params, **changes) if changes else params


def analyze_recording(
    rec: Recording,
    *,
    source: str = "",
    params: SessionParams | None = None,
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
    p = session_params(
        params,
        calibration=calibration,
        standing_tilt_deg=standing_tilt_deg,
        hip_hike_params=hip_hike_params,
        workers=workers,
    )
    p = replace(p, standing_tilt_deg=check_standing_tilt_deg(p.standing_tilt_deg))
    report = progress or (lambda fraction, what: None)
    rec = checked_recording(rec, source)
    duration_s = float(rec.time_s[-1] - rec.time_s[0])
    n_workers = auto_workers(duration_s, p)
    if n_workers > 1:
        n_parts = max(n_workers, round(duration_s / p.part_s))
        bounds = cut_points(rec.acc_mps2, rec.gyr_rps, rec.rate_hz, n_parts, p)
        if len(bounds) > 2:
            return _analyze_in_parts(rec, bounds, n_workers, source, p, report, on_tilt)
    notes = input_notes(rec)
    report(0.05, "orientation")
    q = estimate_quat_wxyz(rec.acc_mps2, rec.gyr_rps, rec.rate_hz, offline=True, time_s=rec.time_s)
    report(0.45, "calibration")
    cal, cal_error = calibrate(rec, q, p.calibration, p.standing_tilt_deg, notes)
    if cal is not None:
        anterior, lateral = pelvic_tilt_deg(q, cal)
    else:
        anterior = np.full(rec.n_samples, np.nan)
        lateral = np.full(rec.n_samples, np.nan)
    if on_tilt is not None:
        on_tilt(TiltPreview(rec.time_s, anterior, lateral, cal))
    report(0.55, "activity")
    act, gait = activity_and_gait(rec, q, cal, anterior, lateral)
    report(0.7, "gait")
    return assemble(rec, source, q, cal, cal_error, anterior, lateral, act, gait, notes, p, report)


def _analyze_in_parts(
    rec: Recording,
    bounds: list[int],
    n_workers: int,
    source: str,
    p: SessionParams,
    report: Progress,
    on_tilt: Callable[[TiltPreview], None] | None,
) -> SessionResult:
    """:func:`analyze_recording` with the heavy stages run per part on ``n_workers``.

    Where the activity decoded by two neighbouring parts disagrees near their cut,
    activity and gait are recomputed for the whole session here (the rare safe path).
    """
    n = rec.n_samples
    parts = parts_of(bounds, n, rec.rate_hz, p)
    notes = input_notes(rec)
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

        def each_part(fn: Callable[..., Any], *args: Any, first: Any = None) -> list[Any]:
            jobs = [(shared.paths, part, *args) for part in parts]
            return share_work(
                pool, shared.dir, fn, jobs, submit_in_thread=not forked, first=first
            )

        report(0.05, "orientation")
        each_part(tasks.orientation, rec.rate_hz)
        q = np.asarray(q_out).view(np.ndarray)
        report(0.45, "calibration")
        cal, cal_error = calibrate(rec, q, p.calibration, p.standing_tilt_deg, notes)
        if cal is None:
            anterior, lateral = np.full(n, np.nan), np.full(n, np.nan)
        else:
            each_part(tasks.tilt, cal)
            anterior = np.asarray(ant_out).view(np.ndarray)
            lateral = np.asarray(lat_out).view(np.ndarray)
        preview = TiltPreview(rec.time_s, anterior, lateral, cal)

        def tilt_known() -> None:
            if on_tilt is not None:
                on_tilt(preview)
            report(0.55, "activity")

        joined = None
        if cal is not None:
            results = each_part(tasks.activity_and_gait, rec.rate_hz, cal, first=tilt_known)
            joined = join_parts(rec.time_s, rec.rate_hz, results, bounds, p)
        else:
            tilt_known()
        # Uncalibrated activity uses a session-wide upright reference: whole session.
        act, gait = joined or activity_and_gait(rec, q, cal, anterior, lateral)
        report(0.7, "gait")
    finally:
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
        if blas_limit is not None:
            blas_limit.restore_original_limits()
        shared.close()
    return assemble(rec, source, q, cal, cal_error, anterior, lateral, act, gait, notes, p, report)


def assemble(
    rec: Recording,
    source: str,
    q: FloatArray,
    calibration: Calibration | None,
    cal_error: str | None,
    anterior: FloatArray,
    lateral: FloatArray,
    act: ActivityResult,
    gait: GaitEvents,
    notes: list[str],
    params: SessionParams,
    report: Progress,
) -> SessionResult:
    """Strides, turns, hip-hiking and the result object (the same for whole and parts)."""
    notes.extend(n for n in act.notes if n not in notes)
    ic_t, ic_side, ic_conf = gait.ic_time_s, gait.ic_side, gait.ic_confidence
    if calibration is None:
        ic_side = np.full(ic_t.shape, "unknown", dtype="<U7")
    notes.extend(n for n in gait.notes if n not in notes)
    strides = stride_table(rec.time_s, anterior, lateral, ic_t, ic_side)
    report(0.85, "hip-hiking")
    turns = session_turns(rec, q)
    patterns = gait_patterns(
        rec.time_s, lateral, act.labels, ic_t, ic_side, params.hip_hike, params.drop, turns
    )
    episodes = patterns.episodes
    turn_spans = [(tn["start_s"], tn["end_s"]) for tn in turns]
    cycles = stride_cycles(rec.time_s, lateral, anterior, ic_t, ic_side, exclude=turn_spans)
    bout_spans = [(b["start_s"], b["end_s"]) for b in gait.bouts]
    report(0.92, "walking speed")
    spatial = spatial_of_bouts(
        rec, q, gait, leg_length_m=_leg_length(params, rec.meta, notes), height_m=None,
        params=params.spatial,
    )  # fmt: skip
    bouts = [
        {**b, **{k: sp[k] for k in ("walking_speed_mps", "stride_length_m")}}
        for b, sp in zip(gait.bouts, spatial, strict=True)
    ]
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
        strides=strides,
        swings=patterns.swings,
        bouts=bouts,
        episodes=[e.to_dict() for e in episodes],
        hip_hike_params=params.hip_hike,
        notes=notes,
        hip_hike_suppressed=patterns.suppressed,
        turns=turns,
        pelvic_drops=[d.to_dict() for d in patterns.drops],
        drop_params=params.drop,
        cycles=cycles_json(cycles, bout_spans) if len(cycles) else None,
        clinical=clinical_results(rec, calibration, anterior, lateral, notes),
        _ic_time_s=ic_t,
        _ic_side=ic_side,
    )
    report(1.0, "done")
    return result


def _leg_length(params: SessionParams, meta: dict[str, Any], notes: list[str]) -> float:
    """The spatial model's leg length: given, else the recording's, else the default.

    Raises
    ------
    ValueError
        An implausible leg length or height was given (the recording's own is noted and
        replaced by the default instead).
    """
    if params.leg_length_m is not None or params.height_m is not None:
        return leg_length_m(params.leg_length_m, params.height_m)
    given = meta.get("subject")
    subject: dict[str, Any] = given if isinstance(given, dict) else {}
    stated = {k: meta.get(k, subject.get(k)) for k in ("leg_length_m", "height_m")}
    try:
        return leg_length_m(*(None if v is None else float(v) for v in stated.values()))
    except (TypeError, ValueError) as exc:
        notes.append(f"the recording's leg length/height is not usable ({exc}); "
                     "walking speed uses the default leg length")  # fmt: skip
        return leg_length_m()


def analyze(
    recording_or_csv_path: str | os.PathLike[str],
    *,
    acc_unit: str = "mps2",
    gyr_unit: str = "rps",
    params: SessionParams | None = None,
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
    params : SessionParams, optional
        Every parameter of the analysis; the keyword arguments below override it.
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
        :func:`~analysis.pipeline.parts.auto_workers`; 1: this process only). Long
        sessions are cut into parts at still moments
        (:func:`~analysis.pipeline.parts.cut_points`); results match the whole-session
        analysis except within seconds of a cut (tilt differs by hundredths of a degree
        there). Where workers cannot be forked (Qt loaded, threads running, not Linux)
        they import the main module: a script then needs ``if __name__ == "__main__":``.
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
            params=params,
            calibration=calibration,
            standing_tilt_deg=standing_tilt_deg,
            hip_hike_params=hip_hike_params,
            progress=progress,
            workers=workers,
            on_tilt=on_tilt,
        )
