"""Live activity tracking with a fixed lag: :class:`ActivityTracker`."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike, NDArray

from analysis.activity.decoder import Decoder
from analysis.activity.features import (
    FrameFeatures,
    frame_features,
    gait_signal,
    samples_in,
    state_costs,
)
from analysis.activity.params import ACTIVITY_OF_STATE, FAMILY_OF_STATE, ActivityParams
from analysis.activity.results import TransitionEvent
from analysis.activity.transitions import locate_transitions, state_runs
from analysis.labels import Activity, Codes

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]



@dataclass
class ActivityUpdate:
    """Labels the tracker has decided on.

    Attributes
    ----------
    first_index : int
        Index (since the tracker started) of the first labelled sample.
    labels : ndarray of int8 (K,)
        :class:`~analysis.labels.Activity` codes of samples ``first_index .. first_index + K - 1``.
    transitions : list of TransitionEvent
        Posture changes recognised since the last update (they may refer to samples
        emitted earlier).
    provisional : ndarray of int8 (N,)
        A label for each sample of the chunk just fed, usable at once (e.g. by the live
        hip-hike tracker): the most recently decided label, held ("unknown" before the
        first decision). A held posture keeps its label, so this is right except for the
        ~``lag_s`` after a change of activity; ``labels`` later gives the decided ones.
        Empty from :meth:`ActivityTracker.finish`.
    """

    first_index: int
    labels: Codes
    transitions: list[TransitionEvent]
    provisional: Codes = field(default_factory=lambda: np.empty(0, np.int8))


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
        self._hop = samples_in(p.frame_s, rate_hz)
        # Frame k (samples [k*hop, (k+1)*hop), centre c) is computable once the sample
        # c + ahead - 1 exists, and decided ``lag_frames`` frames later.
        window = samples_in(p.gait_window_s, rate_hz)
        self._ahead = window - window // 2
        self._ahead = max(self._ahead, samples_in(p.lookahead_s, rate_hz))
        max_lag_n = int(np.floor(p.max_lag_s * rate_hz + 1e-9))
        self.lag_frames = max(0, (max_lag_n + 1 - self._ahead - self._hop // 2) // self._hop)
        self._decoder = Decoder(p.min_frames(), p.switch_cost)
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
        self._last_label = Activity.UNKNOWN  # most recently decided label (for ``provisional``)

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
        update.provisional = np.full(k, self._last_label, np.int8)
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
        lab = ACTIVITY_OF_STATE[np.asarray(new_states, np.intp)]
        labels = np.repeat(lab, hop)
        first = (self._decided - len(new_states)) * hop
        labels = labels[: max(0, min(labels.size, self._n_seen - first))]
        if labels.size:
            self._last_label = Activity(labels[-1])
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
        runs = state_runs(FAMILY_OF_STATE[states])
        need = samples_in(p.level_window_s + 1.0, 1 / p.frame_s)
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
        max_keep = samples_in(120.0, 1 / self.params.frame_s)
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
