"""Activity segmentation from one sacral IMU: sitting, standing, walking, lying, transitions.

What the pelvis sensor really tells, per analysis frame (``frame_s``, default 0.25 s):

* **Posture** from the pelvis pitch relative to the calibrated upright
  (:func:`analysis.tilt.pelvic_tilt_deg`): sitting rotates the pelvis backwards by
  typically 10-20 deg (anterior tilt below ``sit_tilt_deg``); lying puts the pelvis near
  horizontal (inclination above ``lying_incl_deg``; a pure forward bend needs
  ``lying_forward_incl_deg`` so that picking something up is not "lying").
* **Movement energy**: the standard deviation of the band-passed (0.5-4 Hz, causal)
  acceleration magnitude.
* **Gait periodicity**: the largest normalised autocorrelation of that signal at a step or
  stride period (``gait_period_s``) in a centred ``gait_window_s`` window.

The per-frame evidence becomes a cost for each state ``sitting, standing, walking,
lying, unknown``; an explicit-duration Viterbi decoder (each state is a chain of
sub-states as long as its minimum duration, plus a switching penalty) gives labels that
cannot flicker. Posture changes between a sitting (or lying) and an upright level are
then located on the fine tilt signal - for sit-to-stand and stand-to-sit the
characteristic forward lean gives the start (leaving the first level), the peak and the
end (reaching the second level) - and labelled ``transition``.

Offline (:func:`classify_activity`) and live (:class:`ActivityTracker`) use the same
feature functions and the same decoder step. Offline decodes the whole session (full
Viterbi back-tracking) and locates transitions with look-ahead on both sides; live uses
fixed-lag Viterbi (each frame is decided when the best path is ``lag`` frames older)
so that an emitted label is never more than ``max_lag_s`` (2 s) behind the newest
sample, and reports transitions as events only (their samples keep the posture label).

Without calibration (``anterior_tilt_deg=None``) the posture comes from the inclination
change relative to the first quiet upright posture (signless), found next to walking
(without walking upright is unknown, and still postures are ``unknown``, never guessed):
sitting is then any still posture inclined 9-60 deg from upright (a standing forward bend
also reads as sitting), lying is > 60 deg, and transitions are located by level crossings
without the forward-lean check. Walking and lying are as reliable as with a calibration;
sitting and standing less so. The accelerometer alone is enough: the features use acceleration and
tilt only (the tilt may come from an accelerometer-only orientation).
"""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass, field, replace

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import fft as sp_fft
from scipy.ndimage import uniform_filter1d
from scipy.signal import butter, sosfilt, sosfilt_zi, sosfiltfilt

from analysis import quaternion as quat

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]

#: Per-sample labels (DESIGN section 3).
LABELS = ("sitting", "standing", "walking", "lying", "transition", "unknown")
#: States of the decoder (transitions are located afterwards).
STATES = ("sitting", "standing", "walking", "lying", "unknown")
SIT, STAND, WALK, LIE, UNKNOWN = range(5)
#: Posture family of each state (sitting 0, upright 1, lying 2, unknown 3).
_FAMILY_OF_STATE = np.array([0, 1, 1, 2, 3])


@dataclass(frozen=True, kw_only=True)
class PostureContextParams:
    """Sitting or standing decided per still posture from its neighbours (offline only).

    The per-frame tilt threshold alone fails on real bodies in whole segments (HAPT, 15
    people, waist-worn phone): a standing posture 7-12 deg behind the neutral the
    calibration used reads as sitting, and someone sitting upright on a bed edge reads
    within +-6 deg of neutral, i.e. as standing. What the tilt does tell reliably is
    *relative*: a sit-to-stand or stand-to-sit has a forward lean between two still
    levels (5-80 deg above them in HAPT) and the sitting side is the lower one, whatever
    the calibration offset. So each stretch of sitting/standing frames between walking,
    lying or unknown is cut into still pieces (low movement energy), and one label per
    piece is chosen jointly (a two-state Viterbi over the pieces) from:

    * the piece's own level against ``sit_tilt_deg``, soft (``level_scale_deg``);
    * the step to the next piece: a forward lean between them (peak at least
      ``lean_deg`` above both levels) makes a change of posture likely (keeping it costs
      ``lean_same_cost``; a standing forward bend also leans), no lean makes it unlikely
      (``no_lean_switch_cost``); the direction of a change follows the level difference
      (the lower piece sits), soft over ``direction_scale_deg``, and so does the order
      of the vertical acceleration (up first when rising, ``vertical_cost``);
    * what the stretch borders on: walking without a lean in between means standing
      (nobody walks off from sitting; ``walk_neighbour_cost`` on sitting), lying means
      sitting is the likely way up or down (``lying_neighbour_cost`` on standing - getting
      up from lying passes through sitting, and someone up from bed who stands walks).

    Costs are negative log-likelihoods in the units of the frame decoder.
    ``lean_same_cost``, ``lean_deg``, ``vertical_cost``, ``lying_neighbour_cost`` and
    ``level_scale_deg`` were chosen leave-one-person-out on HAPT from 32 candidates
    (``bench/tune_activity.py``): the defaults are the candidate 14 of the 15 folds chose
    (held out: agreement 0.949 -> 0.989 mean, 0.819 -> 0.920 worst session). The others are
    set by reasoning, not tuned. A graded lean (``lean_span_deg`` 10-20 deg) did worse on
    HAPT than a near step (0.5 deg): real sit-to-stands can lean as little as 5 deg above
    standing.

    Attributes
    ----------
    enabled : bool
        False: keep the frame decoder's labels (the live tracker never uses this stage).
    quiet_energy_mps2 : float
        Movement energy (``FrameFeatures.energy_mps2``) below which a frame is still.
    min_piece_s : float
        Shortest still piece that gets its own label.
    min_context_s : float
        Shortest run of another state that counts as what a stretch borders on (shorter
        runs are skipped: the movement of a posture change often decodes as walking).
    lean_deg, lean_span_deg : float
        Peak of the fine tilt between two pieces above both their levels where the
        evidence of a sit-to-stand / stand-to-sit lean starts, and how much more makes it
        full (a fidget while standing leans a few degrees, HAPT's sit-to-stand 5-40 deg
        above standing and stand-to-sit 10-47).
    level_scale_deg : float
        Softness of a piece's level against ``ActivityParams.sit_tilt_deg``.
    direction_scale_deg : float
        Softness of the "lower piece sits" rule.
    lean_same_cost, no_lean_switch_cost, walk_neighbour_cost, lying_neighbour_cost : float
        See above.
    vertical_cost, vertical_full_mps2 : float
        Cost of a change against the order of the vertical acceleration in the gap
        (:func:`vertical_acceleration`: up first means rising), full from a swing of
        ``vertical_full_mps2`` (HAPT: about 1-4 m/s^2 around sit-to-stand and stand-to-sit).
    """

    enabled: bool = True
    quiet_energy_mps2: float = 0.15
    min_piece_s: float = 1.0
    min_context_s: float = 5.0
    lean_deg: float = 4.0
    lean_span_deg: float = 0.5
    level_scale_deg: float = 5.0
    direction_scale_deg: float = 2.0
    lean_same_cost: float = 4.0
    no_lean_switch_cost: float = 6.0
    walk_neighbour_cost: float = 3.0
    vertical_cost: float = 3.0
    vertical_full_mps2: float = 1.0
    lying_neighbour_cost: float = 1.5


