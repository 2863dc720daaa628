"""Mount changes: the sensor slipped on the belt, or was taken off and put back.

Every walking bout tells how the sensor sits on the pelvis: its mean up vector in sensor
axes (gait is near-neutral on average) and its anterior direction (the inverted-pendulum
estimate of :func:`analysis.calibration.anterior_from_gait`). Together they give a
*walking frame* ``F`` (sensor -> walking frame) per bout. While the mount is unchanged
``F`` stays put within about a degree; a slip shows as a jump between two bouts. The
mounting after the change is carried over from the one before:
``M_new = M_old F_old^-1 F_new`` (the walking frame is fixed to the body, so the neutral
of the original calibration - and a level reference folded into it - is kept; a
habitually hiked standing after the slip cannot leak in).

The moment of the change is placed in one of the bursts of movement between the two
bouts (the sit-down, the stand-up, ...): the burst after which the quiet postures read
as plausible standing or sitting with the new mounting and before which with the old.
When the postures cannot tell, the first burst after the earlier bout wins (a belt clip
is usually caught when sitting down).

After the last walking bout no walking frame exists; a quiet posture that is impossible
with the current mounting (e.g. a 25 deg sideways lean while sitting) then starts an
*uncertain* segment: its angles cannot be known.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
from numpy.typing import NDArray
from scipy.ndimage import uniform_filter1d

from analysis import quaternion as quat
from analysis.calibration import (
    Calibration,
    CalibrationError,
    anterior_from_gait,
    calibrate_auto,
    rotation_from_up_and_anterior,
)
from analysis.labels import Activity
from analysis.motion import spans, still_mask, walking_mask
from analysis.tilt import tilt_from_up_deg

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]


@dataclass(frozen=True, kw_only=True)
class MountParams:
    """Thresholds of mount-change detection.

    Attributes
    ----------
    min_bout_s : float
        Shortest walking bout used as evidence.
    max_bout_used_s : float
        Walking used per bout (more only costs time).
    min_direction_confidence : float
        A bout's anterior direction is used when its confidence reaches this.
    up_change_deg : float
        A change of the mean walking up vector beyond this is a mount change.
    rotation_change_deg : float
        A change of the whole walking frame (up and anterior) beyond this is a mount
        change (the anterior direction of one bout scatters by a few degrees).
    min_still_s : float
        Shortest quiet span used to place the change and to judge postures.
    max_change_deg : float
        A "walking bout" whose up vector is further than this from the walking before
        is rhythmic movement in another posture (lying), not evidence; a sensor put back
        upside down is not detected.
    confirm_within_s : float
        A change of the walking posture counts when a quiet upright span between the
        two bouts or within this time after the new bout sits with the new posture.
    upright_within_deg : float
        A quiet span this close to the walking up vector is upright (standing).
    impossible_deg : float
        After the last walk: a quiet posture this far outside plausible standing and
        sitting starts an uncertain segment.
    """

    min_bout_s: float = 6.0
    max_bout_used_s: float = 60.0
    min_direction_confidence: float = 0.5
    up_change_deg: float = 5.0
    rotation_change_deg: float = 10.0
    min_still_s: float = 2.0
    impossible_deg: float = 12.0
    max_change_deg: float = 60.0
    confirm_within_s: float = 600.0
    upright_within_deg: float = 12.0


@dataclass(frozen=True)
class BoutFrame:
    """What one walking bout says about the mounting.

    Attributes
    ----------
    start, stop : int
        Sample range ``[start, stop)`` of the bout (the evidence comes from its first
        ``max_bout_used_s``).
    up_s : ndarray (3,)
        Mean up vector in sensor axes.
    anterior_s : ndarray (3,) or None
        Anterior direction in sensor axes (None when not confident).
    walking_s : float
        Duration used.
    """

    start: int
    stop: int
    up_s: FloatArray
    anterior_s: FloatArray | None
    walking_s: float


@dataclass(frozen=True)
class MountChange:
    """A detected change of the sensor-to-pelvis rotation."""

    time_s: float
    angle_deg: float | None  # None: the new mounting is not known
    index: int

    def to_dict(self) -> dict[str, float | None]:
        """The ``mount_changes`` item of DESIGN section 4."""
        angle = None if self.angle_deg is None else round(float(self.angle_deg), 2)
        return {"time_s": float(self.time_s), "angle_deg": angle}


@dataclass(frozen=True)
class MountSegment:
    """A stretch of constant mounting ``[start, stop)`` and its calibration.

    ``uncertain`` marks a stretch whose mounting could not be measured (no usable
    walking after the change before the recording ends): its angles are not known.
    """

    start: int
    stop: int
    calibration: Calibration
    uncertain: bool = False
    note: str = ""


@dataclass
class MountResult:
    """Mount changes of a session and the calibration of every stretch between them."""

    changes: list[MountChange] = field(default_factory=list)
    segments: list[MountSegment] = field(default_factory=list)

    def tilt_deg(self, quat_wxyz: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Anterior and lateral tilt with each stretch's calibration; NaN where uncertain."""
        up_s = quat.up_in_sensor(quat_wxyz)
        anterior = np.full(up_s.shape[0], np.nan)
        lateral = np.full(up_s.shape[0], np.nan)
        for seg in self.segments:
            if seg.uncertain:
                continue
            cal = seg.calibration
            a, b = tilt_from_up_deg(
                cal.to_pelvis(up_s[seg.start : seg.stop]),
                standing_tilt_deg=cal.standing_tilt_deg,
            )
            anterior[seg.start : seg.stop], lateral[seg.start : seg.stop] = a, b
        return anterior, lateral

    def uncertain_mask(self, n: int) -> BoolArray:
        """Samples whose angles cannot be known (mount changed, not re-measured)."""
        out = np.zeros(n, dtype=bool)
        for seg in self.segments:
            if seg.uncertain:
                out[seg.start : seg.stop] = True
        return out

    def to_json(self) -> list[dict[str, float | None]]:
        """``mount_changes`` of DESIGN section 4."""
        return [c.to_dict() for c in self.changes]


