"""Sensor-to-pelvis calibration: which way is up and which way is anterior.

The pelvis frame P (DESIGN section 2) has x anterior, y left, z up at neutral standing.
A calibration is the constant rotation ``M`` from the sensor frame S to P
(``v_P = M v_S``); the sensor may be clipped on in any orientation.

* **Vertical** from quiet standing: the mean accelerometer direction over >= 5 s.
* **Anterior** from walking, by the inverted-pendulum energy exchange: the pelvis moves
  fastest forwards when it is lowest (double support) and slowest when highest
  (mid-stance), so forward acceleration is in antiphase with vertical *velocity*:
  ``E[a_fwd * v_up] < 0``. The horizontal direction whose acceleration correlates most
  negatively with vertical velocity is anterior - axis and sign at once, independent of
  heading changes because the products are accumulated in the sensor frame. (Checked
  on all six mobgap lower-back recordings: correct sign in each.) Alternatively the
  anterior direction comes from a forward bend (the up vector moves posteriorly).
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.signal import butter, sosfiltfilt

from analysis import quaternion as quat
from analysis.motion import GRAVITY_MPS2, spans, still_mask, walking_mask
from recordings import InputError
from recordings.io import check_input_file

FloatArray = NDArray[np.float64]
FORMAT = "pelviscope.calibration/1"


class CalibrationError(ValueError):
    """Calibration is impossible from the data given; the message says why and what to do."""


@dataclass(frozen=True, kw_only=True)
class CalibrationParams:
    """Parameters of the automatic and guided calibration.

    Attributes
    ----------
    min_standing_s : float
        Shortest quiet-standing span used as neutral (DESIGN: >= 5 s).
    min_walking_s : float
        Walking needed for a confident anterior direction (DESIGN protocol: >= 10 s).
    max_walking_used_s : float
        Walking after the neutral span used for the direction (more only costs time).
    max_upright_deg : float
        A still span counts as standing when its vertical is within this angle of the
        mean vertical while walking (sitting tilts the pelvis back 10-20 deg).
    min_direction_confidence : float
        Below this agreement of the per-window directions (0-1) the direction is
        ambiguous and calibration fails.
    window_s : float
        Window for the per-window direction estimates.
    search_first_s : float
        The protocol comes first: look for standing + walking in this leading part of
        the session before searching all of it (saves time on day-long recordings).
    """

    min_standing_s: float = 5.0
    min_walking_s: float = 10.0
    max_walking_used_s: float = 120.0
    max_upright_deg: float = 9.0
    min_direction_confidence: float = 0.5
    window_s: float = 2.5
    search_first_s: float = 1800.0


@dataclass(frozen=True)
class CalibrationQuality:
    """How much to trust a calibration.

    Attributes
    ----------
    standing_s, walking_s : float
        Durations of the standing and walking data used.
    stillness_acc_std_mps2, stillness_gyr_dps : float or None
        Movement during the standing span (accelerometer SD, mean angular speed).
    direction_confidence : float or None
        Agreement of the per-window anterior directions, 0-1 (1 = all identical).
    residual_deg : float or None
        RMS angle between the per-window directions and the result.
    notes : list of str
        Plain-language remarks (fallbacks used, weak data).
    """

    standing_s: float = 0.0
    walking_s: float = 0.0
    stillness_acc_std_mps2: float | None = None
    stillness_gyr_dps: float | None = None
    direction_confidence: float | None = None
    residual_deg: float | None = None
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Calibration:
    """A sensor-to-pelvis rotation and where it came from.

    Attributes
    ----------
    sensor_to_pelvis_quat_wxyz : ndarray (4,)
        Rotation from the sensor frame to the pelvis frame, ``w, x, y, z``.
    method : str
        ``"standing+walking"``, ``"walking_only"``, ``"standing+bend"``,
        ``"preset:<name>"`` or ``"saved"``.
    quality : CalibrationQuality
        Quality figures.
    standing_span_s, walking_span_s : tuple of float or None
        Data used (session time).
    standing_tilt_deg : float
        Absolute anterior tilt of the neutral posture if a clinician measured it; added
        to every anterior tilt (DESIGN ``--standing-tilt-deg``).
    level_reference : str
        What defines lateral tilt 0 (DESIGN "Level reference"): ``"standing"``,
        ``"walking"``, ``"sitting"`` or ``"measured"``.
    frontal_offset_deg : float
        Lateral tilt of the neutral standing posture removed by the level reference
        (already folded into ``sensor_to_pelvis_quat_wxyz``: a rotation about the
        pelvis x axis); 0 for ``"standing"``.
    """

    sensor_to_pelvis_quat_wxyz: FloatArray
    method: str
    quality: CalibrationQuality = field(default_factory=CalibrationQuality)
    standing_span_s: tuple[float, float] | None = None
    walking_span_s: tuple[float, float] | None = None
    standing_tilt_deg: float = 0.0
    level_reference: str = "standing"
    frontal_offset_deg: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (saved calibrations, the ``calibration`` of analyze --json)."""
        return {
            "format": FORMAT,
            "method": self.method,
            "sensor_to_pelvis_quat_wxyz": [float(v) for v in self.sensor_to_pelvis_quat_wxyz],
            "quality": asdict(self.quality),
            "standing_span_s": list(self.standing_span_s) if self.standing_span_s else None,
            "walking_span_s": list(self.walking_span_s) if self.walking_span_s else None,
            "standing_tilt_deg": self.standing_tilt_deg,
            "level_reference": self.level_reference,
            "frontal_offset_deg": self.frontal_offset_deg,
        }

    @classmethod
    def from_dict(cls, doc: Any) -> Calibration:
        """Re-create a saved calibration (e.g. a later session of the same wear).

        Raises
        ------
        CalibrationError
            ``doc`` is not a pelviscope calibration object, its quaternion is not a
            finite unit quaternion ``w, x, y, z``, or its standing tilt is not a finite
            angle within +-45 deg. Malformed quality figures (informative only) are left
            out.
        """
        if not isinstance(doc, dict):
            raise CalibrationError(
                f"not a pelviscope calibration: a JSON object is expected, not {_kind(doc)}"
            )
        if doc.get("format") != FORMAT:
            raise CalibrationError(
                f"not a pelviscope calibration (format {doc.get('format')!r}, expected {FORMAT!r})"
            )
        if "sensor_to_pelvis_quat_wxyz" not in doc:
            raise CalibrationError("sensor_to_pelvis_quat_wxyz is missing")
        q = _finite_vector(doc["sensor_to_pelvis_quat_wxyz"], 4)
        if q is None or abs(np.linalg.norm(q) - 1) > 1e-3:
            raise CalibrationError(
                "sensor_to_pelvis_quat_wxyz must be a unit quaternion: four finite numbers "
                "w, x, y, z of length 1"
            )
        tilt = doc.get("standing_tilt_deg", 0.0)
        if tilt is None:
            tilt = 0.0
        if not _is_number(tilt) or not abs(tilt) <= MAX_STANDING_TILT_DEG:
            raise CalibrationError(
                f"standing_tilt_deg must be a finite angle within +-{MAX_STANDING_TILT_DEG:g} "
                f"deg, got {tilt!r}"
            )
        level = doc.get("level_reference", "standing")
        offset = doc.get("frontal_offset_deg", 0.0)
        if level not in LEVEL_REFERENCES or not _is_number(offset) or abs(offset) > 45:
            level, offset = "standing", 0.0  # informative only: the quaternion holds it
        return cls(
            q / np.linalg.norm(q),
            "saved",
            _quality_from(doc.get("quality")),
            standing_tilt_deg=float(tilt),
            level_reference=str(level),
            frontal_offset_deg=float(offset),
        )

    def to_pelvis(self, vectors_s: FloatArray) -> FloatArray:
        """Express sensor-frame vectors (N, 3) (acc, gyr, up) in the pelvis frame P."""
        v = np.asarray(vectors_s, dtype=float)
        rot = quat.to_matrix(self.sensor_to_pelvis_quat_wxyz)
        # (3, 3) @ (3, N) runs ~7x faster in OpenBLAS than the equal (N, 3) @ (3, 3).
        return np.ascontiguousarray((rot @ v.T).T)

    def with_standing_tilt(self, standing_tilt_deg: float) -> Calibration:
        """The same calibration with an absolute standing-tilt offset.

        Raises
        ------
        CalibrationError
            The tilt is not a finite angle within +-45 deg.
        """
        if not _is_number(standing_tilt_deg) or not abs(standing_tilt_deg) <= (
            MAX_STANDING_TILT_DEG
        ):
            raise CalibrationError(
                f"standing tilt must be a finite angle within +-{MAX_STANDING_TILT_DEG:g} deg, "
                f"got {standing_tilt_deg!r}"
            )
        return replace(self, standing_tilt_deg=float(standing_tilt_deg))

    def with_frontal_offset(self, frontal_offset_deg: float, level_reference: str) -> Calibration:
        """The same calibration with lateral tilt 0 moved by ``frontal_offset_deg``.

        A posture that read ``frontal_offset_deg`` of lateral tilt reads 0 afterwards
        (the pelvis frame turned about its x axis). Replaces any earlier offset.

        Raises
        ------
        CalibrationError
            Not a finite angle within +-45 deg, or an unknown level reference.
        """
        if not _is_number(frontal_offset_deg) or not abs(frontal_offset_deg) <= 45.0:
            raise CalibrationError(
                f"frontal offset must be a finite angle within +-45 deg, got {frontal_offset_deg!r}"
            )
        if level_reference not in LEVEL_REFERENCES:
            raise CalibrationError(
                f"unknown level reference {level_reference!r}: use one of "
                + ", ".join(LEVEL_REFERENCES)
            )
        turn = float(frontal_offset_deg) - self.frontal_offset_deg
        half = np.radians(turn) / 2.0
        rx = np.array([np.cos(half), np.sin(half), 0.0, 0.0])
        q = quat.normalize(quat.multiply(rx, self.sensor_to_pelvis_quat_wxyz)).reshape(4)
        return replace(
            self,
            sensor_to_pelvis_quat_wxyz=q,
            level_reference=level_reference,
            frontal_offset_deg=float(frontal_offset_deg),
        )