@dataclass(frozen=True, kw_only=True)
class ActivityParams:
    """Parameters of the activity classifier (offline and live).

    Attributes
    ----------
    frame_s : float
        Hop of the analysis frames; labels change at most this often.
    tilt_window_s, energy_window_s, gait_window_s : float
        Centred windows of the posture, movement-energy and periodicity features.
    gait_period_s : tuple of float
        Lags searched for the step or stride period (0.35-1.4 s: steps at 60-170
        steps/min, or the stride of an asymmetric gait, e.g. in MS).
    band_hz : tuple of float
        Pass band of the acceleration magnitude used for energy and periodicity.
    sit_tilt_deg : float
        Anterior tilt (relative to neutral standing) below which the pelvis is at a
        sitting level; sitting typically reads -10 to -20 deg.
    sit_tilt_scale_deg : float
        Softness of that threshold.
    lying_incl_deg : float
        Inclination of the pelvis from vertical above which it is lying.
    lying_forward_incl_deg : float
        The same for a pure forward (anterior) inclination, higher because standing
        forward bends reach 60-80 deg.
    walk_periodicity : float
        Autocorrelation at the step period where walking becomes likely.
    walk_min_std_mps2 : float
        Movement energy (SD of the band-passed magnitude) where walking becomes likely.
    switch_cost : float
        Cost (negative log-probability) of a change of state.
    unknown_cost : float
        Cost per frame of the ``unknown`` state when the posture is measurable.
    min_sitting_s, min_standing_s, min_walking_s, min_lying_s : float
        Minimum durations of the decoded states.
    standing_tilt_deg : float
        Offset carried by the anterior tilt (``calibration.standing_tilt_deg``); it is
        removed before the thresholds apply.
    transition_search_s : float
        Half-width of the window searched for a transition around a posture change.
    level_window_s : float
        Span of each neighbouring posture used for its level.
    transition_level_frac : float
        A transition starts/ends where the signal is within this fraction of the
        excursion from the first/second level.
    min_lean_deg : float
        A sit-to-stand or stand-to-sit lean must exceed both levels by this much.
    uncalibrated_sit_incl_deg : float
        Without calibration: inclination change from upright above which a posture
        counts as sitting (larger than ``-sit_tilt_deg``: the signless change also
        holds sway, mount offsets and leaning).
    max_lag_s : float
        Largest delay of a live label behind the newest sample.
    context : PostureContextParams
        Offline sitting/standing decision per still piece from its neighbours.
    """

    frame_s: float = 0.25
    tilt_window_s: float = 1.0
    energy_window_s: float = 2.0
    gait_window_s: float = 2.5
    gait_period_s: tuple[float, float] = (0.35, 1.4)
    band_hz: tuple[float, float] = (0.5, 4.0)
    sit_tilt_deg: float = -7.0
    sit_tilt_scale_deg: float = 1.5
    lying_incl_deg: float = 60.0
    lying_forward_incl_deg: float = 80.0
    walk_periodicity: float = 0.3
    walk_min_std_mps2: float = 0.3
    switch_cost: float = 6.0
    unknown_cost: float = 5.0
    min_sitting_s: float = 2.0
    min_standing_s: float = 1.0
    min_walking_s: float = 2.0
    min_lying_s: float = 4.0
    standing_tilt_deg: float = 0.0
    transition_search_s: float = 3.0
    level_window_s: float = 5.0
    transition_level_frac: float = 0.15
    min_lean_deg: float = 4.0
    uncalibrated_sit_incl_deg: float = 9.0
    max_lag_s: float = 2.0
    context: PostureContextParams = field(default_factory=PostureContextParams)

    def __post_init__(self) -> None:
        if self.frame_s <= 0 or self.gait_window_s <= 0 or self.tilt_window_s <= 0:
            raise ValueError("frame_s and the feature windows must be positive")
        lo, hi = self.gait_period_s
        if not 0 < lo < hi <= self.gait_window_s:
            raise ValueError("gait_period_s must be (low, high) with 0 < low < high <= window")
        if self.lookahead_s + self.frame_s > self.max_lag_s:
            raise ValueError(
                f"max_lag_s={self.max_lag_s} s is shorter than the feature look-ahead "
                f"({self.lookahead_s:g} s) plus one frame"
            )

    @property
    def lookahead_s(self) -> float:
        """How far the centred feature windows look ahead of a frame's centre."""
        return max(self.tilt_window_s, self.energy_window_s, self.gait_window_s) / 2

    def min_frames(self) -> tuple[int, ...]:
        """Minimum duration of each decoder state, in frames (order of :data:`STATES`)."""
        secs = (self.min_sitting_s, self.min_standing_s, self.min_walking_s, self.min_lying_s)
        return (*(max(1, round(s / self.frame_s)) for s in secs), 1)


@dataclass(frozen=True)
class TransitionEvent:
    """A detected posture change.

    Attributes
    ----------
    kind : str
        ``"sit_to_stand"``, ``"stand_to_sit"``, ``"lie_down"`` or ``"get_up"``.
    time_s : float
        Start of the movement (leaving the first posture level), session time.
    duration_s : float
        Until the second posture level is reached.
    lean_deg : float or None
        Peak forward lean above the higher of the two levels (sit/stand only;
        None when it could not be measured: uncalibrated or lying).
    """

    kind: str
    time_s: float
    duration_s: float
    lean_deg: float | None = None


@dataclass
class ActivityResult:
    """Output of :func:`classify_activity`.

    Attributes
    ----------
    labels : ndarray of str (N,)
        One of :data:`LABELS` per sample.
    segments : list of (str, float, float)
        ``(activity, start_s, end_s)`` runs of equal labels; ``end_s`` is the start of the
        next segment (or one sample after the last).
    transitions : list of TransitionEvent
        Posture changes in time order.
    notes : list of str
        Plain-language remarks (fallbacks, reliability).
    frame_labels : ndarray of int (F,)
        Decoded state per frame (index into :data:`STATES`), before transitions.
    features : FrameFeatures or None
        The per-frame features (offline only).
    costs : ndarray (F, 5) or None
        The decoder's per-frame costs (offline only).
    """

    labels: NDArray[np.str_]
    segments: list[tuple[str, float, float]]
    transitions: list[TransitionEvent]
    notes: list[str] = field(default_factory=list)
    frame_labels: IntArray = field(default_factory=lambda: np.empty(0, np.intp))
    features: FrameFeatures | None = None
    costs: FloatArray | None = None


# ------------------------------------------------------------------------------ features


def _n(seconds: float, rate_hz: float) -> int:
    return max(1, round(seconds * rate_hz))


@functools.lru_cache(maxsize=16)
def _band_sos_cached(rate_hz: float, lo_hz: float, hi_hz: float) -> NDArray[np.float64]:
    sos = butter(2, [lo_hz, min(hi_hz, 0.45 * rate_hz)], "bandpass", fs=rate_hz, output="sos")
    return np.asarray(sos)


def _band_sos(rate_hz: float, params: ActivityParams) -> NDArray[np.float64]:
    return _band_sos_cached(float(rate_hz), *map(float, params.band_hz))


