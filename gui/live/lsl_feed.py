"""Hands the live model's derived values and events to an LSL sink (``pelviscope live --lsl``).

Qt-free: the window calls :meth:`LslFeed.update` after each ``model.tick()``. What it
publishes (:class:`interop.lsl.PostureSink`): every new sample's anterior and lateral
tilt with the activity code known at that moment (-1 while the activity of the newest
samples is still being decided) and the hip-hike flag; hip-hike episode starts and ends
and user markers as events, at their session times.
"""

from __future__ import annotations

import numpy as np

from gui.live.model import LiveModel
from interop.lsl import PostureSink


class LslFeed:
    """Publish what is new in ``model`` to ``sink`` on each :meth:`update`."""

    def __init__(self, model: LiveModel, sink: PostureSink) -> None:
        self.model = model
        self.sink = sink
        self._ring: object | None = None
        self._next = 0
        self._started: set[tuple[str, float]] = set()
        self._ended: set[tuple[str, float]] = set()

    def update(self) -> int:
        """Publish new samples and episode changes; return the number of samples sent."""
        m = self.model
        ring = m.ring
        if ring is None:
            return 0
        if ring is not self._ring:  # a new connection: a new ring counting from 0
            self._ring, self._next = ring, 0
        start = max(self._next, ring.first_index)
        k = ring.count - start
        if k > 0:
            self.sink.push_posture(
                np.array(ring.last("t", k), dtype=np.float64),
                np.array(ring.last("ant", k), dtype=np.float32),
                np.array(ring.last("lat", k), dtype=np.float32),
                np.array(ring.last("act", k), dtype=np.float32),
                m.hip_hike_flag,
            )
            self._next = ring.count
        for e in m.ongoing:
            key = (e.side, e.start_s)
            if key not in self._started:
                self._started.add(key)
                self.sink.push_event(f"hip_hike_start {e.side} {e.kind}", e.start_s)
        for e in m.episodes:
            key = (e.side, e.start_s)
            if key not in self._ended:
                self._ended.add(key)
                if key not in self._started:  # it began and ended between two ticks
                    self._started.add(key)
                    self.sink.push_event(f"hip_hike_start {e.side} {e.kind}", e.start_s)
                self.sink.push_event(
                    f"hip_hike_end {e.side} {e.kind} peak {e.peak_deg:.1f} deg", e.end_s)
        return max(k, 0)

    def marker(self, label: str, time_s: float) -> None:
        """A user marker."""
        self.sink.push_event(f"marker {label}", time_s)
