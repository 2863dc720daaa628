"""What the golden tests pin: ``pelviscope analyze --json --csv`` of fixed inputs, normalised.

The inputs are the two demo recordings (``recordings/demo/``, analysed as
``scripts/demo`` does) and one short simulated session made by ``pelviscope simulate``
with a fixed seed (a mixed day with lying, a random mount, 1 % packet loss, written as
CSV and analysed with ``--standing-tilt-deg``), so the CSV input path, lying and a given
standing tilt are pinned too.

Each golden file ``<name>.json`` beside this module holds:

- ``json``: the ``analyze --json`` document without what is not a result: the
  input's path (a temporary folder), its start time (the simulated one is stamped when
  it is made) and the analysis version (bumping it must not change the golden files).
  Every other key is kept. Numbers are rounded to :data:`DECIMALS` places.
- ``csv``: the per-sample CSV (``--csv``) summarised: row count, header, every run of
  equal activity and hip-hike labels (exact), and per numeric column its mean, SD, min,
  max and NaN count plus one value per second (every ``rate_hz``-th row).
- ``input``: a fingerprint of the simulated input (samples, gaps, channel means), so
  that a change of the simulator is told apart from a change of the analysis.

Comparison (:func:`differences`) is exact for strings, integers, booleans, list
lengths and keys, and within :data:`FLOAT_TOL` for floats: values are rounded to 3
places before storing, and a result within ~1e-12 of a rounding boundary may round
either way on another machine (BLAS, libm, numpy version), so two stored values one
rounding step apart are the same result. Anything larger is a change of results.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
DEMO = ROOT / "recordings" / "demo"
REGENERATE = ".venv/bin/python -m tests.golden.regenerate"
#: Places numbers are rounded to (angles to 0.001 deg, times to 1 ms).
DECIMALS = 3
#: Largest difference of two stored floats that is still the same result: one rounding
#: step (a value at a rounding boundary may round either way) plus float slack.
FLOAT_TOL = 1.5 * 10.0**-DECIMALS
#: The simulated session: ``pelviscope simulate`` arguments (output name first).
SIM_ARGS = ("--scenario", "day", "--duration", "240", "--seed", "13", "--mount", "random",
            "--drop-rate", "0.01")  # fmt: skip
#: Inputs and the ``analyze`` options each is analysed with.
SESSIONS: dict[str, tuple[str, ...]] = {
    "demo_clinic": (),
    "demo_clinic_tilted": (),
    "sim_day_seed13": ("--standing-tilt-deg", "10"),
}
#: Keys of the ``--json`` document that are not results (dropped).
VOLATILE = (("analysis_version",), ("input", "path"), ("input", "start_time_utc"))


def message(what: str) -> str:
    """The failure message of a missing or changed golden file."""
    return (
        f"results changed: bump analysis.session.ANALYSIS_VERSION and regenerate with "
        f"`{REGENERATE}` (run from the project root; commit the regenerated "
        f"tests/golden/*.json with the change). {what}"
    )


def golden_path(name: str) -> Path:
    """Where the golden file of session ``name`` lives."""
    return HERE / f"{name}.json"


def input_path(name: str, folder: Path) -> Path:
    """The input of session ``name``: a demo recording, or the simulated CSV made in ``folder``."""
    if name.startswith("demo_"):
        return DEMO / f"{name.removeprefix('demo_')}.psrec"
    path = folder / f"{name}.csv"
    if not path.exists():
        _cli("simulate", str(path), *SIM_ARGS)
    return path


def _cli(*argv: str) -> None:
    from pelviscope.cli import main

    rc = main(list(argv))
    if rc != 0:
        raise RuntimeError(f"pelviscope {' '.join(argv)} exited with {rc}")


def produce(name: str, folder: Path) -> dict[str, Any]:
    """The golden document of session ``name`` as the code gives it now (files in ``folder``)."""
    folder.mkdir(parents=True, exist_ok=True)
    src = input_path(name, folder)
    out_json, out_csv = folder / f"{name}.out.json", folder / f"{name}.out.csv"
    _cli("analyze", str(src), "--json", str(out_json), "--csv", str(out_csv), "-q",
         "--overwrite", *SESSIONS[name])  # fmt: skip
    doc = json.loads(out_json.read_text())
    table = pd.read_csv(out_csv, dtype={"activity": str, "hip_hike": str})
    golden: dict[str, Any] = {
        "command": ["analyze", "INPUT", *SESSIONS[name]],
        "json": normalise_json(doc, str(src)),
        "csv": summarise_csv(table, float(doc["input"]["rate_hz"])),
    }
    if not name.startswith("demo_"):
        golden["input"] = fingerprint(src)
    return golden


def normalise_json(doc: dict[str, Any], source: str) -> dict[str, Any]:
    """``doc`` without :data:`VOLATILE` keys, the input path replaced, numbers rounded."""
    doc = _replace_path(doc, source)
    for keys in VOLATILE:
        parent = doc
        for k in keys[:-1]:
            parent = parent.get(k, {})
        parent.pop(keys[-1], None)
    return rounded(doc)


def _replace_path(obj: Any, source: str) -> Any:
    if isinstance(obj, dict):
        return {k: _replace_path(v, source) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_replace_path(v, source) for v in obj]
    if isinstance(obj, str):
        return obj.replace(source, "<input>")
    return obj


def rounded(obj: Any) -> Any:
    """``obj`` with every float rounded to :data:`DECIMALS` places (-0.0 as 0.0)."""
    if isinstance(obj, dict):
        return {k: rounded(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [rounded(v) for v in obj]
    if isinstance(obj, float):
        if not math.isfinite(obj):
            return None
        return round(obj, DECIMALS) + 0.0
    return obj


def _runs(labels: pd.Series, time_s: np.ndarray) -> list[list[Any]]:
    """``[label, first time_s, samples]`` for each run of equal labels."""
    v = labels.to_numpy(dtype=str)
    if not v.size:
        return []
    starts = np.flatnonzero(np.r_[True, v[1:] != v[:-1]])
    ends = np.r_[starts[1:], v.size]
    return [[str(v[a]), float(time_s[a]), int(e - a)] for a, e in zip(starts, ends, strict=True)]


def summarise_csv(table: pd.DataFrame, rate_hz: float) -> dict[str, Any]:
    """The per-sample CSV in a few hundred numbers (see the module docstring)."""
    time_s = table["time_s"].to_numpy(float)
    step = max(1, round(rate_hz))
    out: dict[str, Any] = {
        "rows": len(table),
        "columns": list(table.columns),
        "activity_runs": _runs(table["activity"].fillna(""), time_s),
        "hip_hike_runs": _runs(table["hip_hike"].fillna(""), time_s),
    }
    for col in ("time_s", "anterior_tilt_deg", "lateral_tilt_deg"):
        x = table[col].to_numpy(float)
        ok = x[np.isfinite(x)]
        out[col] = {
            "nan": int(x.size - ok.size),
            "mean": float(ok.mean()) if ok.size else None,
            "sd": float(ok.std()) if ok.size else None,
            "min": float(ok.min()) if ok.size else None,
            "max": float(ok.max()) if ok.size else None,
            "every_1s": [None if not math.isfinite(v) else float(v) for v in x[::step]],
        }
    return rounded(out)


def fingerprint(path: Path) -> dict[str, Any]:
    """Samples, gaps and channel means of the simulated input (tells a simulator change apart)."""
    from recordings import load

    rec = load(path)
    chans = [rec.acc_mps2] + ([rec.gyr_rps] if rec.gyr_rps is not None else [])
    return rounded(
        {
            "samples": int(rec.n_samples),
            "gaps": len(rec.gaps),
            "first_last_s": [float(rec.time_s[0]), float(rec.time_s[-1])],
            "channel_means": [float(v) for c in chans for v in c.mean(axis=0)],
        }
    )


def differences(golden: Any, now: Any, path: str = "", tol: float = FLOAT_TOL) -> Iterator[str]:
    """Every place where ``now`` is not the result stored in ``golden`` (one line each)."""
    where = path or "<top>"
    if isinstance(golden, dict) and isinstance(now, dict):
        for k in sorted(set(golden) | set(now)):
            if k not in now:
                yield f"{path}/{k}: missing now (golden: {_short(golden[k])})"
            elif k not in golden:
                yield f"{path}/{k}: new (now: {_short(now[k])})"
            else:
                yield from differences(golden[k], now[k], f"{path}/{k}", tol)
    elif isinstance(golden, list) and isinstance(now, list):
        if len(golden) != len(now):
            yield f"{where}: {len(golden)} items in the golden file, {len(now)} now"
        for i, (g, n) in enumerate(zip(golden, now, strict=False)):
            yield from differences(g, n, f"{path}[{i}]", tol)
    elif (
        _is_float(golden)
        and _is_float(now)
        and not (isinstance(golden, int) and isinstance(now, int))
    ):
        if not math.isclose(golden, now, rel_tol=1e-9, abs_tol=tol):
            yield f"{where}: {golden} in the golden file, {now} now"
    elif type(golden) is not type(now) or golden != now:
        yield f"{where}: {_short(golden)} in the golden file, {_short(now)} now"


def _is_float(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _short(v: Any, limit: int = 80) -> str:
    text = repr(v)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def report(diffs: list[str], limit: int = 25) -> str:
    """The first ``limit`` differences, one a line."""
    more = f"\n  ... and {len(diffs) - limit} more" if len(diffs) > limit else ""
    return "\n  " + "\n  ".join(diffs[:limit]) + more


def scratch_folder() -> Path:
    """A private temporary folder for the regenerate entry point."""
    import tempfile

    return Path(tempfile.mkdtemp(prefix="pelviscope-golden-"))
