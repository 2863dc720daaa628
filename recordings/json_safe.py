"""Plain, finite JSON: what every document pelviscope writes is made of."""

from __future__ import annotations

import datetime as dt
import math
import os
from typing import Any

import numpy as np


def finite_json(obj: Any) -> Any:
    """``obj`` as plain JSON values, every non-finite float None (DESIGN section 4).

    Numpy scalars and arrays become Python values, tuples lists, paths and dates
    strings, so the result always serialises with ``json.dumps(..., allow_nan=False)``.

    Raises
    ------
    TypeError
        A value with no JSON form.
    """
    if obj is None or isinstance(obj, str):
        return obj
    if isinstance(obj, bool | np.bool_):
        return bool(obj)
    if isinstance(obj, int | np.integer):
        return int(obj)
    if isinstance(obj, float | np.floating):
        return float(obj) if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {str(k): finite_json(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple | np.ndarray):
        return [finite_json(v) for v in obj]
    if isinstance(obj, np.str_):
        return str(obj)
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    if isinstance(obj, dt.datetime | dt.date):
        return obj.isoformat()
    raise TypeError(f"cannot write a {type(obj).__name__} to JSON")