def gait_signal(
    acc_mps2: FloatArray,
    rate_hz: float,
    params: ActivityParams,
    zi: FloatArray | None = None,
) -> tuple[FloatArray, FloatArray]:
    """Causally band-passed acceleration magnitude (m/s^2), and the filter state.

    Parameters
    ----------
    acc_mps2 : ndarray (N, 3)
        Specific force, m/s^2, any frame.
    rate_hz : float
        Sampling rate.
    params : ActivityParams
        ``band_hz`` is used.
    zi : ndarray or None
        Filter state from the previous chunk (None: start at rest at 1 g).

    Returns
    -------
    signal : ndarray (N,)
    zi : ndarray
        State to pass with the next chunk; chunked and whole-array results are equal.
    """
    mag = np.linalg.norm(acc_mps2, axis=1)
    sos = _band_sos(rate_hz, params)
    if zi is None:
        zi = sosfilt_zi(sos) * (mag[0] if mag.size else 9.81)
    out, zo = sosfilt(sos, mag, zi=zi)
    return np.asarray(out), np.asarray(zo)


def _window_bounds(centres: IntArray, half: int, n: int) -> tuple[IntArray, IntArray]:
    return np.clip(centres - half, 0, n), np.clip(centres + half, 0, n)


def _window_mean(x: FloatArray, centres: IntArray, half: int) -> FloatArray:
    """Mean of ``x`` (N,) or (N, k) over ``[c - half, c + half)``, clipped to the array."""
    a, b = _window_bounds(centres, half, x.shape[0])
    csum = np.concatenate([np.zeros((1, *x.shape[1:])), np.cumsum(x, axis=0)])
    count = np.maximum(b - a, 1).reshape(-1, *([1] * (x.ndim - 1)))
    return np.asarray((csum[b] - csum[a]) / count)


def _window_std(x: FloatArray, centres: IntArray, half: int) -> FloatArray:
    mean = _window_mean(x, centres, half)
    mean_sq = _window_mean(x * x, centres, half)
    return np.sqrt(np.maximum(mean_sq - mean * mean, 0.0))


def periodicity(
    signal: FloatArray, centres: IntArray, rate_hz: float, params: ActivityParams
) -> FloatArray:
    """Step periodicity per frame: the largest normalised autocorrelation at a step or stride lag.

    Parameters
    ----------
    signal : ndarray (N,)
        :func:`gait_signal` output.
    centres : ndarray of int (F,)
        Frame centres (sample indices); frames whose centred ``gait_window_s`` window
        does not fit inside the array get 0.
    rate_hz : float
        Sampling rate.
    params : ActivityParams
        Window and lag range.

    Returns
    -------
    ndarray (F,)
        Values in [-1, 1]; walking gives about 0.5-0.9, standing and sitting about 0.
    """
    w = _n(params.gait_window_s, rate_hz)
    half = w // 2
    lag_lo, lag_hi = _n(params.gait_period_s[0], rate_hz), _n(params.gait_period_s[1], rate_hz)
    out = np.zeros(centres.size)
    ok = np.nonzero((centres - half >= 0) & (centres - half + w <= signal.size))[0]
    # Zero padding to w + lag_hi keeps the wanted lags free of wrap-around.
    nfft = sp_fft.next_fast_len(w + lag_hi, real=True)
    for blk in range(0, ok.size, 2048):
        sel = ok[blk : blk + 2048]
        idx = (centres[sel] - half)[:, None] + np.arange(w)[None, :]
        seg = signal[idx]
        seg = seg - seg.mean(axis=1, keepdims=True)
        spec = sp_fft.rfft(seg, nfft, axis=1)
        power = spec.real**2 + spec.imag**2
        ac = sp_fft.irfft(power, nfft, axis=1)[:, : lag_hi + 1]
        # Unbiased normalisation, so longer lags are not penalised.
        ac = ac / (w - np.arange(lag_hi + 1))[None, :]
        out[sel] = ac[:, lag_lo:].max(axis=1) / np.maximum(ac[:, 0], 1e-9)
    return out


@dataclass
class FrameFeatures:
    """Per-frame features, all arrays (F,).

    Attributes
    ----------
    tilt_deg : anterior tilt, mean over ``tilt_window_s`` (minus ``standing_tilt_deg``)
    tilt_fine_deg : the same over one frame (for timing transitions)
    lateral_deg : lateral tilt, mean over ``tilt_window_s``
    energy_mps2 : SD of the band-passed acceleration magnitude over ``energy_window_s``
    periodicity : :func:`periodicity`
    vertical_mps2 : vertical acceleration (0.3-3 Hz, zero phase) over one frame, offline
        only (:func:`vertical_acceleration`; None live and where not computed)
    """

    tilt_deg: FloatArray
    tilt_fine_deg: FloatArray
    lateral_deg: FloatArray
    energy_mps2: FloatArray
    periodicity: FloatArray
    vertical_mps2: FloatArray | None = None


