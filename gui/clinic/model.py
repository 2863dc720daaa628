"""The guided test / exercise screen's state machine, without Qt.

Fed sample chunks (``time_s, acc_mps2, gyr_rps`` in the sensor frame) by any source - the
replay of a simulated session here, a sensor later - it runs the causal tilt
(:class:`analysis.tilt.TiltTracker`) and, after each chunk, the SAME analysis function a
recording is analysed with (:mod:`analysis.clinical`) on the samples since "go". Steps:

``countdown`` (instruction shown, ``countdown_s`` of data) -> ``measure`` (automatic start
and stop from the signal; live feedback) -> ``result`` (values) or ``repeat`` (reason).
Every :class:`View` carries the data time it reflects, so the delay between data and
feedback is checked on model timestamps, not on a wall clock.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from analysis.calibration import Calibration
from analysis.clinical import (
    LevelWalking,
    Outcome,
    Signals,
    State,
    TiltTargets,
    WalkParams,
    analyze_single_leg_stance,
    analyze_sit_to_stand,
    analyze_standing,
    analyze_walk,
    level_balance,
    sts_no_shift,
    tilt_control,
)
from analysis.tilt import TiltTracker

FloatArray = NDArray[np.float64]
#: Test and exercise names the screen runs.
KINDS = ("standing", "sls", "sts", "walk", "tilt_control", "level_balance", "sts_no_shift",
         "level_walking")
ONE_SIDED = ("sls", "level_balance")
TITLES = {
    "standing": "Standing posture", "sls": "Single-leg stance", "sts": "5x sit-to-stand",
    "walk": "Walk test", "tilt_control": "Pelvic tilt control",
    "level_balance": "Level balance", "sts_no_shift": "Sit-to-stand, no shift",
    "level_walking": "Level walking",
}


class Step(enum.Enum):
    """Where the guided screen stands."""

    COUNTDOWN = "countdown"
    MEASURE = "measure"
    RESULT = "result"
    REPEAT = "repeat"


@dataclass(frozen=True, kw_only=True)
class ClinicSpec:
    """What to run.

    Attributes
    ----------
    kind : str
        One of :data:`KINDS`.
    side : str or None
        Stance side of one-sided tests.
    age_years : float or None
        For the sit-to-stand norms.
    targets : TiltTargets
        Tilt-control targets set for this person.
    countdown_s : float
        Seconds of data between the instruction and "go".
    walk_s : float or None
        Timed walk (e.g. 120 s); None: until stopped.
    """

    kind: str
    side: str | None = None
    age_years: float | None = None
    targets: TiltTargets = field(default_factory=TiltTargets)
    countdown_s: float = 3.0
    walk_s: float | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown test {self.kind!r}: use one of {', '.join(KINDS)}")
        if self.kind in ONE_SIDED and self.side not in ("left", "right"):
            raise ValueError(f"{self.kind} needs side 'left' or 'right'")

    @property
    def title(self) -> str:
        """Screen title."""
        side = f" - {self.side} leg" if self.kind in ONE_SIDED and self.side else ""
        return TITLES[self.kind] + side


@dataclass(frozen=True)
class View:
    """One frame of the screen.

    Attributes
    ----------
    step : Step
    title, headline, value, detail : str
        Texts from the largest to the smallest.
    tone : str
        ``"neutral"``, ``"good"``, ``"bad"`` (colour of the value).
    data_time_s : float
        Newest sample time this frame reflects.
    process_s : float
        Wall time the last chunk took (analysis included).
    feedback : dict
        Live values of the analysis.
    outcome : Outcome or None
        The final outcome (result or repeat).
    trace_time_s, trace_deg : ndarray
        The last seconds of the exercised angle for the plot.
    band_deg : tuple of (float, float) or None
        Target band(s) shown on the plot.
    """

    step: Step
    title: str
    headline: str
    value: str = ""
    detail: str = ""
    tone: str = "neutral"
    data_time_s: float = float("nan")
    process_s: float = 0.0
    feedback: dict[str, Any] = field(default_factory=dict)
    outcome: Outcome | None = None
    trace_time_s: FloatArray = field(default_factory=lambda: np.empty(0))
    trace_deg: FloatArray = field(default_factory=lambda: np.empty(0))
    bands_deg: tuple[tuple[float, float], ...] = ()
    trace_label: str = ""


class ClinicModel:
    """Guided test or exercise fed chunk by chunk (see the module docstring).

    Parameters
    ----------
    spec : ClinicSpec
        What to run.
    rate_hz : float
        Sampling rate of the source.
    calibration : Calibration
        Sensor-to-pelvis rotation (a preset mount or an earlier calibration).
    trace_s : float
        Length of the plotted trace.
    """

    def __init__(self, spec: ClinicSpec, rate_hz: float, calibration: Calibration,
                 *, trace_s: float = 12.0) -> None:
        self.spec = spec
        self.rate_hz = float(rate_hz)
        self.trace_s = trace_s
        self._tilt = TiltTracker(self.rate_hz, calibration)
        self._cal = calibration
        self._chunks: list[tuple[FloatArray, ...]] = []
        self._arrays: tuple[FloatArray, ...] | None = None
        self._start_s: float | None = None
        self._t0: float | None = None
        self._go_s: float | None = None
        self.step = Step.COUNTDOWN
        self.outcome: Outcome | None = None
        self._walker = LevelWalking(self.rate_hz) if spec.kind == "level_walking" else None
        self._walker_n = 0
        self.view = View(Step.COUNTDOWN, spec.title, self.instruction())

    # ------------------------------------------------------------------ inputs
    def instruction(self) -> str:
        """What the person is asked to do."""
        s = self.spec
        free = "left" if s.side == "right" else "right"
        return {
            "standing": "Stand still, feet hip-width apart, look ahead",
            "sls": f"Stand on your {str(s.side).upper()} leg - lift the {free} foot",
            "sts": "Sit, arms crossed - stand up fully 5 times, as fast as you can",
            "walk": "Walk at your usual pace",
            "tilt_control": "Tilt your pelvis to the target and hold",
            "level_balance": f"Stand on your {str(s.side).upper()} leg - keep the pelvis level",
            "sts_no_shift": "Stand up without leaning to one side",
            "level_walking": "Walk with a level pelvis",
        }[s.kind]

    def feed(self, time_s: ArrayLike, acc_mps2: ArrayLike,
             gyr_rps: ArrayLike | None = None) -> View:
        """A new chunk of samples (sensor frame); returns the updated :class:`View`."""
        t = np.asarray(time_s, dtype=float)
        if t.size == 0 or self.step in (Step.RESULT, Step.REPEAT):
            return self.view
        started = time.perf_counter()
        acc = np.asarray(acc_mps2, dtype=float)
        gyr = None if gyr_rps is None else np.asarray(gyr_rps, dtype=float)
        _, ant, lat = self._tilt.update(acc, gyr, time_s=t)
        self._chunks.append((t, ant, lat, self._cal.to_pelvis(acc),
                             np.zeros_like(acc) if gyr is None else self._cal.to_pelvis(gyr)))
        self._arrays = None
        if self._t0 is None:
            self._t0 = float(t[0])
        now = float(t[-1])
        if self.step is Step.COUNTDOWN:
            left = self.spec.countdown_s - (now - self._t0)
            if left > 0:
                self.view = self._frame(Step.COUNTDOWN, self.instruction(),
                                        f"{int(np.ceil(left))}", "get ready", now, started)
                return self.view
            self.step = Step.MEASURE
            self._go_s = self._t0 + self.spec.countdown_s  # whatever the chunking
        out = self._analyse(final=False)
        self.view = self._show(out, now, started)
        return self.view

    def stop(self) -> View:
        """End of data (or the stop button): the final outcome."""
        if self.step in (Step.RESULT, Step.REPEAT):
            return self.view
        started = time.perf_counter()
        now = float(self._all()[0][-1]) if self._chunks else float("nan")
        if self.step is Step.COUNTDOWN:
            out = Outcome(self.spec.kind, State.REPEAT, "Stopped before the start - repeat")
        else:
            out = self._analyse(final=True)
        if out.state not in (State.DONE, State.REPEAT):
            out = Outcome(out.kind, State.REPEAT, "Stopped early - repeat", side=out.side)
        self.view = self._show(out, now, started)
        return self.view

    # ---------------------------------------------------------------- analysis
    def _all(self) -> tuple[FloatArray, ...]:
        if self._arrays is None:
            cols = list(zip(*self._chunks, strict=True))
            self._arrays = tuple(np.concatenate(c) for c in cols)
            self._chunks = [self._arrays]
        return self._arrays

    def signals(self) -> Signals:
        """The samples since "go" (the test span)."""
        t, ant, lat, acc, gyr = self._all()
        a = int(np.searchsorted(t, self._go_s if self._go_s is not None else t[-1] + 1))
        ok = np.isfinite(ant[a:]) & np.isfinite(lat[a:])
        sl = slice(a, None)
        return Signals(t[sl][ok], ant[sl][ok], lat[sl][ok], acc[sl][ok], gyr[sl][ok],
                       self.rate_hz)

    def _analyse(self, *, final: bool) -> Outcome:
        s = self.spec
        sig = self.signals()
        runners: dict[str, Callable[[], Outcome]] = {
            "standing": lambda: analyze_standing(sig),
            "sls": lambda: analyze_single_leg_stance(sig, str(s.side), final=final),
            "sts": lambda: analyze_sit_to_stand(sig, age_years=s.age_years, final=final),
            "walk": lambda: analyze_walk(sig, WalkParams(duration_s=s.walk_s), final=final),
            "tilt_control": lambda: tilt_control(sig, s.targets, final=final),
            "level_balance": lambda: level_balance(sig, str(s.side), final=final),
            "sts_no_shift": lambda: sts_no_shift(sig, final=final),
            "level_walking": lambda: self._level_walking(sig, final=final),
        }
        return runners[s.kind]()

    def _level_walking(self, sig: Signals, *, final: bool) -> Outcome:
        assert self._walker is not None  # created for this kind
        if sig.n == 0:
            return Outcome("level_walking", State.WAITING, "Walk with a level pelvis")
        recent = sig.window(float(sig.time_s[-1]) - self._walker.window_s, np.inf)
        new = sig.n - self._walker_n
        self._walker_n = sig.n
        return self._walker.update(recent, max(0, recent.n - new), final=final)

    # ------------------------------------------------------------------ output
    def _trace(self) -> tuple[FloatArray, FloatArray, str]:
        t, ant, lat, _, _ = self._all()
        a = int(np.searchsorted(t, t[-1] - self.trace_s))
        if self.spec.kind == "tilt_control" or self.spec.kind in ("sts", "sts_no_shift"):
            return t[a:], ant[a:], "anterior tilt"
        return t[a:], lat[a:], "obliquity"

    def _frame(self, step: Step, headline: str, value: str, detail: str, now: float,
               started: float, *, tone: str = "neutral", feedback: dict[str, Any] | None = None,
               outcome: Outcome | None = None) -> View:
        tt, deg, label = self._trace()
        bands: tuple[tuple[float, float], ...] = ()
        if self.spec.kind == "tilt_control":
            b = self.spec.targets.band_deg
            bands = tuple((x - b, x + b) for x in self.spec.targets.targets_deg)
        elif self.spec.kind in ("level_balance", "sls"):
            fb = feedback or {}
            level = float(fb.get("level_deg", (outcome.result if outcome else {}).get(
                "level_deg", 0.0)))
            bands = ((level - 2.0, level + 2.0),)  # level = the standing before the lift
        return View(step, self.spec.title, headline, value, detail, tone, now,
                    time.perf_counter() - started, feedback or {}, outcome, tt, deg, bands,
                    label)

    def _show(self, out: Outcome, now: float, started: float) -> View:
        fb = out.feedback
        if out.state is State.DONE:
            self.step, self.outcome = Step.RESULT, out
            headline = out.message
            if out.kind == "sls":
                headline = f"Trendelenburg {out.result['trendelenburg'].upper()}"
            return self._frame(Step.RESULT, headline, _result_value(out), _result_detail(out),
                               now, started, tone="bad" if _is_bad(out) else "good",
                               feedback=fb, outcome=out)
        if out.state is State.REPEAT:
            self.step, self.outcome = Step.REPEAT, out
            return self._frame(Step.REPEAT, "Repeat", "Repeat", out.message, now, started,
                               tone="bad", feedback=fb, outcome=out)
        value, tone = _live_value(self.spec.kind, fb)
        detail = self.instruction()
        if "holds" in fb:
            targets = " / ".join(f"{x:+g}°" for x in fb["targets_deg"])
            detail = f"Holds {fb['holds']} of {fb['of']} - targets {targets}"
        return self._frame(Step.MEASURE, out.message or self.instruction(), value,
                           detail, now, started, tone=tone, feedback=fb)


def _live_value(kind: str, fb: dict[str, Any]) -> tuple[str, str]:
    """The big number while measuring and its colour."""
    if "drop_deg" in fb:
        drop, free = fb["drop_deg"], str(fb.get("unsupported_side", "")).upper()
        good = bool(fb["level"]) if "level" in fb else not fb.get("dropped", False)
        if abs(drop) < 1.0:
            text = "LEVEL"
        else:
            text = f"{free} {abs(drop):.1f}° {'LOW' if drop > 0 else 'HIGH'}"
        return text, "good" if good else "bad"
    if kind == "tilt_control" and "anterior_tilt_deg" in fb:
        return f"{fb['anterior_tilt_deg']:+.0f}°", "good" if fb.get("in_band") else "neutral"
    if "remaining_s" in fb:
        return f"{fb['remaining_s']:.0f} s", "neutral"
    if "rises" in fb:
        return f"{fb['rises']} / {fb['of']}", "neutral"
    if "flag" in fb:
        if fb["flag"]:
            return "HIKE " + fb["flag"].upper(), "bad"
        if fb.get("drop_flag"):
            return "DROP " + fb["drop_flag"].upper(), "bad"
        return "LEVEL", "good"
    if "elapsed_s" in fb:
        return f"{fb['elapsed_s']:.0f} s", "neutral"
    return "", "neutral"


def _is_bad(out: Outcome) -> bool:
    r = out.result
    return bool(r.get("trendelenburg") == "positive" or r.get("hike_sides") or r.get("drop_sides")
                or (r.get("norm") or {}).get("worse_than_average"))


def _result_value(out: Outcome) -> str:
    r = out.result
    for key, fmt in (("total_s", "{:.1f} s"), ("hold_s", "{:.1f} s"), ("score_pct", "{:.0f} %"),
                     ("cadence_spm", "{:.0f} /min"), ("anterior_tilt_deg", "{:+.1f}°")):
        if key in r and r[key] is not None and not (out.kind == "level_balance"
                                                    and key == "hold_s"):
            return fmt.format(r[key])
    return ""


def _result_detail(out: Outcome) -> str:
    r = out.result
    if out.kind == "sls":
        held = "; ".join(r["findings"]) or f"{r['unsupported_side']} side level, held 30 s"
        return held.replace(" deg", "°") + f" - sway {r['sway_lateral_sd_deg']:.1f}°"
    if out.kind == "sts":
        norm = r.get("norm")
        extra = (f" - age {norm['age_band']}: limit {norm['worse_than_average_above_s']} s"
                 if norm else "")
        return f"lean {r['peak_forward_lean_deg']:.0f}° - favours {r['favoured_side']}{extra}"
    if out.kind == "standing":
        return (f"obliquity {r['obliquity_deg']:+.1f}° - sway {r['sway_lateral_sd_deg']:.1f}° /"
                f" {r['sway_anterior_sd_deg']:.1f}°")
    if out.kind == "tilt_control":
        return f"{r['holds']} of {r['holds_asked']} holds - range {r['range_deg']:.0f}°"
    return out.message
