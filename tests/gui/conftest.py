"""GUI test fixtures: a small real disk with a chosen amount of free space.

The private config folder (the review cache's key) comes from ``tests/conftest.py``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import mounted_tmpfs


@pytest.fixture
def small_disk() -> Iterator[Callable[[int, int], Path]]:
    """``small_disk(size_kib, free_kib)``: a real tmpfs with about ``free_kib`` left.

    Skips where a file system cannot be mounted (not root, no ``mount``).
    """
    with contextlib.ExitStack() as mounts:

        def make(size_kib: int, free_kib: int) -> Path:
            mnt = mounts.enter_context(mounted_tmpfs(f"size={size_kib}k"))
            if mnt is None:
                pytest.skip("cannot mount a small tmpfs here (needs root)")
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