# ------------------------------------------------------------------ evidence


def _unit(v: FloatArray) -> FloatArray:
    return np.asarray(v, float) / float(np.linalg.norm(v))


def angle_deg(a: FloatArray, b: FloatArray) -> float:
    """Angle between two vectors, degrees."""
    return float(np.degrees(np.arccos(np.clip(_unit(a) @ _unit(b), -1.0, 1.0))))


def rotation_angle_deg(m0: FloatArray, m1: FloatArray) -> float:
    """Angle of the rotation between two rotation matrices, degrees."""
    c = (np.trace(m0.T @ m1) - 1.0) / 2.0
    return float(np.degrees(np.arccos(np.clip(c, -1.0, 1.0))))


def bout_frame(
    acc_mps2: FloatArray,
    quat_wxyz: FloatArray,
    rate_hz: float,
    start: int,
    stop: int,
    params: MountParams | None = None,
) -> BoutFrame:
    """The mounting evidence of the walking in ``[start, stop)``."""
    p = params or MountParams()
    bout_stop = stop
    stop = min(stop, start + int(p.max_bout_used_s * rate_hz))
    up = _unit(quat.up_in_sensor(quat_wxyz[start:stop]).mean(axis=0))
    pad = int(5 * rate_hz)
    lo, hi = max(0, start - pad), min(acc_mps2.shape[0], stop + pad)
    mask = np.zeros(hi - lo, dtype=bool)
    mask[start - lo : stop - lo] = True
    anterior: FloatArray | None = None
    try:
        direction, confidence, _ = anterior_from_gait(
            acc_mps2[lo:hi], quat_wxyz[lo:hi], rate_hz, mask
        )
        if confidence >= p.min_direction_confidence:
            anterior = direction
    except CalibrationError:
        pass
    return BoutFrame(start, bout_stop, up, anterior, (stop - start) / rate_hz)


def walking_bouts(
    activity: NDArray[np.int8], rate_hz: float, params: MountParams | None = None
) -> list[tuple[int, int]]:
    """``[start, stop)`` of the walking bouts long enough to be evidence."""
    p = params or MountParams()
    return spans(np.asarray(activity) == Activity.WALKING, rate_hz, min_s=p.min_bout_s)


