"""The review window's Qt-free model: open (cached), navigate, re-detect, annotate, export.

Everything the window shows comes from here; the views only draw it. No analysis maths:
results come from :mod:`analysis.session` (``analyze_recording``, ``redetect``) and
:mod:`analysis.calibration`.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import re
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from analysis.calibration import Calibration, calibrate_auto
from analysis.checks import checked_recording
from analysis.hiphike import HipHikeParams
from analysis.hiphike import gait as hiphike_gait
from analysis.hiphike import static as hiphike_static
from analysis.hiphike.params import PelvicDropParams
from analysis.orientation import estimate_quat_wxyz
from analysis.pipeline.serialize import write_per_sample_csv
from analysis.report import render_html
from analysis.session import (
    SessionResult,
    TiltPreview,
    analyze_recording,
    loaded,
)
from gui.review import cache
from gui.review.decimate import MinMaxPyramid, raw_level
from gui.review.notes import Notes, notes_path, save_notes
from recordings import Gap, Marker
from recordings.files import OutputError, atomic_output

Progress = Callable[[float, str], None]
#: Gap reasons that mean the data were damaged or implausible (drawn as such).
DAMAGE_REASONS = ("file_damage", "out_of_range")
FloatArray = NDArray[np.float64]
#: Episode table columns (header, key).
EPISODE_COLUMNS = (
    ("Side", "side"),
    ("Kind", "kind"),
    ("Activity", "activity"),
    ("Start", "start_s"),
    ("Duration", "duration_s"),
    ("Peak (°)", "peak_deg"),
    ("Mean (°)", "mean_deg"),
    ("Confidence", "confidence"),
)


@dataclass(frozen=True)
class Suppressed:
    """Would-be hip-hike flags the detector left out for one reason.

    Attributes
    ----------
    reason : str
        The detector's reason, as in the JSON (``hip_hike_suppressed``).
    count : int
        How many.
    label : str
        A few words for the "Not flagged" line.
    explanation : str
        What the reason means, in plain clinical words (with the thresholds in use).
    """

    reason: str
    count: int
    label: str
    explanation: str


def _reason_pattern(template: str) -> re.Pattern[str]:
    """A detector's reason template (``{activity}`` inside) as a full-match pattern."""
    return re.compile(re.escape(template).replace(r"\{activity\}", "(?P<activity>.+)"))


#: The detector's reasons (analysis.hiphike) -> (label, explanation); ``{activity}`` is the
#: activity named in the reason, the other fields are the thresholds in use.
_SUPPRESSED_TEXT: tuple[tuple[re.Pattern[str], str, str], ...] = (
    (
        _reason_pattern(hiphike_static.SUPPRESSED_HABITUAL),
        "habitual {activity} tilt",
        "A sideways tilt held while {activity} that is this person's usual {activity} "
        "posture (their typical sideways tilt in {activity} so far in the session), not a "
        "hip hike. Measured from neutral standing it would have been flagged.",
    ),
    (
        _reason_pattern(hiphike_static.SUPPRESSED_UNKNOWN),
        "{activity} posture not yet known",
        "Tilted sideways while {activity} before {static_baseline_min_s:g} s of {activity} "
        "had shown this person's usual {activity} posture; until then only a tilt beyond "
        "{static_unknown_baseline_deg:g}° from neutral standing is flagged.",
    ),
    (
        _reason_pattern(hiphike_static.SUPPRESSED_SHORT),
        "too short",
        "One side was held higher while sitting or standing, but for less than "
        "{static_min_duration_s:g} s: a shift of weight or a movement, not a held hike.",
    ),
    (
        _reason_pattern(hiphike_gait.SUPPRESSED_OFFSET),
        "steady sideways offset",
        "While walking the pelvis was tilted to one side through the whole stride (a "
        "neutral that is not level, or a sensor worn off-centre) without the swing side "
        "rising in its own swing: not a hip hike.",
    ),
    (
        _reason_pattern(hiphike_gait.SUPPRESSED_HABITUAL),
        "usual swing asymmetry",
        "One side rose more in its swing than the other, but no more than this person's "
        "usual left/right difference while walking.",
    ),
    (
        _reason_pattern(hiphike_gait.SUPPRESSED_SHORT),
        "too few strides",
        "The swing side rose in fewer than {gait_min_strides} strides in a row: single "
        "steps (a turn, uneven ground), not a hip-hiking gait.",
    ),
    (
        _reason_pattern(hiphike_gait.SUPPRESSED_TURN),
        "while turning",
        "The swing side rose during a turn (a change of heading of 45° or more, e.g. a "
        "stair landing). Turning, the pelvis rotates and leans into the turn, so these "
        "strides are not judged as hip hiking.",
    ),
)


