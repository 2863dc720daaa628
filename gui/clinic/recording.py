"""Recording a guided test or exercise (no Qt): samples, its marker and its result.

The clinic screen's samples go into a ``.psrec`` through
:class:`firmware_bridge.sink.RecordingSink` (the writer of ``pelviscope record`` and the
live dashboard). The first sample carries a marker named after the test
(:data:`analysis.clinical.LABELS`, e.g. ``"sls-left"``), so ``pelviscope analyze`` (and
the review window) analyse that span as the test; the screen's own outcome and the
calibration it used are stored in the metadata (``clinic_test``, ``clinic_result``,
``calibration``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from analysis.calibration import Calibration
from analysis.clinical import LABELS, Outcome
from firmware_bridge.sink import RecordingSink
from firmware_bridge.source import Batch, SourceStatus
from gui.clinic.model import ClinicSpec

FloatArray = NDArray[np.float64]


def marker_label(spec: ClinicSpec) -> str:
    """The marker that makes the offline analysis run ``spec`` (a key of ``LABELS``)."""
    kind = spec.kind.replace("_", "-")
    if spec.kind == "level_balance":
        kind = "balance"
    label = f"{kind}-{spec.side}" if spec.kind in ("sls", "level_balance") else kind
    if spec.kind == "walk" and spec.walk_s is not None and spec.walk_s >= 120.0:
        label = "walk-2min"
    if label not in LABELS:
        raise ValueError(f"no marker label for {spec.kind!r}")  # a new test without one
    return label


class ClinicRecording:
    """One test's samples into one recording.

    Parameters
    ----------
    path : str or Path
        Output file (never replaces one: :class:`recordings.files.OutputError`).
    spec : ClinicSpec
        The test or exercise run.
    rate_hz : float
        Sampling rate.
    calibration : Calibration
        The calibration the screen uses (stored so the file is analysed with it).
    meta : dict, optional
        Further metadata (subject_id, session_id, simulated ...).
    """

    def __init__(self, path: str | Path, spec: ClinicSpec, rate_hz: float,
                 calibration: Calibration, meta: dict[str, Any] | None = None) -> None:
        self.label = marker_label(spec)
        self.rate_hz = float(rate_hz)
        self.sink = RecordingSink(path, {**(meta or {}), "calibration": calibration.to_dict(),
                                         "clinic_test": self.label})
        self.path = self.sink.path
        self.status = SourceStatus()

    def append(self, time_s: FloatArray, acc_mps2: FloatArray,
               gyr_rps: FloatArray | None) -> None:
        """Write samples (the first ones get the test's marker)."""
        if not time_s.size:
            return
        if self.sink.writer is None and not self.sink.markers:
            self.sink.add_marker(float(time_s[0]), self.label)
        self.sink.append(Batch(time_s, acc_mps2, gyr_rps, self.rate_hz), self.status)

    def close(self, outcome: Outcome | None) -> Path | None:
        """Store the screen's outcome and close; the file (None if nothing was recorded)."""
        if outcome is not None:
            self.sink.update_meta({"clinic_result": outcome.to_json()})
        recorded = self.sink.samples > 0
        self.sink.close(self.status)
        return self.path if recorded else None
