"""Lab Streaming Layer outlets: the raw IMU, the derived posture values, events.

Three streams (``pylsl``, which bundles liblsl), all with ``source_id`` from the sensor
so that a lab's recorder (LabRecorder, XDF) reconnects to the same streams after a
restart:

- ``pelviscope-imu`` (type ``IMU``, 6 float32 channels: acc x/y/z in m/s^2, gyr x/y/z in
  rad/s, sensor frame, nominal rate): every sample with its time mapped onto LSL's clock
  from the sensor's clock model (``Batch.time_s`` on the session clock, plus the source's
  origin on the host's monotonic clock, which is LSL's ``local_clock`` on Linux; the
  offset between the two clocks is measured when the outlet starts). Not arrival times.
- ``pelviscope-posture`` (type ``Posture``, irregular rate, float32): anterior tilt (deg),
  lateral tilt (deg), activity code, hip-hike flag (0 none, 1 left, 2 right), stamped with
  the sample times they belong to.
- ``pelviscope-events`` (type ``Markers``, irregular, one string channel): hip-hike
  episodes (start/end), gaps, user markers.

Each stream's XML description carries channel labels, units, types, the sensor and its
placement (the XDF meta-data conventions). :class:`LslTee` wraps any
:class:`~firmware_bridge.source.SampleSource` and streams what passes through it, so the
recorder and the live window need no change to publish.

Network: an outlet listens on TCP/UDP ports and answers discovery by multicast, as liblsl's
configuration (``LSLAPICFG`` or ``lsl_api.cfg``) says; :func:`network_summary` tells the user
where. Nothing here runs unless ``--lsl`` is given.
"""

from __future__ import annotations

import configparser
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

from firmware_bridge.source import Batch, SampleSource, SourceStatus

RAW_NAME, POSTURE_NAME, EVENTS_NAME = "pelviscope-imu", "pelviscope-posture", "pelviscope-events"
RAW_CHANNELS = [(f"{k}_{c}", unit, kind) for k, unit, kind in
                (("acc", "m/s^2", "ACCEL"), ("gyr", "rad/s", "GYRO")) for c in "xyz"]
POSTURE_CHANNELS = [("anterior_tilt", "deg", "Angle"), ("lateral_tilt", "deg", "Angle"),
                    ("activity", "code", "Activity"), ("hip_hike", "code", "Flag")]
HIP_HIKE_CODES = {"": 0, "left": 1, "right": 2}
PLACEMENT = "pelvis, sacrum (belt clip over S1-S2)"


def _pylsl() -> Any:
    import pylsl

    return pylsl


def config_file() -> Path | None:
    """The liblsl configuration file in effect (liblsl's search order), or None (defaults)."""
    candidates = [os.environ.get("LSLAPICFG"), "lsl_api.cfg",
                  os.path.expanduser("~/lsl_api/lsl_api.cfg"), "/etc/lsl_api/lsl_api.cfg"]
    for c in candidates:
        if c and os.path.isfile(c) and os.access(c, os.R_OK):
            return Path(c)
    return None


#: Discovery targets per ResolveScope (liblsl's defaults, each scope adding to the last).
_SCOPE_GROUPS = (("machine", "MachineAddresses", "{127.0.0.1}"),
                 ("link", "LinkAddresses", "{255.255.255.255, 224.0.0.1, 224.0.0.183}"),
                 ("site", "SiteAddresses", "{239.255.172.215}"),
                 ("organization", "OrganizationAddresses", "{}"),
                 ("global", "GlobalAddresses", "{}"))


def network_summary() -> str:
    """One line: where LSL listens and where its discovery packets go (from the config).

    liblsl binds its outlets' data servers (TCP, and UDP for time and info requests) to
    every interface; ``[multicast] ListenAddress`` only moves the discovery listener, and
    ``ResolveScope`` decides where discovery packets are sent (``machine``: this host).
    """
    cfg = configparser.ConfigParser(strict=False)
    path = config_file()
    if path is not None:
        cfg.read(path)

    def get(section: str, key: str, default: str) -> str:
        return cfg.get(section, key, fallback=default).strip()

    base, span = int(get("ports", "BasePort", "16572")), int(get("ports", "PortRange", "32"))
    scope = get("multicast", "ResolveScope", "site")
    names = [n for n, _, _ in _SCOPE_GROUPS]
    reach = names[: names.index(scope) + 1] if scope in names else names[:3]
    targets = [a.strip() for n, key, default in _SCOPE_GROUPS if n in reach
               for a in get("multicast", key, default).strip("{}").split(",") if a.strip()]
    if get("ports", "IPv6", "allow") != "disable" and len(reach) > 1:
        targets.append("IPv6 multicast")
    peers = get("lab", "KnownPeers", "{}")
    listen = get("multicast", "ListenAddress", "") or "all interfaces"
    return (f"LSL: outlets serve data on all interfaces, TCP/UDP ports {base}-{base + span - 1} "
            f"(IPv6 {get('ports', 'IPv6', 'allow')}); discovery scope '{scope}': queries to "
            f"{', '.join(targets) or 'none'}"
            + (f" and known peers {peers}" if peers not in ("", "{}") else "")
            + f", answered on {listen} port {get('ports', 'MulticastPort', '16571')}; "
            f"configuration: {path or 'liblsl defaults'} (set LSLAPICFG to change)")


