"""A :class:`SessionResult` for files: the JSON (DESIGN section 4) and the CSV (section 3).

The review cache stores the same result as signed arrays (``gui.review.cache``).
"""

from __future__ import annotations

from typing import IO, TYPE_CHECKING, Any

from recordings.json_safe import finite_json

if TYPE_CHECKING:
    from analysis.pipeline.result import SessionResult


def write_per_sample_csv(result: SessionResult, f: IO[str]) -> None:
    """The per-sample table (DESIGN section 3) as CSV: 4 decimals, Unix line ends."""
    result.per_sample.to_csv(f, index=False, float_format="%.4f", lineterminator="\n")


def to_json(result: SessionResult) -> dict[str, Any]:
    """The document with every number finite (None where it cannot be computed)."""
    return finite_json(document(result))


def document(result: SessionResult) -> dict[str, Any]:
    """The document as built, before NaN becomes None."""
    from analysis.pipeline.result import ANALYSIS_VERSION, FORMAT

    return {
        "format": FORMAT,
        "analysis_version": ANALYSIS_VERSION,
        "input": {
            "path": result.source,
            "duration_s": result.duration_s,
            "rate_hz": result.rate_hz,
            "samples": int(result.time_s.size),
            "gaps": [
                {
                    "start_s": g.start_s,
                    "end_s": g.end_s,
                    "lost_samples": g.lost_samples,
                    "reason": g.reason,
                }
                for g in result.gaps
            ],
            "device": result.meta.get("device"),
            "start_time_utc": result.meta.get("start_time_utc"),
        },
        "calibration": calibration_json(result),
        "segments": result.segments,
        "transitions": result.transitions,
        "steps": result.steps,
        "gait": result.gait_summary(),
        "hip_hike_episodes": result.episodes,
        "hip_hike_params": result.hip_hike_params.to_dict(),
        "hip_hike_suppressed": result.hip_hike_suppressed,
        "pelvic_drop_episodes": result.pelvic_drops,
        "pelvic_drop_params": result.drop_params.to_dict(),
        "turns": result.turns,
        "tests": result.clinical.get("tests", []),
        "exercises": result.clinical.get("exercises", []),
        "summary": result.summary(),
        "notes": result.notes,
    }


def calibration_json(result: SessionResult) -> dict[str, Any]:
    """The ``calibration`` object: the calibration's own dictionary, or why there is none."""
    cal = result.calibration
    if cal is None:
        return {
            "method": "none",
            "sensor_to_pelvis_quat_wxyz": None,
            "quality": {"error": result.calibration_error, "verified": False},
        }
    calibration = cal.to_dict()
    calibration.pop("format")
    # Measured on a wearer (this session or a saved one) or only assumed (preset).
    calibration["quality"]["verified"] = not cal.method.startswith("preset:")
    return calibration
