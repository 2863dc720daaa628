"""Shared test fixtures: where the real data sets are, Qt offscreen, private user folders,
small real file systems for disk-full and read-only faults."""

from __future__ import annotations

import contextlib
import os
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

# CI explores the same examples every run (a red CI must mean a change broke something);
# by hand each run draws new ones, so property tests keep finding new cases.
settings.register_profile("ci", derandomize=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

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


@pytest.fixture(scope="session", autouse=True)
def private_user_folders(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The tests' own config and state folders (review-cache key, crash logs), never the user's."""
    saved = {k: os.environ.get(k) for k in ("XDG_CONFIG_HOME", "XDG_STATE_HOME")}
    os.environ["XDG_CONFIG_HOME"] = str(tmp_path_factory.mktemp("config"))
    os.environ["XDG_STATE_HOME"] = str(tmp_path_factory.mktemp("state"))
    yield
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(autouse=True)
def environment_restored() -> Iterator[None]:
    """Each test leaves the environment as it found it.

    A Dask LocalCluster sets MALLOC_TRIM_THRESHOLD_, OPENBLAS_NUM_THREADS, PYTHONHASHSEED
    ... in this process's environment; every later subprocess inherited them (a memory
    test then measured 1 GB instead of 0.2 GB).
    """
    saved = dict(os.environ)
    yield
    if os.environ != saved:
        os.environ.clear()
        os.environ.update(saved)


@contextlib.contextmanager
def mounted_tmpfs(options: str) -> Iterator[Path | None]:
    """A fresh tmpfs mounted with ``options`` (e.g. ``"size=64k"``, ``"ro,size=16k"``).

    Yields None where mounting is not allowed (not root); callers fall back to another
    real fault (a file-size limit) or fail. The mount point is outside pytest's
    ``tmp_path``: pytest's clean-up of old temporary folders must never meet a mount.
    """
    folder = Path(tempfile.mkdtemp(prefix="pelviscope-mnt-"))
    try:
        proc = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)],
                              capture_output=True, check=False)  # fmt: skip
        if proc.returncode != 0:
            yield None
            return
        try:
            yield folder
        finally:
            subprocess.run(["umount", "-l", str(folder)], check=True)
    finally:
        folder.rmdir()
