"""``detect_gait``: initial contacts with side, walking bouts and temporal measures."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from analysis.gait._signal import (
    FloatArray,
    check_rate,
    check_vector_signal,
    earth_components,
    up_from_acc,
)
from analysis.gait.bouts import GaitBout, bout_measures, split_bouts
from analysis.gait.events import detect_contacts, impact_signal
from analysis.gait.params import GaitParams
from analysis.gait.side import assign_sides, side_evidence

LEFT, RIGHT, UNKNOWN = "left", "right", "unknown"


@dataclass(frozen=True)
class GaitResult:
    """Output of :func:`detect_gait`.

    Attributes
    ----------
    ic_time_s : ndarray, shape (K,)
        Initial-contact times, s from the first sample, increasing. Only contacts inside
        walking bouts are reported.
    ic_side : ndarray of str, shape (K,)
        "left", "right" or "unknown" (confidence below ``min_side_confidence``).
    ic_confidence : ndarray, shape (K,)
        Posterior probability of the reported side, in [0.5, 1].
    ic_p_left : ndarray, shape (K,)
        Posterior probability that the contact is a left one.
    ic_bout : ndarray of int, shape (K,)
        Index into ``bouts`` of each contact.
    bouts : tuple of GaitBout
        Walking bouts in time order.
    side_source : str
        "ml_velocity+yaw_rate" or "ml_velocity" (no gyroscope).
    warnings : tuple of str
        Human-readable notes on what could not be done or is degraded.
    """

    ic_time_s: FloatArray
    ic_side: np.ndarray
    ic_confidence: FloatArray
    ic_p_left: FloatArray
    ic_bout: np.ndarray
    bouts: tuple[GaitBout, ...]
    side_source: str
    max_step_s: float
    warnings: tuple[str, ...] = field(default=())

    @property
    def n_steps(self) -> int:
        """Number of initial contacts in walking bouts."""
        return int(self.ic_time_s.size)

    @property
    def step_time_s(self) -> FloatArray:
        """Step times within bouts (pauses > ``max_step_s`` excluded), s, shape (M,)."""
        same = self.ic_bout[1:] == self.ic_bout[:-1]
        step = np.diff(self.ic_time_s)[same]
        return np.asarray(step[step <= self.max_step_s], dtype=np.float64)

    @property
    def cadence_spm(self) -> float:
        """Cadence over all bouts, 60 / mean step time, steps/min (NaN without steps)."""
        step = self.step_time_s
        return float(60 / step.mean()) if step.size else float("nan")

    @property
    def n_strides(self) -> int:
        """Number of complete strides (two steps) summed over bouts."""
        return int(sum(max(b.n_steps - 2, 0) for b in self.bouts))


def detect_gait(
    acc_p_mps2: FloatArray,
    gyr_p_rps: FloatArray | None,
    *,
    rate_hz: float,
    up_p: FloatArray | None = None,
    params: GaitParams | None = None,
) -> GaitResult:
    """Initial contacts with left/right side, walking bouts, cadence and variability.

    Parameters
    ----------
    acc_p_mps2 : ndarray, shape (N, 3)
        Specific force in the pelvis frame P (x anterior, y left, z up), m/s^2, uniformly
        sampled.
    gyr_p_rps : ndarray, shape (N, 3), or None
        Angular rate in frame P, rad/s; None for acceleration-only sensors (sides then come
        from the medio-lateral acceleration alone, and a warning says so).
    rate_hz : float
        Sampling rate, Hz (keyword).
    up_p : ndarray, shape (N, 3), optional
        Unit vector pointing up, expressed in P, per sample (e.g. the third row of the
        P->earth rotation from :mod:`analysis.orientation`). Default: the direction of the
        0.3 Hz low-passed acceleration, which is adequate for walking.
    params : GaitParams, optional
        Algorithm parameters; defaults are physiological, not tuned per recording.

    Returns
    -------
    GaitResult

    Raises
    ------
    ValueError
        On wrongly shaped, non-finite or inconsistent inputs.

    Notes
    -----
    Algorithm: see :mod:`analysis.gait.events` (contacts) and :mod:`analysis.gait.side`
    (left/right). Walking bouts are runs of at least ``min_bout_steps`` contacts with no
    pause longer than ``max_pause_s``.
    """
    p = params if params is not None else GaitParams()
    rate = check_rate(rate_hz)
    acc = check_vector_signal("acc_p_mps2", acc_p_mps2)
    n = acc.shape[0]
    gyr = None if gyr_p_rps is None else check_vector_signal("gyr_p_rps", gyr_p_rps, n)
    if up_p is None:
        up = up_from_acc(acc, rate_hz=rate)
    else:
        up = check_vector_signal("up_p", up_p, n)
        up = up / np.maximum(np.linalg.norm(up, axis=1, keepdims=True), 1e-9)
    notes: list[str] = []
    if n < int(2 * rate):
        notes.append("recording shorter than 2 s: no gait analysis")
        return _empty(notes, "ml_velocity" if gyr is None else "ml_velocity+yaw_rate", p)

    acc_v, acc_ap, acc_ml = earth_components(acc, up, rate_hz=rate)
    impact = impact_signal(acc_v, acc_ap, rate_hz=rate, params=p)
    cand = detect_contacts(impact, rate_hz=rate, params=p)
    idx = cand.index[cand.chosen]
    t = idx / rate
    bout_id = split_bouts(t, max_step_s=p.max_pause_s, min_steps=p.min_bout_steps)
    keep = bout_id >= 0
    idx, t, bout_id = idx[keep], t[keep], bout_id[keep]

    yaw = None if gyr is None else np.einsum("ij,ij->i", gyr, up)
    vel_ml, neg_yaw = side_evidence(acc_ml, yaw, idx, rate_hz=rate, params=p)
    evidence, weights = [vel_ml], [1.0]
    if neg_yaw is not None:
        evidence.append(neg_yaw)
        weights.append(p.gyr_side_weight)
        source = "ml_velocity+yaw_rate"
    else:
        source = "ml_velocity"
        notes.append("no gyroscope: side from medio-lateral acceleration only")
    p_left, conf = assign_sides(t, evidence, weights, bout_id, params=p)
    side = np.where(p_left >= 0.5, LEFT, RIGHT).astype(object)
    side[conf < p.min_side_confidence] = UNKNOWN
    if np.any(side == UNKNOWN):
        notes.append(
            f"{int(np.sum(side == UNKNOWN))} step(s) with side confidence below "
            f"{p.min_side_confidence:.2f}: side unknown"
        )
    bouts = tuple(
        bout_measures(t[bout_id == b], side[bout_id == b], max_step_s=p.max_step_s)
        for b in range(int(bout_id.max(initial=-1)) + 1)
    )
    if not bouts:
        notes.append("no walking bout found")
    return GaitResult(
        ic_time_s=t,
        ic_side=side,
        ic_confidence=conf,
        ic_p_left=p_left,
        ic_bout=bout_id,
        bouts=bouts,
        side_source=source,
        max_step_s=p.max_step_s,
        warnings=tuple(notes),
    )


def _empty(notes: list[str], source: str, p: GaitParams) -> GaitResult:
    z = np.zeros(0)
    return GaitResult(
        ic_time_s=z,
        ic_side=np.zeros(0, dtype=object),
        ic_confidence=z,
        ic_p_left=z,
        ic_bout=np.zeros(0, dtype=np.intp),
        bouts=(),
        side_source=source,
        max_step_s=p.max_step_s,
        warnings=tuple(notes),
    )
