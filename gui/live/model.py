"""The dashboard's state, without Qt: a source, ring buffers, the analysis, the recording.

The window calls :meth:`LiveModel.tick` from a ~30 Hz timer; ``tick`` drains the
source's thread-safe queue, runs the incremental analysis on each batch, appends to the
ring buffers and writes the recording. The window then reads :meth:`LiveModel.snapshot`,
and once the new frame is painted calls :meth:`LiveModel.idle` for the slow periodic work
(the rolling gait detection), so that it never sits between a notification and the screen.

Samples no sensor can produce (not numbers, or beyond the sensor's range) are left out of
the analysis and the plots as lost samples are (:class:`~analysis.pipeline.live.LivePipeline`,
the offline analysis's rule and limits) and counted (:attr:`LiveModel.left_out_samples`).
The recording keeps every sample as it came: its readers leave the same samples out.
"""

from __future__ import annotations

import collections
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from analysis.calibration import Calibration, mount_preset
from analysis.gait.cycle import StrideCycles, stride_cycles
from analysis.guided_calibration import GuidedStatus
from analysis.hiphike import HipHikeEpisode
from analysis.hiphike.drop import PelvicDropEpisode
from analysis.pipeline.live import LivePipeline
from firmware_bridge.sink import clock_drift_ppm, recording_meta
from firmware_bridge.source import Batch, SampleSource, SourceStatus, State
from gui.live.recording import LiveRecording
from gui.live.ring import RingBuffer
from gui.live.settings import WINDOW_CHOICES_S, LiveSettings
from gui.live.thin import MinMaxTrace
from recordings import Marker

FloatArray = NDArray[np.float64]
#: Activity label -> code in the ring buffer (-1 = not decided yet).
#: Data older than this while "streaming" is shown as stalled.
STALE_AFTER_S = 1.0
#: Samples averaged for the big readouts, s.
READOUT_SPAN_S = 0.25


@dataclass
class Snapshot:
    """What the window draws, read after each tick.

    Attributes
    ----------
    time_s, anterior_tilt_deg, lateral_tilt_deg : ndarray
        Samples of the visible window, NaN after each gap (a break in the curve).
    activity_code : ndarray of int8
        :class:`analysis.labels.Activity` code per sample (-1 undecided).
    now_s : float
        Newest sample time (the right edge of the plots).
    episodes : list of HipHikeEpisode
        Hip-hike episodes overlapping the window, closed and ongoing.
    markers : list of Marker
        Markers of the current recording (dashboard clock).
    drops : list of PelvicDropEpisode
        Pelvic-drop episodes overlapping the window, closed and ongoing.
    """

    time_s: FloatArray
    anterior_tilt_deg: FloatArray
    lateral_tilt_deg: FloatArray
    activity_code: NDArray[np.int8]
    now_s: float
    episodes: list[HipHikeEpisode] = field(default_factory=list)
    markers: list[Marker] = field(default_factory=list)
    drops: list[PelvicDropEpisode] = field(default_factory=list)


@dataclass(frozen=True)
class Readout:
    """The big numbers, the hip-hike and the pelvic-drop indicators."""

    anterior_tilt_deg: float
    lateral_tilt_deg: float
    activity: str
    cadence_spm: float
    hip_hike_side: str
    hip_hike_deg: float
    hip_hike_duration_s: float
    drop_side: str = ""
    drop_deg: float = float("nan")
    drop_duration_s: float = 0.0


