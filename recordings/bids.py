"""Reading a BIDS-motion recording (``*_motion.tsv`` + sidecars) back into a Recording.

BIDS-motion (BIDS 1.9, "Motion") stores one tracking system per ``*_motion.tsv``: no
header, one column per row of the ``*_channels.tsv`` next to it, ``n/a`` for missing
values, and the nominal ``SamplingFrequency`` in ``*_motion.json``. pelviscope writes
(:mod:`interop.bids`):

- ``ACCEL`` x/y/z in m/s^2 and ``GYRO`` x/y/z in rad/s, the sensor frame, float32 values
  written exactly (shortest round-trip text);
- a ``LATENCY`` channel: each sample's time in seconds from the first sample, from the
  sensor's clock model (BIDS: "in case a tracking system provides time information with
  every recorded sample");
- rows of ``n/a`` (latency too) where samples were lost, so that a reader that ignores
  ``LATENCY`` still finds row k near ``k / SamplingFrequency``;
- ``*_events.tsv`` with the user markers and the gaps (and the analysed events, which a
  reader re-derives and need not read).

This reader takes any BIDS-motion file with one accelerometer triplet: without a
``LATENCY`` channel the times come from the row index and the nominal rate; ``g`` and
``deg/s`` units are converted to SI. It needs only JSON and TSV, so it lives with the
other readers and :func:`recordings.load` uses it for ``*_motion.tsv`` paths.
"""

from __future__ import annotations

import csv
import json
import math
import os
import re
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from recordings.data import FloatArray, Gap, Marker, Recording
from recordings.errors import InputError

#: The suffix :func:`recordings.load` recognises.
MOTION_SUFFIX = "_motion.tsv"
#: BIDS' missing-value marker.
NA = "n/a"
#: Standard gravity, for channels in ``g``.
G_MPS2 = 9.80665
#: Unit spellings read for each SI unit (lower case).
ACC_UNITS = {"m/s^2": 1.0, "m/s2": 1.0, "m s-2": 1.0, "g": G_MPS2, "mg": G_MPS2 / 1000}
GYR_UNITS = {"rad/s": 1.0, "deg/s": math.pi / 180, "dps": math.pi / 180, "°/s": math.pi / 180}
#: ``trial_type`` of the events this reader takes back into a Recording.
MARKER_EVENT = "marker"
GAP_EVENT = "gap"
#: pelviscope's own sidecar next to the motion file (not BIDS; listed in ``.bidsignore``):
#: the recording's header and the session time of the first sample.
OWN_SUFFIX = "pelviscope.json"

_ENTITY_RE = re.compile(r"_(motion)\.tsv$")


def sidecar_path(motion_tsv: Path, suffix: str) -> Path:
    """The file with the same entities as ``motion_tsv`` and another suffix.

    ``suffix`` e.g. ``"_motion.json"``, ``"_channels.tsv"``, ``"_events.tsv"``.
    """
    return motion_tsv.with_name(_ENTITY_RE.sub("", motion_tsv.name) + suffix)


def _read_json(path: Path) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
    except FileNotFoundError:
        raise InputError(str(path), "", "file not found (a BIDS-motion sidecar)") from None
    except OSError as exc:
        raise InputError(str(path), "", f"cannot read ({exc.strerror or exc})") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(str(path), "", f"not valid JSON ({exc})") from None
    if not isinstance(doc, dict):
        raise InputError(str(path), "", "expected a JSON object")
    return doc


def read_tsv_rows(path: Path) -> list[dict[str, str]]:
    """Rows of a BIDS TSV with a header, as dicts of strings (``n/a`` kept as text)."""
    try:
        with open(path, encoding="utf-8", newline="") as f:
            rows = list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
    except FileNotFoundError:
        raise InputError(str(path), "", "file not found (a BIDS-motion sidecar)") from None
    except OSError as exc:
        raise InputError(str(path), "", f"cannot read ({exc.strerror or exc})") from None
    except (csv.Error, UnicodeDecodeError) as exc:
        raise InputError(str(path), "", f"not a readable TSV file ({exc})") from None
    return rows


def _triplet(
    channels: list[dict[str, str]], kind: str, units: dict[str, float], path: Path
) -> tuple[list[int], float] | None:
    """Column indices (x, y, z) of the first tracked point with a ``kind`` triplet."""
    by_point: dict[str, dict[str, int]] = {}
    unit_of: dict[str, str] = {}
    for i, ch in enumerate(channels):
        if ch.get("type", "").upper() == kind:
            point = ch.get("tracked_point", "")
            by_point.setdefault(point, {})[ch.get("component", "")] = i
            unit_of.setdefault(point, ch.get("units", ""))
    for point, comps in by_point.items():
        if {"x", "y", "z"} <= comps.keys():
            unit = unit_of[point]
            scale = units.get(unit.strip().lower())
            if scale is None:
                raise InputError(str(path), f"{kind} channels",
                                 f"unit {unit!r} not understood (use one of {', '.join(units)})")
            return [comps["x"], comps["y"], comps["z"]], scale
    return None


