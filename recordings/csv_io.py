"""CSV interchange (DESIGN section 3): raw sensor-frame samples in and out.

Input columns (header row, any order, extra columns ignored): ``time_s, acc_x, acc_y,
acc_z`` and optionally ``gyr_x, gyr_y, gyr_z`` (all three or none) and ``mag_x, mag_y,
mag_z``. Every problem is reported as an :class:`~recordings.errors.InputError` naming
the file, the line (1-based, the header is line 1) and the reason.
"""

from __future__ import annotations

import csv
import math
import os
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
from numpy.typing import NDArray

from recordings.data import Gap, Recording
from recordings.errors import InputError
from recordings.files import atomic_output
from recordings.plausibility import drop_implausible
from recordings.units import G_MPS2

TIME = "time_s"
ACC = ("acc_x", "acc_y", "acc_z")
GYR = ("gyr_x", "gyr_y", "gyr_z")
MAG = ("mag_x", "mag_y", "mag_z")
#: Standard gravity, m/s^2 per g.
ACC_UNITS = {"mps2": 1.0, "g": G_MPS2}
GYR_UNITS = {"rps": 1.0, "dps": math.pi / 180.0}
#: Fastest plausible angular rate, rad/s (2000 deg/s, the largest common gyro range).
MAX_GYR_RPS = 35.0
#: An interval is a gap when longer than max(GAP_FACTOR * T, T + GAP_SIGMAS * sigma).
GAP_FACTOR = 1.5
GAP_SIGMAS = 6.0
#: Longest header line read (a file without line ends is not read whole as its header).
MAX_HEADER_BYTES = 64 * 1024


def _first_line(path: str) -> str:
    try:
        with open(path, "rb") as f:
            head = f.read(MAX_HEADER_BYTES + 1)
    except IsADirectoryError:
        raise InputError(path, "", "is a directory, not a CSV file") from None
    except FileNotFoundError:
        raise InputError(path, "", "file not found") from None
    except OSError as exc:
        raise InputError(path, "", f"cannot read ({exc.strerror or exc})") from None
    end = head.find(b"\n")
    line = head if end < 0 else head[: end + 1]
    if end < 0 and len(head) > MAX_HEADER_BYTES:
        raise InputError(
            path, "line 1",
            f"not a text CSV header (no line end in the first {MAX_HEADER_BYTES // 1024} KiB)",
        )  # fmt: skip
    if b"\x00" in line:
        raise InputError(path, "line 1", "not a text CSV header (it holds NUL bytes: binary data)")
    try:
        return line.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(path, "line 1", "not a UTF-8 text (CSV) file") from None


def _line_of_row(path: str, row: int) -> int:
    """Line number (1-based) of data row ``row`` (0-based), skipping blank lines like Arrow."""
    with open(path, encoding="utf-8-sig", errors="replace", newline="") as f:
        f.readline()
        seen = -1
        for line_no, line in enumerate(f, start=2):
            if line.rstrip("\r\n"):
                seen += 1
                if seen == row:
                    return line_no
    return row + 2


def _line_of_text(path: str, text: str) -> int:
    with open(path, encoding="utf-8-sig", errors="replace", newline="") as f:
        f.readline()
        for line_no, line in enumerate(f, start=2):
            if line.rstrip("\r\n") == text:
                return line_no
    return 0


def _header(path: str) -> list[str]:
    header = _first_line(path)
    if not header:
        raise InputError(path, "line 1", "file is empty (expected a header row)")
    if not header.strip():
        raise InputError(path, "line 1", "header row is empty")
    if "," not in header:
        for delim, label in ((";", "';'"), ("\t", "tab")):
            if delim in header:
                raise InputError(path, "line 1", f"uses {label} as delimiter, expected ','")
    return [name.strip() for name in next(csv.reader([header.rstrip("\r\n")]))]


