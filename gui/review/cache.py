"""The analysis cache next to a recording: ``<file>.pscache`` (signed, never trusted).

The analysis of a session runs once; the review window then reopens it from the cache.
A cache is used only when its key matches all three of:

- :data:`analysis.session.ANALYSIS_VERSION` (bumped whenever results change for the same
  input and parameters; the golden tests in ``tests/golden`` say when),
- :func:`params_key`: a hash of every parameter that sets the result - the load options
  (CSV units), the calibration given (None: automatic), the standing tilt, the hip-hike
  thresholds, and the defaults of every stage's parameters dataclass in ``analysis``
  (:func:`stage_param_classes`), so that a changed default misses the cache even where
  the demo sessions of the golden test do not notice it,
- the recording's identity: the same size and modification time or, if those changed
  (touched, copied), the same content hash.

A folder that cannot be written (read-only media, a shared drive) simply gets no cache -
never an error.

Anyone who can write next to a recording can write a ``.pscache``, and a file can be
damaged, so nothing in it is believed before it is checked:

- The file is ``MAGIC``, an HMAC-SHA256 of everything after it, then one uncompressed
  ``.npz``. The HMAC key is a per-user secret (:func:`user_key`, 32 random bytes, mode
  0600, in the user's config folder), so a planted cache - or one written by another
  user - fails the check and is discarded. The signed content holds the recording's
  identity (size, modification time and content hash). Without a usable key the cache
  is not used at all, rather than used unsigned.
- The signature is checked, streaming, before the archive is parsed (nothing planted is
  ever decoded; a huge declared array never allocates). The file is opened without
  following a symbolic link and without blocking (a FIFO planted at the name cannot hang
  the window), and must be a regular file of a plausible size.
- A signed cache is still checked for consistency (names, dtypes, shapes, codes) before
  use. Any doubt raises :class:`CacheDiscarded` (one line saying why); the caller
  analyses afresh and the next write replaces the file.
- The cache is written through :func:`recordings.files.atomic_output` (random ``O_EXCL``
  temporary name, moved into place when complete; a symbolic link at the name is not
  replaced). Archives are never read with ``allow_pickle``.

Per-sample labels (activity, hip-hike side) are stored as the result holds them, int8
codes of :mod:`analysis.labels`; the list and dict
results (the hip-hike episodes with their confidence and reason, the would-be flags left
out by reason) are stored as one JSON document inside the archive, so a cached open gives
the whole result of a fresh analysis. The window adds what it
derives (the min/max pyramid, the panel figures) so a cached open computes nothing. The orientation
quaternions are not cached (nothing in the review needs them: re-calibration re-runs the
analysis on the recording), so a result read back has an empty ``quat_wxyz``.
"""

from __future__ import annotations

import dataclasses
import errno
import functools
import hashlib
import hmac
import importlib
import json
import math
import os
import pkgutil
import secrets
import stat
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd

from analysis.calibration import Calibration, CalibrationQuality
from analysis.hiphike import HipHikeParams
from analysis.hiphike.params import PelvicDropParams
from analysis.labels import SIDE_LABELS, Side
from analysis.session import ACTIVITIES, ANALYSIS_VERSION, SessionResult
from recordings import Gap, Marker
from recordings.files import OutputError, atomic_output

CACHE_SUFFIX = ".pscache"
#: /4: the document holds ``params_sha256`` (a /3 cache is simply not valid). /5: it holds
#: ``hip_hike_suppressed`` and every episode its ``confidence`` and ``reason`` (a /4 cache
#: would open without the suppressed counts: it is stale, re-analysed quietly). /6: it holds
#: ``turns`` (a /5 cache would open without them).
FORMAT = "pelviscope.review-cache/7"
#: First bytes of a cache file (16 bytes); the HMAC-SHA256 (32 bytes) follows.
MAGIC = b"pelviscope-rc/3\n"
KEY_NAME = "review-cache.key"
KEY_BYTES = 32
#: Hip-hike side codes a cache may hold (:class:`analysis.labels.Side` NONE, LEFT, RIGHT).
HIP_HIKE_CODES = SIDE_LABELS[: Side.RIGHT + 1]
_MAC_BYTES = 32
_HEADER_BYTES = len(MAGIC) + _MAC_BYTES
_HASH_CHUNK = 8 << 20
#: A cache is at most this many times the recording's size (plus a fixed allowance); a
#: larger file is not read at all (checking it would take long). The real ratio is < 2.
_MAX_SIZE_RATIO = 16
_MAX_SIZE_EXTRA = 64 << 20