def load_calibration(path: str | os.PathLike[str]) -> Calibration:
    """Read a calibration saved as JSON (``analyze --save-calibration``).

    Raises
    ------
    recordings.InputError
        The file cannot be read, is not JSON, or is not a valid calibration; the message
        names the file and the reason in one line.
    """
    name = str(path)
    check_input_file(path, expected="a calibration file (.json)")  # a pipe would block
    try:
        with open(path, "rb") as f:
            raw = f.read(_MAX_CALIBRATION_BYTES + 1)
    except OSError as exc:
        raise InputError(name, "", exc.strerror or "cannot be read") from None
    if len(raw) > _MAX_CALIBRATION_BYTES:
        raise InputError(name, "", "too large for a calibration file (more than 1 MB)")
    try:
        doc = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
    except UnicodeDecodeError:
        raise InputError(name, "", "not a text (UTF-8) JSON file") from None
    except json.JSONDecodeError as exc:
        raise InputError(name, f"line {exc.lineno}", f"not valid JSON ({exc.msg})") from None
    except ValueError as exc:  # NaN / Infinity, which JSON does not have
        raise InputError(name, "", str(exc)) from None
    except RecursionError:
        raise InputError(name, "", "not a calibration (nested too deeply)") from None
    try:
        return Calibration.from_dict(doc)
    except CalibrationError as exc:
        raise InputError(name, "", str(exc)) from None