def _check_columns(path: str, names: list[str]) -> tuple[bool, bool]:
    """Return (has_gyr, has_mag); raise for missing or duplicated columns."""
    found = set(names)
    missing = [c for c in (TIME, *ACC) if c not in found]
    for group in (GYR, MAG):
        present = [c for c in group if c in found]
        if present and len(present) < 3:
            missing += [c for c in group if c not in found]
    if missing:
        shown = ", ".join(n for n in names if n) or "nothing"
        raise InputError(path, "line 1", f"missing column(s) {', '.join(missing)} (found: {shown})")
    wanted = {TIME, *ACC, *GYR, *MAG}
    dup = sorted({n for n in names if n in wanted and names.count(n) > 1})
    if dup:
        raise InputError(path, "line 1", f"duplicated column(s) {', '.join(dup)}")
    return GYR[0] in found, MAG[0] in found


def _read_table(path: str, names: list[str], columns: list[str], kind: pa.DataType) -> pa.Table:
    invalid: list[Any] = []

    def on_invalid(row: Any) -> str:
        invalid.append(row)
        return "skip"

    unique = [n if n in columns else f"__extra{i}" for i, n in enumerate(names)]
    table = pacsv.read_csv(
        path,
        read_options=pacsv.ReadOptions(skip_rows=1, column_names=unique),
        parse_options=pacsv.ParseOptions(invalid_row_handler=on_invalid),
        convert_options=pacsv.ConvertOptions(
            include_columns=columns,
            column_types=dict.fromkeys(columns, kind),
            strings_can_be_null=True,
        ),
    )
    if invalid:
        row = invalid[0]
        line = _line_of_text(path, row.text)
        hint = " - it uses ';' as delimiter, expected ','" if ";" in row.text else ""
        raise InputError(
            path, f"line {line}" if line else "",
            f"row has {row.actual_columns} fields but the header has "
            f"{row.expected_columns}{hint}",
        )  # fmt: skip
    return table


def _numeric_table(path: str, names: list[str], columns: list[str]) -> dict[str, np.ndarray]:
    """Read ``columns`` as float64 arrays (NaN for empty cells), naming the first bad cell."""
    try:
        table = _read_table(path, names, columns, pa.float64())
        return {c: table[c].to_numpy() for c in columns}
    except pa.ArrowInvalid:
        pass  # a cell is not a plain number: find which (slow path, errors only)
    try:
        table = _read_table(path, names, columns, pa.string())
    except pa.ArrowInvalid as exc:
        reason = _plain_arrow_error(exc)
        line = _first_non_utf8_line(path) if reason.startswith("not a UTF-8") else 0
        raise InputError(path, f"line {line}" if line else "", reason) from None
    import pandas as pd

    out: dict[str, np.ndarray] = {}
    for c in columns:
        text = table[c].to_pandas().str.strip()
        values = pd.to_numeric(text, errors="coerce")
        bad = np.flatnonzero(values.isna().to_numpy() & text.notna().to_numpy()
                             & (text != "").to_numpy())  # fmt: skip
        if bad.size:
            i = int(bad[0])
            raise InputError(
                path, f"line {_line_of_row(path, i)}",
                f"column {c}: {text.iloc[i]!r} is not a number",
            )  # fmt: skip
        out[c] = values.to_numpy(dtype=np.float64, na_value=np.nan)
    return out


def _plain_arrow_error(exc: Exception) -> str:
    """Arrow's reason for refusing a CSV, in words a user understands."""
    text = str(exc)
    if "UTF8" in text or "UTF-8" in text:
        return "not a UTF-8 text (CSV) file (a cell holds bytes that are not text)"
    if "straddl" in text or "block" in text:
        return "a line is too long for a table of samples (binary data or missing line ends?)"
    if "quote" in text.lower():
        return "a quoted cell is not closed (an unmatched '\"')"
    return "cannot be read as a CSV table of numbers"


def _first_non_utf8_line(path: str) -> int:
    """Line number (1-based) of the first line that is not UTF-8 text, 0 if none."""
    with open(path, "rb") as f:
        for line_no, line in enumerate(f, start=1):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError:
                return line_no
    return 0


def _require_finite(path: str, cols: dict[str, np.ndarray], names: tuple[str, ...]) -> None:
    for c in names:
        bad = np.flatnonzero(~np.isfinite(cols[c]))
        if bad.size:
            i = int(bad[0])
            what = "is empty or NaN" if np.isnan(cols[c][i]) else f"is {cols[c][i]}"
            raise InputError(path, f"line {_line_of_row(path, i)}", f"column {c} {what}")


