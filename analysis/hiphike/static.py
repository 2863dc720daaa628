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


def _bins(lat_deg: FloatArray) -> NDArray[np.intp]:
    """Histogram bin of each (finite) tilt."""
    return np.clip(((lat_deg + _RANGE_DEG) / _BIN_DEG).astype(np.intp), 0, _N_BINS - 1)


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
        self._total = np.zeros(n_act, dtype=np.int64)  # samples in each histogram
        self._k = np.full(n_act, -1, dtype=np.intp)  # median bin (-1: not from samples)
        self._block = -math.inf
        self._rebaseline: set[int] = set()
        self._pending: list[list[FloatArray]] = [[] for _ in range(n_act)]
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
        mag = np.abs(dev)  # NaN: level 0
        entry_deg = (p.static_threshold_deg, p.static_unknown_baseline_deg)  # known, unknown
        drop_deg = p.static_threshold_deg - p.static_release_deg
        # One-byte arrays (not per-sample thresholds): these are whole-session arrays.
        level = np.where(known, mag >= entry_deg[0], mag >= entry_deg[1]).astype(np.int8)
        level += np.where(known, mag >= entry_deg[0] - drop_deg, mag >= entry_deg[1] - drop_deg)
        level[dev < 0] *= -1
        level[act_code < 0] = 0
        self._count_shadow(t, lat, act_code, level, known)
        # A new run where the activity, the level or whether the baseline is known change.
        new = np.diff(t) > p.static_max_interruption_s
        new |= act_code[1:] != act_code[:-1]
        new |= level[1:] != level[:-1]
        new |= known[1:] != known[:-1]
        breaks = np.nonzero(new)[0] + 1
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
        n_act = len(self.p.static_activities)
        base = np.zeros(t.size)  # samples of no static activity: 0, unknown
        known = np.zeros(t.size, dtype=bool)
        if t.size == 0:
            return base, known
        block = np.floor(t / BLOCK_S)
        new = np.r_[True, block[1:] != block[:-1]]
        block_of = np.cumsum(new)
        block_of -= 1
        n_blocks = int(block_of[-1]) + 1
        # Per second: whether it resets the baseline of each activity (every one but
        # that of the activity held: sitting resets standing).
        reb = np.flatnonzero(rebaseline)
        resets = np.zeros((n_blocks, n_act), dtype=bool)
        resets[block_of[reb]] = True
        held = code[reb] >= 0
        resets[block_of[reb][held], code[reb][held]] = False
        first = 0
        if block[0] == self._block:
            # The open second goes on: evaluated with the state it started with.
            first = 1
            n0 = int(np.searchsorted(block_of, 1))
            for a in range(n_act):
                idx = np.flatnonzero(code[:n0] == a)
                self._open_second(a, idx, lat, bool(resets[0, a]), base, known)
            if n_blocks > 1:
                self._commit()
        else:
            self._commit()
        for a in range(n_act):
            idx = np.flatnonzero(code == a)
            if first:
                idx = idx[block_of[idx] >= first]
            self._seconds_of(a, idx, block_of[idx], lat, resets[:, a], first, base, known)
        self._block = float(block[-1])
        return base, known

    def _open_second(
        self,
        a: int,
        idx: NDArray[np.intp],
        lat: FloatArray,
        reset: bool,
        base: FloatArray,
        known: NDArray[np.bool_],
    ) -> None:
        """Samples ``idx`` of activity ``a`` in the second the previous chunk left open."""
        base[idx] = self._base[a]
        known[idx] = self._known[a]
        v = lat[idx]
        keep = np.isfinite(v) & (np.abs(v - self._base[a]) < self._keep_below[a])
        if keep.any():
            self._pending[a].append(v[keep])
        if reset:
            self._rebaseline.add(a)

    def _seconds_of(
        self,
        a: int,
        idx: NDArray[np.intp],
        block_of: NDArray[np.intp],
        lat: FloatArray,
        resets: NDArray[np.bool_],
        first: int,
        base: FloatArray,
        known: NDArray[np.bool_],
    ) -> None:
        """Baselines of activity ``a`` over the seconds ``first`` .. last of a chunk.

        Equal to updating the histogram second by second, but vectorised over the runs
        of seconds in which the median stays in the same bin (the baseline then does not
        change, so the samples kept are known in advance): a run ends at the first second
        after which the median moves, the baseline becomes known, or a reset.
        """
        p = self.p
        n_blocks = resets.size
        last_open = n_blocks - 1  # the chunk's last second stays open (it may go on)
        bounds = np.searchsorted(block_of, np.arange(n_blocks + 1))
        v_all = lat[idx]
        ok_all = np.isfinite(v_all)
        bins_all = _bins(np.where(ok_all, v_all, 0.0))
        reset_at = np.flatnonzero(resets[first:]) + first
        # The end of each run of consecutive resetting seconds: after the first, the
        # baseline is the reset one (0, unknown) until the run ends.
        run_end = reset_at[np.r_[np.diff(reset_at) != 1, True]] if reset_at.size else reset_at
        window = 16
        pos = first
        while pos < n_blocks:
            r = (
                int(reset_at[np.searchsorted(reset_at, pos)])
                if reset_at.size and (reset_at[-1] >= pos)
                else last_open
            )
            last = min(r, last_open, pos + window - 1)
            # Seconds pos .. stop are committed normally (no reset, not the open one).
            stop = last if (last != r and last != last_open) else last - 1
            i, j = int(bounds[pos]), int(bounds[last + 1])
            b, k_med = self._base[a], self._k[a]
            base[idx[i:j]] = b
            known[idx[i:j]] = self._known[a]
            v = v_all[i:j]
            keep = ok_all[i:j] & (np.abs(v - b) < self._keep_below[a])
            kv = v[keep]
            kblock = block_of[i:j][keep] - pos
            kbins = bins_all[i:j][keep]
            n_norm = stop - pos + 1
            norm = kblock < n_norm
            change_at = -1
            if n_norm > 0:
                n = np.bincount(kblock[norm], minlength=n_norm)
                seconds = self._seconds[a] + np.cumsum(n > 0)
                total = self._total[a] + np.cumsum(n)
                change = (n > 0) & (seconds >= p.static_baseline_min_s)
                if k_med >= 0 and change.any():
                    below0 = int(self._hist[a, :k_med].sum())
                    upto0 = below0 + int(self._hist[a, k_med])
                    below = below0 + np.cumsum(
                        np.bincount(kblock[norm & (kbins < k_med)], minlength=n_norm)
                    )
                    upto = upto0 + np.cumsum(
                        np.bincount(kblock[norm & (kbins <= k_med)], minlength=n_norm)
                    )
                    change &= ~((2 * below < total) & (2 * upto >= total))
                hit = np.flatnonzero(change)
                if hit.size:
                    change_at = int(hit[0])
                    stop = pos + change_at
                    norm = kblock <= change_at
                    n_norm = change_at + 1
                if n.any():
                    self._hist[a] += np.bincount(kbins[norm], minlength=_N_BINS)
                    self._seconds[a] = int(seconds[n_norm - 1])
                    self._total[a] = int(total[n_norm - 1])
            if change_at >= 0:
                self._update_median(a)
                window = max(8, 2 * (change_at + 1))
                pos = stop + 1
                continue
            window *= 2
            if last == last_open:
                if kv.size and kblock[-1] == last - pos:
                    self._pending[a].append(kv[kblock == last - pos])
                if resets[last]:
                    self._rebaseline.add(a)
            elif last == r:
                self._reset(a)
                # The rest of the run: the reset baseline throughout.
                last = min(int(run_end[np.searchsorted(run_end, r)]), last_open - 1)
                rest = idx[int(bounds[r + 1]) : int(bounds[last + 1])]
                base[rest] = self._base[a]
                known[rest] = self._known[a]
            pos = last + 1

    def _reset(self, a: int) -> None:
        self._hist[a] = 0
        self._seconds[a] = 0
        self._total[a] = 0
        self._base[a] = 0.0
        self._known[a] = False
        self._k[a] = -1
        self._keep_below[a] = self.p.static_unknown_baseline_deg

    def _update_median(self, a: int) -> None:
        cum = np.cumsum(self._hist[a])
        k = int(np.searchsorted(cum, cum[-1] / 2))
        self._k[a] = k
        self._base[a] = -_RANGE_DEG + (k + 0.5) * _BIN_DEG
        self._known[a] = True
        self._keep_below[a] = self.p.static_release_deg

    def _commit(self) -> None:
        """End the open second: its resets, then its samples into the histograms."""
        for a in self._rebaseline:
            self._reset(a)
            self._pending[a] = []
        self._rebaseline = set()
        for a, kept in enumerate(self._pending):
            if not kept:
                continue
            v = np.concatenate(kept)
            self._pending[a] = []
            self._hist[a] += np.bincount(_bins(v), minlength=_N_BINS)
            self._seconds[a] += 1
            self._total[a] += v.size
            if self._seconds[a] >= self.p.static_baseline_min_s:
                self._update_median(a)

    # ------------------------------------------------------------------ suppressed

    def _count_shadow(
        self,
        t: FloatArray,
        lat: FloatArray,
        act: NDArray[np.intp],
        level: NDArray[np.int8],
        known: NDArray[np.bool_],
    ) -> None:
        """Count spans a neutral-referenced threshold would have flagged and this does not."""
        p = self.p
        tilted = (act >= 0) & (np.abs(lat) >= p.static_threshold_deg)  # NaN: not tilted
        tilted &= np.abs(level) < 2
        key = np.where(tilted, act + 1, 0)  # tilted: lat is not 0
        key[lat < 0] *= -1
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