def suppressed_items(counts: dict[str, int], params: HipHikeParams) -> list[Suppressed]:
    """The would-be flags left out (``SessionResult.hip_hike_suppressed``), most first.

    A reason the window does not know (a newer detector) is shown as the detector words it.
    """
    fields = {f.name: getattr(params, f.name) for f in dataclasses.fields(params)}
    out = []
    for reason, n in counts.items():
        if n <= 0:
            continue
        label, explanation = reason, reason
        for pattern, lab, text in _SUPPRESSED_TEXT:
            if (match := pattern.fullmatch(reason)) is not None:
                words = {**fields, **match.groupdict()}
                label, explanation = lab.format(**words), text.format(**words)
                break
        out.append(Suppressed(reason, int(n), label, explanation))
    return sorted(out, key=lambda s: -s.count)


def suppressed_line(items: list[Suppressed]) -> str:
    """``"Not flagged: 3 steady sideways offset, 2 too short"`` (``"none"`` without any)."""
    text = ", ".join(f"{s.count} {s.label}" for s in items) or "none"
    return f"Not flagged: {text}"


def suppressed_help(items: list[Suppressed]) -> str:
    """What each count of :func:`suppressed_line` means, one paragraph per reason."""
    intro = (
        "Tilts the detector saw but did not flag: each is compared with this person's own "
        "usual posture and must be held long enough."
    )
    return "\n\n".join([intro, *(f"{s.count} × {s.label}: {s.explanation}" for s in items)])


@dataclass
class LoadedSession:
    """A session as opened: the analysis result and where it came from.

    Attributes
    ----------
    path : Path
        The recording or CSV.
    result : SessionResult
        The analysis.
    recording_markers : list of Marker
        Markers stored in the recording itself (read-only).
    from_cache : bool
        True when the result was read from the cache.
    cache_file : Path or None
        The cache written (or read); None when the folder is not writable.
    timings_s : dict
        Seconds spent per stage (``read``, ``analysis``, ``cache_write``, ``cache_read``).
    pyramid : MinMaxPyramid
        The tilt curves decimated for display.
    derived : Derived
        The panel figures of ``result``.
    warnings : list of str
        What reading the input found wrong with it (damaged chunks, samples beyond the
        sensor's range, ...; ``Recording.warnings``), one line each.
    cache_note : str
        Why an existing cache was not used (damaged, not signed by this user, ...), or "".
    """

    path: Path
    result: SessionResult
    recording_markers: list[Marker]
    from_cache: bool
    cache_file: Path | None
    timings_s: dict[str, float] = field(default_factory=dict)
    pyramid: MinMaxPyramid | None = None
    derived: Derived | None = None
    warnings: list[str] = field(default_factory=list)
    cache_note: str = ""


@dataclass(frozen=True)
class Preview:
    """A session being opened whose tilt is known while the rest is still analysed.

    The tilt curves (and so ``pyramid``) are final; activity, steps and hip-hike
    episodes follow in the :class:`LoadedSession`.
    """

    path: Path
    tilt: TiltPreview
    pyramid: MinMaxPyramid
    rate_hz: float
    meta: dict[str, Any]
    gaps: list[Gap]
    recording_markers: list[Marker]
    warnings: list[str] = field(default_factory=list)


def _load_options(acc_unit: str, gyr_unit: str) -> dict[str, str]:
    return {"acc_unit": acc_unit, "gyr_unit": gyr_unit}