#: A saved calibration is a few hundred bytes; anything this large is not one.
_MAX_CALIBRATION_BYTES = 1_000_000
#: Standing tilt beyond this (deg) is not a neutral standing posture (typically 0-20 deg).
MAX_STANDING_TILT_DEG = 45.0
#: What may define lateral tilt 0 (DESIGN section 2 "Level reference").
LEVEL_REFERENCES = ("standing", "walking", "sitting", "measured")


def _reject_constant(name: str) -> Any:
    raise ValueError(f"holds {name}, which is not a number in JSON")


def _kind(value: Any) -> str:
    kinds = {list: "a list", str: "a string", bool: "true/false", type(None): "null"}
    return kinds.get(type(value), "a number" if _is_number(value, finite=False) else "that")


def _is_number(value: Any, *, finite: bool = True) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        return False
    return not finite or math.isfinite(float(value))


def _finite_vector(value: Any, size: int) -> FloatArray | None:
    if not isinstance(value, list | tuple | np.ndarray) or len(value) != size:
        return None
    if not all(_is_number(v) for v in value):
        return None
    return np.asarray(value, dtype=float)


def _quality_from(doc: Any) -> CalibrationQuality:
    """Quality figures of a saved calibration, leaving out malformed ones."""
    if not isinstance(doc, dict):
        return CalibrationQuality()
    kept: dict[str, Any] = {}
    for key in CalibrationQuality.__dataclass_fields__:
        value = doc.get(key)
        if key == "notes":
            if isinstance(value, list) and all(isinstance(v, str) for v in value):
                kept[key] = list(value)
        elif value is not None and _is_number(value):
            kept[key] = float(value)
    return CalibrationQuality(**kept)


