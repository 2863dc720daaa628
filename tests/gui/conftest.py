"""GUI test fixtures: a private config folder, so the review cache's key is the tests' own."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest


@pytest.fixture(scope="session", autouse=True)
def private_config_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """``$XDG_CONFIG_HOME`` in a temporary folder (the user's own key is never touched)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.mktemp("config")))
        yield


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Callable[[int, int], Path]]:
    """``small_disk(size_kib, free_kib)``: a real tmpfs with about ``free_kib`` left.

    Skips where a file system cannot be mounted (not root, no ``mount``).
    """
    mounted: list[Path] = []

    def make(size_kib: int, free_kib: int) -> Path:
        mnt = tmp_path / f"disk{len(mounted)}"
        mnt.mkdir()
        cmd = ["mount", "-t", "tmpfs", "-o", f"size={size_kib}k", "tmpfs", str(mnt)]
        if shutil.which("mount") is None or subprocess.run(cmd, capture_output=True).returncode:
            pytest.skip("cannot mount a small tmpfs here (needs root)")
        mounted.append(mnt)
        filler = mnt / "filler"
        with open(filler, "wb") as f:
            try:
                f.write(bytes(size_kib << 10))
                f.flush()
            except OSError:
                pass  # full: what was written shows the usable size
        usable = filler.stat().st_size
        filler.unlink()
        filler.write_bytes(bytes(max(0, usable - (free_kib << 10))))
        return mnt

    yield make
    for mnt in mounted:
        subprocess.run(["umount", "-l", str(mnt)], check=False)