def open_session(
    path: str | os.PathLike[str],
    *,
    use_cache: bool = True,
    acc_unit: str = "mps2",
    gyr_unit: str = "rps",
    progress: Progress | None = None,
    on_preview: Callable[[Preview], None] | None = None,
) -> LoadedSession:
    """Open a recording or CSV: from the cache if valid, else analyse it and cache it.

    Parameters
    ----------
    path : path
        Recording (``.psrec``) or CSV.
    use_cache : bool
        Read and write ``<file>.pscache``.
    acc_unit, gyr_unit : str
        Units of a CSV input.
    progress : callable, optional
        ``progress(fraction, stage)``.
    on_preview : callable, optional
        ``on_preview(Preview)`` once the tilt is known, while an uncached session is
        still being analysed (from the calling thread).

    Raises
    ------
    recordings.InputError
        The input cannot be read.
    ValueError
        The input holds too little data to analyse.
    """
    report = progress or (lambda fraction, stage: None)
    p = Path(path)
    options = _load_options(acc_unit, gyr_unit)
    timings: dict[str, float] = {}
    cache_note = ""
    if use_cache and p.is_file():
        report(0.0, "reading cache")
        t0 = time.perf_counter()
        try:
            session = _from_cache(p, options)
        except cache.CacheDiscarded as exc:
            session, cache_note = None, f"cache not used: {exc}"
        if session is not None:
            session.timings_s["cache_read"] = time.perf_counter() - t0
            report(1.0, "done")
            return session
    report(0.0, "reading")
    t0 = time.perf_counter()
    stat = cache.file_key(p, with_hash=False) if p.is_file() else {}
    # The content hash (the cache key) reads the file again. It is needed only to write
    # the cache: it runs alongside the analysis once the tilt is shown.
    with ThreadPoolExecutor(1) as hasher, loaded(p, acc_unit=acc_unit, gyr_unit=gyr_unit) as rec:
        key: Future[dict[str, Any]] | None = None

        def start_hash() -> Future[dict[str, Any]] | None:
            return hasher.submit(cache.file_key, p, with_hash=use_cache) if p.is_file() else None

        timings["read"] = time.perf_counter() - t0
        pyramids: list[MinMaxPyramid] = []

        def sub(fraction: float, stage: str) -> None:
            report(0.05 + 0.9 * fraction, stage)

        def tilt_known(tilt: TiltPreview) -> None:
            pyramids.append(_pyramid(tilt, rec.rate_hz))
            if on_preview is not None:
                on_preview(
                    Preview(p, tilt, pyramids[0], rec.rate_hz, dict(rec.meta), list(rec.gaps),
                            list(rec.markers), list(rec.warnings))
                )  # fmt: skip
            nonlocal key
            key = start_hash()

        t0 = time.perf_counter()
        result = analyze_recording(rec, source=str(p), progress=sub, on_tilt=tilt_known)
        timings["analysis"] = time.perf_counter() - t0
        report(0.95, "preparing the view")
        t0 = time.perf_counter()
        pyramid = pyramids[0] if pyramids else _pyramid(result, result.rate_hz)
        derived = derive(result)
        timings["view"] = time.perf_counter() - t0
        key = key or start_hash()
        file_key = key.result() if key is not None else {}
    written = None
    changed = any(file_key.get(k) != v for k, v in stat.items())  # e.g. still being recorded
    if use_cache and not changed:
        report(0.97, "caching")
        t0 = time.perf_counter()
        try:
            written = cache.save(
                p, result, list(rec.markers), file_key, options,
                extra_arrays=pyramid.to_arrays(),
                extra_doc={"summary_rows": derived.summary_rows,
                           "gait_summary": {k: v for k, v in derived.gait.items()
                                            if k != "swings"},
                           "warnings": list(rec.warnings)},
            )  # fmt: skip
        except cache.CacheDiscarded as exc:
            cache_note = cache_note or f"cache not used: {exc}"
        except OutputError as exc:
            cache_note = "; ".join(filter(None, [cache_note, f"cache not written: {exc}"]))
        timings["cache_write"] = time.perf_counter() - t0
    report(1.0, "done")
    return LoadedSession(
        p, result, list(rec.markers), False, written, timings, pyramid, derived,
        list(rec.warnings), cache_note,
    )  # fmt: skip


def _from_cache(p: Path, options: dict[str, Any]) -> LoadedSession | None:
    """The session from a valid cache, None without one (:class:`cache.CacheDiscarded`)."""
    cached = cache.load(p, options)
    if cached is None:
        return None
    r = cached.result
    extra = cached.extra_doc
    try:
        raw = raw_level(r.time_s, (r.anterior_tilt_deg, r.lateral_tilt_deg), r.rate_hz)
        pyramid = MinMaxPyramid.from_arrays(cached.extra_arrays, raw, r.rate_hz)
        derived = (
            Derived(r, [dict(row) for row in extra["summary_rows"]],
                    _gait(r, dict(extra["gait_summary"])))
            if "summary_rows" in extra and "gait_summary" in extra
            else None
        )  # fmt: skip
        warnings = [str(w) for w in extra.get("warnings", [])]
    except Exception as exc:  # signed but unusable: analyse afresh
        raise cache.CacheDiscarded(
            f"{cache.cache_path(p).name}: inconsistent content ({type(exc).__name__}: {exc})"
        ) from None
    return LoadedSession(
        p, r, cached.markers, True, cache.cache_path(p), {}, pyramid, derived, warnings
    )