class CacheDiscarded(Exception):
    """The cache exists but is not used; the message says why (one line)."""


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


@functools.cache
def stage_param_classes() -> tuple[type, ...]:
    """Every parameters dataclass of the analysis (``*Params`` in any ``analysis`` module).

    Found by importing every module of the package once, so that a stage added later
    is in the cache key without anyone remembering to list it here. Sorted by name:
    the key does not depend on the order of discovery or on what was imported before.
    """
    import analysis

    found: dict[str, type] = {}
    for info in pkgutil.walk_packages(analysis.__path__, "analysis."):
        module = importlib.import_module(info.name)
        for name, obj in vars(module).items():
            if (
                isinstance(obj, type)
                and name.endswith("Params")
                and dataclasses.is_dataclass(obj)
                and obj.__module__ == module.__name__
            ):
                found[f"{obj.__module__}.{obj.__qualname__}"] = obj
    return tuple(found[k] for k in sorted(found))


def _defaults(cls: type) -> dict[str, Any] | None:
    """The default parameters of ``cls`` as plain data (None if it has no full default)."""
    try:
        instance = cls()
    except TypeError:  # a field without default: not a stage's settings
        return None
    return dataclasses.asdict(instance)


def params_key(
    options: dict[str, Any] | None = None,
    *,
    calibration: Calibration | None = None,
    standing_tilt_deg: float | None = None,
    hip_hike_params: HipHikeParams | None = None,
) -> str:
    """SHA-256 (hex) of every parameter that sets an analysis's result besides its input.

    Parameters
    ----------
    options : dict, optional
        Load options (CSV units) as given to :func:`save` and :func:`load`.
    calibration, standing_tilt_deg, hip_hike_params
        As given to :func:`analysis.session.analyze_recording` (None: its defaults).

    Two calls whose parameters give the same analysis give the same key (``None`` and
    ``HipHikeParams()`` are the same thresholds); a change of any one, or of a default
    of any stage (:func:`stage_param_classes`), gives another key.
    """
    doc = {
        "options": options or {},
        "calibration": None if calibration is None else calibration.to_dict(),
        "standing_tilt_deg": standing_tilt_deg,
        "hip_hike_params": (hip_hike_params or HipHikeParams()).to_dict(),
        "defaults": {
            f"{cls.__module__}.{cls.__qualname__}": _defaults(cls)
            for cls in stage_param_classes()
        },
    }
    # repr for what JSON cannot hold (an enum, a numpy scalar): stable within a version.
    text = json.dumps(doc, sort_keys=True, default=repr, allow_nan=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def key_path() -> Path:
    """Where the per-user cache key lives (``$XDG_CONFIG_HOME/pelviscope/`` or ``~/.config``)."""
    base = os.environ.get("XDG_CONFIG_HOME", "")
    folder = Path(base) if base and os.path.isabs(base) else Path.home() / ".config"
    return folder / "pelviscope" / KEY_NAME


def _read_key(path: Path) -> bytes:
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    fd = os.open(path, flags)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise CacheDiscarded(f"{path}: the cache key is not a regular file; no cache used")
        if st.st_uid != os.getuid() or st.st_mode & 0o077:
            raise CacheDiscarded(
                f"{path}: the cache key is readable or owned by others; no cache used"
            )
        key = os.read(fd, KEY_BYTES + 1)
    finally:
        os.close(fd)
    if len(key) != KEY_BYTES:
        raise CacheDiscarded(f"{path}: the cache key is damaged; no cache used")
    return key


def user_key() -> bytes:
    """The per-user secret that signs caches, created on first use.

    32 random bytes in :func:`key_path`, mode 0600 in a 0700 folder, created under a
    random ``O_EXCL`` name and linked into place (two processes creating it at once
    end up with the same key).

    Raises
    ------
    CacheDiscarded
        The key cannot be created or is not safe to use (then no cache is used at all).
    """
    path = key_path()
    try:
        return _read_key(path)
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise CacheDiscarded(f"{path}: cannot read the cache key ({exc.strerror or exc}); "
                             "no cache used") from None
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        with atomic_output(path) as f:
            os.fchmod(f.fileno(), 0o600)
            f.write(secrets.token_bytes(KEY_BYTES))
    except (OSError, OutputError) as exc:
        if not os.path.lexists(path):  # else another process made it: read that one
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            raise CacheDiscarded(
                f"{path}: cannot create the cache key ({reason}); no cache used"
            ) from None
    try:
        return _read_key(path)
    except OSError as exc:
        raise CacheDiscarded(f"{path}: cannot read the cache key ({exc.strerror or exc}); "
                             "no cache used") from None


class _Signing:
    """A write-only stream that signs what passes through it.

    It has no ``tell``/``seek``, so :mod:`zipfile` writes the archive in one pass.
    """

    def __init__(self, f: IO[bytes], mac: hmac.HMAC) -> None:
        self._f, self._mac = f, mac

    def write(self, data: bytes) -> int:
        self._mac.update(data)
        return self._f.write(data)

    def flush(self) -> None:
        self._f.flush()


def _max_cache_bytes(recording: str | os.PathLike[str]) -> int:
    return _MAX_SIZE_RATIO * os.path.getsize(recording) + _MAX_SIZE_EXTRA


def _open_verified(
    recording: str | os.PathLike[str], key: bytes
) -> IO[bytes] | None:
    """The cache file, positioned at the archive, once its signature is checked.

    Returns None when there is no cache; raises :class:`CacheDiscarded` otherwise.
    """
    path = cache_path(recording)
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        return None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise CacheDiscarded(f"{path.name}: is a symbolic link; not read") from None
        raise CacheDiscarded(f"{path.name}: cannot read ({exc.strerror or exc})") from None
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        raise CacheDiscarded(f"{path.name}: not a regular file; not read")
    f = os.fdopen(fd, "rb")
    try:
        if st.st_size < _HEADER_BYTES or f.read(len(MAGIC)) != MAGIC:
            raise CacheDiscarded(f"{path.name}: not a cache of this version")
        if st.st_size > _max_cache_bytes(recording):
            raise CacheDiscarded(f"{path.name}: implausibly large ({st.st_size} bytes); not read")
        stored = f.read(_MAC_BYTES)
        mac = hmac.new(key, MAGIC, hashlib.sha256)
        while chunk := f.read(_HASH_CHUNK):
            mac.update(chunk)
        if not hmac.compare_digest(mac.digest(), stored):
            raise CacheDiscarded(
                f"{path.name}: signature does not match (damaged, or not written by you)"
            )
        f.seek(_HEADER_BYTES)
    except CacheDiscarded:
        f.close()
        raise
    except OSError as exc:
        f.close()
        raise CacheDiscarded(f"{path.name}: cannot read ({exc.strerror or exc})") from None
    return f


def _frame_to_arrays(prefix: str, df: pd.DataFrame) -> dict[str, np.ndarray]:
    out = {}
    for c in df.columns:
        v = df[c].to_numpy()
        out[f"{prefix}/{c}"] = v.astype(str) if v.dtype == object else v
    return out


def _frame_from_arrays(prefix: str, npz: Any, columns: list[str]) -> pd.DataFrame:
    cols = {str(c): _array(npz, f"{prefix}/{c}", "fiubU", 1) for c in columns}
    if len({len(v) for v in cols.values()}) > 1:
        raise CacheDiscarded(f"the {prefix} columns differ in length")
    return pd.DataFrame(cols)


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
    calibration: Calibration | None = None,
    standing_tilt_deg: float | None = None,
    hip_hike_params: HipHikeParams | None = None,
) -> Path | None:
    """Write the signed cache of ``recording``; return its path.

    ``key`` is :func:`file_key` with the content hash. ``options`` (load options),
    ``calibration``, ``standing_tilt_deg`` and ``hip_hike_params`` are what the analysis
    was asked for (:func:`params_key`; None: the defaults). ``extra_arrays`` and
    ``extra_doc`` hold what the window derives from the result and wants back quickly
    (the min/max pyramid, the panel figures); :func:`load` returns them.

    Nothing is written without the content hash (then None is returned).

    Raises
    ------
    CacheDiscarded
        There is no usable key (no cache is written unsigned).
    recordings.files.OutputError
        The cache cannot be written (a read-only folder, a full disk, a symbolic link or
        directory at its name); what was there is left as it was, nothing half-written.
    ValueError
        ``result`` has other hip-hike thresholds than ``hip_hike_params`` (a re-detected
        result stored under the key of the analysis asked for would be served for it).
    """
    if result.hip_hike_params != (hip_hike_params or HipHikeParams()):
        raise ValueError("the result's hip-hike thresholds are not those of the cache key")
    if not key.get("hash"):
        return None
    secret = user_key()
    target = cache_path(recording)
    doc = {
        "format": FORMAT,
        "analysis_version": ANALYSIS_VERSION,
        "params_sha256": params_key(
            options,
            calibration=calibration,
            standing_tilt_deg=standing_tilt_deg,
            hip_hike_params=hip_hike_params,
        ),
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
        "hip_hike_suppressed": result.hip_hike_suppressed,
        "turns": result.turns,
        "pelvic_drops": result.pelvic_drops,
        "drop_params": result.drop_params.to_dict(),
        "cycles": result.cycles,
        "clinical": result.clinical,
        "notes": result.notes,
        "strides_columns": list(result.strides.columns),
        "swings_columns": list(result.swings.columns),
        "extra": extra_doc or {},
    }
    arrays: dict[str, np.ndarray] = {
        "time_s": result.time_s,
        "anterior_tilt_deg": result.anterior_tilt_deg,
        "lateral_tilt_deg": result.lateral_tilt_deg,
        "activity": np.asarray(result.activity, np.int8),
        "hip_hike": np.asarray(result.hip_hike, np.int8),
        "ic_time_s": result._ic_time_s,
        "ic_side": result._ic_side.astype("<U7"),
        **_frame_to_arrays("strides", result.strides),
        **_frame_to_arrays("swings", result.swings),
        **(extra_arrays or {}),
    }
    try:
        text = json.dumps(doc, allow_nan=True, default=_json_default)
    except (TypeError, ValueError):
        return None
    arrays["doc"] = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)
    return _write_signed(target, arrays, secret)


