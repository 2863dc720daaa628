"""The analysis cache next to a recording: ``<file>.pscache`` (one uncompressed ``.npz``).

The analysis of a session runs once; the review window then reopens it from the cache.
The cache is valid while the recording has the same size and modification time (or, if
those changed, the same content hash) and :data:`analysis.session.ANALYSIS_VERSION` is
unchanged. A folder that cannot be written (read-only media, a shared drive) simply
gets no cache - never an error.

Per-sample strings (activity, hip-hike side) are stored as small integer codes and turned
back into strings only when needed (:class:`CachedSessionResult`); the list and dict
results are stored as one JSON document inside the archive. The window adds what it
derives (the min/max pyramid, the panel figures) so a cached open computes nothing. The orientation
quaternions are not cached (nothing in the review needs them: re-calibration re-runs the
analysis on the recording), so a result read back has an empty ``quat_wxyz``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import threading
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis.calibration import Calibration, CalibrationQuality
from analysis.hiphike import HipHikeParams
from analysis.session import ACTIVITIES, ANALYSIS_VERSION, SessionResult
from recordings import Gap, Marker

CACHE_SUFFIX = ".pscache"
FORMAT = "pelviscope.review-cache/2"
HIP_HIKE_CODES = ("", "left", "right")
_HASH_CHUNK = 8 << 20


def cache_path(recording: str | os.PathLike[str]) -> Path:
    """Where the cache of ``recording`` lives (``<file>.pscache``)."""
    p = Path(recording)
    return p.with_name(p.name + CACHE_SUFFIX)


def file_hash(path: str | os.PathLike[str]) -> str:
    """BLAKE2b (128-bit) hex digest of the file's content."""
    h = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as f:
        while chunk := f.read(_HASH_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def file_key(path: str | os.PathLike[str], *, with_hash: bool) -> dict[str, Any]:
    """Identity of the recording: size, mtime (ns) and optionally the content hash."""
    st = os.stat(path)
    key: dict[str, Any] = {"size": st.st_size, "mtime_ns": st.st_mtime_ns}
    if with_hash:
        key["hash"] = file_hash(path)
    return key


def _codes(labels: np.ndarray, names: tuple[str, ...]) -> np.ndarray:
    codes = np.full(labels.shape, -1, dtype=np.int8)
    for i, name in enumerate(names):
        codes[labels == name] = i
    return codes


def _labels(codes: np.ndarray, names: tuple[str, ...], fallback: str) -> np.ndarray:
    table = np.array([*names, fallback])
    return table[np.where(codes < 0, len(names), codes)]


def _frame_to_arrays(prefix: str, df: pd.DataFrame) -> dict[str, np.ndarray]:
    out = {}
    for c in df.columns:
        v = df[c].to_numpy()
        out[f"{prefix}/{c}"] = v.astype(str) if v.dtype == object else v
    return out


def _frame_from_arrays(prefix: str, npz: Any, columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame({c: npz[f"{prefix}/{c}"] for c in columns})


def _calibration_to_doc(cal: Calibration | None) -> dict[str, Any] | None:
    return None if cal is None else cal.to_dict()


def _calibration_from_doc(doc: dict[str, Any] | None) -> Calibration | None:
    if doc is None:
        return None
    spans = {
        k: tuple(doc[k]) if doc.get(k) else None for k in ("standing_span_s", "walking_span_s")
    }
    return Calibration(
        np.asarray(doc["sensor_to_pelvis_quat_wxyz"], float),
        doc["method"],
        CalibrationQuality(**doc["quality"]),
        spans["standing_span_s"],
        spans["walking_span_s"],
        float(doc.get("standing_tilt_deg", 0.0)),
    )


def save(
    recording: str | os.PathLike[str],
    result: SessionResult,
    markers: list[Marker],
    key: dict[str, Any],
    options: dict[str, Any] | None = None,
    *,
    extra_arrays: dict[str, np.ndarray] | None = None,
    extra_doc: dict[str, Any] | None = None,
) -> Path | None:
    """Write the cache of ``recording``; return its path, or None when it cannot be written.

    ``extra_arrays`` and ``extra_doc`` hold what the window derives from the result and
    wants back quickly (the min/max pyramid, the panel figures); :func:`load` returns them.

    The archive is written to a temporary file in the same folder and renamed, so a
    crash never leaves a half-written cache behind.
    """
    target = cache_path(recording)
    doc = {
        "format": FORMAT,
        "analysis_version": ANALYSIS_VERSION,
        "recording": key,
        "options": options or {},
        "source": result.source,
        "meta": result.meta,
        "rate_hz": result.rate_hz,
        "gaps": [asdict(g) for g in result.gaps],
        "markers": [asdict(m) for m in markers],
        "calibration": _calibration_to_doc(result.calibration),
        "calibration_error": result.calibration_error,
        "segments": result.segments,
        "transitions": result.transitions,
        "steps": result.steps,
        "bouts": result.bouts,
        "episodes": result.episodes,
        "hip_hike_params": result.hip_hike_params.to_dict(),
        "notes": result.notes,
        "strides_columns": list(result.strides.columns),
        "swings_columns": list(result.swings.columns),
        "extra": extra_doc or {},
    }
    arrays: dict[str, np.ndarray] = {
        "time_s": result.time_s,
        "anterior_tilt_deg": result.anterior_tilt_deg,
        "lateral_tilt_deg": result.lateral_tilt_deg,
        "activity": _codes(result.activity, ACTIVITIES),
        "hip_hike": _codes(result.hip_hike, HIP_HIKE_CODES),
        "ic_time_s": result._ic_time_s,
        "ic_side": result._ic_side.astype("<U7"),
        **_frame_to_arrays("strides", result.strides),
        **_frame_to_arrays("swings", result.swings),
        **(extra_arrays or {}),
    }
    text = json.dumps(doc, allow_nan=True, default=_json_default)
    arrays["doc"] = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=target.name, suffix=".tmp", dir=target.parent)
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)  # type: ignore[arg-type]
        os.replace(tmp, target)
        return target
    except OSError:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        return None


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError(f"cannot serialise {type(obj).__name__}")