def _events(path: Path, t0_s: float) -> tuple[list[Gap], list[Marker]]:
    if not path.exists():
        return [], []
    gaps: list[Gap] = []
    markers: list[Marker] = []
    for n, row in enumerate(read_tsv_rows(path), start=2):
        kind = row.get("trial_type", "")
        if kind not in (GAP_EVENT, MARKER_EVENT):
            continue
        try:
            onset = float(row["onset"]) + t0_s
            duration = float(row.get("duration") or 0.0)
        except (KeyError, ValueError):
            raise InputError(str(path), f"line {n}", "onset/duration not a number") from None
        text = {k: "" if v in (None, NA) else v for k, v in row.items()}
        if kind == MARKER_EVENT:
            markers.append(Marker(onset, text.get("label", ""), text.get("note", "")))
        else:
            lost = text.get("lost_samples", "")
            gaps.append(Gap(onset, onset + duration, int(lost) if lost.isdigit() else 0,
                            text.get("kind") or "packet_loss"))
    return gaps, markers


def _gaps_from_rows(time_s: FloatArray, rate_hz: float) -> list[Gap]:
    """Gaps where consecutive times are more than 1.5 sample periods apart."""
    if time_s.size < 2:
        return []
    dt = np.diff(time_s)
    where = np.flatnonzero(dt > 1.5 / rate_hz)
    return [Gap(float(time_s[i]), float(time_s[i + 1]),
                max(0, round(float(dt[i]) * rate_hz) - 1), "packet_loss") for i in where]


def read_bids_motion(path: str | os.PathLike[str]) -> Recording:
    """Read a BIDS-motion ``*_motion.tsv`` with its sidecars into a :class:`Recording`.

    Parameters
    ----------
    path : str or Path
        The ``*_motion.tsv``; ``*_motion.json`` and ``*_channels.tsv`` with the same
        entities must be next to it, ``*_events.tsv`` may be.

    Returns
    -------
    Recording
        Samples in SI units (rows of ``n/a`` left out), gaps and markers from the events
        (or, for other tools' files, from the latencies), metadata from the sidecars
        (pelviscope's own ``*_pelviscope.json`` restores the original header).

    Raises
    ------
    InputError
        A sidecar is missing or unreadable, the table disagrees with the channels, there
        is no accelerometer triplet, or a value is not a number.
    """
    p = Path(path)
    name = str(p)
    sidecar = _read_json(sidecar_path(p, "_motion.json"))
    channels_path = sidecar_path(p, "_channels.tsv")
    channels = read_tsv_rows(channels_path)
    rate = sidecar.get("SamplingFrequency")
    if not isinstance(rate, int | float) or not math.isfinite(rate) or rate <= 0:
        raise InputError(str(sidecar_path(p, "_motion.json")), "SamplingFrequency",
                         f"need a positive nominal rate in Hz, got {rate!r}")
    acc = _triplet(channels, "ACCEL", ACC_UNITS, channels_path)
    if acc is None:
        raise InputError(str(channels_path), "", "no ACCEL channels with components x, y, z")
    gyr = _triplet(channels, "GYRO", GYR_UNITS, channels_path)
    latency = [i for i, ch in enumerate(channels) if ch.get("type", "").upper() == "LATENCY"]
    n_cols = len(channels)
    try:
        table = pacsv.read_csv(
            p,
            read_options=pacsv.ReadOptions(column_names=[f"c{i}" for i in range(n_cols)]),
            parse_options=pacsv.ParseOptions(delimiter="\t"),
            convert_options=pacsv.ConvertOptions(
                column_types={f"c{i}": pa.float64() for i in range(n_cols)},
                null_values=[NA], strings_can_be_null=True,
            ),
        )
    except FileNotFoundError:
        raise InputError(name, "", "file not found") from None
    except (pa.ArrowInvalid, OSError) as exc:
        reason = " ".join(str(exc).split())[:200]
        raise InputError(name, "", f"not a BIDS-motion table with {n_cols} columns "
                                   f"(as {channels_path.name} lists): {reason}") from None
    cols = [table.column(i).to_numpy(zero_copy_only=False) for i in range(n_cols)]
    data_cols = acc[0] + (gyr[0] if gyr else [])
    present = np.all([np.isfinite(cols[i]) for i in data_cols], axis=0)
    own_path = sidecar_path(p, "_" + OWN_SUFFIX)
    own = _read_json(own_path) if own_path.exists() else {}
    t0 = float(own.get("time_origin_s", 0.0)) if own else 0.0
    if latency:
        lat = cols[latency[0]]
        present &= np.isfinite(lat)
        time_s = lat[present] + t0
    else:
        time_s = np.flatnonzero(present) / float(rate) + t0
    if time_s.size > 1 and not np.all(np.diff(time_s) > 0):
        raise InputError(name, "LATENCY", "sample times are not strictly increasing")
    acc_mps2 = np.column_stack([cols[i][present] for i in acc[0]]) * acc[1]
    gyr_rps = np.column_stack([cols[i][present] for i in gyr[0]]) * gyr[1] if gyr else None
    gaps, markers = _events(sidecar_path(p, "_events.tsv"), t0)
    if not gaps and not latency:
        gaps = _gaps_from_rows(time_s, float(rate))
    meta: dict[str, Any] = dict(own.get("meta") or {}) if own else {}
    if not meta:
        meta = {"device": {"manufacturer": sidecar.get("Manufacturer"),
                           "model": sidecar.get("ManufacturersModelName")},
                "timing": "device_clock" if latency else "unknown"}
    meta.update({"rate_hz": float(rate), "source_file": name, "bids_task": sidecar.get("TaskName")})
    return Recording(
        time_s=np.ascontiguousarray(time_s, dtype=np.float64),
        acc_mps2=np.ascontiguousarray(acc_mps2, dtype=np.float64),
        gyr_rps=None if gyr_rps is None else np.ascontiguousarray(gyr_rps, dtype=np.float64),
        rate_hz=float(rate),
        gaps=gaps,
        markers=markers,
        meta=meta,
    )