def _write_signed(target: Path, arrays: dict[str, np.ndarray], secret: bytes) -> Path:
    """``MAGIC``, the HMAC and the archive, atomically at ``target`` (raises OutputError)."""
    mac = hmac.new(secret, MAGIC, hashlib.sha256)
    with atomic_output(target, overwrite=True) as f:
        f.write(MAGIC + bytes(_MAC_BYTES))
        # np.savez's layout, written in one pass through the signing stream.
        with zipfile.ZipFile(_Signing(f, mac), "w", zipfile.ZIP_STORED) as z:  # type: ignore[call-overload]
            for name, a in arrays.items():
                with z.open(f"{name}.npy", "w", force_zip64=True) as member:
                    np.lib.format.write_array(member, np.asanyarray(a), allow_pickle=False)
        f.seek(len(MAGIC))
        f.write(mac.digest())
    return target


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError(f"cannot serialise {type(obj).__name__}")


def is_valid(
    recording: str | os.PathLike[str],
    doc: dict[str, Any] | None,
    options: dict[str, Any] | None = None,
    *,
    calibration: Calibration | None = None,
    standing_tilt_deg: float | None = None,
    hip_hike_params: HipHikeParams | None = None,
) -> bool:
    """Whether ``doc`` (the cache's JSON part) is the analysis asked for of the recording now.

    ``options`` (load options: CSV units), ``calibration``, ``standing_tilt_deg`` and
    ``hip_hike_params`` are the parameters the analysis must have used (None: the
    defaults); the analysis version and every stage's defaults must be today's.
    """
    if not doc or doc.get("format") != FORMAT or doc.get("analysis_version") != ANALYSIS_VERSION:
        return False
    wanted = params_key(
        options,
        calibration=calibration,
        standing_tilt_deg=standing_tilt_deg,
        hip_hike_params=hip_hike_params,
    )
    if not hmac.compare_digest(str(doc.get("params_sha256", "")), wanted):
        return False
    stored = doc.get("recording", {})
    if not isinstance(stored, dict):
        return False
    now = file_key(recording, with_hash=False)
    if stored.get("size") != now["size"]:
        return False
    if stored.get("mtime_ns") == now["mtime_ns"]:
        return True
    # Touched or copied: the content decides.
    return bool(stored.get("hash")) and stored["hash"] == file_hash(recording)