@dataclass
class WalkingFrame:
    """Weighted mean walking frame (up, anterior in sensor axes) of one mounting."""

    up_sum: FloatArray
    anterior_sum: FloatArray

    @classmethod
    def of(cls, bout: BoutFrame) -> WalkingFrame:
        """The frame of one bout."""
        ref = cls(np.zeros(3), np.zeros(3))
        ref.add(bout)
        return ref

    def add(self, bout: BoutFrame) -> None:
        """Add a bout of the same mounting (weighted by its duration)."""
        self.up_sum = self.up_sum + bout.walking_s * bout.up_s
        if bout.anterior_s is not None:
            self.anterior_sum = self.anterior_sum + bout.walking_s * bout.anterior_s

    @property
    def up(self) -> FloatArray:
        """Mean walking up vector, sensor axes."""
        return _unit(self.up_sum)

    @property
    def anterior(self) -> FloatArray | None:
        """Anterior direction, sensor axes (None when no bout gave one)."""
        if np.linalg.norm(self.anterior_sum) < 1e-9:
            return None
        return _unit(self.anterior_sum)

    def frame(self) -> FloatArray | None:
        """Sensor -> walking frame matrix, None without an anterior direction."""
        ant = self.anterior
        if ant is None:
            return None
        try:
            return quat.to_matrix(rotation_from_up_and_anterior(self.up, ant))
        except CalibrationError:
            return None

    def distance_deg(self, bout: BoutFrame) -> tuple[float, float | None]:
        """(up change, whole-frame change or None) of ``bout`` against this reference."""
        d_up = angle_deg(self.up, bout.up_s)
        f0 = self.frame()
        if f0 is None or bout.anterior_s is None:
            return d_up, None
        try:
            f1 = quat.to_matrix(rotation_from_up_and_anterior(bout.up_s, bout.anterior_s))
        except CalibrationError:
            return d_up, None
        return d_up, rotation_angle_deg(f0, f1)


def _is_change(d: tuple[float, float | None], p: MountParams) -> bool:
    d_up, d_rot = d
    return d_up > p.up_change_deg or (d_rot is not None and d_rot > p.rotation_change_deg)


def _confirmed(
    quiet: list[tuple[int, int, FloatArray]],
    window: tuple[int, int],
    old: WalkingFrame,
    bout: BoutFrame,
    p: MountParams,
) -> bool:
    """A quiet upright span near the change that sits with the new walking posture.

    Stairs and slopes change the walking posture but not the standing one; a slip
    changes both.
    """
    a, b = window
    for s0, s1, up in quiet:
        if s0 < a or s1 > b:
            continue
        to_new, to_old = angle_deg(up, bout.up_s), angle_deg(up, old.up)
        if to_new <= p.upright_within_deg and to_new + p.up_change_deg / 2 < to_old:
            return True
    return False


def _minimal_rotation(src: FloatArray, dst: FloatArray) -> FloatArray:
    """Rotation matrix turning unit vector ``src`` onto ``dst`` about their normal."""
    a, b = _unit(src), _unit(dst)
    v = np.cross(a, b)
    c = float(a @ b)
    if np.linalg.norm(v) < 1e-12:
        return np.eye(3)
    k = np.array([[0, -v[2], v[1]], [v[2], 0, -v[0]], [-v[1], v[0], 0]])
    return np.eye(3) + k + k @ k / (1.0 + c)


def carried_calibration(
    calibration: Calibration, old: WalkingFrame, new: WalkingFrame, method: str
) -> tuple[Calibration, str]:
    """``M_new = M_old F_old^-1 F_new``; up only (heading kept) without both anteriors."""
    m0 = quat.to_matrix(calibration.sensor_to_pelvis_quat_wxyz)
    f0, f1 = old.frame(), new.frame()
    note = ""
    if f0 is not None and f1 is not None:
        m1 = m0 @ f0.T @ f1
    else:
        m1 = m0 @ _minimal_rotation(new.up, old.up)
        note = "the new mounting's heading is not known (no clear walking direction)"
    return (
        replace(calibration, sensor_to_pelvis_quat_wxyz=quat.from_matrix(m1), method=method),
        note,
    )


# ------------------------------------------------------------------ posture


def implausibility_deg(anterior_deg: float, lateral_deg: float) -> float:
    """How far a quiet posture lies outside plausible standing or sitting, degrees.

    Standing: anterior -10..15, lateral within +-10; sitting: anterior -35..5, the same
    lateral. Postures far from upright (lying) cannot be judged: 0.
    """
    if abs(anterior_deg) > 55 or abs(lateral_deg) > 55:
        return 0.0
    lat = max(0.0, abs(lateral_deg) - 10.0)
    standing = max(0.0, -10.0 - anterior_deg, anterior_deg - 15.0)
    sitting = max(0.0, -35.0 - anterior_deg, anterior_deg - 5.0)
    return lat + min(standing, sitting)