def _check_units(
    path: str, acc_raw: NDArray[np.float64], gyr_rps: NDArray[np.float64] | None,
    acc_unit: str, gyr_unit: str,
) -> None:  # fmt: skip
    with np.errstate(over="ignore"):  # a huge outlier gives inf: the median is robust to it
        med = float(np.median(np.sqrt((acc_raw**2).sum(axis=1))))
    as_g, as_mps2 = 0.4 <= med <= 2.5, 4.0 <= med <= 25.0
    where = "columns acc_x, acc_y, acc_z"
    if acc_unit == "mps2" and not as_mps2:
        hint = "use --acc-unit g" if as_g else "expected about 9.81 m/s^2 (raw counts?)"
        raise InputError(
            path, where,
            f"median acceleration magnitude is {med:.3g}, not plausible in m/s^2; {hint}",
        )  # fmt: skip
    if acc_unit == "g" and not as_g:
        hint = "use --acc-unit mps2" if as_mps2 else "expected about 1 g (raw counts?)"
        raise InputError(
            path, where, f"median acceleration magnitude is {med:.3g}, not plausible in g; {hint}"
        )
    if gyr_rps is not None and gyr_rps.shape[0]:
        with np.errstate(over="ignore", invalid="ignore"):
            p99 = float(np.percentile(np.sqrt((gyr_rps**2).sum(axis=1)), 99))
        if p99 > MAX_GYR_RPS:
            hint = (
                "values look like deg/s; use --gyr-unit dps" if gyr_unit == "rps"
                else "too large even for deg/s (raw counts?)"
            )  # fmt: skip
            raise InputError(
                path, "columns gyr_x, gyr_y, gyr_z",
                f"99th percentile angular rate is {p99:.3g} rad/s, above the "
                f"{MAX_GYR_RPS:g} rad/s a gyroscope can measure; {hint}",
            )  # fmt: skip


def estimate_rate_and_gaps(time_s: NDArray[np.float64]) -> tuple[float, list[Gap]]:
    """Nominal rate and gaps from sample times.

    The nominal interval ``T`` is the mean of the intervals within 0.5-1.5 times their
    median (robust to gaps and jitter). An interval is a gap when it is longer than
    ``max(1.5 T, T + 6 sigma)``, ``sigma = 1.4826 * MAD`` of the intervals, so timing
    jitter is not mistaken for lost samples; ``lost_samples = max(round(dt / T) - 1, 1)``.

    Parameters
    ----------
    time_s : ndarray, shape (N,)
        Strictly increasing times, N >= 2.

    Returns
    -------
    rate_hz : float
        ``1 / T`` rounded to 6 significant digits.
    gaps : list of Gap
        With reason ``"time_gap"``.
    """
    dt = np.diff(time_s)
    med = float(np.median(dt))
    core = dt[(dt > 0.5 * med) & (dt < 1.5 * med)]
    period_s = float(core.mean()) if core.size else med
    sigma = 1.4826 * float(np.median(np.abs(dt - med)))
    limit = max(GAP_FACTOR * period_s, period_s + GAP_SIGMAS * sigma)
    gaps = [
        Gap(float(time_s[i]), float(time_s[i + 1]),
            max(round(float(dt[i]) / period_s) - 1, 1), "time_gap")
        for i in np.flatnonzero(dt > limit)
    ]  # fmt: skip
    return float(f"{1.0 / period_s:.6g}"), gaps