@dataclass
class Cached:
    """What :func:`load` returns."""

    result: SessionResult
    markers: list[Marker]
    extra_arrays: dict[str, np.ndarray]
    extra_doc: dict[str, Any]


def load(
    recording: str | os.PathLike[str],
    options: dict[str, Any] | None = None,
    *,
    calibration: Calibration | None = None,
    standing_tilt_deg: float | None = None,
    hip_hike_params: HipHikeParams | None = None,
) -> Cached | None:
    """The cached result, markers and extras; None if there is no cache or it is stale.

    Stale: another analysis version, other parameters (``options``, ``calibration``,
    ``standing_tilt_deg``, ``hip_hike_params`` as for :func:`save`, or changed defaults
    of a stage), or another recording (:func:`is_valid`).

    Raises
    ------
    CacheDiscarded
        The cache exists but is damaged, not signed with the user's key, inconsistent,
        or no key is available; the message says which, in one line.
    """
    path = cache_path(recording)
    if not os.path.lexists(path):
        return None
    f = _open_verified(recording, user_key())
    if f is None:
        return None
    with f:
        try:
            with np.load(f, allow_pickle=False) as npz:
                doc = _doc(npz)
                valid = is_valid(
                    recording,
                    doc,
                    options,
                    calibration=calibration,
                    standing_tilt_deg=standing_tilt_deg,
                    hip_hike_params=hip_hike_params,
                )
                if not valid:
                    return None
                return _rebuild(npz, doc)
        except CacheDiscarded as exc:
            raise CacheDiscarded(f"{path.name}: {exc}") from None
        except Exception as exc:  # signed but unusable: any failure means "analyse afresh"
            raise CacheDiscarded(
                f"{path.name}: inconsistent content ({type(exc).__name__}: {exc})"
            ) from None


