"""Static hip-hiking: a lateral tilt held beyond the person's habitual one in an activity."""

from __future__ import annotations

import itertools
import math
from collections import Counter

import numpy as np
from numpy.typing import NDArray

from analysis.hiphike.params import HipHikeParams
from analysis.hiphike.results import FloatArray, HipHikeEpisode, Span, confidence

#: The baseline is updated once per whole second of the clock (``floor(time_s)``), from
#: the samples of the seconds before; a second is the unit of "time in the activity".
BLOCK_S = 1.0
#: Histogram of the lateral tilt per activity for a running median: 0.05 deg bins.
_BIN_DEG = 0.05
_RANGE_DEG = 45.0
_N_BINS = int(2 * _RANGE_DEG / _BIN_DEG)

SUPPRESSED_SHORT = "static: held shorter than the minimum duration"
SUPPRESSED_HABITUAL = "static: this person's habitual {activity} tilt, not a hike"
SUPPRESSED_UNKNOWN = "static: tilted from neutral before the {activity} baseline was known"


class StaticDetector:
    """Hysteresis state machine on runs of samples with the same (activity, level).

    The level of a sample is its lateral tilt less the baseline of its activity: the
    median tilt of the person in that activity in the whole seconds before (samples at or
    beyond the release level left out, so a hike never becomes its own reference), once
    ``static_baseline_min_s`` of it are known; before that the baseline is neutral
    standing and the entry threshold ``static_unknown_baseline_deg``.
    """

    def __init__(self, params: HipHikeParams) -> None:
        self.p = params
        self.span: Span | None = None
        self.closed: list[HipHikeEpisode] = []
        self.suppressed: Counter[str] = Counter()
        n_act = len(params.static_activities)
        self._hist = np.zeros((n_act, _N_BINS), dtype=np.int64)
        self._seconds = np.zeros(n_act, dtype=np.int64)
        self._base = np.zeros(n_act + 1)  # last entry: samples of no static activity
        self._known = np.zeros(n_act + 1, dtype=bool)
        # Samples enter a baseline only below this distance from it (per activity).
        self._keep_below = np.full(n_act + 1, params.static_unknown_baseline_deg)
        for a, name in enumerate(params.static_activities):
            if name in params.static_neutral_baseline:
                # Known (0 = neutral) already; the first whole second measured replaces it.
                self._known[a] = True
                self._seconds[a] = math.ceil(params.static_baseline_min_s)
                self._keep_below[a] = params.static_release_deg
        self._block = -math.inf
        self._rebaseline: set[int] = set()
        self._pending: list[tuple[NDArray[np.intp], FloatArray]] = []
        # Shadow run: tilted >= the threshold from neutral but not beyond the baseline.
        self._shadow: tuple[int, int, float, float, str] | None = None

    def feed(
        self,
        t: FloatArray,
        lat: FloatArray,
        act_code: NDArray[np.intp],
        rebaseline: NDArray[np.bool_] | None = None,
    ) -> None:
        """Evaluate new samples.

        Parameters
        ----------
        t, lat : ndarray, shape (N,)
            Times (s) and lateral tilt (deg).
        act_code : ndarray of int, shape (N,)
            Index into ``static_activities``, or -1 (another activity, unknown tilt).
        rebaseline : ndarray of bool, shape (N,), optional
            Samples after which the baselines of the static activities other than their
            own are learnt afresh (from the next second on).
        """
        p = self.p
        if rebaseline is None:
            rebaseline = np.zeros(t.size, dtype=bool)
        base, known = self._baselines(t, lat, act_code, rebaseline)
        dev = lat - base
        entry = np.where(known, p.static_threshold_deg, p.static_unknown_baseline_deg)
        release = entry - (p.static_threshold_deg - p.static_release_deg)
        mag = np.abs(dev)
        level = np.where(mag >= entry, 2, np.where(mag >= release, 1, 0))
        level = (level * np.sign(np.nan_to_num(dev))).astype(np.intp)
        level[act_code < 0] = 0
        self._count_shadow(t, lat, act_code, level, known)
        code = act_code * 16 + (level + 2) * 2 + known  # unique per (activity, level, known)
        breaks = (
            np.nonzero((code[1:] != code[:-1]) | (np.diff(t) > p.static_max_interruption_s))[0] + 1
        )
        bounds = np.concatenate(([0], breaks, [t.size]))
        for i, j in itertools.pairwise(bounds.tolist()):
            self._run(
                t[i:j],
                lat[i:j],
                dev[i:j],
                int(act_code[i]),
                int(level[i]),
                bool(known[i]),
                float(base[i]),
            )

    # ------------------------------------------------------------------ baselines

    def _baselines(
        self,
        t: FloatArray,
        lat: FloatArray,
        code: NDArray[np.intp],
        rebaseline: NDArray[np.bool_],
    ) -> tuple[FloatArray, NDArray[np.bool_]]:
        """Per-sample baseline and whether it is known, from whole seconds before."""
        p = self.p
        base = np.zeros(t.size)
        known = np.zeros(t.size, dtype=bool)
        usable = (code >= 0) & np.isfinite(lat)
        block = np.floor(t / BLOCK_S)
        starts = np.flatnonzero(np.r_[True, block[1:] != block[:-1]])
        resets = np.add.reduceat(rebaseline, starts) > 0 if t.size else np.zeros(0, bool)
        ends = [*starts[1:].tolist(), t.size]
        for i, j, b, reset in zip(
            starts.tolist(), ends, block[starts].tolist(), resets.tolist(), strict=True
        ):
            if b != self._block:
                self._commit()
                self._block = b
            c = code[i:j]
            base[i:j] = self._base[c]  # code -1 picks the last entry (0, unknown)
            known[i:j] = self._known[c]
            keep = usable[i:j] & (np.abs(lat[i:j] - base[i:j]) < self._keep_below[c])
            if keep.any():
                self._pending.append((c[keep], lat[i:j][keep]))
            if reset:
                # Every baseline but that of the activity held (sitting resets standing);
                # at the end of this second, so that chunking cannot change the result.
                held = set(c[rebaseline[i:j]].tolist())
                self._rebaseline |= {a for a in range(len(p.static_activities)) if a not in held}
        return base, known

    def _commit(self) -> None:
        p = self.p
        n_act = len(p.static_activities)
        for a in self._rebaseline:
            self._hist[a] = 0
            self._seconds[a] = 0
            self._base[a] = 0.0
            self._known[a] = False
            self._keep_below[a] = p.static_unknown_baseline_deg
        reset, self._rebaseline = self._rebaseline, set()
        if not self._pending:
            return
        codes = np.concatenate([c for c, _ in self._pending])
        lats = np.concatenate([v for _, v in self._pending])
        self._pending = []
        bins = np.clip(((lats + _RANGE_DEG) / _BIN_DEG).astype(np.intp), 0, _N_BINS - 1)
        hist = np.bincount(codes * _N_BINS + bins, minlength=n_act * _N_BINS)
        for a in set(codes.tolist()) - reset:
            self._hist[a] += hist[a * _N_BINS : (a + 1) * _N_BINS]
            self._seconds[a] += 1
            if self._seconds[a] >= p.static_baseline_min_s:
                cum = np.cumsum(self._hist[a])
                k = int(np.searchsorted(cum, cum[-1] / 2))
                self._base[a] = -_RANGE_DEG + (k + 0.5) * _BIN_DEG
                self._known[a] = True
                self._keep_below[a] = p.static_release_deg

    # ------------------------------------------------------------------ suppressed

    def _count_shadow(
        self,
        t: FloatArray,
        lat: FloatArray,
        act: NDArray[np.intp],
        level: NDArray[np.intp],
        known: NDArray[np.bool_],
    ) -> None:
        """Count spans a neutral-referenced threshold would have flagged and this does not."""
        p = self.p
        tilted = (act >= 0) & (np.abs(np.nan_to_num(lat)) >= p.static_threshold_deg)
        tilted &= np.abs(level) < 2
        key = np.where(tilted, (act + 1) * np.sign(lat), 0).astype(np.intp)
        breaks = np.nonzero(key[1:] != key[:-1])[0] + 1
        for i, j in itertools.pairwise([0, *breaks.tolist(), t.size]):
            k = int(key[i])
            sh = self._shadow
            if k == 0:
                if sh is not None and t[i] - sh[3] > p.static_max_interruption_s:
                    self._shadow = None
                continue
            if sh is None or sh[0] != k or t[i] - sh[3] > p.static_max_interruption_s:
                sh = (k, int(act[i]), float(t[i]), float(t[i]), "")
            counted = sh[4]
            name = p.static_activities[sh[1]]
            why = (SUPPRESSED_HABITUAL if known[j - 1] else SUPPRESSED_UNKNOWN).format(
                activity=name
            )
            if not counted and t[j - 1] - sh[2] >= p.static_min_duration_s:
                self.suppressed[why] += 1
                counted = why
            elif counted and counted != why and known[j - 1]:
                # The baseline became known while the span went on: it is the habitual tilt.
                self.suppressed[counted] -= 1
                self.suppressed[why] += 1
                counted = why
            self._shadow = (sh[0], sh[1], sh[2], float(t[j - 1]), counted)

    # ------------------------------------------------------------------ episodes

    def _run(
        self,
        t: FloatArray,
        lat: FloatArray,
        dev: FloatArray,
        act: int,
        level: int,
        known: bool,
        base: float,
    ) -> None:
        p = self.p
        sp = self.span
        if sp is not None:
            sign = 1 if sp.side == "left" else -1
            same_act = act >= 0 and p.static_activities[act] == sp.activity
            if same_act and sign * level >= 1 and t[0] - sp.end_s <= p.static_max_interruption_s:
                sp.commit()
                self._add(sp, t, lat * sign, dev * sign)
                return
            if act >= 0 and not same_act:  # e.g. stood up: a new posture, a new episode
                self.close()
                self._run(t, lat, dev, act, level, known, base)
                return
            k = int(np.searchsorted(t, sp.end_s + p.static_max_interruption_s, side="right"))
            if same_act and k > 0:
                signed = lat[:k] * sign
                sp.pend_total += float(np.nansum(signed))
                sp.pend_count += k
                sp.pend_peak = max(sp.pend_peak, float(np.nanmax(signed, initial=-np.inf)))
            if k == t.size and not (same_act and sign * level >= 1):
                return
            self.close()
            t, lat, dev = t[k:], lat[k:], dev[k:]
            if t.size == 0:
                return
        if act >= 0 and abs(level) == 2:
            side = "left" if level > 0 else "right"
            sp = Span(side, p.static_activities[act], float(t[0]), float(t[0]))
            sp.baseline_deg = base
            sp.baseline_known = known
            self.span = sp
            sign = 1 if level > 0 else -1
            self._add(sp, t, lat * sign, dev * sign)

    def _add(self, sp: Span, t: FloatArray, signed: FloatArray, signed_dev: FloatArray) -> None:
        sp.total += float(signed.sum())
        sp.count += t.size
        sp.peak = max(sp.peak, float(signed.max()))
        sp.score_total += float(signed_dev.sum())
        sp.score_count += t.size
        sp.end_s = float(t[-1])
        if sp.end_s - sp.start_s >= self.p.static_min_duration_s:
            sp.confirmed = True

    def episode(self, sp: Span) -> HipHikeEpisode:
        """The episode of a span, with its confidence and reason."""
        p = self.p
        duration_s = sp.end_s - sp.start_s
        if sp.baseline_known:
            ref = (
                f"this person's {sp.activity} baseline ({round(sp.baseline_deg, 1) + 0.0:+.1f} deg)"
            )
            thr = p.static_threshold_deg
        else:
            ref = f"neutral standing (no {sp.activity} baseline yet)"
            thr = p.static_unknown_baseline_deg
        reason = f"{sp.side} side {sp.score:.1f} deg higher than {ref} for {duration_s:.0f} s"
        conf = confidence(sp.score, thr, duration_s, p.static_min_duration_s)
        if not sp.baseline_known:
            conf *= 0.5
        return sp.episode("static", conf, reason)

    def close(self) -> None:
        """End the open span (an episode if it was confirmed)."""
        if self.span is not None:
            if self.span.confirmed:
                self.closed.append(self.episode(self.span))
            else:
                self.suppressed[SUPPRESSED_SHORT] += 1
        self.span = None