def read_csv(
    path: str | os.PathLike[str],
    *,
    acc_unit: str = "mps2",
    gyr_unit: str = "rps",
    check_units: bool = True,
) -> Recording:
    """Read raw samples from a CSV file (DESIGN section 3).

    Parameters
    ----------
    path : str or Path
        The CSV file (comma-separated, header row first).
    acc_unit : {"mps2", "g"}
        Unit of the ``acc_*`` columns; converted to m/s^2.
    gyr_unit : {"rps", "dps"}
        Unit of the ``gyr_*`` columns; converted to rad/s.
    check_units : bool
        Refuse data whose magnitudes do not fit the declared units (on by default).

    Returns
    -------
    Recording
        ``gyr_rps`` is None when the gyro columns are absent (or entirely empty);
        ``rate_hz`` and ``gaps`` are estimated by :func:`estimate_rate_and_gaps`.

    Raises
    ------
    InputError
        Missing columns, a wrong delimiter, cells that are not numbers, empty or NaN
        cells in required columns, non-increasing time, no data rows, implausible units.
    """
    if acc_unit not in ACC_UNITS or gyr_unit not in GYR_UNITS:
        raise ValueError(f"unknown unit {acc_unit!r}/{gyr_unit!r}: use mps2|g and rps|dps")
    name = str(path)
    names = _header(name)
    has_gyr, has_mag = _check_columns(name, names)
    columns = [TIME, *ACC, *(GYR if has_gyr else ()), *(MAG if has_mag else ())]
    cols = _numeric_table(name, names, columns)
    n = cols[TIME].shape[0]
    if n == 0:
        raise InputError(name, "line 2", "no data rows (header only)")
    if has_gyr and all(np.isnan(cols[c]).all() for c in GYR):
        has_gyr = False  # accelerometer-only data with empty gyro columns
    _require_finite(name, cols, (TIME, *ACC, *(GYR if has_gyr else ())))
    time_s = cols[TIME]
    bad = np.flatnonzero(~(np.diff(time_s) > 0))
    if bad.size:
        i = int(bad[0]) + 1
        raise InputError(
            name, f"line {_line_of_row(name, i)}",
            f"time_s {float(time_s[i])!r} does not increase "
            f"(previous row: {float(time_s[i - 1])!r})",
        )  # fmt: skip
    if n < 2:
        raise InputError(name, "line 2", "only one data row; the sampling rate needs two")
    acc_raw = np.column_stack([cols[c] for c in ACC])
    gyr = np.column_stack([cols[c] for c in GYR]) * GYR_UNITS[gyr_unit] if has_gyr else None
    if check_units:
        # before the range check: data in a wrong unit must be an error, not dropped
        _check_units(name, acc_raw, gyr, acc_unit, gyr_unit)
    rate_hz, gaps = estimate_rate_and_gaps(time_s)
    loaded = Recording(
        time_s=time_s,
        acc_mps2=acc_raw * ACC_UNITS[acc_unit],
        gyr_rps=gyr,
        rate_hz=rate_hz,
        mag=np.column_stack([cols[c] for c in MAG]) if has_mag else None,
        gaps=gaps,
        meta={"source_file": Path(name).name, "timing": "unknown", "rate_estimated": True,
              "csv_units": {"acc": acc_unit, "gyr": gyr_unit if has_gyr else None}},
    )  # fmt: skip
    return drop_implausible(loaded, name)


def write_csv(path: str | os.PathLike[str], rec: Recording, *, overwrite: bool = False) -> None:
    """Write raw samples as CSV: ``time_s, acc_x..acc_z[, gyr_x..gyr_z][, mag_x..mag_z]``.

    Units are SI (m/s^2, rad/s); values are written with full float64 precision. Gaps,
    markers and metadata are not part of the CSV interchange (gaps show in ``time_s``).
    The file is written under a fresh temporary name and moved into place when complete
    (:func:`recordings.files.atomic_output`).

    Raises
    ------
    OutputError
        ``path`` exists (without ``overwrite``), is a directory, or cannot be written
        (disk full, read-only folder, ...). Nothing is left behind.
    """
    cols: dict[str, NDArray[np.float64]] = {TIME: np.asarray(rec.time_s, dtype=np.float64)}
    for names, arr in ((ACC, rec.acc_mps2), (GYR, rec.gyr_rps), (MAG, rec.mag)):
        if arr is not None:
            for j, c in enumerate(names):
                cols[c] = np.asarray(arr[:, j], dtype=np.float64)
    with atomic_output(path, overwrite=overwrite) as f:
        f.write((",".join(cols) + "\n").encode())
        pacsv.write_csv(pa.table(cols), f, pacsv.WriteOptions(include_header=False))
