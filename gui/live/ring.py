"""Fixed-capacity ring buffers whose newest samples are always one contiguous slice.

Every value is stored twice (at ``i`` and ``i + capacity``), so the last ``k <= capacity``
samples are ``data[start:start + k]`` without copying - what a plot redraw at 30 Hz wants.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

import numpy as np
from numpy.typing import ArrayLike, DTypeLike, NDArray

ScalarT = TypeVar("ScalarT", bound=np.generic)


class RingBuffer:
    """Named columns of one length that keep the newest ``capacity`` samples.

    Parameters
    ----------
    capacity : int
        Samples kept per column.
    columns : mapping of str to (dtype, fill value)
        Column names, their dtypes and the value of never-written cells.
    """

    def __init__(self, capacity: int, columns: Mapping[str, tuple[DTypeLike, object]]) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be at least 1, got {capacity}")
        self.capacity = int(capacity)
        self._data: dict[str, NDArray[np.generic]] = {
            name: np.full(2 * self.capacity, fill, dtype=dtype)
            for name, (dtype, fill) in columns.items()
        }
        #: Samples appended since creation (absolute index of the next sample).
        self.count = 0

    def __len__(self) -> int:
        return min(self.count, self.capacity)

    @property
    def first_index(self) -> int:
        """Absolute index of the oldest sample still held."""
        return self.count - len(self)

    def append(self, **columns: ArrayLike) -> None:
        """Append equally long arrays, one per column (missing columns keep their fill)."""
        arrays = {k: np.asarray(v) for k, v in columns.items()}
        n = {a.shape[0] for a in arrays.values()}
        if len(n) != 1:
            raise ValueError("all appended columns must have the same length")
        k = n.pop()
        if k == 0:
            return
        skip = max(0, k - self.capacity)
        idx = (self.count + skip + np.arange(k - skip)) % self.capacity
        for name, col in self._data.items():
            if name in arrays:
                values = arrays[name][skip:]
                col[idx] = values
                col[idx + self.capacity] = values
        self.count += k

    def set_from(self, name: str, first_index: int, values: ArrayLike) -> None:
        """Overwrite column ``name`` from absolute index ``first_index`` on (late results)."""
        v = np.asarray(values)
        lo = max(first_index, self.first_index)
        hi = min(first_index + v.shape[0], self.count)
        if hi <= lo:
            return
        idx = np.arange(lo, hi) % self.capacity
        part = v[lo - first_index : hi - first_index]
        col = self._data[name]
        col[idx] = part
        col[idx + self.capacity] = part

    def last(self, name: str, k: int | None = None) -> NDArray[np.generic]:
        """The newest ``k`` values of a column (all held values by default), oldest first.

        The result is a view into the buffer: copy it before the next :meth:`append` if
        it must stay unchanged.
        """
        held = len(self)
        k = held if k is None else max(0, min(int(k), held))
        start = (self.count - k) % self.capacity
        return self._data[name][start : start + k]

    def last_as(self, name: str, dtype: type[ScalarT], k: int | None = None) -> NDArray[ScalarT]:
        """:meth:`last`, typed: a view of a column whose dtype is ``dtype``.

        Raises ``TypeError`` when the column holds another dtype (no silent reinterpretation
        of its bytes).
        """
        col = self.last(name, k)
        if col.dtype != np.dtype(dtype):
            raise TypeError(f"column {name!r} holds {col.dtype}, not {np.dtype(dtype)}")
        return col.view(dtype)