def _pyramid(tilt: SessionResult | TiltPreview, rate_hz: float) -> MinMaxPyramid:
    """The anterior and lateral tilt curves, min/max decimated for display."""
    return MinMaxPyramid(tilt.time_s, (tilt.anterior_tilt_deg, tilt.lateral_tilt_deg), rate_hz)


def recalibrate(
    path: str | os.PathLike[str],
    start_s: float,
    end_s: float,
    params: HipHikeParams,
    *,
    acc_unit: str = "mps2",
    gyr_unit: str = "rps",
    progress: Progress | None = None,
) -> SessionResult:
    """Re-analyse with a calibration taken from ``[start_s, end_s]`` only.

    The span should hold quiet standing (>= 5 s) followed by straight walking (>= 10 s);
    with walking alone the calibration falls back as the automatic one does. The
    recording is checked as for the analysis first (:func:`analysis.checks.checked_recording`):
    impossible samples (not numbers, beyond the sensor's range) are left out of the
    calibration as of everything else.

    Raises
    ------
    analysis.calibration.CalibrationError
        The span does not allow a calibration (the message says why).
    recordings.InputError
        The recording cannot be analysed (one line naming it and the reason).
    """
    report = progress or (lambda fraction, stage: None)
    report(0.0, "reading")
    with loaded(path, acc_unit=acc_unit, gyr_unit=gyr_unit) as raw:
        rec = checked_recording(raw, str(path))
        sel = (rec.time_s >= start_s) & (rec.time_s <= end_s)
        if sel.sum() < 2:
            raise ValueError(f"no samples between {start_s:.1f} s and {end_s:.1f} s")
        acc, t = rec.acc_mps2[sel], rec.time_s[sel]
        gyr = None if rec.gyr_rps is None else rec.gyr_rps[sel]
        report(0.02, "calibration")
        q = estimate_quat_wxyz(acc, gyr, rec.rate_hz, offline=True, time_s=t)
        cal: Calibration = calibrate_auto(acc, gyr, q, rec.rate_hz, time_s=t)
        cal = dataclasses.replace(cal, method=f"{cal.method} (span {start_s:.0f}-{end_s:.0f} s)")

        def sub(fraction: float, stage: str) -> None:
            report(0.05 + 0.95 * fraction, stage)

        return analyze_recording(
            rec, source=str(path), calibration=cal, hip_hike_params=params, progress=sub
        )


def tunable_fields(cls: type = HipHikeParams) -> list[dataclasses.Field[Any]]:
    """The numeric fields of a parameters dataclass (the thresholds forms)."""
    return [f for f in dataclasses.fields(cls) if isinstance(f.default, int | float)]


def field_help(cls: type = HipHikeParams) -> dict[str, str]:
    """Each attribute's description from a numpydoc ``Attributes`` section (for tooltips)."""
    out: dict[str, str] = {}
    names: list[str] = []
    for line in (cls.__doc__ or "").splitlines():
        stripped = line.strip()
        if line.startswith("    ") and not line.startswith("        ") and " : " in stripped:
            names = [n.strip() for n in stripped.split(" : ")[0].split(",")]
            for n in names:
                out[n] = ""
        elif names and line.startswith("        "):
            for n in names:
                out[n] = f"{out[n]} {stripped}".strip()
    return out


def field_label(name: str) -> str:
    """``static_threshold_deg`` -> ``static threshold (°)``."""
    for suffix, unit in (("_deg", " (°)"), ("_s", " (s)")):
        if name.endswith(suffix):
            return name[: -len(suffix)].replace("_", " ") + unit
    return name.replace("_", " ")