def _desc(info: Any, channels: Sequence[tuple[str, str, str]], device: dict[str, Any]) -> None:
    desc = info.desc()
    chans = desc.append_child("channels")
    for label, unit, kind in channels:
        ch = chans.append_child("channel")
        ch.append_child_value("label", label)
        ch.append_child_value("unit", unit)
        ch.append_child_value("type", kind)
        ch.append_child_value("location", PLACEMENT)
    acq = desc.append_child("acquisition")
    acq.append_child_value("manufacturer", str(device.get("manufacturer") or "unknown"))
    acq.append_child_value("model", str(device.get("model") or device.get("name") or "unknown"))
    acq.append_child_value("serial_number", str(device.get("address") or ""))
    acq.append_child_value("placement", PLACEMENT)
    acq.append_child_value("frame", "sensor (the IMU's own axes)")
    desc.append_child_value("software", "pelviscope")


@runtime_checkable
class PostureSink(Protocol):
    """Where the live window hands its derived values and events (an :class:`LslTee`)."""

    def push_posture(self, time_s: NDArray[np.float64], anterior_tilt_deg: NDArray[Any],
                     lateral_tilt_deg: NDArray[Any], activity_code: NDArray[Any],
                     hip_hike: str) -> None:
        """Derived values of the samples at session times ``time_s``."""

    def push_event(self, text: str, time_s: float) -> None:
        """One event at session time ``time_s``."""


@dataclass(frozen=True)
class LslCounts:
    """What the outlets have sent."""

    raw_samples: int = 0
    posture_samples: int = 0
    events: int = 0


class LslOutlets:
    """The three outlets of one sensor (created when its first batch arrives).

    Parameters
    ----------
    rate_hz : float
        Nominal rate of the raw stream.
    source_id : str
        Stable id of the sensor (address or serial).
    device : dict
        What is known about the device (manufacturer, model, address).
    activity_labels : sequence of str
        Names of the activity codes of the posture stream, in code order.
    """

    def __init__(self, rate_hz: float, source_id: str, device: dict[str, Any] | None = None,
                 activity_labels: Sequence[str] = ()) -> None:
        lsl = _pylsl()
        device = device or {}
        raw = lsl.StreamInfo(RAW_NAME, "IMU", len(RAW_CHANNELS), rate_hz, "float32",
                             f"{source_id}-imu")
        _desc(raw, RAW_CHANNELS, device)
        posture = lsl.StreamInfo(POSTURE_NAME, "Posture", len(POSTURE_CHANNELS),
                                 lsl.IRREGULAR_RATE, "float32", f"{source_id}-posture")
        _desc(posture, POSTURE_CHANNELS, device)
        codes = posture.desc().append_child("codes")
        for i, name in enumerate(activity_labels):
            codes.append_child("activity").append_child_value("code", str(i)).append_child_value(
                "label", name)
        for name, code in HIP_HIKE_CODES.items():
            codes.append_child("hip_hike").append_child_value("code", str(code)).append_child_value(
                "label", name or "none")
        events = lsl.StreamInfo(EVENTS_NAME, "Markers", 1, lsl.IRREGULAR_RATE, "string",
                                f"{source_id}-events")
        _desc(events, [("event", "", "Marker")], device)
        self.raw = lsl.StreamOutlet(raw, chunk_size=0, max_buffered=360)
        self.posture = lsl.StreamOutlet(posture, max_buffered=360)
        self.events = lsl.StreamOutlet(events, max_buffered=360)
        self.counts = LslCounts()

    def push_raw(self, lsl_time_s: NDArray[np.float64], acc_mps2: NDArray[np.float64],
                 gyr_rps: NDArray[np.float64] | None) -> None:
        """Push samples with their LSL times (accelerometer-only: gyro channels NaN)."""
        gyr = np.full_like(acc_mps2, np.nan) if gyr_rps is None else gyr_rps
        data = np.ascontiguousarray(np.hstack([acc_mps2, gyr]), dtype=np.float32)
        self.raw.push_chunk(data, timestamp=np.ascontiguousarray(lsl_time_s, dtype=np.float64))
        c = self.counts
        self.counts = LslCounts(c.raw_samples + len(data), c.posture_samples, c.events)

    def push_posture(self, lsl_time_s: NDArray[np.float64], anterior_tilt_deg: NDArray[Any],
                     lateral_tilt_deg: NDArray[Any], activity_code: NDArray[Any],
                     hip_hike_code: NDArray[Any]) -> None:
        """Push derived values stamped with the LSL times of their samples."""
        if not len(lsl_time_s):
            return
        data = np.column_stack([anterior_tilt_deg, lateral_tilt_deg, activity_code,
                                hip_hike_code]).astype(np.float32)
        self.posture.push_chunk(np.ascontiguousarray(data),
                                timestamp=np.ascontiguousarray(lsl_time_s, dtype=np.float64))
        c = self.counts
        self.counts = LslCounts(c.raw_samples, c.posture_samples + len(data), c.events)

    def push_event(self, text: str, lsl_time_s: float) -> None:
        """Push one event string (e.g. ``hip_hike_start left``, ``marker cue``)."""
        self.events.push_sample([text], lsl_time_s)
        c = self.counts
        self.counts = LslCounts(c.raw_samples, c.posture_samples, c.events + 1)