def frame_features(
    signal: FloatArray,
    anterior_tilt_deg: FloatArray,
    lateral_tilt_deg: FloatArray,
    centres: IntArray,
    rate_hz: float,
    params: ActivityParams,
) -> FrameFeatures:
    """Features of the frames centred at ``centres`` (shared by offline and live).

    Parameters
    ----------
    signal : ndarray (N,)
        :func:`gait_signal` output.
    anterior_tilt_deg, lateral_tilt_deg : ndarray (N,)
        Pelvic tilt per sample, deg (NaN where unknown).
    centres : ndarray of int (F,)
        Frame centres, sample indices into the arrays.
    rate_hz : float
        Sampling rate.
    params : ActivityParams
        Windows.
    """
    tilt_half = _n(params.tilt_window_s, rate_hz) // 2
    fine_half = max(1, _n(params.frame_s, rate_hz) // 2)
    tilt = anterior_tilt_deg - params.standing_tilt_deg
    return FrameFeatures(
        tilt_deg=_window_mean(tilt, centres, tilt_half),
        tilt_fine_deg=_window_mean(tilt, centres, fine_half),
        lateral_deg=_window_mean(lateral_tilt_deg, centres, tilt_half),
        energy_mps2=_window_std(signal, centres, _n(params.energy_window_s, rate_hz) // 2),
        periodicity=periodicity(signal, centres, rate_hz, params),
    )


def vertical_acceleration(
    acc_mps2: FloatArray,
    up_sensor: FloatArray,
    centres: IntArray,
    rate_hz: float,
    params: ActivityParams,
) -> FloatArray:
    """Vertical acceleration per frame (m/s^2): which way a posture change went.

    Rising (sit-to-stand) accelerates the pelvis upwards first and brakes it after;
    sitting down is the reverse: the order of the largest and smallest vertical
    acceleration tells the direction (Najafi et al. 2002, IEEE TBME 49(8):843-851, used
    the vertical acceleration's pattern the same way). On HAPT's labelled transitions
    the order is right for 28 of 30 stand-to-sit and 30 of 31 sit-to-stand.

    Parameters
    ----------
    acc_mps2 : ndarray (N, 3)
        Specific force, sensor frame.
    up_sensor : ndarray (N, 3)
        The vertical in sensor axes per sample (from the orientation, or the raw
        acceleration: it is averaged over a second here).
    centres : ndarray of int (F,)
        Frame centres.
    rate_hz : float
        Sampling rate.
    params : ActivityParams
        ``frame_s``.

    Returns
    -------
    ndarray (F,)
        Zero-phase band-passed (0.3-3 Hz) vertical specific force, mean over one frame;
        zeros when the session is too short to filter.
    """
    up = uniform_filter1d(np.asarray(up_sensor, float), _n(1.0, rate_hz), axis=0, mode="nearest")
    up /= np.maximum(np.linalg.norm(up, axis=1, keepdims=True), 1e-9)
    vert = np.einsum("ij,ij->i", acc_mps2, up)
    sos = butter(2, [0.3, min(3.0, 0.45 * rate_hz)], "bandpass", fs=rate_hz, output="sos")
    if vert.size <= 3 * (2 * sos.shape[0] + 1) * 3:
        return np.zeros(centres.size)
    vert = sosfiltfilt(sos, vert)
    return _window_mean(vert, centres, max(1, _n(params.frame_s, rate_hz) // 2))


def _sigmoid(x: FloatArray) -> FloatArray:
    return np.asarray(1.0 / (1.0 + np.exp(-np.clip(x, -50, 50))))


def gait_probability(f: FrameFeatures, params: ActivityParams) -> FloatArray:
    """Evidence (0-1) for walking from energy and periodicity alone."""
    p_per = _sigmoid((f.periodicity - params.walk_periodicity) / 0.06)
    p_en = _sigmoid((f.energy_mps2 - params.walk_min_std_mps2) / (0.2 * params.walk_min_std_mps2))
    return p_per * p_en


def state_costs(f: FrameFeatures, params: ActivityParams) -> FloatArray:
    """Negative log-evidence of each state of :data:`STATES` per frame, shape (F, 5).

    Frames with an unknown tilt (NaN) can only be walking (from the gait evidence) or
    unknown.
    """
    theta = np.radians(f.tilt_deg)
    phi = np.radians(f.lateral_deg)
    incl = np.degrees(np.arccos(np.clip(np.cos(theta) * np.cos(phi), -1, 1)))
    forward = np.clip(np.maximum(f.tilt_deg, 0) / np.maximum(incl, 1e-6), 0, 1) ** 2
    lying_thr = params.lying_incl_deg + forward * (
        params.lying_forward_incl_deg - params.lying_incl_deg
    )
    p_lie = _sigmoid((incl - lying_thr) / 3.0)
    p_low = _sigmoid((params.sit_tilt_deg - f.tilt_deg) / params.sit_tilt_scale_deg)
    p_sit = p_low * (1 - p_lie)
    p_up = (1 - p_low) * (1 - p_lie)
    p_gait = gait_probability(f, params)
    probs = np.stack(
        [
            p_sit * (1 - 0.5 * p_gait),
            p_up * (1 - p_gait),
            p_gait * (p_up + 0.3 * p_sit),
            p_lie,
        ],
        axis=1,
    )
    costs = np.empty((probs.shape[0], 5))
    costs[:, :4] = -np.log(probs + 1e-3)
    costs[:, UNKNOWN] = params.unknown_cost
    bad = ~np.isfinite(f.tilt_deg) | ~np.isfinite(f.lateral_deg)
    if bad.any():
        costs[bad, SIT] = costs[bad, STAND] = costs[bad, LIE] = 3 * params.unknown_cost
        costs[bad, WALK] = -np.log(p_gait[bad] + 1e-3)
        costs[bad, UNKNOWN] = 0.5 * params.unknown_cost
    return costs


# ------------------------------------------------------------------------------ decoder


class _Decoder:
    """Explicit-duration Viterbi: state s is a chain of ``min_frames[s]`` sub-states."""

    def __init__(self, min_frames: tuple[int, ...], switch_cost: float) -> None:
        sizes = np.asarray(min_frames)
        first = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        last = first + sizes - 1
        m = int(sizes.sum())
        self.state_of = np.repeat(np.arange(sizes.size), sizes)
        n_cand = sizes.size  # first sub-state: the other states' last ones (+ self loop)
        cand = np.zeros((m, n_cand), dtype=np.intp)
        cost = np.full((m, n_cand), np.inf)
        for s in range(sizes.size):
            for k in range(sizes[s]):
                j = first[s] + k
                if k == 0:
                    for c, o in enumerate(range(sizes.size)):
                        if o != s:
                            cand[j, c], cost[j, c] = last[o], switch_cost
                    if sizes[s] == 1:
                        cand[j, s], cost[j, s] = j, 0.0
                else:
                    cand[j, 0], cost[j, 0] = j - 1, 0.0
                    if k == sizes[s] - 1:
                        cand[j, 1], cost[j, 1] = j, 0.0
        self.cand, self.cost = cand, cost
        # Start anywhere in a state's last sub-state (the first run has no minimum).
        self.initial = np.full(m, np.inf)
        self.initial[last] = 0.0

    def step(self, v: FloatArray | None, emission: FloatArray) -> tuple[FloatArray, IntArray]:
        """One frame: new path costs (M,) and back-pointers (M,) (sub-state indices)."""
        em = emission[self.state_of]
        if v is None:
            return self.initial + em, np.arange(em.size)
        c = v[self.cand] + self.cost
        k = np.argmin(c, axis=1)
        rows = np.arange(c.shape[0])
        return c[rows, k] + em, self.cand[rows, k]

    def decode(self, costs: FloatArray) -> IntArray:
        """Most likely state sequence (F,) for per-frame costs (F, S)."""
        f = costs.shape[0]
        if f == 0:
            return np.empty(0, np.intp)
        back = np.empty((f, self.state_of.size), dtype=np.int16)
        v, bp = self.step(None, costs[0])
        back[0] = bp
        # The loop body of step() with everything hoisted: this runs once per frame of a
        # whole day (over 100,000 times), so per-call overhead dominates.
        emissions = costs[:, self.state_of]
        cand, cost = self.cand, self.cost
        flat = np.arange(cand.shape[0]) * cand.shape[1]
        for i in range(1, f):
            c = v[cand]
            c += cost
            k = c.argmin(axis=1)
            k += flat
            back[i] = cand.ravel()[k]
            v = c.ravel()[k] + emissions[i]
        path = np.empty(f, np.intp)
        j = int(np.argmin(v))
        for i in range(f - 1, -1, -1):
            path[i] = j
            j = int(back[i, j])
        return np.asarray(self.state_of[path])


# --------------------------------------------------------------------------- transitions


def _runs(states: IntArray) -> list[tuple[int, int, int]]:
    """``(state, start, stop)`` runs of equal values."""
    if states.size == 0:
        return []
    cut = np.nonzero(np.diff(states))[0] + 1
    starts = np.concatenate([[0], cut])
    stops = np.concatenate([cut, [states.size]])
    return [(int(states[a]), int(a), int(b)) for a, b in zip(starts, stops, strict=True)]


def _transition_kind(fa: int, fb: int) -> str | None:
    """Kind of a change between posture families (see ``_FAMILY_OF_STATE``)."""
    if fa == fb or 3 in (fa, fb):
        return None
    if fb == 2:
        return "lie_down"
    if fa == 2:
        return "get_up"
    return "sit_to_stand" if fa == 0 else "stand_to_sit"


def locate_transitions(
    frame_states: IntArray,
    f: FrameFeatures,
    params: ActivityParams,
    *,
    signed: bool = True,
) -> list[tuple[str, int, int, float | None]]:
    """Posture changes between decoded runs: ``(kind, first_frame, stop_frame, lean_deg)``.

    Parameters
    ----------
    frame_states : ndarray of int (F,)
        Decoded states.
    f : FrameFeatures
        Per-frame features (``tilt_fine_deg`` and ``lateral_deg`` are used).
    params : ActivityParams
        Search windows and level fractions.
    signed : bool
        The tilt is a calibrated anterior tilt (look for the forward lean); False: it is
        a signless inclination change and only level crossings are used.
    """
    fr = 1.0 / params.frame_s
    search = _n(params.transition_search_s, fr)
    level_n = _n(params.level_window_s, fr)
    guard = _n(1.0, fr)
    x_tilt = f.tilt_fine_deg
    incl = np.degrees(
        np.arccos(np.clip(np.cos(np.radians(x_tilt)) * np.cos(np.radians(f.lateral_deg)), -1, 1))
    )
    runs = _runs(_FAMILY_OF_STATE[frame_states])
    out: list[tuple[str, int, int, float | None]] = []
    prev_stop = 0
    for (sa, a0, a1), (sb, b0, b1) in itertools.pairwise(runs):
        kind = _transition_kind(sa, sb)
        if kind is None:
            continue
        lying = kind in ("lie_down", "get_up")
        x = incl if lying else x_tilt
        lo, hi = max(a0, a1 - search, prev_stop), min(b1, b0 + search)
        la_sel = x[max(a0, a1 - guard - level_n) : max(a0 + 1, a1 - guard)]
        lb_sel = x[min(b1 - 1, b0 + guard) : min(b1, b0 + guard + level_n)]
        la, lb = np.nanmedian(la_sel), np.nanmedian(lb_sel)
        if not (np.isfinite(la) and np.isfinite(lb)):
            continue
        seg = x[lo:hi]
        frac = params.transition_level_frac
        lean: float | None = None
        if signed and not lying:
            p = int(np.nanargmax(seg))
            peak = float(seg[p])
            if peak - max(la, lb) >= params.min_lean_deg:
                lean = peak - max(la, lb)
                before = np.nonzero(seg[: p + 1] <= la + frac * (peak - la))[0]
                after = np.nonzero(seg[p:] <= lb + frac * (peak - lb))[0]
                start = lo + (int(before[-1]) if before.size else 0)
                stop = lo + p + (int(after[0]) if after.size else hi - lo - p - 1) + 1
                out.append((kind, start, stop, lean))
                prev_stop = stop
                continue
        # Level crossings: leave the first level, reach the second one.
        span = abs(lb - la)
        k = b0 - lo
        near_a = np.nonzero(np.abs(seg[: k + 1] - la) <= frac * span)[0]
        near_b = np.nonzero(np.abs(seg[k:] - lb) <= frac * span)[0]
        start = lo + (int(near_a[-1]) if near_a.size else 0)
        stop = lo + k + (int(near_b[0]) if near_b.size else hi - lo - k - 1) + 1
        out.append((kind, start, stop, None))
        prev_stop = stop
    return out


# ------------------------------------------------------------------- posture context


def _softplus(x: float) -> float:
    return float(np.logaddexp(0.0, x))


def refine_sit_stand(
    frame_states: IntArray,
    f: FrameFeatures,
    params: ActivityParams,
) -> IntArray:
    """Sitting/standing frames relabelled per still piece from its context.

    See :class:`PostureContextParams` (``params.context``). Only frames decoded as
    sitting or standing change, and only between those two; walking, lying and unknown
    stay as decoded. A stretch without a still piece keeps its frame labels.

    Parameters
    ----------
    frame_states : ndarray of int (F,)
        Decoded states (:func:`decode_states`).
    f : FrameFeatures
        Per-frame features of the same frames (calibrated anterior tilt).
    params : ActivityParams
        ``sit_tilt_deg``, ``frame_s`` and ``context``.

    Returns
    -------
    ndarray of int (F,)
    """
    c = params.context
    out = np.asarray(frame_states, np.intp).copy()
    if not c.enabled or out.size == 0:
        return out
    upright = (out == SIT) | (out == STAND)
    min_piece = _n(c.min_piece_s, 1.0 / params.frame_s)
    min_context = _n(c.min_context_s, 1.0 / params.frame_s)
    tilt, fine = f.tilt_deg, f.tilt_fine_deg
    for _, a, b in (r for r in _runs(upright.astype(np.intp)) if r[0] == 1):
        quiet = (f.energy_mps2[a:b] < c.quiet_energy_mps2) & np.isfinite(tilt[a:b])
        pieces = [
            (a + pa, a + pb)
            for v, pa, pb in _runs(quiet.astype(np.intp))
            if v and pb - pa >= min_piece
        ]
        if not pieces:
            continue
        levels = [float(np.median(tilt[pa:pb])) for pa, pb in pieces]
        unary = np.array(
            [
                [
                    _softplus((lv - params.sit_tilt_deg) / c.level_scale_deg),
                    _softplus((params.sit_tilt_deg - lv) / c.level_scale_deg),
                ]
                for lv in levels
            ]
        )
        before = _neighbour(out, a - 1, -1, min_context)
        after = _neighbour(out, b, 1, min_context)
        for end, state, gap in ((0, before, (a, pieces[0][0])), (-1, after, (pieces[-1][1], b))):
            lv = levels[end]
            leaned = _peak(fine, *gap) - lv >= c.lean_deg
            if state == WALK and not leaned:
                unary[end, 0] += c.walk_neighbour_cost
            elif state == LIE:
                unary[end, 1] += c.lying_neighbour_cost
        pair = []
        for (_, pb), (qa, _), la, lb in zip(
            pieces[:-1], pieces[1:], levels[:-1], levels[1:], strict=True
        ):
            lean = float(
                np.clip((_peak(fine, pb, qa) - max(la, lb) - c.lean_deg) / c.lean_span_deg, 0, 1)
            )
            d = (lb - la) / c.direction_scale_deg
            same, change = c.lean_same_cost * lean, c.no_lean_switch_cost * (1 - lean)
            up_first = _vertical_order(f.vertical_mps2, pb, qa, c)
            pair.append(
                np.array(
                    [
                        [same, change + _softplus(-d) + c.vertical_cost * max(0.0, -up_first)],
                        [change + _softplus(d) + c.vertical_cost * max(0.0, up_first), same],
                    ]
                )
            )
        labels = _viterbi2(unary, pair)
        piece_states = np.where(labels == 0, SIT, STAND)
        # Each piece's label reaches to the lean peak (or midpoint) of the gap on either side.
        cuts = [a]
        for (_, pb), (qa, _) in itertools.pairwise(pieces):
            seg = fine[pb:qa]
            cuts.append(pb + (int(np.nanargmax(seg)) if np.isfinite(seg).any() else (qa - pb) // 2))
        cuts.append(b)
        for k in range(len(pieces)):
            out[cuts[k] : cuts[k + 1]] = piece_states[k]
    return out


def _neighbour(states: IntArray, i: int, step: int, min_frames: int) -> int | None:
    """State of the first run of at least ``min_frames`` from frame ``i`` in direction ``step``.

    Shorter runs are the movement of a posture change (a second of "walking" while
    getting up), not what the posture borders on. None: no such run before the end.
    """
    n = states.size
    while 0 <= i < n:
        j = i
        while 0 <= j + step < n and states[j + step] == states[i]:
            j += step
        if abs(j - i) + 1 >= min_frames:
            return int(states[i])
        i = j + step
    return None


def _vertical_order(vertical: FloatArray | None, a: int, b: int, c: PostureContextParams) -> float:
    """+1 when the gap ``[a, b)`` accelerates up before down (rising), -1 the reverse.

    Scaled down towards 0 for a small swing (below ``c.vertical_full_mps2``); 0 without
    the feature. A frame either side is included (the pieces' edges hold the start).
    """
    if vertical is None:
        return 0.0
    seg = vertical[max(0, a - 2) : b + 2]
    if seg.size < 2:
        return 0.0
    hi, lo = int(np.argmax(seg)), int(np.argmin(seg))
    swing = float(seg[hi] - seg[lo])
    return float(np.sign(lo - hi)) * min(1.0, swing / c.vertical_full_mps2)


def _peak(x: FloatArray, a: int, b: int) -> float:
    """Largest finite value of ``x[a:b]`` (a frame either side included); -inf if none."""
    seg = x[max(0, a - 1) : b + 1]
    seg = seg[np.isfinite(seg)]
    return float(seg.max()) if seg.size else -np.inf


def _viterbi2(unary: FloatArray, pair: list[FloatArray]) -> IntArray:
    """Cheapest label chain: ``unary`` (K, 2) costs, ``pair[k]`` (2, 2) from piece k to k+1."""
    k = unary.shape[0]
    v = unary[0].copy()
    back = np.zeros((k, 2), np.intp)
    for i in range(1, k):
        tot = v[:, None] + pair[i - 1]
        back[i] = np.argmin(tot, axis=0)
        v = tot[back[i], [0, 1]] + unary[i]
    path = np.empty(k, np.intp)
    path[-1] = int(np.argmin(v))
    for i in range(k - 1, 0, -1):
        path[i - 1] = back[i, path[i]]
    return path


# ----------------------------------------------------------------------------- offline


def _check_inputs(
    acc_mps2: ArrayLike, tilts: tuple[ArrayLike | None, ArrayLike | None], rate_hz: float
) -> tuple[FloatArray, FloatArray | None, FloatArray | None]:
    if not np.isfinite(rate_hz) or rate_hz <= 0:
        raise ValueError(f"rate_hz must be a positive number of samples per second, got {rate_hz}")
    acc = np.asarray(acc_mps2, dtype=float)
    if acc.ndim != 2 or acc.shape[1] != 3:
        raise ValueError(f"acc_mps2 must have shape (N, 3), got {acc.shape}")
    if not np.isfinite(acc).all():
        raise ValueError("acc_mps2 contains NaN or infinite values")
    if acc.shape[0] and not 3.0 < np.median(np.linalg.norm(acc, axis=1)) < 30.0:
        raise ValueError(
            "acc_mps2 does not look like m/s^2 (median magnitude far from 9.81); "
            "multiply accelerations in g by 9.80665"
        )
    out: list[FloatArray | None] = []
    for name, t in zip(("anterior_tilt_deg", "lateral_tilt_deg"), tilts, strict=True):
        if t is None:
            out.append(None)
            continue
        arr = np.asarray(t, dtype=float)
        if arr.shape != (acc.shape[0],):
            raise ValueError(f"{name} must have shape ({acc.shape[0]},), got {arr.shape}")
        out.append(arr)
    if (out[0] is None) != (out[1] is None):
        raise ValueError("give both anterior_tilt_deg and lateral_tilt_deg, or neither")
    return acc, out[0], out[1]


def _frame_centres(n: int, rate_hz: float, params: ActivityParams) -> tuple[int, IntArray]:
    hop = _n(params.frame_s, rate_hz)
    n_frames = (n + hop - 1) // hop
    return hop, np.arange(n_frames) * hop + hop // 2


def _inclination_from_upright(
    up_sensor: FloatArray,
    signal: FloatArray,
    centres: IntArray,
    rate_hz: float,
    params: ActivityParams,
) -> tuple[FloatArray, list[str]]:
    """Signless inclination change (deg, per sample) from the first quiet upright posture.

    Upright is found next to walking: the first quiet posture within 10 deg of the
    mean walking posture, else the mean walking posture itself. Without walking
    (< 5 s) the inclination is NaN throughout, so every still frame decodes as
    ``unknown``: the sensor may be clipped on any way round, and the first still
    posture of such a session is as likely sitting (a wheelchair user) or lying (a
    bed-bound patient) as standing. A clinician reading "standing" for a patient who
    never stood would be misled about exactly what the session is for; "unknown", with
    a note saying that a mount preset or a saved calibration names the postures, is
    what can honestly be said.
    """
    half = _n(params.tilt_window_s, rate_hz) // 2
    up_f = _window_mean(up_sensor, centres, half)
    up_f /= np.linalg.norm(up_f, axis=1, keepdims=True)
    energy = _window_std(signal, centres, _n(params.energy_window_s, rate_hz) // 2)
    per = periodicity(signal, centres, rate_hz, params)
    gait = (per > params.walk_periodicity) & (energy > params.walk_min_std_mps2)
    notes = []
    ref = None
    if gait.sum() * params.frame_s >= 5.0:
        walk_up = up_f[gait].mean(axis=0)
        walk_up /= np.linalg.norm(walk_up)
        quiet = (energy < 0.1) & (np.degrees(np.arccos(np.clip(up_f @ walk_up, -1, 1))) < 10)
        run = _n(3.0, 1 / params.frame_s)
        csum = np.concatenate([[0], np.cumsum(quiet)])
        ok = np.nonzero(csum[run:] - csum[:-run] == run)[0]
        if ok.size:
            ref = up_f[ok[0] : ok[0] + run].mean(axis=0)
            notes.append("uncalibrated: upright reference is the first quiet upright posture")
        else:
            ref = walk_up
            notes.append("uncalibrated: upright reference is the mean walking posture")
    else:
        notes.append(
            "uncalibrated and no walking: which way is upright is unknown, so still "
            "postures are reported as 'unknown' (not guessed); give a mount preset or a "
            "saved calibration to label sitting, standing and lying"
        )
        return np.full(up_sensor.shape[0], np.nan), notes
    ref = ref / np.linalg.norm(ref)
    # Average before taking the angle: the angle of each raw sample is biased upwards.
    u = uniform_filter1d(up_sensor, _n(params.frame_s, rate_hz), axis=0, mode="nearest")
    u /= np.linalg.norm(u, axis=1, keepdims=True)
    notes.append(
        "uncalibrated: posture from the signless inclination change; standing forward "
        "bends read as sitting and transitions are located without the forward-lean check"
    )
    return np.degrees(np.arccos(np.clip(u @ ref, -1, 1))), notes


def _segments(
    labels: NDArray[np.str_], time_s: FloatArray, rate_hz: float
) -> list[tuple[str, float, float]]:
    if labels.size == 0:
        return []
    cut = np.nonzero(labels[1:] != labels[:-1])[0] + 1
    starts = np.concatenate([[0], cut])
    ends = [float(time_s[i]) for i in cut] + [float(time_s[-1] + 1.0 / rate_hz)]
    return [(str(labels[a]), float(time_s[a]), e) for a, e in zip(starts, ends, strict=True)]


def classify_activity(
    time_s: ArrayLike | None,
    acc_mps2: ArrayLike,
    anterior_tilt_deg: ArrayLike | None,
    lateral_tilt_deg: ArrayLike | None,
    rate_hz: float,
    *,
    quat_wxyz: ArrayLike | None = None,
    params: ActivityParams | None = None,
) -> ActivityResult:
    """Label every sample as sitting, standing, walking, lying, transition or unknown.

    Parameters
    ----------
    time_s : array_like (N,) or None
        Sample times in s (None: ``arange(N) / rate_hz``); used for segment and event
        times only (frames count samples).
    acc_mps2 : array_like (N, 3)
        Specific force, m/s^2, sensor frame.
    anterior_tilt_deg, lateral_tilt_deg : array_like (N,) or None
        Pelvic tilt (:func:`analysis.tilt.pelvic_tilt_deg`), deg; NaN where unknown.
        None: uncalibrated - the posture comes from the inclination change relative to
        the first quiet upright posture (see the module docstring).
    rate_hz : float
        Sampling rate.
    quat_wxyz : array_like (N, 4), optional
        Sensor orientation for the uncalibrated path (default: the accelerometer's
        direction, averaged over ``tilt_window_s``).
    params : ActivityParams, optional
        Thresholds and durations.

    Returns
    -------
    ActivityResult

    Raises
    ------
    ValueError
        Wrong shapes, non-finite acceleration, acceleration not in m/s^2, bad rate.
    """
    p = params or ActivityParams()
    acc, ant, lat = _check_inputs(acc_mps2, (anterior_tilt_deg, lateral_tilt_deg), rate_hz)
    n = acc.shape[0]
    t = np.arange(n) / rate_hz if time_s is None else np.asarray(time_s, dtype=float)
    if t.shape != (n,):
        raise ValueError(f"time_s must have shape ({n},), got {t.shape}")
    if n == 0:
        return ActivityResult(np.empty(0, dtype="<U10"), [], [])
    signal, _ = gait_signal(acc, rate_hz, p)
    _, centres = _frame_centres(n, rate_hz, p)
    notes: list[str] = []
    signed = ant is not None
    if ant is None or lat is None:
        up = acc if quat_wxyz is None else quat.up_in_sensor(np.asarray(quat_wxyz, dtype=float))
        incl, notes = _inclination_from_upright(up, signal, centres, rate_hz, p)
        ant, lat = -incl, np.zeros(n)
        p_eff = _replace_standing(p)
    else:
        p_eff = p
    feats = frame_features(signal, ant, lat, centres, rate_hz, p_eff)
    up = acc if quat_wxyz is None else quat.up_in_sensor(np.asarray(quat_wxyz, dtype=float))
    feats.vertical_mps2 = vertical_acceleration(acc, up, centres, rate_hz, p_eff)
    costs = state_costs(feats, p_eff)
    states = decode_states(costs, p)
    result = activity_from_states(states, feats, t, rate_hz, p_eff, signed=signed, notes=notes)
    result.features, result.costs = feats, costs
    return result


def decode_states(costs: FloatArray, params: ActivityParams) -> IntArray:
    """Offline decode: the most likely state per frame (index into :data:`STATES`).

    Parameters
    ----------
    costs : ndarray (F, 5)
        :func:`state_costs` output.
    params : ActivityParams
        Minimum durations and the switching cost.
    """
    return _Decoder(params.min_frames(), params.switch_cost).decode(costs)


def activity_from_states(
    states: IntArray,
    feats: FrameFeatures,
    time_s: FloatArray,
    rate_hz: float,
    params: ActivityParams,
    *,
    signed: bool = True,
    notes: list[str] | None = None,
) -> ActivityResult:
    """Per-sample labels, segments and transitions from decoded frame states.

    The last step of :func:`classify_activity`, separate so that frame states decoded
    in parts (``analysis.session``'s parallel path) end the same way.

    Parameters
    ----------
    states : ndarray of int (F,)
        Decoded state per frame (:func:`decode_states`).
    feats : FrameFeatures
        The frames' features (arrays of F).
    time_s : ndarray (N,)
        Sample times; frames cover ``hop`` samples each from the first sample.
    rate_hz : float
        Sampling rate.
    params : ActivityParams
        The effective parameters (those the costs were computed with).
    signed : bool
        The tilt was a calibrated anterior tilt (see :func:`locate_transitions`).
    notes : list of str, optional
        Notes so far (extended and returned in the result).
    """
    t = time_s
    n = t.size
    hop = _n(params.frame_s, rate_hz)
    notes = list(notes or [])
    refined = refine_sit_stand(states, feats, params) if signed else states
    frame_lab = np.array(STATES, dtype="<U10")[refined]
    events: list[TransitionEvent] = []
    for kind, f0, f1, lean in locate_transitions(refined, feats, params, signed=signed):
        frame_lab[f0:f1] = "transition"
        s0, s1 = min(f0 * hop, n - 1), min(f1 * hop, n) - 1
        events.append(TransitionEvent(kind, float(t[s0]), float(t[s1] - t[s0] + 1 / rate_hz), lean))
    labels = np.repeat(frame_lab, hop)[:n]
    if np.any(states == UNKNOWN):
        notes.append("some samples are 'unknown': no usable posture (e.g. tilt not available)")
    return ActivityResult(labels, _segments(labels, t, rate_hz), events, notes, states)


def _replace_standing(p: ActivityParams) -> ActivityParams:
    """Parameters for a signless inclination fed as (negative) tilt."""
    return replace(p, standing_tilt_deg=0.0, sit_tilt_deg=-p.uncalibrated_sit_incl_deg)


# -------------------------------------------------------------------------------- live


@dataclass
class ActivityUpdate:
    """Labels the tracker has decided on.

    Attributes
    ----------
    first_index : int
        Index (since the tracker started) of the first labelled sample.
    labels : ndarray of str (K,)
        Labels of samples ``first_index .. first_index + K - 1``.
    transitions : list of TransitionEvent
        Posture changes recognised since the last update (they may refer to samples
        emitted earlier).
    provisional : ndarray of str (N,)
        A label for each sample of the chunk just fed, usable at once (e.g. by the live
        hip-hike tracker): the most recently decided label, held ("unknown" before the
        first decision). A held posture keeps its label, so this is right except for the
        ~``lag_s`` after a change of activity; ``labels`` later gives the decided ones.
        Empty from :meth:`ActivityTracker.finish`.
    """

    first_index: int
    labels: NDArray[np.str_]
    transitions: list[TransitionEvent]
    provisional: NDArray[np.str_] = field(default_factory=lambda: np.empty(0, dtype="<U10"))


class ActivityTracker:
    """Live activity labels, fed chunk by chunk, at most ``params.max_lag_s`` late.

    Same features and decoder step as :func:`classify_activity`. Differences: the decoder
    is fixed-lag (a frame is decided ``lag_frames`` frames after it, from the best path
    at that moment, instead of after the whole session), and transitions are reported
    as events once both posture levels are known (a few seconds later); their samples
    keep the posture label that was already emitted.

    Parameters
    ----------
    rate_hz : float
        Sampling rate.
    params : ActivityParams, optional
        As for :func:`classify_activity`.
    """

    def __init__(self, rate_hz: float, *, params: ActivityParams | None = None) -> None:
        if not np.isfinite(rate_hz) or rate_hz <= 0:
            raise ValueError(f"rate_hz must be positive, got {rate_hz}")
        self.rate_hz = float(rate_hz)
        self.params = params or ActivityParams()
        p = self.params
        self._hop = _n(p.frame_s, rate_hz)
        # Frame k (samples [k*hop, (k+1)*hop), centre c) is computable once the sample
        # c + ahead - 1 exists, and decided ``lag_frames`` frames later.
        self._ahead = _n(p.gait_window_s, rate_hz) - _n(p.gait_window_s, rate_hz) // 2
        self._ahead = max(self._ahead, _n(p.lookahead_s, rate_hz))
        max_lag_n = int(np.floor(p.max_lag_s * rate_hz + 1e-9))
        self.lag_frames = max(0, (max_lag_n + 1 - self._ahead - self._hop // 2) // self._hop)
        self._decoder = _Decoder(p.min_frames(), p.switch_cost)
        self._v: FloatArray | None = None
        self._back: list[IntArray] = []
        self._zi: FloatArray | None = None
        self._buf_start = 0
        self._sig = np.empty(0)
        self._ant = np.empty(0)
        self._lat = np.empty(0)
        self._n_seen = 0
        self._computed = 0  # frames whose features exist
        self._decided = 0  # frames whose state is emitted
        self._hist_first = 0  # absolute frame index of the history's first frame
        self._hist_states: list[int] = []
        self._hist_feats: FrameFeatures | None = None
        self._done_boundary = 0  # absolute frame of the last posture change handled
        self._last_label = "unknown"  # most recently decided label (for ``provisional``)

    @property
    def lag_s(self) -> float:
        """Worst delay of an emitted label behind the newest sample."""
        n = self.lag_frames * self._hop + self._hop // 2 + self._ahead - 1
        return n / self.rate_hz

    def update(
        self,
        acc_mps2: ArrayLike,
        anterior_tilt_deg: ArrayLike | None = None,
        lateral_tilt_deg: ArrayLike | None = None,
    ) -> ActivityUpdate:
        """Feed a chunk; return the labels decided so far and new transition events.

        Parameters
        ----------
        acc_mps2 : array_like (K, 3)
            Specific force, m/s^2.
        anterior_tilt_deg, lateral_tilt_deg : array_like (K,) or None
            Pelvic tilt from :class:`analysis.tilt.TiltTracker` (NaN or None before a
            calibration exists: labels are then walking or unknown).
        """
        acc = np.asarray(acc_mps2, dtype=float)
        if acc.ndim != 2 or acc.shape[1] != 3:
            raise ValueError(f"acc_mps2 must have shape (K, 3), got {acc.shape}")
        k = acc.shape[0]
        nan = np.full(k, np.nan)
        ant = nan if anterior_tilt_deg is None else np.asarray(anterior_tilt_deg, float)
        lat = nan if lateral_tilt_deg is None else np.asarray(lateral_tilt_deg, float)
        if ant.shape != (k,) or lat.shape != (k,):
            raise ValueError("the tilt arrays must have one value per acceleration sample")
        if k:
            sig, self._zi = gait_signal(acc, self.rate_hz, self.params, self._zi)
            self._sig = np.concatenate([self._sig, sig])
            self._ant = np.concatenate([self._ant, ant])
            self._lat = np.concatenate([self._lat, lat])
            self._n_seen += k
        update = self._advance(final=False)
        update.provisional = np.full(k, self._last_label, dtype="<U10")
        return update

    def finish(self) -> ActivityUpdate:
        """Decide the remaining samples (end of the session; windows are then clipped)."""
        return self._advance(final=True)

    def _advance(self, *, final: bool) -> ActivityUpdate:
        hop = self._hop
        total = (self._n_seen + hop - 1) // hop
        if final:
            stop = total
        else:
            stop = min(total, max(0, (self._n_seen - self._ahead - hop // 2) // hop + 1))
        new_states: list[int] = []
        if stop > self._computed:
            centres = np.arange(self._computed, stop) * hop + hop // 2 - self._buf_start
            feats = frame_features(
                self._sig, self._ant, self._lat, centres, self.rate_hz, self.params
            )
            costs = state_costs(feats, self.params)
            for i in range(costs.shape[0]):
                self._v, bp = self._decoder.step(self._v, costs[i])
                self._back.append(bp)
                if len(self._back) > self.lag_frames:
                    new_states.append(self._backtrack(self.lag_frames)[0])
                    self._back.pop(0)
            self._hist_feats = (
                feats if self._hist_feats is None else _concat_features([self._hist_feats, feats])
            )
            self._computed = stop
        if final and self._v is not None and self._back:
            new_states.extend(self._backtrack(len(self._back) - 1))
            self._back.clear()
        self._decided += len(new_states)
        self._hist_states.extend(new_states)
        lab = np.array(STATES, dtype="<U10")[np.asarray(new_states, np.intp)]
        labels = np.repeat(lab, hop)
        first = (self._decided - len(new_states)) * hop
        labels = labels[: max(0, min(labels.size, self._n_seen - first))]
        if labels.size:
            self._last_label = str(labels[-1])
        events = self._transitions(final)
        self._trim()
        return ActivityUpdate(first, labels, events)

    def _backtrack(self, lag: int) -> list[int]:
        """States of the newest ``lag + 1`` frames on the current best path, oldest first."""
        assert self._v is not None
        j = int(np.argmin(self._v))
        path = [j]
        for bp in self._back[-1 : -lag - 1 : -1]:
            j = int(bp[j])
            path.append(j)
        states = [int(self._decoder.state_of[s]) for s in path]
        return states[::-1]

    def _transitions(self, final: bool) -> list[TransitionEvent]:
        """Events for posture changes whose second level is now known."""
        if not self._hist_states or self._hist_feats is None:
            return []
        p = self.params
        states = np.asarray(self._hist_states, np.intp)
        runs = _runs(_FAMILY_OF_STATE[states])
        need = _n(p.level_window_s + 1.0, 1 / p.frame_s)
        events = []
        for i in range(1, len(runs)):
            _, b0, b1 = runs[i]
            a0 = runs[i - 1][1]
            if self._hist_first + b0 <= self._done_boundary:
                continue
            if not (i < len(runs) - 1 or final or b1 - b0 >= need):
                break
            sub = _slice_features(self._hist_feats, a0, b1)
            for kind, f0, f1, lean in locate_transitions(states[a0:b1], sub, p):
                s0 = (self._hist_first + a0 + f0) * self._hop
                dur = (f1 - f0) * self._hop / self.rate_hz
                events.append(TransitionEvent(kind, s0 / self.rate_hz, dur, lean))
            self._done_boundary = self._hist_first + b0
        return events

    def _trim(self) -> None:
        """Drop samples and frames no longer needed."""
        keep_from = self._computed * self._hop - 2 * self._ahead - self._hop
        drop = keep_from - self._buf_start
        if drop > 0:
            self._sig, self._ant, self._lat = self._sig[drop:], self._ant[drop:], self._lat[drop:]
            self._buf_start += drop
        max_keep = _n(120.0, 1 / self.params.frame_s)
        if len(self._hist_states) > 2 * max_keep and self._hist_feats is not None:
            cut = len(self._hist_states) - max_keep
            self._hist_states = self._hist_states[cut:]
            self._hist_feats = _slice_features(
                self._hist_feats, cut, self._computed - self._hist_first
            )
            self._hist_first += cut


def _concat_features(parts: list[FrameFeatures]) -> FrameFeatures:
    names = ("tilt_deg", "tilt_fine_deg", "lateral_deg", "energy_mps2", "periodicity")
    return FrameFeatures(**{k: np.concatenate([getattr(f, k) for f in parts]) for k in names})


def _slice_features(f: FrameFeatures, a: int, b: int) -> FrameFeatures:
    return FrameFeatures(
        f.tilt_deg[a:b],
        f.tilt_fine_deg[a:b],
        f.lateral_deg[a:b],
        f.energy_mps2[a:b],
        f.periodicity[a:b],
    )