def read_doc(recording: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The JSON part of the cache, or None when there is no readable cache."""
    try:
        with np.load(cache_path(recording), allow_pickle=False) as npz:
            return dict(json.loads(npz["doc"].tobytes().decode("utf-8")))
    except (OSError, ValueError, KeyError, zipfile.BadZipFile):
        return None


def is_valid(
    recording: str | os.PathLike[str],
    doc: dict[str, Any] | None,
    options: dict[str, Any] | None = None,
) -> bool:
    """Whether ``doc`` (from :func:`read_doc`) belongs to the recording as it is now.

    ``options`` are the load options (CSV units) the analysis must have used.
    """
    if not doc or doc.get("format") != FORMAT or doc.get("analysis_version") != ANALYSIS_VERSION:
        return False
    if doc.get("options", {}) != (options or {}):
        return False
    stored = doc.get("recording", {})
    now = file_key(recording, with_hash=False)
    if stored.get("size") != now["size"]:
        return False
    if stored.get("mtime_ns") == now["mtime_ns"]:
        return True
    # Touched or copied: the content decides.
    return bool(stored.get("hash")) and stored["hash"] == file_hash(recording)


class CachedSessionResult(SessionResult):
    """A :class:`SessionResult` read from the cache whose per-sample labels are built lazily.

    ``activity`` and ``hip_hike`` are stored as int8 codes; turning 8.6 M codes into
    strings takes about a second, which would double a cached open. They are built on
    first access (a re-detection, an export, the summary) - and never for just viewing.
    """

    def __init__(
        self,
        *,
        activity_codes: np.ndarray | None = None,
        hip_hike_codes: np.ndarray | None = None,
        activity: np.ndarray | None = None,
        hip_hike: np.ndarray | None = None,
        **fields: Any,
    ) -> None:
        # ``dataclasses.replace`` (used by ``redetect``) calls this with the labels instead.
        self._codes = {"activity": activity_codes, "hip_hike": hip_hike_codes}
        self._labels_cache: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()
        super().__init__(activity=activity, hip_hike=hip_hike, **fields)  # type: ignore[arg-type]

    @property
    def activity_codes(self) -> np.ndarray:
        """Index into :data:`analysis.session.ACTIVITIES` per sample (-1 = other)."""
        codes = self._codes["activity"]
        return _codes(self.activity, ACTIVITIES) if codes is None else codes

    def _get(self, name: str, names: tuple[str, ...], fallback: str) -> np.ndarray:
        with self._lock:
            if name not in self._labels_cache:
                codes = self._codes[name]
                assert codes is not None  # either codes or labels were given
                self._labels_cache[name] = _labels(codes, names, fallback)
            return self._labels_cache[name]

    @property
    def activity(self) -> np.ndarray:
        """Activity label per sample (built on first use)."""
        return self._get("activity", ACTIVITIES, "unknown")

    @activity.setter
    def activity(self, value: np.ndarray | None) -> None:
        if value is not None:
            self._labels_cache["activity"] = value

    @property
    def hip_hike(self) -> np.ndarray:
        """Hip-hike side per sample, "" when none (built on first use)."""
        return self._get("hip_hike", HIP_HIKE_CODES, "")

    @hip_hike.setter
    def hip_hike(self, value: np.ndarray | None) -> None:
        if value is not None:
            self._labels_cache["hip_hike"] = value


@dataclass
class Cached:
    """What :func:`load` returns."""

    result: SessionResult
    markers: list[Marker]
    extra_arrays: dict[str, np.ndarray]
    extra_doc: dict[str, Any]


def load(
    recording: str | os.PathLike[str], options: dict[str, Any] | None = None
) -> Cached | None:
    """The cached result, markers and extras; None if missing, stale or damaged."""
    doc = read_doc(recording)
    if doc is None or not is_valid(recording, doc, options):
        return None
    try:
        with np.load(cache_path(recording), allow_pickle=False) as npz:
            extra_arrays = {k: npz[k] for k in npz.files if k.startswith("pyramid/")}
            result = CachedSessionResult(
                activity_codes=npz["activity"],
                hip_hike_codes=npz["hip_hike"],
                source=doc["source"],
                meta=doc["meta"],
                rate_hz=float(doc["rate_hz"]),
                time_s=npz["time_s"],
                quat_wxyz=np.empty((0, 4)),
                anterior_tilt_deg=npz["anterior_tilt_deg"],
                lateral_tilt_deg=npz["lateral_tilt_deg"],
                gaps=[Gap(**g) for g in doc["gaps"]],
                calibration=_calibration_from_doc(doc["calibration"]),
                calibration_error=doc["calibration_error"],
                segments=doc["segments"],
                transitions=doc["transitions"],
                steps=doc["steps"],
                strides=_frame_from_arrays("strides", npz, doc["strides_columns"]),
                swings=_frame_from_arrays("swings", npz, doc["swings_columns"]),
                bouts=doc["bouts"],
                episodes=doc["episodes"],
                hip_hike_params=HipHikeParams.from_dict(doc["hip_hike_params"]),
                notes=doc["notes"],
                _ic_time_s=npz["ic_time_s"],
                _ic_side=npz["ic_side"],
            )
    except (OSError, ValueError, KeyError, TypeError, zipfile.BadZipFile):
        return None
    markers = [Marker(**m) for m in doc["markers"]]
    return Cached(result, markers, extra_arrays, doc.get("extra", {}))