# ----------------------------------------------------------------------------- maths


def rotation_from_up_and_anterior(up_s: FloatArray, anterior_s: FloatArray) -> FloatArray:
    """Sensor -> pelvis quaternion from the up and anterior directions in sensor axes.

    ``anterior_s`` need not be horizontal: its component along ``up_s`` is removed.
    """
    z = np.asarray(up_s, float) / np.linalg.norm(up_s)
    a = np.asarray(anterior_s, float)
    x = a - (a @ z) * z
    norm = np.linalg.norm(x)
    if norm < 1e-6:
        raise CalibrationError("the anterior direction is parallel to the vertical")
    x /= norm
    y = np.cross(z, x)
    return quat.from_matrix(np.stack([x, y, z]))  # rows: pelvis axes in sensor coordinates


AXES = {
    "+x": (1, 0, 0),
    "-x": (-1, 0, 0),
    "+y": (0, 1, 0),
    "-y": (0, -1, 0),
    "+z": (0, 0, 1),
    "-z": (0, 0, -1),
}

#: Named wearing positions: which sensor axis points up and which anterior when standing.
MOUNT_PRESETS: dict[str, tuple[str, str]] = {
    # McRoberts MM+ and Mobilise-D convention: x up, y right, z forward.
    "sacral-mm+": ("+x", "+z"),
    # A board clipped upright on the belt at the back, face outwards: y up, z backwards.
    "belt-upright": ("+y", "-z"),
    # The same board clipped sideways (USB port to the right): x up, z backwards.
    "belt-sideways": ("+x", "-z"),
    # Lying flat in a pouch at the sacrum, face outwards and top upwards: z backwards.
    "pouch-flat": ("+y", "-z"),
}


def mount_preset(spec: str) -> Calibration:
    """Calibration for a known wearing position.

    Parameters
    ----------
    spec : str
        A name of :data:`MOUNT_PRESETS` or ``"up=+x,anterior=+z"`` naming the sensor
        axes that point up and anterior when the wearer stands.
    """
    if spec in MOUNT_PRESETS:
        up, ant = MOUNT_PRESETS[spec]
    else:
        try:
            parts = dict(p.split("=") for p in spec.replace(" ", "").split(","))
            up, ant = parts["up"], parts["anterior"]
        except (ValueError, KeyError):
            names = ", ".join(MOUNT_PRESETS)
            raise CalibrationError(
                f"unknown mount {spec!r}: use one of {names} or 'up=+x,anterior=+z'"
            ) from None
    if up not in AXES or ant not in AXES or up[1] == ant[1]:
        raise CalibrationError(f"mount {spec!r}: up and anterior must be two different axes")
    q = rotation_from_up_and_anterior(np.array(AXES[up], float), np.array(AXES[ant], float))
    note = "preset: assumes the sensor sits exactly as named; tilt offsets are not removed"
    return Calibration(q, f"preset:{spec}", CalibrationQuality(notes=[note]))


def _bandpass(x: FloatArray, rate_hz: float, lo_hz: float, hi_hz: float) -> FloatArray:
    sos = butter(2, [lo_hz, min(hi_hz, 0.45 * rate_hz)], "bandpass", fs=rate_hz, output="sos")
    return np.asarray(sosfiltfilt(sos, x, axis=0))