class ClockMap:
    """Session time (``Batch.time_s``) of a source -> LSL time.

    A source that exposes ``session_origin_s`` and its host ``clock`` (the BLE client,
    the emulated sensor) is mapped exactly: ``lsl = time_s + origin + (local_clock -
    clock)``, the clock offset measured once (two monotonic clocks: constant). Any other
    source is anchored on its first batch's arrival (documented as approximate).
    """

    def __init__(self, source: SampleSource, local_clock: Callable[[], float]) -> None:
        self._source = source
        self._local = local_clock
        self.offset_s: float | None = None
        self.exact = False

    def __call__(self, time_s: NDArray[np.float64]) -> NDArray[np.float64]:
        """LSL times of session times."""
        if self.offset_s is None:
            clock = getattr(self._source, "clock", None)
            origin = getattr(self._source, "session_origin_s", None)
            if callable(clock) and isinstance(origin, float):
                # Bracket the source's clock read by two LSL reads: error < their spacing / 2.
                a = self._local()
                c = float(clock())
                b = self._local()
                self.offset_s = origin + (a + b) / 2 - c
                self.exact = True
            else:
                self.offset_s = self._local() - float(time_s[-1])
        return time_s + self.offset_s


class LslTee:
    """A :class:`SampleSource` that streams every batch passing through to LSL.

    Parameters
    ----------
    source : SampleSource
        The real source (not yet started).
    source_id : str
        Stable id for the streams (e.g. the sensor address).
    activity_labels : sequence of str
        Activity names for the posture stream's description.
    """

    def __init__(self, source: SampleSource, source_id: str = "pelviscope",
                 activity_labels: Sequence[str] = ()) -> None:
        self.source = source
        self.source_id = source_id
        self.activity_labels = tuple(activity_labels)
        self.outlets: LslOutlets | None = None
        self.to_lsl = ClockMap(source, _pylsl().local_clock)
        self._last_time_s = -np.inf

    def __getattr__(self, name: str) -> Any:
        # Anything else (the decoder's clock drift the recorder reports ...) is the source's.
        return getattr(self.__dict__["source"], name)

    def start(self) -> None:
        """Start the wrapped source."""
        self.source.start()

    def stop(self) -> None:
        """Stop the wrapped source (the outlets live until this object goes)."""
        self.source.stop()

    @property
    def status(self) -> SourceStatus:
        """The wrapped source's status."""
        return self.source.status

    def poll(self) -> list[Batch]:
        """The wrapped source's batches, each pushed to the raw outlet on the way."""
        batches = self.source.poll()
        for b in batches:
            if not b.n_samples:
                continue
            keep = b.time_s > self._last_time_s  # never a sample twice (a replayed overlap)
            if not keep.any():
                continue
            if self.outlets is None:
                self.outlets = LslOutlets(b.rate_hz, self.source_id, self.status.device,
                                          self.activity_labels)
            t = self.to_lsl(b.time_s[keep])
            for g in b.gaps:
                self.outlets.push_event(f"gap {g.reason} {g.lost_samples}",
                                        float(self.to_lsl(np.array([g.start_s]))[0]))
            self.outlets.push_raw(t, b.acc_mps2[keep],
                                  None if b.gyr_rps is None else b.gyr_rps[keep])
            self._last_time_s = float(b.time_s[keep][-1])
        return batches

    def push_posture(self, time_s: NDArray[np.float64], anterior_tilt_deg: NDArray[Any],
                     lateral_tilt_deg: NDArray[Any], activity_code: NDArray[Any],
                     hip_hike: str) -> None:
        """Publish derived values of session times ``time_s`` (the live window calls this)."""
        if self.outlets is None or not len(time_s):
            return
        code = np.full(len(time_s), HIP_HIKE_CODES.get(hip_hike, 0), dtype=np.float32)
        self.outlets.push_posture(self.to_lsl(time_s), anterior_tilt_deg, lateral_tilt_deg,
                                  activity_code, code)

    def push_event(self, text: str, time_s: float) -> None:
        """Publish an event (episode start/end, user marker) at session time ``time_s``."""
        if self.outlets is not None:
            self.outlets.push_event(text, float(self.to_lsl(np.array([time_s]))[0]))


def linger(tee: LslTee, seconds: float = 1.0) -> None:
    """Let connected inlets take the last samples before the outlets go (process exit)."""
    if tee.outlets is not None and tee.outlets.raw.have_consumers():
        time.sleep(seconds)
    tee.outlets = None


def wait_for_consumers(tee: LslTee, timeout_s: float) -> bool:
    """Block until someone listens to the raw stream (or the timeout); True if someone does."""
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        if tee.outlets is not None and tee.outlets.raw.have_consumers():
            return True
        time.sleep(0.05)
    return False