def _posture_cost(up_s: FloatArray, cal: Calibration) -> float:
    ant, lat = tilt_from_up_deg(cal.to_pelvis(up_s[None, :]))
    return implausibility_deg(float(ant[0]), float(lat[0]))


def _bursts(still: list[tuple[int, int]], a: int, b: int) -> list[tuple[int, int]]:
    """Movement between the quiet spans inside ``[a, b)``."""
    out, cursor = [], a
    for s0, s1 in still:
        if s0 > cursor:
            out.append((cursor, s0))
        cursor = max(cursor, s1)
    if b > cursor:
        out.append((cursor, b))
    return out


def _place_change(
    still: list[tuple[int, int, FloatArray]],
    bursts: list[tuple[int, int]],
    speed: FloatArray,
    old: Calibration,
    new: Calibration,
) -> int:
    """The sample of the change: the burst that best explains the quiet postures."""
    best, best_cost = bursts[0], np.inf
    for burst in bursts:
        cost = 0.0
        for s0, s1, up in still:
            weight = min((s1 - s0), 3000) ** 0.5
            cost += weight * _posture_cost(up, old if s1 <= burst[0] else new)
        if cost < best_cost - 1e-6:
            best, best_cost = burst, cost
    a, b = best
    return a + int(np.argmax(speed[a:b])) if b > a else a


# ------------------------------------------------------------------ offline


def detect_mount_changes(
    quat_wxyz: FloatArray,
    acc_mps2: FloatArray,
    gyr_rps: FloatArray | None,
    time_s: FloatArray,
    rate_hz: float,
    activity: NDArray[np.int8] | None,
    calibration: Calibration,
    params: MountParams | None = None,
) -> MountResult:
    """Find the changes of the mounting of a session and calibrate every stretch.

    Parameters
    ----------
    quat_wxyz : ndarray (N, 4)
        Sensor orientation (sensor -> earth).
    acc_mps2, gyr_rps : ndarray (N, 3)
        Sensor signals (``gyr_rps`` may be None).
    time_s : ndarray (N,)
        Sample times.
    rate_hz : float
        Sampling rate.
    activity : ndarray (N,) of int8 or None
        :class:`~analysis.labels.Activity` codes; None: walking from the raw signal
        (:func:`analysis.motion.walking_mask`), independent of any calibration - the
        way to call it before the activity is known.
    calibration : Calibration
        The session's calibration (valid at its start).
    params : MountParams, optional
        Thresholds.

    Returns
    -------
    MountResult
        No change: one segment with ``calibration`` itself.
    """
    p = params or MountParams()
    n = acc_mps2.shape[0]
    walking = (
        walking_mask(acc_mps2, rate_hz)
        if activity is None
        else np.asarray(activity) == Activity.WALKING
    )
    frames = [
        bout_frame(acc_mps2, quat_wxyz, rate_hz, a, b, p)
        for a, b in spans(walking, rate_hz, min_s=p.min_bout_s)
    ]
    still_all = spans(still_mask(acc_mps2, gyr_rps, rate_hz), rate_hz, min_s=p.min_still_s)
    quiet = [(a, b, _unit(acc_mps2[a:b].mean(axis=0))) for a, b in still_all]
    if gyr_rps is not None:
        speed = uniform_filter1d(np.linalg.norm(gyr_rps, axis=1), max(1, int(0.5 * rate_hz)))
    else:
        speed = np.zeros(n)

    groups: list[list[BoutFrame]] = [[]]
    refs: list[WalkingFrame] = []
    cuts: list[tuple[int, int, float]] = []  # (gap start, gap stop, angle)
    for k, bout in enumerate(frames):
        if not refs:
            refs.append(WalkingFrame.of(bout))
            groups[-1].append(bout)
            continue
        d = refs[-1].distance_deg(bout)
        if d[0] > p.max_change_deg:
            continue  # rhythmic movement lying down, not upright walking
        if d[0] > p.up_change_deg:
            nxt = frames[k + 1] if k + 1 < len(frames) else None
            if nxt is not None and refs[-1].distance_deg(nxt)[0] <= p.up_change_deg:
                continue  # one odd bout, not a new mounting
            prev = groups[-1][-1]
            window = (prev.stop, min(n, bout.stop + int(p.confirm_within_s * rate_hz)))
            if not _confirmed(quiet, window, refs[-1], bout, p):
                continue  # stairs or a slope change the walking posture, not the mount
            cuts.append((prev.stop, bout.start, d[1] if d[1] is not None else d[0]))
            refs.append(WalkingFrame.of(bout))
            groups.append([bout])
        elif not _is_change(d, p):
            refs[-1].add(bout)
            groups[-1].append(bout)

    result = MountResult()
    cal = calibration
    if cuts:
        cal = _first_stretch_calibration(
            quat_wxyz, acc_mps2, gyr_rps, time_s, rate_hz, calibration, cuts[0][0]
        )
    cals = [cal]
    notes = [""]
    for i in range(1, len(refs)):
        new_cal, note = carried_calibration(cals[-1], refs[i - 1], refs[i], "mount-change")
        cals.append(new_cal)
        notes.append(note)
    starts = [0]
    for i, (a, b, angle) in enumerate(cuts):
        still = [
            (s0, s1, _unit(acc_mps2[s0:s1].mean(axis=0)))
            for s0, s1 in still_all
            if s0 >= a and s1 <= b
        ]
        bursts = _bursts([(s0, s1) for s0, s1, _ in still], a, b) or [(a, b)]
        at = _place_change(still, bursts, speed, cals[i], cals[i + 1])
        starts.append(at)
        result.changes.append(MountChange(float(time_s[at]), float(angle), at))
    stops = [*starts[1:], n]
    for s0, s1, c, note in zip(starts, stops, cals, notes, strict=True):
        result.segments.append(MountSegment(s0, s1, c, False, note))
    _uncertain_tail(result, frames, still_all, acc_mps2, speed, time_s, p)
    return result