def anterior_from_gait(
    acc_mps2: FloatArray,
    quat_wxyz: FloatArray,
    rate_hz: float,
    mask: NDArray[np.bool_],
    *,
    window_s: float = 2.5,
) -> tuple[FloatArray, float, float]:
    """Anterior direction in sensor axes from walking (see the module docstring).

    Returns
    -------
    anterior_s : ndarray (3,)
        Unit vector (not yet orthogonalised to the vertical).
    confidence : float
        Resultant length of the per-window estimates, 0-1.
    residual_deg : float
        RMS angle of the per-window directions around the result.
    """
    idx = np.nonzero(mask)[0]
    if idx.size == 0:
        raise CalibrationError("too little walking to find the anterior direction")
    # Only the used span (plus filter margins) is processed: long sessions stay cheap.
    pad = int(5 * rate_hz)
    lo, hi = max(0, int(idx[0]) - pad), min(mask.size, int(idx[-1]) + pad + 1)
    acc_mps2, quat_wxyz, mask = acc_mps2[lo:hi], quat_wxyz[lo:hi], mask[lo:hi]
    acc_earth = quat.rotate(quat_wxyz, acc_mps2)
    acc_earth[:, 2] -= GRAVITY_MPS2
    acc_earth = _bandpass(acc_earth, rate_hz, 0.5, 4.0)
    vel_up = np.cumsum(acc_earth[:, 2]) / rate_hz
    vel_up = _bandpass(vel_up, rate_hz, 0.5, 4.0)
    horizontal = acc_earth.copy()
    horizontal[:, 2] = 0.0
    horizontal_s = quat.rotate(quat.conjugate(quat_wxyz), horizontal)
    products = horizontal_s * vel_up[:, None]
    idx = np.nonzero(mask)[0]
    w = max(1, int(window_s * rate_hz))
    windows = [idx[i : i + w] for i in range(0, idx.size - w // 2, w)]
    sums = np.array([-products[win].sum(axis=0) for win in windows if win.size > w // 2])
    if sums.size == 0:
        raise CalibrationError("too little walking to find the anterior direction")
    total = sums.sum(axis=0)
    norm = np.linalg.norm(total)
    confidence = float(norm / np.linalg.norm(sums, axis=1).sum())
    direction = total / norm
    units = sums / np.linalg.norm(sums, axis=1, keepdims=True)
    angles = np.degrees(np.arccos(np.clip(units @ direction, -1, 1)))
    weights = np.linalg.norm(sums, axis=1)
    residual = float(np.sqrt(np.average(angles**2, weights=weights)))
    return direction, confidence, residual


def anterior_from_bend(up_neutral_s: FloatArray, up_bent_s: FloatArray) -> FloatArray:
    """Anterior direction from a forward bend: the up vector moves posteriorly."""
    d = np.asarray(up_neutral_s, float) - np.asarray(up_bent_s, float)
    if np.degrees(np.arccos(np.clip(_unit(up_neutral_s) @ _unit(up_bent_s), -1, 1))) < 10:
        raise CalibrationError("the forward bend was too small (< 10 deg): bend further")
    return d / np.linalg.norm(d)


def _unit(v: FloatArray) -> FloatArray:
    v = np.asarray(v, float)
    return v / np.linalg.norm(v)


def _angle_deg(a: FloatArray, b: FloatArray) -> float:
    return float(np.degrees(np.arccos(np.clip(_unit(a) @ _unit(b), -1.0, 1.0))))


def standing_quality(
    acc_mps2: FloatArray, gyr_rps: FloatArray | None
) -> tuple[FloatArray, float, float | None]:
    """Up direction and stillness of a standing span: (up_s, acc SD m/s^2, gyro deg/s)."""
    up = _unit(acc_mps2.mean(axis=0))
    acc_std = float(acc_mps2.std(axis=0).max())
    gyr_dps = None if gyr_rps is None else float(np.degrees(np.linalg.norm(gyr_rps, axis=1).mean()))
    return up, acc_std, gyr_dps


# --------------------------------------------------------------------- automatic


def calibrate_auto(
    acc_mps2: FloatArray,
    gyr_rps: FloatArray | None,
    quat_wxyz: FloatArray,
    rate_hz: float,
    *,
    time_s: FloatArray | None = None,
    params: CalibrationParams | None = None,
) -> Calibration:
    """Calibrate from a session: first quiet standing >= 5 s, then the walking after it.

    Parameters
    ----------
    acc_mps2, gyr_rps : ndarray (N, 3)
        Sensor signals (``gyr_rps`` may be None).
    quat_wxyz : ndarray (N, 4)
        Sensor orientation (:func:`analysis.orientation.estimate_quat_wxyz`).
    rate_hz : float
        Sampling rate.
    time_s : ndarray (N,), optional
        Sample times (default ``arange(N) / rate_hz``).
    params : CalibrationParams, optional
        Thresholds.

    Raises
    ------
    CalibrationError
        No walking at all (the anterior direction is unknown), or the walking gives
        no consistent direction.
    """
    p = params or CalibrationParams()
    n = acc_mps2.shape[0]
    t = np.arange(n) / rate_hz if time_s is None else np.asarray(time_s, float)
    if n > int(p.search_first_s * rate_hz):
        cal = calibrate_from_head(acc_mps2, gyr_rps, quat_wxyz, rate_hz, time_s=t, params=p)
        if cal is not None:
            return cal
    return _calibrate(acc_mps2, gyr_rps, quat_wxyz, rate_hz, t, p)


def calibrate_from_head(
    acc_mps2: FloatArray,
    gyr_rps: FloatArray | None,
    quat_wxyz: FloatArray,
    rate_hz: float,
    *,
    time_s: FloatArray | None = None,
    params: CalibrationParams | None = None,
) -> Calibration | None:
    """What :func:`calibrate_auto` finds in the first ``params.search_first_s``, if final.

    Only those first samples are needed (the inputs may end after them): a session
    analysed in parts is calibrated as soon as its first part's orientation is known.

    Returns
    -------
    Calibration or None
        The ``"standing+walking"`` calibration of the head of the session; None when the
        inputs are shorter than the head or it holds no quiet standing followed by walking.
    """
    p = params or CalibrationParams()
    head = int(p.search_first_s * rate_hz)
    if acc_mps2.shape[0] < head:
        return None
    t = np.arange(head) / rate_hz if time_s is None else np.asarray(time_s[:head], float)
    gyr_head = None if gyr_rps is None else gyr_rps[:head]
    try:
        cal = _calibrate(acc_mps2[:head], gyr_head, quat_wxyz[:head], rate_hz, t, p)
    except CalibrationError:
        return None
    return cal if cal.method == "standing+walking" else None


def _calibrate(
    acc_mps2: FloatArray,
    gyr_rps: FloatArray | None,
    quat_wxyz: FloatArray,
    rate_hz: float,
    t: FloatArray,
    p: CalibrationParams,
) -> Calibration:
    n = acc_mps2.shape[0]
    walk = walking_mask(acc_mps2, rate_hz)
    walk_spans = spans(walk, rate_hz, min_s=3.0)
    if not walk_spans:
        raise CalibrationError(
            "no walking found: the anterior direction is unknown. Record >= 10 s of "
            "straight walking (ideally right after >= 5 s of quiet standing) or give a "
            "mount preset / saved calibration"
        )
    up_walk = _unit(quat.up_in_sensor(quat_wxyz[walk]).mean(axis=0))
    still = still_mask(acc_mps2, gyr_rps, rate_hz)
    standing = None
    for a, b in spans(still, rate_hz, min_s=p.min_standing_s):
        up, acc_std, gyr_dps = standing_quality(
            acc_mps2[a:b], None if gyr_rps is None else gyr_rps[a:b]
        )
        followed_by_walking = any(wa >= b - 2 * rate_hz for wa, _ in walk_spans)
        if followed_by_walking and _angle_deg(up, up_walk) <= p.max_upright_deg:
            standing = (a, b, up, acc_std, gyr_dps)
            break
    notes: list[str] = []
    if standing is None:
        up_neutral = up_walk
        method = "walking_only"
        notes.append(
            "no quiet standing before walking: neutral is the mean walking posture "
            "(anterior tilt reads about 1-3 deg low)"
        )
        use = walk.copy()
    else:
        a, b, up_neutral, _, _ = standing
        method = "standing+walking"
        use = walk & (np.arange(n) >= b)
    use &= np.cumsum(use) <= p.max_walking_used_s * rate_hz
    walking_s = float(use.sum() / rate_hz)
    if walking_s < p.min_walking_s:
        notes.append(f"only {walking_s:.1f} s of walking used for the direction (10 s advised)")
    anterior, confidence, residual = anterior_from_gait(
        acc_mps2, quat_wxyz, rate_hz, use, window_s=p.window_s
    )
    if confidence < p.min_direction_confidence:
        raise CalibrationError(
            f"ambiguous walking direction (confidence {confidence:.2f} < "
            f"{p.min_direction_confidence}): walk straight at a comfortable pace for >= 10 s"
        )
    idx_used = np.nonzero(use)[0]
    quality = CalibrationQuality(
        standing_s=0.0 if standing is None else float((standing[1] - standing[0]) / rate_hz),
        walking_s=walking_s,
        stillness_acc_std_mps2=None if standing is None else standing[3],
        stillness_gyr_dps=None if standing is None else standing[4],
        direction_confidence=confidence,
        residual_deg=residual,
        notes=notes,
    )
    return Calibration(
        rotation_from_up_and_anterior(up_neutral, anterior),
        method,
        quality,
        None if standing is None else (float(t[standing[0]]), float(t[standing[1] - 1])),
        (float(t[idx_used[0]]), float(t[idx_used[-1]])),
    )