def _finite_range(x: FloatArray, lo_pct: float = 0.5, hi_pct: float = 99.5) -> tuple[float, float]:
    step = max(1, x.size // 200_000)  # a sample of the session is enough for a y range
    v = x[::step]
    v = v[np.isfinite(v)]
    if not v.size:
        return -10.0, 10.0
    lo, hi = np.percentile(v, [lo_pct, hi_pct])
    pad = max(2.0, 0.15 * (hi - lo))
    return float(np.floor(lo - pad)), float(np.ceil(hi + pad))


@dataclass(frozen=True)
class Derived:
    """A result with the panel figures computed from it (computed off the GUI thread)."""

    result: SessionResult
    summary_rows: list[dict[str, Any]]
    gait: dict[str, Any]

    @functools.cached_property
    def episodes(self) -> list[dict[str, Any]]:
        """Hip-hikes and pelvic drops (``kind`` ``"drop"``) in order of their start."""
        r = self.result
        drops = [{**d, "kind": "drop", "activity": "walking"} for d in r.pelvic_drops]
        return sorted([*r.episodes, *drops], key=lambda e: float(e["start_s"]))


def derive(result: SessionResult) -> Derived:
    """The summary-panel rows and gait-panel figures of ``result``."""
    rows = []
    for act, s in result.summary().items():
        rows.append(
            {
                "activity": act,
                "duration_s": s["duration_s"],
                "anterior_mean": s["anterior_tilt_deg"]["mean"],
                "anterior_sd": s["anterior_tilt_deg"]["sd"],
                "lateral_mean": s["lateral_tilt_deg"]["mean"],
                "lateral_sd": s["lateral_tilt_deg"]["sd"],
                "hip_hike_pct": s["hip_hike_pct"],
            }
        )
    return Derived(result, rows, _gait(result, result.gait_summary()))


def _gait(result: SessionResult, gait_summary: dict[str, Any]) -> dict[str, Any]:
    """The gait summary plus each side's per-step swing elevation ``(time_s, deg)``."""
    sw = result.swings
    per_side = {}
    for side in ("left", "right"):
        sel = sw[sw["swing_side"] == side]
        per_side[side] = (sel["time_s"].to_numpy(float), sel["elevation_deg"].to_numpy(float))
    return {**gait_summary, "swings": per_side}


class SessionView:
    """What the plots draw of a session: tilt curves, activity, episodes and markers.

    Either complete (:class:`ReviewModel`) or a :class:`PreviewModel` (tilt only, while
    the rest of the session is still being analysed).
    """

    path: Path
    time_s: FloatArray
    pyramid: MinMaxPyramid
    activity_codes: NDArray[np.int8]
    anterior_range: tuple[float, float]
    lateral_range: tuple[float, float]
    recording_markers: list[Marker]
    gaps: list[Gap]

    @property
    def damage_spans(self) -> list[tuple[float, float]]:
        """Spans without data because of file damage or implausible samples (not link loss)."""
        return [(g.start_s, g.end_s) for g in self.gaps if g.reason in DAMAGE_REASONS]

    @property
    def t_range(self) -> tuple[float, float]:
        """First and last sample time."""
        return float(self.time_s[0]), float(self.time_s[-1])

    def view(
        self, x0: float, x1: float, max_points: int
    ) -> tuple[FloatArray, FloatArray, FloatArray]:
        """``(t, anterior, lateral)`` to draw for the span (min/max decimated, NaN at gaps)."""
        t, (ant, lat) = self.pyramid.view(x0, x1, max_points)
        return t, ant, lat

    @property
    def episodes(self) -> list[dict[str, Any]]:
        """The hip-hike episodes (dicts of DESIGN section 4)."""
        return []

    @property
    def params(self) -> HipHikeParams:
        """The hip-hike thresholds in use."""
        return HipHikeParams()

    @property
    def markers(self) -> list[Marker]:
        """The user's markers, by time."""
        return []

    def all_marker_times(self) -> list[float]:
        """Times of the recording's and the user's markers."""
        return [m.time_s for m in self.recording_markers] + [m.time_s for m in self.markers]


class PreviewModel(SessionView):
    """A session whose tilt is shown while activity, gait and hip-hiking are analysed."""

    def __init__(self, preview: Preview) -> None:
        self.preview = preview
        self.path = preview.path
        self.time_s = preview.tilt.time_s
        self.pyramid = preview.pyramid
        self.activity_codes = np.full(self.time_s.shape, -1, dtype=np.int8)
        self.anterior_range = _finite_range(preview.tilt.anterior_tilt_deg)
        self.lateral_range = _finite_range(preview.tilt.lateral_tilt_deg)
        self.recording_markers = preview.recording_markers
        self.gaps = preview.gaps


class ReviewModel(SessionView):
    """One opened session with the user's markers and thresholds.

    Parameters
    ----------
    session : LoadedSession
        From :func:`open_session`.
    notes : Notes
        The user's annotations (:func:`gui.review.notes.load_notes`).
    """

    def __init__(self, session: LoadedSession, notes: Notes | None = None) -> None:
        self.session = session
        self.path = session.path
        self.recording_markers = session.recording_markers
        self.notes = notes or Notes()
        #: Why the notes must not be saved ("" when they may): an unreadable notes file
        #: that could not be set aside would be replaced.
        self.notes_blocked = ""
        result = session.result
        derived = session.derived
        params, drop = result.hip_hike_params, result.drop_params
        try:
            if self.notes.hip_hike_params:
                params = HipHikeParams.from_dict(self.notes.hip_hike_params)
            if self.notes.drop_params:
                drop = PelvicDropParams.from_dict(self.notes.drop_params)
        except (ValueError, TypeError):
            params, drop = result.hip_hike_params, result.drop_params
        if (params, drop) != (result.hip_hike_params, result.drop_params):
            derived = derive(result.redetect_patterns(params, drop))
        self.accept(derived or derive(result), full=True, pyramid=session.pyramid)

    # ---- the result and what is derived from it ------------------------------------------
    def accept(
        self, derived: Derived, *, full: bool, pyramid: MinMaxPyramid | None = None
    ) -> None:
        """Show a new result; ``full`` when the tilt curves changed (re-calibration).

        A re-detection changes only episodes, per-sample hip-hike labels and swings, so
        the min/max pyramid and the activity codes are kept.
        """
        self.derived = derived
        self.result = r = derived.result
        params = r.hip_hike_params
        self.notes.hip_hike_params = None if params == HipHikeParams() else params.to_dict()
        drop = r.drop_params
        self.notes.drop_params = None if drop == PelvicDropParams() else drop.to_dict()
        if not full:
            return
        self.time_s = r.time_s
        self.gaps = r.gaps
        self.pyramid = pyramid or _pyramid(r, r.rate_hz)
        self.activity_codes = r.activity
        self.anterior_range = _finite_range(r.anterior_tilt_deg)
        self.lateral_range = _finite_range(r.lateral_tilt_deg)

    # ---- episodes ---------------------------------------------------------------------------
    @property
    def episodes(self) -> list[dict[str, Any]]:
        """Hip-hike and pelvic-drop episodes by start (DESIGN section 4 dicts).

        A drop has ``kind`` ``"drop"`` (its ``side`` is the side that drops) and the
        activity ``"walking"``; hip-hikes keep theirs (``"static"``, ``"gait"``).
        """
        return self.derived.episodes

    def episode_rows(self) -> list[dict[str, Any]]:
        """One row per episode with the table's keys (:data:`EPISODE_COLUMNS`) and ``reason``."""
        return [
            {
                **e,
                "duration_s": e["end_s"] - e["start_s"],
                "confidence": e.get("confidence", float("nan")),
                "reason": str(e.get("reason", "")),
            }
            for e in self.episodes
        ]

    def suppressed(self) -> list[Suppressed]:
        """The would-be flags the detector left out, by reason, most first."""
        return suppressed_items(self.result.hip_hike_suppressed, self.params)

    def episode_span(self, index: int, *, min_span_s: float = 30.0) -> tuple[float, float]:
        """The detail-view span that shows episode ``index`` with context around it."""
        e = self.episodes[index]
        mid = 0.5 * (e["start_s"] + e["end_s"])
        half = max(min_span_s, 2.0 * (e["end_s"] - e["start_s"])) / 2
        return mid - half, mid + half

    def neighbour_episode(self, current: int | None, step: int, x_centre: float) -> int | None:
        """Index of the next (``step=+1``) or previous (``-1``) episode, or None.

        Without a current episode, the first episode after (or before) ``x_centre``.
        """
        n = len(self.episodes)
        if not n:
            return None
        if current is not None and 0 <= current < n:
            i = current + step
            return i if 0 <= i < n else None
        starts = np.array([e["start_s"] for e in self.episodes])
        if step > 0:
            i = int(np.searchsorted(starts, x_centre, side="right"))
            return i if i < n else None
        i = int(np.searchsorted(starts, x_centre, side="left")) - 1
        return i if i >= 0 else None

    # ---- thresholds and calibration ---------------------------------------------------------
    @property
    def params(self) -> HipHikeParams:
        """The hip-hike thresholds in use."""
        return self.result.hip_hike_params

    @property
    def drop_params(self) -> PelvicDropParams:
        """The pelvic-drop thresholds in use."""
        return self.result.drop_params

    def redetected(
        self, params: HipHikeParams, drop_params: PelvicDropParams | None = None
    ) -> Derived:
        """Hip-hikes and drops re-detected (does not change the model; thread-safe).

        ``drop_params`` None keeps the drop thresholds in use.
        """
        drop = self.drop_params if drop_params is None else drop_params
        return derive(self.result.redetect_patterns(params, drop))

    def set_params(
        self, params: HipHikeParams, drop_params: PelvicDropParams | None = None
    ) -> None:
        """Re-detect with new thresholds (orientation/calibration unchanged)."""
        self.accept(self.redetected(params, drop_params), full=False)

    def apply_result(self, result: SessionResult) -> None:
        """Take a re-analysed result (e.g. after re-calibration)."""
        self.accept(derive(result), full=True)

    # ---- markers and notes ------------------------------------------------------------------
    @property
    def markers(self) -> list[Marker]:
        """The user's markers (editable), by time."""
        return self.notes.markers

    def add_marker(self, time_s: float, label: str = "", note: str = "") -> int:
        """Add a user marker; return its index (markers stay sorted by time)."""
        m = Marker(float(time_s), label, note)
        self.notes.markers.append(m)
        self.notes.markers.sort(key=lambda x: x.time_s)
        return self.notes.markers.index(m)

    def edit_marker(self, index: int, **changes: Any) -> None:
        """Change a marker's ``time_s``, ``label`` or ``note``."""
        self.notes.markers[index] = dataclasses.replace(self.notes.markers[index], **changes)
        self.notes.markers.sort(key=lambda x: x.time_s)

    def remove_marker(self, index: int) -> None:
        """Delete a user marker."""
        del self.notes.markers[index]

    def save_notes(self) -> Path:
        """Write ``<file>.notes.json``.

        Raises
        ------
        recordings.files.OutputError
            It cannot be written, or an unreadable notes file is in the way
            (:attr:`notes_blocked` says why).
        """
        if self.notes_blocked:
            raise OutputError(notes_path(self.path), self.notes_blocked)
        return save_notes(self.path, self.notes)

    # ---- panels -----------------------------------------------------------------------------
    def summary_rows(self) -> list[dict[str, Any]]:
        """Per activity: duration, anterior/lateral tilt mean and SD, % time hip-hiking."""
        return self.derived.summary_rows

    def gait(self) -> dict[str, Any]:
        """Gait summary plus the per-step swing-side elevation of each side."""
        return self.derived.gait

    # ---- export -------------------------------------------------------------------------------
    def export_html(self, path: str | os.PathLike[str], *, overwrite: bool = False) -> None:
        """The printable HTML report of ``pelviscope analyze --report``.

        Every export is written atomically and never replaces a file unless ``overwrite``
        (raises :class:`recordings.files.OutputError`, one line, and leaves it as it was).
        """
        with atomic_output(path, overwrite=overwrite, mode="w") as f:
            f.write(render_html(self.result))

    def export_csv(self, path: str | os.PathLike[str], *, overwrite: bool = False) -> None:
        """The per-sample table (DESIGN section 3)."""
        with atomic_output(path, overwrite=overwrite, mode="w") as f:
            write_per_sample_csv(self.result, f)

    def export_episodes_csv(
        self, path: str | os.PathLike[str], *, overwrite: bool = False
    ) -> None:
        """The episode table as CSV (one row per episode)."""
        cols = [key for _, key in EPISODE_COLUMNS] + ["end_s", "reason"]
        df = pd.DataFrame(self.episode_rows(), columns=cols)
        with atomic_output(path, overwrite=overwrite, mode="w") as f:
            df.to_csv(f, index=False, float_format="%.3f")


def format_clock(seconds: float, *, with_tenths: bool = False) -> str:
    """Elapsed session time as ``h:mm:ss`` (``m:ss`` under an hour)."""
    if not np.isfinite(seconds):
        return "–"
    sign = "-" if seconds < 0 else ""
    s = abs(seconds)
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    sec_txt = f"{sec:04.1f}" if with_tenths else f"{int(sec):02d}"
    if h >= 1:
        return f"{sign}{int(h)}:{int(m):02d}:{sec_txt}"
    return f"{sign}{int(m)}:{sec_txt}"
