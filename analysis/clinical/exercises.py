"""Exercises with biofeedback and a score per set.

- pelvic tilt control: tilt to targets and hold; counts holds in band, range reached;
- level-pelvis single-leg balance: time within +-2 deg of the standing level on one leg;
- sit-to-stand without lateral shift: rises with less than the shift threshold;
- level walking: the gait hip-hike pattern from :class:`analysis.hiphike.HipHikeTracker`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from analysis.clinical.balance import StanceParams, analyze_single_leg_stance
from analysis.clinical.signals import Outcome, Signals, State, bridge, lowpass, runs
from analysis.clinical.sts import StsParams, analyze_sit_to_stand
from analysis.gait import detect_gait
from analysis.hiphike import HipHikeParams, HipHikeTracker
from analysis.hiphike.drop import PelvicDropTracker


@dataclass(frozen=True, kw_only=True)
class TiltTargets:
    """A tilt-control set, targets set per person.

    Attributes
    ----------
    targets_deg : tuple of float
        Anterior tilt targets relative to neutral (+ forward, - backward).
    band_deg : float
        Half-width of the band around each target.
    hold_s : float
        Time in the band that counts as one hold.
    reps : int
        Holds asked for (the score is holds / reps).
    max_gap_s : float
        Short excursions out of the band that do not break a hold.
    """

    targets_deg: tuple[float, ...] = (8.0, -8.0)
    band_deg: float = 2.0
    hold_s: float = 3.0
    reps: int = 6
    max_gap_s: float = 0.2


def tilt_control(sig: Signals, targets: TiltTargets | None = None, *,
                 final: bool = True) -> Outcome:
    """Pelvic tilt control: holds in band counted per target, range reached, score."""
    p = targets or TiltTargets()
    kind = "tilt_control"
    if sig.n < 2:
        return Outcome(kind, State.WAITING, "Tilt your pelvis forward to the target")
    tilt = lowpass(sig.anterior_tilt_deg, sig.rate_hz, 3.0)
    t = sig.time_s
    gap = round(p.max_gap_s * sig.rate_hz)
    holds: list[dict[str, Any]] = []
    current: dict[str, Any] = {}
    for target in p.targets_deg:
        inband = bridge(np.abs(tilt - target) <= p.band_deg, gap)
        for a, b in runs(inband):
            dur = float(t[b - 1] - t[a])
            if dur >= p.hold_s:
                holds.append({"target_deg": target, "start_s": float(t[a]),
                              "duration_s": dur, "mean_deg": float(tilt[a:b].mean())})
            if b == sig.n:  # in band now
                current = {"target_deg": target, "in_band_s": dur}
    holds.sort(key=lambda h: h["start_s"])
    reached = (float(np.percentile(tilt, 99)), float(np.percentile(tilt, 1)))
    per_target = {f"{tg:+g}": sum(1 for h in holds if h["target_deg"] == tg)
                  for tg in p.targets_deg}
    fb = {"anterior_tilt_deg": float(sig.anterior_tilt_deg[-1]), "holds": len(holds),
          "of": p.reps, "in_band": bool(current), "in_band_s": current.get("in_band_s", 0.0),
          "targets_deg": list(p.targets_deg), "band_deg": p.band_deg}
    if not final and len(holds) < p.reps:
        if current and current["in_band_s"] >= p.hold_s:
            msg = "Counted - back to neutral"
        elif current:
            msg = f"Hold {current['in_band_s']:.0f} of {p.hold_s:.0f} s"
        else:
            msg = "Go to the next target"
        return Outcome(kind, State.RUNNING, msg, feedback=fb)
    result = {
        "holds": len(holds),
        "holds_asked": p.reps,
        "holds_per_target": per_target,
        "hold_list": holds,
        "forward_reached_deg": reached[0],
        "backward_reached_deg": reached[1],
        "range_deg": reached[0] - reached[1],
        "band_deg": p.band_deg,
        "hold_s": p.hold_s,
        "score_pct": 100.0 * min(len(holds), p.reps) / p.reps,
    }
    return Outcome(kind, State.DONE, f"{len(holds)} of {p.reps} holds", result=result,
                   feedback=fb)


def level_balance(sig: Signals, side: str, *, band_deg: float = 2.0,
                  params: StanceParams | None = None, final: bool = True) -> Outcome:
    """Level-pelvis single-leg balance: time with the pelvis within +-band of level."""
    out = analyze_single_leg_stance(sig, side, params, final=final)
    kind = "level_balance"
    if out.state is not State.DONE:
        fb = dict(out.feedback)
        if "drop_deg" in fb:
            fb["level"] = abs(fb["drop_deg"]) <= band_deg
        msg = out.message
        if "drop_deg" in fb:
            free = fb["unsupported_side"]
            msg = "Level - keep it" if fb["level"] else (
                f"Lift the {free} side" if fb["drop_deg"] > 0 else f"Lower the {free} side")
        return Outcome(kind, out.state, msg, feedback=fb, side=side)
    r = out.result
    t = sig.time_s
    quiet = int((params or StanceParams()).quiet_s * sig.rate_hz)
    lift, end = r["lift_s"], r["lift_s"] + r["hold_s"]
    first = int(np.searchsorted(t, lift))
    base = float(np.median(sig.lateral_tilt_deg[max(0, first - 2 * quiet): max(1, first - quiet)]))
    sel = (t >= lift) & (t <= end)
    level = np.abs(sig.lateral_tilt_deg[sel] - base) <= band_deg
    within = float(level.mean() * r["hold_s"]) if level.size else 0.0
    result = {"stance_side": side, "hold_s": r["hold_s"], "time_level_s": within,
              "band_deg": band_deg, "score_pct": 100.0 * within / 30.0,
              "drop_deg": r["drop_deg"]}
    return Outcome(kind, State.DONE, f"Level for {within:.0f} s", result=result, side=side)


def sts_no_shift(sig: Signals, params: StsParams | None = None, *,
                 final: bool = True) -> Outcome:
    """Sit-to-stand without lateral shift: rises within the shift threshold count."""
    p = params or StsParams()
    out = analyze_sit_to_stand(sig, p, final=final)
    kind = "sts_no_shift"
    if out.state is not State.DONE:
        return Outcome(kind, out.state, out.message, feedback=out.feedback)
    rises = out.result["rises"]
    good = sum(1 for r in rises if r["favoured_side"] == "none")
    result = {"rises": len(rises), "rises_without_shift": good,
              "shift_deg": [r["shift_deg"] for r in rises],
              "threshold_deg": p.shift_threshold_deg, "score_pct": 100.0 * good / len(rises)}
    return Outcome(kind, State.DONE, f"{good} of {len(rises)} rises level", result=result)


@dataclass
class LevelWalking:
    """Level walking with feedback when a gait hike pattern appears (live and batch).

    Steps are detected on the last ``window_s`` of samples after every chunk; contacts
    older than ``settle_s`` are handed once to the hip-hike tracker, which flags a run of
    hiked swings as it does on the dashboard; its per-step swing measures go on to the
    pelvic-drop tracker (:class:`analysis.hiphike.drop.PelvicDropTracker`), which flags a
    run of excessively dropped swings (Trendelenburg gait).
    """

    rate_hz: float
    params: HipHikeParams | None = None
    window_s: float = 8.0
    settle_s: float = 1.5
    detect_every_s: float = 0.5
    min_step_s: float = 0.25
    _tracker: HipHikeTracker = field(init=False)
    _last_ic: float = field(init=False, default=-np.inf)
    _last_detect: float = field(init=False, default=-np.inf)
    _episodes: list[dict[str, Any]] = field(init=False, default_factory=list)
    _drops: list[dict[str, Any]] = field(init=False, default_factory=list)
    _steps: int = field(init=False, default=0)
    _drop: PelvicDropTracker = field(init=False)
    _pushed: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        self._tracker = HipHikeTracker(self.params, max_ic_delay_s=self.window_s,
                                       record_steps=True)
        self._drop = PelvicDropTracker()

    def update(self, recent: Signals, new_from: int, *, final: bool = False) -> Outcome:
        """Feed the last ``window_s`` of samples; ``recent[new_from:]`` are new."""
        kind = "level_walking"
        t = recent.time_s
        ics = np.empty(0)
        sides = np.empty(0, dtype="<U7")
        due = final or (t.size > 0 and t[-1] - self._last_detect >= self.detect_every_s)
        if recent.n > 2 * self.rate_hz and due:
            self._last_detect = float(t[-1])
            g = detect_gait(recent.acc_p_mps2, recent.gyr_p_rps, rate_hz=recent.rate_hz,
                            up_p=recent.up_p())
            ics, sides = g.ic_time_s + t[0], g.ic_side
            # Contacts near the window's edges move between windows: each is taken once,
            # when it is settle_s old, and one within min_step_s of the last is the same.
            keep = (ics > self._last_ic + self.min_step_s) & (
                (ics < t[-1] - self.settle_s) | final)
            ics, sides = ics[keep], sides[keep]
            if ics.size > 1:
                distinct = np.concatenate(([True], np.diff(ics) > self.min_step_s))
                ics, sides = ics[distinct], sides[distinct]
        new_t = t[new_from:]
        upd = self._tracker.update(new_t, recent.lateral_tilt_deg[new_from:],
                                   np.full(new_t.size, "walking"), ics, sides)
        if ics.size:
            self._last_ic = float(ics[-1])
            self._steps += int(ics.size)
        if final:
            upd = self._tracker.finish()
        self._episodes += [e.to_dict() for e in upd.closed if e.kind == "gait"]
        steps = self._tracker.steps
        for step in steps[self._pushed:]:
            self._drops += [e.to_dict() for e in self._drop.push(step)]
        self._pushed = len(steps)
        if final:
            self._drops += [e.to_dict() for e in self._drop.finish()]
        flag, drop = upd.flag, self._drop.flag
        fb = {"steps": self._steps, "flag": flag, "drop_flag": drop}
        if not final:
            msg = (f"Hip hike on the {flag} - keep the pelvis level" if flag else
                   f"The {drop} side drops - hold it up" if drop else "Level - good")
            return Outcome(kind, State.RUNNING, msg, feedback=fb)
        hike_sides = sorted({str(e["side"]) for e in self._episodes})
        drop_sides = sorted({str(e["side"]) for e in self._drops})
        result = {"steps": self._steps, "hike_episodes": self._episodes, "hike_sides": hike_sides,
                  "drop_episodes": self._drops, "drop_sides": drop_sides}
        found = [f"hip hike on the {' and '.join(hike_sides)}"] if hike_sides else []
        found += [f"pelvic drop on the {' and '.join(drop_sides)}"] if drop_sides else []
        msg = "; ".join(found).capitalize() if found else "Level walking"
        return Outcome(kind, State.DONE, msg, result=result, feedback=fb)


def level_walking(sig: Signals, params: HipHikeParams | None = None, *,
                  chunk_s: float = 0.5) -> Outcome:
    """Level walking on a whole span: the live :class:`LevelWalking` fed in chunks."""
    lw = LevelWalking(sig.rate_hz, params)
    step = max(1, int(chunk_s * sig.rate_hz))
    win = int(lw.window_s * sig.rate_hz)
    out = Outcome("level_walking", State.WAITING, "Walk with a level pelvis")
    prev = 0
    while prev < sig.n:
        end = min(prev + step, sig.n)
        a = max(0, end - win)
        recent = sig.window(float(sig.time_s[a]), float(sig.time_s[end - 1]) + 1e-9)
        out = lw.update(recent, prev - a, final=end == sig.n)
        prev = end
    return out
