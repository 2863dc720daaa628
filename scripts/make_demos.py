"""Regenerate the demo sessions in recordings/demo/ from the simulator (deterministic)."""

from __future__ import annotations

from pathlib import Path

from pelviscope.cli import main

DEMO = Path(__file__).resolve().parents[1] / "recordings" / "demo"

SESSIONS = {
    # 5-minute clinic protocol, sensor clipped upright at the sacrum.
    "clinic": ["--scenario", "clinic", "--seed", "1"],
    # The same protocol with the sensor clipped on at an arbitrary angle and 2 % packet loss.
    "clinic_tilted": [
        "--scenario",
        "clinic",
        "--seed",
        "2",
        "--mount",
        "random",
        "--drop-rate",
        "0.02",
    ],
}

if __name__ == "__main__":
    DEMO.mkdir(parents=True, exist_ok=True)
    for name, args in SESSIONS.items():
        out = DEMO / f"{name}.psrec"
        truth = DEMO / f"{name}.truth.json"
        status = main(["simulate", str(out), *args, "--truth", str(truth), "--overwrite"])
        if status:
            raise SystemExit(status)
