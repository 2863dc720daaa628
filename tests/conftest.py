"""Shared test fixtures: where the real data sets are, and Qt offscreen."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

ROOT = Path(__file__).resolve().parents[1]


def shared_data_dir() -> Path:
    """``$PELVISCOPE_DATA`` if set, else ``../shared/data`` beside the project root."""
    env = os.environ.get("PELVISCOPE_DATA")
    return Path(env) if env else ROOT.parent / "shared" / "data"


def require_data(name: str) -> Path:
    """Path of the data set ``name``; skip (or fail in CI) when it is missing.

    With ``PELVISCOPE_REQUIRE_DATA=1`` (set by ``.ci/run``) a missing data set fails
    the test instead of skipping it.
    """
    path = shared_data_dir() / name
    if not path.is_dir():
        msg = f"data set {name!r} not found at {path} (see ../shared/README.md)"
        if os.environ.get("PELVISCOPE_REQUIRE_DATA") == "1":
            pytest.fail(msg)
        pytest.skip(msg)
    return path