class LiveModel:
    """Everything the live dashboard shows, fed from a :class:`SampleSource`.

    Parameters
    ----------
    settings : LiveSettings, optional
        Thresholds, window, preset.
    clock : callable
        Wall clock for staleness (``time.monotonic``).
    """

    def __init__(
        self, settings: LiveSettings | None = None, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.settings = settings or LiveSettings()
        self.clock = clock
        self.source: SampleSource | None = None
        self.source_label = ""
        self.ring: RingBuffer | None = None
        self.pipeline: LivePipeline | None = None
        self.rate_hz = 0.0
        self._calibration: Calibration = mount_preset(self.settings.mount_preset)
        self.calibrated = False
        self.guided_status: GuidedStatus | None = None
        self.episodes: list[HipHikeEpisode] = []
        self.ongoing: list[HipHikeEpisode] = []
        self.hip_hike_flag = ""
        #: Pelvic drops (closed, ongoing) and the side dropping now.
        self.drops: list[PelvicDropEpisode] = []
        self.drops_ongoing: list[PelvicDropEpisode] = []
        self.drop_flag = ""
        self.gaps: collections.deque[tuple[float, float]] = collections.deque()
        self.recording: LiveRecording | None = None
        self.last_recording: Path | None = None
        #: Why the last recording stopped by itself (a write error), else "".
        self.recording_error = ""
        self.status = SourceStatus()
        #: Impossible samples left out of this stream, and the time of the first one.
        self.left_out_samples = 0
        self.first_left_out_s = math.nan
        self._act_offset = 0
        self._break_next = False
        self._last_data_wall = -math.inf
        self._pending_host_s: list[float] = []
        #: Notification-to-screen latencies (s), appended by :meth:`note_painted`.
        self.latencies_s: collections.deque[float] = collections.deque(maxlen=2000)
        #: Hip-hike onsets since the last call of :meth:`take_onsets` (for the sound).
        self._onsets: list[HipHikeEpisode] = []
        #: Thinned tilt for the plots: (ring, samples per bin, ring count fed, traces).
        self._thin: tuple[RingBuffer, int, int, dict[str, MinMaxTrace]] | None = None

    # ---- connection ---------------------------------------------------------------------
    def connect(self, source: SampleSource, label: str = "") -> None:
        """Start streaming from ``source`` (any previous one is stopped)."""
        self.disconnect()
        self.source, self.source_label = source, label
        self.ring, self.pipeline = None, None
        self.episodes.clear()
        self.ongoing.clear()
        self.drops.clear()
        self.drops_ongoing.clear()
        self.gaps.clear()
        self.hip_hike_flag = self.drop_flag = ""
        self.left_out_samples, self.first_left_out_s = 0, math.nan
        self._break_next = False
        source.start()

    def disconnect(self) -> None:
        """Stop the source (and any recording)."""
        if self.recording is not None:
            self.stop_recording()
        if self.source is not None:
            self.source.stop()
            self.status = self.source.status
            self.source = None

    @property
    def connection_text(self) -> str:
        """Connection state in words; never "streaming" when data stopped coming."""
        if self.source is None:
            return "not connected"
        state = self.status.state
        if state == State.STREAMING and self.clock() - self._last_data_wall > STALE_AFTER_S:
            return "connected - no data"
        return {
            State.IDLE: "starting", State.SCANNING: "searching", State.CONNECTING: "connecting",
            State.STREAMING: "streaming", State.RECONNECTING: "reconnecting",
            State.DISCONNECTED: "disconnected", State.FAILED: "failed",
        }[state]

    @property
    def session_now_s(self) -> float:
        """The source's session clock now (the clock of ``Batch.host_time_s``)."""
        clock = getattr(self.source, "clock", None)
        origin = getattr(self.source, "session_origin_s", None)
        if clock is None or origin is None:
            return math.nan
        return float(clock()) - float(origin)

    # ---- calibration ------------------------------------------------------------------------
    @property
    def calibration(self) -> Calibration:
        """The calibration in use (a mount preset until calibrated)."""
        return self._calibration

    def set_calibration(self, calibration: Calibration, *, calibrated: bool = True) -> None:
        """Use a calibration (guided, loaded or a preset)."""
        self._calibration, self.calibrated = calibration, calibrated
        if self.pipeline is not None:
            self.pipeline.set_calibration(calibration)
        if self.recording is not None:
            self.recording.update_meta({"calibration": calibration.to_dict()})

    def use_preset(self, name: str) -> None:
        """Fall back to a mount preset (raises ``CalibrationError`` for an unknown one)."""
        self.set_calibration(mount_preset(name), calibrated=False)

    def start_guided(self, mode: Literal["walk", "bend"] = "walk") -> None:
        """Start the guided calibration (needs a stream)."""
        if self.pipeline is None:
            self.guided_status = GuidedStatus("failed", "Calibration failed.",
                                              message="no sensor data yet: connect first")
            return
        self.guided_status = self.pipeline.start_guided(mode)

    def cancel_guided(self) -> None:
        """Abandon the guided calibration."""
        if self.pipeline is not None:
            self.pipeline.cancel_guided()
        self.guided_status = None

    # ---- settings -------------------------------------------------------------------------
    def apply_settings(self, settings: LiveSettings) -> None:
        """New settings; the hip-hike detector restarts when its thresholds change."""
        old, self.settings = self.settings, settings
        if self.pipeline is not None and old.hip_hike_params() != settings.hip_hike_params():
            self.pipeline.set_hip_hike_params(settings.hip_hike_params())
            self.ongoing, self.hip_hike_flag = [], ""

    # ---- recording -----------------------------------------------------------------------
    def start_recording(self, path: str | Path, meta: dict[str, Any]) -> None:
        """Record from the next batch on (subject_id, session_id, notes in ``meta``).

        Raises
        ------
        recordings.files.OutputError
            ``path`` exists already or cannot be written; nothing is started.
        """
        if self.recording is not None:
            self.stop_recording()
        cal = self._calibration.to_dict() if self.calibrated else None
        self.recording_error = ""
        self.recording = LiveRecording(path, {"calibration": cal, "simulated":
                                              "emulated" in self.source_label, **meta})

    def stop_recording(self) -> Path | None:
        """Close the recording; returns its path (None if no sample was written)."""
        rec, self.recording = self.recording, None
        if rec is None:
            return None
        try:
            rec.close(self.status, clock_drift_ppm(self.source))
        except (OSError, ValueError) as exc:  # e.g. the disk filled up at the last write
            self.recording_error = f"recording not closed cleanly: {exc}"
            rec.abandon()
        self.last_recording = rec.path if rec.samples else None
        return self.last_recording

    def add_marker(self, label: str = "") -> Marker | None:
        """A marker at the newest sample time, stored with the recording."""
        if self.recording is None or self.ring is None or not len(self.ring):
            return None
        n = len(self.recording.markers) + 1
        return self.recording.add_marker(self.now_s, label or f"marker {n}")

    # ---- the 30 Hz tick ----------------------------------------------------------------------
    def tick(self) -> int:
        """Drain the source and process every batch; return the number of new samples."""
        if self.source is None:
            return 0
        batches = self.source.poll()
        self.status = self.source.status
        n = 0
        for b in batches:
            if b.n_samples:
                self._process(b)
                n += b.n_samples
        if n:
            self._last_data_wall = self.clock()
        return n

    def _process(self, b: Batch) -> None:
        if self.ring is None or self.pipeline is None:
            self.rate_hz = b.rate_hz
            cap = math.ceil(max(WINDOW_CHOICES_S) * b.rate_hz * 1.05) + 64
            self.ring = RingBuffer(cap, {"t": (np.float64, np.nan), "ant": (np.float64, np.nan),
                                         "lat": (np.float64, np.nan), "act": (np.int8, -1),
                                         "brk": (np.bool_, False)})
            # The limits of the recording's readers: the ranges its header will state.
            ranges = recording_meta(self.status, {})["ranges"]
            self.pipeline = LivePipeline(b.rate_hz, self._calibration,
                                         hip_hike_params=self.settings.hip_hike_params(),
                                         meta={"ranges": ranges})
            self._act_offset = 0
        if b.gaps:
            for g in b.gaps:
                self.gaps.append((g.start_s, g.end_s))
            if b.time_s[0] - self.now_s > 0.5:
                self.pipeline.interrupt()
        res = self.pipeline.feed(b.time_s, b.acc_mps2, b.gyr_rps)
        if res.left_out is None:
            brk = np.zeros(b.n_samples, dtype=bool)
            brk[0] = bool(b.gaps) or self._break_next
            self._break_next = False
        else:
            brk = self._left_out(b, res.left_out)
        self._record(b)
        if not res.time_s.size:
            return
        self.ring.append(t=res.time_s, ant=res.anterior_tilt_deg, lat=res.lateral_tilt_deg,
                         brk=brk)
        if res.activity.labels.size:
            self.ring.set_from(
                "act", self._act_offset + res.activity.first_index, res.activity.labels
            )
        if res.calibration is not None:
            self.guided_status = res.calibration
            if res.calibration.phase == "done" and res.calibration.calibration is not None:
                self.set_calibration(res.calibration.calibration)
        hip = res.hip_hike
        started = {(e.side, e.start_s) for e in self.ongoing}
        self._onsets += [e for e in hip.ongoing if (e.side, e.start_s) not in started]
        self.episodes.extend(hip.closed)
        self.ongoing, self.hip_hike_flag = list(hip.ongoing), hip.flag
        self.drops.extend(res.drop.closed)
        self.drops_ongoing, self.drop_flag = list(res.drop.ongoing), res.drop.flag
        oldest = float(self.ring.last("t", len(self.ring))[0])
        while self.episodes and self.episodes[0].end_s < oldest:
            self.episodes.pop(0)
        while self.drops and self.drops[0].end_s < oldest:
            self.drops.pop(0)
        while self.gaps and self.gaps[0][1] < oldest:
            self.gaps.popleft()
        if b.host_time_s is not None:
            self._pending_host_s.append(float(b.host_time_s[-1]))

    def _left_out(self, b: Batch, left_out: NDArray[np.bool_]) -> NDArray[np.bool_]:
        """Count the impossible samples of ``b``; breaks of the curve for the samples kept.

        Each run of left-out samples is a gap, as a lost packet is: the curve breaks at
        the next sample kept (in this batch or a later one).
        """
        n_bad = int(left_out.sum())
        if not self.left_out_samples:
            self.first_left_out_s = float(b.time_s[int(np.argmax(left_out))])
        self.left_out_samples += n_bad
        keep = ~left_out
        after_bad = np.concatenate(([self._break_next], left_out[:-1]))
        after_bad[0] |= bool(b.gaps)
        self._break_next = bool(left_out[-1])  # the next sample kept comes after a hole
        t = b.time_s
        edges = np.flatnonzero(np.diff(np.concatenate(([0], left_out.view(np.int8), [0]))))
        for a, e in zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True):
            start = float(t[a - 1]) if a > 0 else self.now_s
            run = t[a:e][np.isfinite(t[a:e])]  # a time that is not a number is impossible too
            end = float(t[e]) if e < t.size else float(run.max()) if run.size else start
            self.gaps.append((start, max(start, end)))
        return after_bad[keep]

    def _record(self, b: Batch) -> None:
        """Write the batch as it came (a write error stops the recording with one line)."""
        if self.recording is not None:
            try:
                self.recording.append(b, self.status)
            except (OSError, ValueError) as exc:  # OutputError: one line with the file
                self.recording_error = f"recording stopped: {exc}"
                rec, self.recording = self.recording, None
                rec.abandon()
                self.last_recording = rec.path if rec.samples else None

    def idle(self) -> None:
        """Slow periodic analysis (rolling gait detection); call when a redraw is done."""
        if self.pipeline is not None and self.pipeline.gait_due:
            self.pipeline.update_gait()

    def take_onsets(self) -> list[HipHikeEpisode]:
        """Hip-hikes that started since the last call."""
        out, self._onsets = self._onsets, []
        return out

    def note_painted(self) -> None:
        """The window has put the latest data on screen: record the latencies."""
        now = self.session_now_s
        if math.isfinite(now):
            self.latencies_s.extend(now - h for h in self._pending_host_s)
        self._pending_host_s.clear()

    # ---- reading ------------------------------------------------------------------------------
    @property
    def now_s(self) -> float:
        """Newest sample time, s (0 before any data)."""
        if self.ring is None or not len(self.ring):
            return 0.0
        return float(self.ring.last("t", 1)[0])

    def snapshot(self, window_s: float | None = None) -> Snapshot:
        """The samples of the last ``window_s`` (the settings' window by default)."""
        window_s = self.settings.window_s if window_s is None else window_s
        episodes, markers = self.annotations(window_s)
        ring = self.ring
        if ring is None or not len(ring):
            empty = np.empty(0)
            return Snapshot(empty, empty, empty, np.empty(0, np.int8), 0.0, markers=markers)
        t, act = self.activity(window_s)
        now = float(t[-1])
        t = t.copy()
        ant = ring.last_as("ant", np.float64, t.size).copy()
        lat = ring.last_as("lat", np.float64, t.size).copy()
        act = act.copy()
        brk = np.flatnonzero(ring.last("brk", t.size))
        brk = brk[brk > 0]
        if brk.size:  # a NaN between the samples around each gap breaks the curve
            t = np.insert(t, brk, t[brk - 1])
            ant = np.insert(ant, brk, np.nan)
            lat = np.insert(lat, brk, np.nan)
            act = np.insert(act, brk, -1)
        return Snapshot(t, ant, lat, act, now, episodes, markers, self.drop_annotations(window_s))

    def activity(self, window_s: float) -> tuple[FloatArray, NDArray[np.int8]]:
        """Times and activity codes of the samples of the last ``window_s`` (views, no copy).

        Valid until the next :meth:`tick`; copy them to keep them.
        """
        ring = self.ring
        if ring is None or not len(ring):
            return np.empty(0), np.empty(0, np.int8)
        k_max = int(window_s * self.rate_hz * 1.05) + 16
        t = ring.last_as("t", np.float64, k_max)
        i = int(np.searchsorted(t, float(t[-1]) - window_s))
        return t[i:], ring.last_as("act", np.int8, t.size - i)

    def annotations(self, window_s: float) -> tuple[list[HipHikeEpisode], list[Marker]]:
        """Hip-hike episodes and markers to draw.

        Returns
        -------
        episodes : list of HipHikeEpisode
            Closed and ongoing episodes overlapping the last ``window_s``.
        markers : list of Marker
            Markers of the current recording (dashboard clock).
        """
        markers = list(self.recording.markers) if self.recording is not None else []
        off = self.recording.offset_s if self.recording is not None else None
        if off:
            markers = [Marker(m.time_s + off, m.label, m.note) for m in markers]
        left = self.now_s - window_s
        eps = [e for e in [*self.episodes, *self.ongoing] if e.end_s >= left]
        return eps, markers

    def last_strides(self, n: int = 10) -> StrideCycles | None:
        """The last ``n`` strides of each side, resampled to 0-100 % (None before any).

        From the contacts the pipeline handed on and the tilt in the ring buffer (the
        analysis's :func:`analysis.gait.cycle.stride_cycles`).
        """
        ring, pipe = self.ring, self.pipeline
        if ring is None or pipe is None or len(pipe.recent_contacts) < 3 or not len(ring):
            return None
        ics = list(pipe.recent_contacts)
        t = ring.last_as("t", np.float64, len(ring))
        i = int(np.searchsorted(t, ics[0][0] - 0.1))
        cycles = stride_cycles(
            t[i:], ring.last_as("lat", np.float64, t.size - i),
            ring.last_as("ant", np.float64, t.size - i),
            [c for c, _ in ics], [side for _, side in ics],
        )
        return cycles.last(n) if len(cycles) else None

    def drop_annotations(self, window_s: float) -> list[PelvicDropEpisode]:
        """Pelvic-drop episodes (closed and ongoing) overlapping the last ``window_s``."""
        left = self.now_s - window_s
        return [e for e in [*self.drops, *self.drops_ongoing] if e.end_s >= left]

    def thinned(self, samples_per_bin: int) -> dict[str, MinMaxTrace]:
        """Min/max traces of the tilt (keys ``"anterior"``, ``"lateral"``), up to date.

        Only the samples that arrived since the last call are added, so calling this for
        every frame costs O(new samples); a new stream, a new ``samples_per_bin`` or more
        new samples than the ring holds rebuild the traces from the ring. Gaps break the
        curves (see :class:`~gui.live.thin.MinMaxTrace`).

        Parameters
        ----------
        samples_per_bin : int
            Samples per min/max pair (about ``window * rate / (plot width / 2)``).

        Returns
        -------
        dict of str to MinMaxTrace
            Empty before any data.
        """
        ring = self.ring
        if ring is None or not len(ring):
            return {}
        k = max(1, int(samples_per_bin))
        thin = self._thin
        if thin is None or thin[0] is not ring or thin[1] != k or ring.count - thin[2] > len(ring):
            cap = ring.capacity // k + 256
            traces = {"anterior": MinMaxTrace(k, cap), "lateral": MinMaxTrace(k, cap)}
            fed = ring.first_index
        else:
            _, _, fed, traces = thin
        n = ring.count - fed
        if n:
            t, brk = ring.last("t", n), ring.last("brk", n)
            traces["anterior"].extend(t, ring.last("ant", n), brk)
            traces["lateral"].extend(t, ring.last("lat", n), brk)
        self._thin = (ring, k, ring.count, traces)
        return traces

    def readout(self) -> Readout:
        """Current angles (mean of the last 0.25 s), activity, cadence and hip-hike state."""
        nan = float("nan")
        if self.ring is None or self.pipeline is None or not len(self.ring):
            return Readout(nan, nan, "unknown", nan, "", nan, 0.0)
        k = max(1, int(READOUT_SPAN_S * self.rate_hz))
        ant = self.ring.last_as("ant", np.float64, k)
        lat = self.ring.last_as("lat", np.float64, k)
        a = float(np.mean(ant)) if np.isfinite(ant).all() else float(ant[-1])
        la = float(np.mean(lat)) if np.isfinite(lat).all() else float(lat[-1])
        side, deg, dur = self.hip_hike_flag, nan, 0.0
        if side:
            ep = max((e for e in self.ongoing if e.side == side), key=lambda e: e.start_s)
            deg, dur = abs(la), max(0.0, self.now_s - ep.start_s)
        drop = [e for e in self.drops_ongoing if e.side == self.drop_flag]
        d_deg, d_dur = nan, 0.0
        if drop:  # the mean depth below the stride mean, as the report states it
            dep = max(drop, key=lambda e: e.start_s)
            d_deg, d_dur = dep.mean_deg, max(0.0, self.now_s - dep.start_s)
        return Readout(a, la, self.pipeline.current_activity.label, self.pipeline.cadence_spm,
                       side, deg, dur, self.drop_flag, d_deg, d_dur)
