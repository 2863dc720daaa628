"""Export recordings into a BIDS-motion dataset (BIDS 1.9 "Motion").

One recording becomes, in ``sub-<s>/ses-<ss>/motion/``::

    sub-<s>_ses-<ss>_task-<t>_tracksys-<sys>[_run-<n>]_motion.tsv     samples, no header
    sub-<s>_ses-<ss>_task-<t>_tracksys-<sys>[_run-<n>]_motion.json    sidecar
    sub-<s>_ses-<ss>_task-<t>_tracksys-<sys>[_run-<n>]_channels.tsv   one row per column
    sub-<s>_ses-<ss>_task-<t>_tracksys-<sys>[_run-<n>]_events.tsv     (+ .json) events

plus ``sub-<s>_ses-<ss>_scans.tsv`` (acquisition time, for synchronising with other
systems), and at the root ``dataset_description.json``, ``README``, ``participants.tsv``
and ``participants.json``. The tracking system is the sensor (``tracksys-imu``) on the
sacrum; the events file carries the ``tracksys`` entity as BIDS recommends when a lab
records several systems at once.

Gaps: the samples are kept on their own clock (a ``LATENCY`` channel, seconds from the
first sample), and each gap is filled with rows of ``n/a`` (BIDS' missing value) so that
row k stays near ``k / SamplingFrequency`` for tools that ignore ``LATENCY``. The gaps
themselves, with their reason and lost-sample count, are events (``trial_type`` gap).
See :mod:`recordings.bids` for the reader.

A dataset grows: exporting another subject, session or run into an existing folder adds
its files and merges its rows into ``participants.tsv`` and the scans file; a file that
exists already is never replaced without ``overwrite`` (checked for every file before
anything is written).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from recordings.bids import GAP_EVENT, MARKER_EVENT, NA, OWN_SUFFIX, read_tsv_rows
from recordings.data import Recording
from recordings.files import OutputError, atomic_output, check_writable
from recordings.json_safe import finite_json

#: BIDS version whose Motion chapter this follows (Motion was added in 1.9.0).
BIDS_VERSION = "1.9.0"
#: The ``tracksys`` label of the pelvis sensor.
TRACKSYS = "imu"
#: Where the sensor is worn (DESIGN: one IMU on the pelvis at the sacrum).
TRACKED_POINT = "pelvis"
PLACEMENT = "sacrum (belt clip over S1-S2)"
#: Events columns after onset/duration, in order.
EVENT_COLUMNS = ("trial_type", "side", "kind", "activity", "peak_deg", "mean_deg", "angle_deg",
                 "lost_samples", "label", "note")
EVENTS_SIDECAR: dict[str, Any] = {
    "onset": {"Description": "Start of the event, seconds from the first sample of the "
                             "motion file", "Units": "s"},
    "duration": {"Description": "Length of the event (0 for instants such as steps)",
                 "Units": "s"},
    "trial_type": {"Description": "What happened", "Levels": {
        "activity": "an activity segment (column activity)",
        "transition": "a postural transition (column kind, e.g. stand_to_sit)",
        "step": "an initial contact of the foot on the side in column side",
        "hip_hike": "a hip-hike episode: the raised side (column side), static or gait "
                    "(column kind)",
        "pelvic_drop": "a pelvic drop (Trendelenburg pattern): the side that drops",
        "turn": "a turn while walking (angle_deg positive = to the left)",
        "marker": "a user marker (columns label, note)",
        "gap": "samples lost (column kind: reason, lost_samples: how many); the motion "
               "file has rows of n/a there",
    }},
    "side": {"Description": "Body side of the event", "Levels": {"left": "left",
                                                                  "right": "right"}},
    "kind": {"Description": "Sub-type: hip-hike static|gait, transition kind, step event, "
                            "gap reason"},
    "activity": {"Description": "Activity of the segment or during the episode: sitting, "
                                "standing, walking, transition, lying or unknown"},
    "peak_deg": {"Description": "Peak pelvic obliquity of the episode", "Units": "deg"},
    "mean_deg": {"Description": "Mean pelvic obliquity of the episode", "Units": "deg"},
    "angle_deg": {"Description": "Turn angle, positive = to the left; transition: forward "
                                 "lean", "Units": "deg"},
    "lost_samples": {"Description": "Number of samples lost in the gap"},
    "label": {"Description": "Label of a user marker"},
    "note": {"Description": "Note of a user marker"},
}
CHANNELS_SIDECAR: dict[str, Any] = {
    "reference_frame": {"Description": "Frame of the channel's axes", "Levels": {
        "sensor": {"Description": "the IMU's own right-handed axes as the device reports "
                                  "them (clipped on at any angle; pelviscope finds the pelvis "
                                  "frame by calibration)"}}},
    "placement": {"Description": "Where the sensor is worn on the body"},
}
PARTICIPANTS_SIDECAR = {"participant_id": {"Description": "Pseudonymous participant id"}}

_LABEL_RE = re.compile(r"^[A-Za-z0-9]+$")


def check_label(what: str, value: str) -> str:
    """A BIDS label (letters and digits only), or ValueError naming ``what``."""
    if not _LABEL_RE.match(value or ""):
        raise ValueError(f"{what} {value!r}: a BIDS label has only letters and digits "
                         "(e.g. 01, pre, walk)")
    return value


@dataclass(frozen=True)
class BidsName:
    """Where one recording goes in a dataset: its entities.

    Attributes
    ----------
    subject, session, task : str
        BIDS labels (letters and digits); ``session`` may be None (no ses- level).
    run : int or None
        ``run-<index>`` when one subject/session/task has several recordings.
    """

    subject: str
    session: str | None
    task: str
    run: int | None = None

    def __post_init__(self) -> None:
        check_label("subject", self.subject)
        check_label("task", self.task)
        if self.session is not None:
            check_label("session", self.session)
        if self.run is not None and self.run < 1:
            raise ValueError(f"run must be at least 1, got {self.run}")

    @property
    def prefix(self) -> str:
        """``sub-x[_ses-y]``."""
        return f"sub-{self.subject}" + (f"_ses-{self.session}" if self.session else "")

    @property
    def stem(self) -> str:
        """The entities of the motion files, without the suffix."""
        run = f"_run-{self.run}" if self.run is not None else ""
        return f"{self.prefix}_task-{self.task}_tracksys-{TRACKSYS}{run}"

    def session_dir(self, root: Path) -> Path:
        """``root/sub-x[/ses-y]``."""
        folder = root / f"sub-{self.subject}"
        return folder / f"ses-{self.session}" if self.session else folder

    def files(self, root: Path) -> dict[str, Path]:
        """The per-recording files, by suffix."""
        motion = self.session_dir(root) / "motion"
        return {s: motion / f"{self.stem}_{s}" for s in
                ("motion.tsv", "motion.json", "channels.tsv", "channels.json", "events.tsv",
                  "events.json", OWN_SUFFIX)}

    def scans_file(self, root: Path) -> Path:
        """``sub-x[/ses-y]/sub-x[_ses-y]_scans.tsv``."""
        return self.session_dir(root) / f"{self.prefix}_scans.tsv"


# --- pieces -------------------------------------------------------------------------


def _channels(rec: Recording) -> list[dict[str, str]]:
    rows = []
    for kind, prefix, unit, arr in (("ACCEL", "acc", "m/s^2", rec.acc_mps2),
                                    ("GYRO", "gyr", "rad/s", rec.gyr_rps),
                                    ("MAGN", "mag", str(rec.meta.get("mag_unit") or "uT"),
                                     rec.mag)):
        if arr is None:
            continue
        rows += [{"name": f"{prefix}_{c}", "component": c, "type": kind,
                  "tracked_point": TRACKED_POINT, "units": unit} for c in "xyz"]
    rows.append({"name": "latency", "component": NA, "type": "LATENCY",
                 "tracked_point": TRACKED_POINT, "units": "s"})
    for r in rows:
        r["sampling_frequency"] = f"{rec.rate_hz:g}"
        r["placement"] = PLACEMENT
        r["reference_frame"] = "sensor" if r["type"] != "LATENCY" else NA
    return rows


def _missing_rows(time_s: np.ndarray, rate_hz: float) -> np.ndarray:
    """Row index of each sample when every gap is filled with rows at the nominal rate."""
    if time_s.size < 2:
        return np.arange(time_s.size)
    extra = np.maximum(np.rint(np.diff(time_s) * rate_hz).astype(np.int64) - 1, 0)
    return np.concatenate([[0], np.cumsum(1 + extra)])


def motion_table(rec: Recording) -> pa.Table:
    """The ``*_motion.tsv`` columns (float32 samples, float64 latency, nulls in gaps)."""
    rows = _missing_rows(rec.time_s, rec.rate_hz)
    n_rows = int(rows[-1]) + 1 if rows.size else 0
    mask = np.ones(n_rows, dtype=bool)
    mask[rows] = False
    cols: dict[str, pa.Array] = {}

    def put(name: str, values: np.ndarray, dtype: type[np.floating[Any]]) -> None:
        full: np.ndarray = np.zeros(n_rows, dtype=dtype)
        full[rows] = values
        cols[name] = pa.array(full, mask=mask)

    for prefix, arr in (("acc", rec.acc_mps2), ("gyr", rec.gyr_rps), ("mag", rec.mag)):
        if arr is not None:
            for i, c in enumerate("xyz"):
                put(f"{prefix}_{c}", arr[:, i].astype(np.float32), np.float32)
    t0 = float(rec.time_s[0]) if rec.n_samples else 0.0
    put("latency", np.round(rec.time_s - t0, 9), np.float64)
    return pa.table(cols)


def _device(meta: dict[str, Any]) -> dict[str, str]:
    dev = meta.get("device")
    if isinstance(dev, str):
        dev = {"name": dev}
    dev = dev if isinstance(dev, dict) else {}
    out = {"Manufacturer": dev.get("manufacturer") or ("pelviscope" if meta.get("simulated")
                                                        or meta.get("profile") == "simulated"
                                                        else None),
           "ManufacturersModelName": dev.get("model") or dev.get("name"),
           "DeviceSerialNumber": dev.get("serial") or dev.get("address"),
           "SoftwareVersions": meta.get("firmware")}
    return {k: str(v) for k, v in out.items() if v}


def motion_sidecar(rec: Recording, name: BidsName, *, task_description: str = "") -> dict[str, Any]:
    """The ``*_motion.json`` sidecar."""
    counts = {"ACCELChannelCount": 3, "ANGACCELChannelCount": 0,
              "GYROChannelCount": 3 if rec.has_gyr else 0, "JNTANGChannelCount": 0,
              "LATENCYChannelCount": 1, "MAGNChannelCount": 3 if rec.mag is not None else 0,
              "MISCChannelCount": 0, "ORNTChannelCount": 0, "POSChannelCount": 0,
              "VELChannelCount": 0}
    n_time = rec.n_samples
    effective = (n_time - 1) / rec.duration_s if n_time > 1 and rec.duration_s > 0 else None
    doc: dict[str, Any] = {
        "TaskName": name.task,
        "TaskDescription": task_description or "pelvic posture session with one IMU on the "
                                               "sacrum (pelviscope)",
        "SamplingFrequency": rec.rate_hz,
        "SamplingFrequencyEffective": effective,
        "TrackingSystemName": "pelviscope pelvis IMU",
        **_device(rec.meta),
        "RecordingType": "continuous",
        "RecordingDuration": rec.duration_s,
        "TrackedPointsCount": 1,
        "MotionChannelCount": sum(counts.values()),
        **counts,
        "SubjectArtefactDescription": f"{len(rec.gaps)} gap(s) of lost samples: rows of n/a "
                                      "(see the events, trial_type gap)" if rec.gaps else NA,
        "MissingValues": NA,
    }
    return finite_json({k: v for k, v in doc.items() if v is not None})


def own_sidecar(rec: Recording) -> dict[str, Any]:
    """The ``*_pelviscope.json`` sidecar: what BIDS has no field for, for a lossless import.

    The recording's header (device, ranges, calibration, timing ...) and the session time
    of the first sample (LATENCY counts from it). Listed in ``.bidsignore``.
    """
    meta = {k: v for k, v in rec.meta.items() if not k.startswith("__")
            and k not in ("record_fields", "format", "format_version", "channels")}
    return {"format": "pelviscope.bids-sidecar/1",
            "time_origin_s": float(rec.time_s[0]) if rec.n_samples else 0.0, "meta": meta}


def _num(value: Any) -> str:
    if value is None:
        return NA
    try:
        x = float(value)
    except (TypeError, ValueError):
        return NA
    return repr(round(x, 6)) if np.isfinite(x) else NA


def _text(value: Any) -> str:
    s = " ".join(str(value or "").split())  # no tabs or line ends inside a cell
    return s or NA


def event_rows(rec: Recording, analysis: dict[str, Any] | None) -> list[dict[str, str]]:
    """Events of a recording, onsets in seconds from its first sample, sorted.

    ``analysis`` is the document of :meth:`analysis.session.SessionResult.to_json`
    (DESIGN section 4) or None (then only markers and gaps).
    """
    t0 = float(rec.time_s[0]) if rec.n_samples else 0.0
    rows: list[dict[str, str]] = []

    def add(trial_type: str, start_s: float, end_s: float | None = None, **cols: Any) -> None:
        row = {"onset": _num(start_s - t0),
               "duration": _num(0.0 if end_s is None else max(0.0, end_s - start_s)),
               "trial_type": trial_type}
        for c in EVENT_COLUMNS[1:]:
            v = cols.get(c)
            row[c] = _num(v) if c.endswith(("_deg",)) else _text(v)
        rows.append(row)

    a = analysis or {}
    for s in a.get("segments") or []:
        add("activity", s["start_s"], s["end_s"], activity=s["activity"])
    for t in a.get("transitions") or []:
        add("transition", t["time_s"], t["time_s"] + (t.get("duration_s") or 0.0),
            kind=t.get("kind"), angle_deg=t.get("lean_deg"))
    for s in a.get("steps") or []:
        add("step", s["time_s"], side=s.get("side"), kind=s.get("event"))
    for e in a.get("hip_hike_episodes") or []:
        add("hip_hike", e["start_s"], e["end_s"], side=e.get("side"), kind=e.get("kind"),
            activity=e.get("activity"), peak_deg=e.get("peak_deg"), mean_deg=e.get("mean_deg"))
    for e in a.get("pelvic_drop_episodes") or []:
        add("pelvic_drop", e["start_s"], e["end_s"], side=e.get("side"),
            peak_deg=e.get("peak_deg"), mean_deg=e.get("mean_deg"))
    for t in a.get("turns") or []:
        add("turn", t["start_s"], t["end_s"], angle_deg=t.get("angle_deg"))
    for m in rec.markers:
        add(MARKER_EVENT, m.time_s, label=m.label, note=m.note)
    for g in rec.gaps:
        add(GAP_EVENT, g.start_s, g.end_s, kind=g.reason, lost_samples=g.lost_samples)
    rows.sort(key=lambda r: float(r["onset"]))
    return rows


def _tsv(rows: Sequence[dict[str, str]], columns: Sequence[str]) -> str:
    lines = ["\t".join(columns)]
    lines += ["\t".join(r.get(c, NA) or NA for c in columns) for r in rows]
    return "\n".join(lines) + "\n"


def _json(doc: Any) -> str:
    return json.dumps(finite_json(doc), indent=1, allow_nan=False, ensure_ascii=False) + "\n"


def _write_text(path: Path, text: str, *, overwrite: bool) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_output(path, overwrite=overwrite, mode="w") as f:
        f.write(text)


def _merge_tsv(path: Path, key: str, rows: Iterable[dict[str, str]]) -> None:
    """Add ``rows`` to a TSV keyed by column ``key`` (a row with a known key replaces it)."""
    old = read_tsv_rows(path) if path.exists() else []
    columns = list(old[0].keys()) if old else []
    merged = {r[key]: r for r in old}
    for r in rows:
        merged[r[key]] = {**merged.get(r[key], {}), **r}
        columns += [c for c in r if c not in columns]
    _write_text(path, _tsv(sorted(merged.values(), key=lambda r: r[key]), columns),
                overwrite=True)


def _acq_time(rec: Recording) -> str:
    start = rec.meta.get("start_time_utc")
    if not isinstance(start, str) or not rec.n_samples:
        return NA
    try:
        t = dt.datetime.fromisoformat(start.replace("Z", "+00:00"))
    except ValueError:
        return NA
    if t.tzinfo is not None:
        t = t.astimezone(dt.UTC).replace(tzinfo=None)
    t += dt.timedelta(seconds=float(rec.time_s[0]))
    return t.strftime("%Y-%m-%dT%H:%M:%S.%f")


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("pelviscope")
    except PackageNotFoundError:
        return "unknown"


# --- the dataset ----------------------------------------------------------------------


def prepare_dataset(root: Path, *, name: str = "pelviscope recordings") -> None:
    """Create ``root`` as a BIDS dataset, or check that an existing folder is one.

    Raises
    ------
    OutputError
        ``root`` exists, is not empty and has no readable ``dataset_description.json``
        with a ``BIDSVersion`` (pelviscope does not write into other folders).
    """
    desc = root / "dataset_description.json"
    if root.exists() and not root.is_dir():
        raise OutputError(root, "is not a folder")
    if desc.exists():
        try:
            doc = json.loads(desc.read_text(encoding="utf-8"))
        except (OSError, ValueError, UnicodeDecodeError) as exc:
            raise OutputError(desc, f"not a readable BIDS dataset description ({exc})") from None
        if not isinstance(doc, dict) or "BIDSVersion" not in doc:
            raise OutputError(desc, "has no BIDSVersion: not a BIDS dataset")
        return
    if root.exists() and any(root.iterdir()):
        raise OutputError(root, "is a folder with files but no dataset_description.json: "
                                "not a BIDS dataset (give a new or empty folder)")
    _write_text(desc, _json({
        "Name": name, "BIDSVersion": BIDS_VERSION, "DatasetType": "raw",
        "GeneratedBy": [{"Name": "pelviscope", "Version": _version(),
                         "Description": "pelviscope export --bids"}],
    }), overwrite=False)
    readme = root / "README"
    if not readme.exists():
        _write_text(readme, (
            "Pelvic posture sessions recorded with one inertial measurement unit (IMU) worn "
            "on the pelvis over the sacrum, exported by pelviscope as BIDS-motion.\n\n"
            "Each *_tracksys-imu_motion.tsv holds the accelerometer (m/s^2) and gyroscope "
            "(rad/s) in the sensor frame and a LATENCY channel (seconds from the first "
            "sample, from the sensor's clock). Lost samples are rows of n/a. The events "
            "files list activity segments, postural transitions, steps, hip-hike and "
            "pelvic-drop episodes, turns, user markers and gaps.\n"), overwrite=False)
    _write_text(root / "participants.json", _json(PARTICIPANTS_SIDECAR), overwrite=False)
    _write_text(root / ".bidsignore", f"*_{OWN_SUFFIX}\n", overwrite=False)


def planned_files(root: Path, names: Sequence[BidsName]) -> list[Path]:
    """Every per-recording file the export of ``names`` would create."""
    return [p for n in names for p in n.files(root).values()]


def check_free(root: Path, names: Sequence[BidsName], *, overwrite: bool) -> None:
    """Refuse (before writing anything) names used twice or files that exist already.

    Raises
    ------
    OutputError
        One line naming the first file in the way.
    ValueError
        Two recordings given the same entities.
    """
    stems = [n.stem for n in names]
    for s in stems:
        if stems.count(s) > 1:
            raise ValueError(f"two recordings would both be {s}: give them different "
                             "sessions or runs")
    for p in planned_files(root, names):
        if p.parent.is_dir():  # else it is made when writing: nothing is in the way yet
            check_writable(p, overwrite=overwrite)


def export_recording(
    root: Path,
    rec: Recording,
    name: BidsName,
    analysis: dict[str, Any] | None = None,
    *,
    overwrite: bool = False,
) -> dict[str, Path]:
    """Write one recording into the dataset at ``root`` (see the module docstring).

    Parameters
    ----------
    root : Path
        The dataset folder (made a dataset by :func:`prepare_dataset` if needed).
    rec : Recording
        The samples, gaps and markers.
    name : BidsName
        Its subject, session, task and run.
    analysis : dict, optional
        ``SessionResult.to_json()`` of the same recording, for the events.
    overwrite : bool
        Replace this recording's files if they exist.

    Returns
    -------
    dict of str to Path
        The files written, by suffix (``"motion.tsv"``, ``"events.tsv"``, ...,
        ``"scans.tsv"``).
    """
    if rec.n_samples == 0:
        raise ValueError("the recording has no samples")
    prepare_dataset(root)
    files = name.files(root)
    check_free(root, [name], overwrite=overwrite)
    files["motion.tsv"].parent.mkdir(parents=True, exist_ok=True)
    with atomic_output(files["motion.tsv"], overwrite=overwrite) as f:
        pacsv.write_csv(motion_table(rec), f, pacsv.WriteOptions(
            include_header=False, delimiter="\t", null_string=NA, quoting_style="none"))
    _write_text(files["motion.json"], _json(motion_sidecar(rec, name)), overwrite=overwrite)
    channels = _channels(rec)
    _write_text(files["channels.tsv"], _tsv(channels, list(channels[0])), overwrite=overwrite)
    events = event_rows(rec, analysis)
    _write_text(files["events.tsv"], _tsv(events, ("onset", "duration", *EVENT_COLUMNS)),
                overwrite=overwrite)
    _write_text(files["events.json"], _json(EVENTS_SIDECAR), overwrite=overwrite)
    _write_text(files["channels.json"], _json(CHANNELS_SIDECAR), overwrite=overwrite)
    _write_text(files[OWN_SUFFIX], _json(own_sidecar(rec)), overwrite=overwrite)
    _merge_tsv(root / "participants.tsv", "participant_id",
               [{"participant_id": f"sub-{name.subject}"}])
    scans = name.scans_file(root)
    rel = files["motion.tsv"].relative_to(scans.parent).as_posix()
    _merge_tsv(scans, "filename", [{"filename": rel, "acq_time": _acq_time(rec)}])
    return {**files, "scans.tsv": scans}