def _doc(npz: Any) -> dict[str, Any]:
    raw = _array(npz, "doc", "u", 1)
    doc = json.loads(raw.tobytes().decode("utf-8"))
    if not isinstance(doc, dict):
        raise CacheDiscarded("the document is not an object")
    return doc


def _array(npz: Any, name: str, kinds: str, ndim: int, length: int | None = None) -> np.ndarray:
    """Array ``name`` if it has a dtype kind in ``kinds``, ``ndim`` dimensions and ``length``."""
    if name not in npz.files:
        raise CacheDiscarded(f"array {name} missing")
    _check_declared(npz, name)
    a = npz[name]
    if a.dtype.kind not in kinds or a.ndim != ndim or (length is not None and len(a) != length):
        raise CacheDiscarded(f"array {name} has dtype {a.dtype} and shape {a.shape}")
    return a


def _check_declared(npz: Any, name: str) -> None:
    """Refuse an array whose header declares more data than its archive member holds.

    Reading such an array would first allocate the declared size (terabytes, say).
    """
    info = npz.zip.getinfo(f"{name}.npy")
    with npz.zip.open(info) as member:
        version = np.lib.format.read_magic(member)
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(member)
        elif version == (2, 0):
            shape, _, dtype = np.lib.format.read_array_header_2_0(member)
        else:
            raise CacheDiscarded(f"array {name} has .npy version {version}")
    if dtype.hasobject or math.prod(shape) * dtype.itemsize > info.file_size:
        raise CacheDiscarded(f"array {name} declares {shape} {dtype}, more than it holds")


_EPISODE_KEYS = frozenset(
    {"side", "kind", "activity", "start_s", "end_s", "peak_deg", "mean_deg", "confidence",
     "reason"}
)


def _is_number(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)


def _check_episode(e: Any) -> None:
    """An episode as the detector gives it: its keys, a confidence in 0-1, a reason."""
    if not isinstance(e, dict):
        raise CacheDiscarded("an episode is not an object")
    missing = _EPISODE_KEYS - set(e)
    if missing:
        raise CacheDiscarded(f"an episode lacks {sorted(missing)}")
    c = e["confidence"]
    if not (_is_number(c) and 0.0 <= c <= 1.0):
        raise CacheDiscarded(f"an episode's confidence is {c!r}")
    if not isinstance(e["reason"], str):
        raise CacheDiscarded("an episode's reason is not text")


def _suppressed(counts: Any) -> dict[str, int]:
    """``hip_hike_suppressed``: reason (text) -> count (a whole number >= 0), in stored order."""
    if not isinstance(counts, dict):
        raise CacheDiscarded("hip_hike_suppressed is not an object")
    for reason, n in counts.items():
        if not (isinstance(n, int) and not isinstance(n, bool) and n >= 0):
            raise CacheDiscarded(f"hip_hike_suppressed[{reason!r}] is {n!r}")
    return {str(reason): n for reason, n in counts.items()}


