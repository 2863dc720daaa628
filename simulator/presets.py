"""Ready-made scenarios: the clinic protocol, long mixed days, hip-hike test sessions."""

from __future__ import annotations

import numpy as np

from simulator.scenario import Lie, Phase, Scenario, Sit, Stand, Turn, Walk


def clinic_protocol() -> Scenario:
    """A 5-minute clinic session following the recommended calibration protocol.

    Stand still, walk straight (calibration), then normal walking with turns, sitting,
    a static hip-hike while standing (right) and while sitting (left), and gait
    hip-hiking on the right.
    """
    return Scenario(
        [
            Stand(8),
            Walk(16, cadence_spm=108),
            Stand(6),
            Walk(30, cadence_spm=104, turns=(Turn(at_s=14, angle_deg=180),)),
            Sit(40),
            Sit(12, lateral_deg=6.0),
            Sit(20),
            Stand(15),
            Stand(12, lateral_deg=-6.5),
            Stand(10),
            Walk(40, cadence_spm=100, hike_side="right", hike_deg=5.0),
            Stand(10),
            Walk(30, cadence_spm=112, turns=(Turn(at_s=12, angle_deg=-180),)),
            Stand(8),
            Sit(30),
        ]
    )


def mixed_day(duration_s: float, *, seed: int = 0, hikes: bool = True) -> Scenario:
    """A long session of everyday activity for benchmarks and false-positive tests.

    Starts with the calibration protocol, then random bouts of sitting (minutes),
    standing, walking (various cadences, turns) and occasional lying; with ``hikes``,
    about one bout in ten holds a static or gait hip-hike.

    Parameters
    ----------
    duration_s : float
        Approximate total duration.
    seed : int
        Random seed of the activity sequence.
    hikes : bool
        Include hip-hike episodes.
    """
    rng = np.random.default_rng(seed)
    phases: list[Phase] = [Stand(8), Walk(15)]
    total = 23.0
    while total < duration_s:
        kind = rng.choice(["sit", "stand", "walk", "walk", "lie"], p=[0.3, 0.25, 0.2, 0.2, 0.05])
        hike = hikes and rng.random() < 0.1
        side = "left" if rng.random() < 0.5 else "right"
        sign = 1.0 if side == "left" else -1.0
        phase: Phase
        if kind == "sit":
            phase = Sit(
                float(rng.uniform(30, 600)),
                tilt_deg=float(rng.uniform(-20, -10)),
                lateral_deg=sign * float(rng.uniform(5, 8)) if hike else 0.0,
            )
        elif kind == "stand":
            phase = Stand(
                float(rng.uniform(10, 120)),
                lateral_deg=sign * float(rng.uniform(5, 8)) if hike else 0.0,
            )
        elif kind == "lie":
            phase = Lie(float(rng.uniform(60, 900)))
        else:
            dur = float(rng.uniform(15, 300))
            n_turns = int(dur // 40)
            turns = tuple(
                Turn(at_s=5.0 + 40.0 * k, angle_deg=float(rng.choice([-180, -90, 90, 180])))
                for k in range(n_turns)
                if 5.0 + 40.0 * k + 3.0 < dur - 1.5
            )
            phase = Walk(
                dur,
                cadence_spm=float(rng.uniform(85, 125)),
                speed_mps=float(rng.uniform(0.8, 1.5)),
                turns=turns,
                hike_side=side if hike else None,  # type: ignore[arg-type]
                hike_deg=float(rng.uniform(4, 6)),
            )
        if isinstance(phase, Walk) and isinstance(phases[-1], Walk):
            phases.append(Stand(float(rng.uniform(3, 20))))
        if isinstance(phase, Stand) and isinstance(phases[-1], Stand):
            continue
        phases.append(phase)
        total += phase.duration_s + 2.5
    return Scenario(phases)