def _first_stretch_calibration(
    quat_wxyz: FloatArray,
    acc_mps2: FloatArray,
    gyr_rps: FloatArray | None,
    time_s: FloatArray,
    rate_hz: float,
    calibration: Calibration,
    stop: int,
) -> Calibration:
    """The automatic calibration redone on the stretch before the first change.

    The automatic one takes its standing, its walking and the mean walking vertical that
    picks the standing from the whole session (or its first 30 min), which mixes the
    mountings; a calibration that was given, or a redo that fails, is kept.
    """
    if calibration.method not in ("standing+walking", "walking_only"):
        return calibration
    try:
        redone = calibrate_auto(
            acc_mps2[:stop],
            None if gyr_rps is None else gyr_rps[:stop],
            quat_wxyz[:stop],
            rate_hz,
            time_s=time_s[:stop],
        )
    except CalibrationError:
        return calibration
    return replace(redone, standing_tilt_deg=calibration.standing_tilt_deg).with_frontal_offset(
        calibration.frontal_offset_deg, calibration.level_reference
    )


def _uncertain_tail(
    result: MountResult,
    frames: list[BoutFrame],
    still_all: list[tuple[int, int]],
    acc_mps2: FloatArray,
    speed: FloatArray,
    time_s: FloatArray,
    p: MountParams,
) -> None:
    """After the last walk: an impossible quiet posture starts an uncertain segment."""
    last = result.segments[-1]
    after = frames[-1].stop if frames else 0
    after = max(after, last.start)
    cursor = after
    for s0, s1 in still_all:
        if s0 < after:
            continue
        up = _unit(acc_mps2[s0:s1].mean(axis=0))
        if (s1 - s0) >= 10 * (time_s.size / max(time_s[-1] - time_s[0], 1e-9)) and _posture_cost(
            up, last.calibration
        ) > p.impossible_deg:
            at = cursor + int(np.argmax(speed[cursor:s0])) if s0 > cursor else s0
            result.segments[-1] = replace(last, stop=at)
            result.segments.append(
                MountSegment(
                    at,
                    last.stop,
                    last.calibration,
                    True,
                    "the sensor moved and the recording ends before the next walk: "
                    "angles after this are not known",
                )
            )
            result.changes.append(MountChange(float(time_s[at]), None, at))
            return
        cursor = s1