def _turns(turns: Any) -> list[dict[str, float]]:
    """``turns``: ``{"start_s", "end_s", "angle_deg"}`` each, finite, start <= end."""
    if not isinstance(turns, list):
        raise CacheDiscarded("turns is not a list")
    out = []
    for turn in turns:
        if not isinstance(turn, dict) or set(turn) != {"start_s", "end_s", "angle_deg"}:
            raise CacheDiscarded(f"a turn is {turn!r}")
        if not all(_is_number(v) and math.isfinite(v) for v in turn.values()):
            raise CacheDiscarded(f"a turn holds {turn!r}")
        if turn["start_s"] > turn["end_s"]:
            raise CacheDiscarded("a turn ends before it starts")
        out.append({k: float(turn[k]) for k in ("start_s", "end_s", "angle_deg")})
    return out


def _clinical(doc: Any) -> dict[str, list[dict[str, Any]]]:
    """The ``tests``/``exercises`` lists of a cached result, checked."""
    if not isinstance(doc, dict) or set(doc) != {"tests", "exercises"}:
        raise CacheDiscarded("clinical is not {tests, exercises}")
    for key, items in doc.items():
        if not isinstance(items, list) or not all(isinstance(d, dict) for d in items):
            raise CacheDiscarded(f"clinical {key} is not a list of objects")
    return doc


def _rebuild(npz: Any, doc: dict[str, Any]) -> Cached:
    time_s = _array(npz, "time_s", "f", 1)
    n = len(time_s)
    if n < 2 or not np.all(np.diff(time_s) > 0):
        raise CacheDiscarded("sample times are not increasing")
    rate_hz = float(doc["rate_hz"])
    if not (math.isfinite(rate_hz) and rate_hz > 0):
        raise CacheDiscarded(f"rate {rate_hz!r} Hz")
    activity = _array(npz, "activity", "i", 1, n)
    hip_hike = _array(npz, "hip_hike", "i", 1, n)
    for name, codes, table in (("activity", activity, ACTIVITIES),
                               ("hip_hike", hip_hike, HIP_HIKE_CODES)):
        if codes.size and not (codes.min() >= 0 and codes.max() < len(table)):
            raise CacheDiscarded(f"array {name} holds unknown codes")
    ic_time_s = _array(npz, "ic_time_s", "f", 1)
    ic_side = _array(npz, "ic_side", "U", 1, len(ic_time_s))
    for key in ("gaps", "markers", "segments", "transitions", "steps", "bouts", "episodes",
                "notes", "strides_columns", "swings_columns"):
        if not isinstance(doc.get(key), list):
            raise CacheDiscarded(f"{key} is not a list")
    for e in doc["episodes"]:
        _check_episode(e)
    suppressed = _suppressed(doc.get("hip_hike_suppressed"))
    if not isinstance(doc.get("pelvic_drops"), list) or not all(
        isinstance(d, dict) for d in doc["pelvic_drops"]
    ):
        raise CacheDiscarded("pelvic_drops is not a list of objects")
    if not (doc.get("cycles") is None or isinstance(doc["cycles"], dict)):
        raise CacheDiscarded("cycles is not an object")
    turns = _turns(doc.get("turns"))
    extra = doc.get("extra", {})
    if not isinstance(extra, dict):
        raise CacheDiscarded("extra is not an object")
    extra_arrays = {}
    for k in npz.files:
        if k.startswith("pyramid/"):
            extra_arrays[k] = _array(npz, k, "f", 1)
    result = SessionResult(
        activity=activity.astype(np.int8),
        hip_hike=hip_hike.astype(np.int8),
        source=str(doc["source"]),
        meta=dict(doc["meta"]),
        rate_hz=rate_hz,
        time_s=time_s,
        quat_wxyz=np.empty((0, 4)),
        anterior_tilt_deg=_array(npz, "anterior_tilt_deg", "f", 1, n),
        lateral_tilt_deg=_array(npz, "lateral_tilt_deg", "f", 1, n),
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
        notes=[str(x) for x in doc["notes"]],
        hip_hike_suppressed=suppressed,
        turns=turns,
        pelvic_drops=doc["pelvic_drops"],
        drop_params=PelvicDropParams.from_dict(doc["drop_params"]),
        cycles=doc["cycles"],
        clinical=_clinical(doc.get("clinical")),
        _ic_time_s=ic_time_s,
        _ic_side=ic_side,
    )
    markers = [Marker(**m) for m in doc["markers"]]
    return Cached(result, markers, extra_arrays, extra)
