"""BLE client on bleak's public API, run in its own thread: scan, connect, stream, reconnect.

:class:`BleSource` is a :class:`~firmware_bridge.source.SampleSource`. It owns a thread with
its own asyncio loop; decoded :class:`~firmware_bridge.source.Batch` es reach the caller
through a ``queue.Queue`` (``poll()`` never blocks). After a drop it scans again (BlueZ
forgets devices), reconnects with backoff, and the stream decoder records the gap.

Clock synchronisation: with a profile that can read the device clock on request
(:class:`~firmware_bridge.profiles.base.ClockSyncProfile`; ours, via GET_TIME), every
connection starts with a burst of ``time_sync_exchanges`` round trips before START, and
another burst runs every ``time_sync_interval_s`` while streaming. The fastest round trip
of a burst gives the device-to-host offset (:func:`~firmware_bridge.timing.estimate_offset`),
which anchors the stream decoder's clock model, so sample times are absolute (not late
by the link's minimum latency), to within half that round trip's asymmetry. Other
profiles keep the envelope-only fit.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import dataclasses
import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple, Protocol

from bleak import BleakClient, BleakScanner
from bleak.backends.client import BaseBleakClient
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData, BaseBleakScanner

from firmware_bridge.profiles import pelviscope_profile as pp
from firmware_bridge.profiles.base import ClockSyncProfile, Profile
from firmware_bridge.profiles.pelviscope import PelviscopeProfile
from firmware_bridge.source import Batch, SourceStatus, State, drain
from firmware_bridge.stream import StreamDecoder
from firmware_bridge.timing import estimate_offset

log = logging.getLogger(__name__)

#: Reconnect backoff (seconds) after the 1st, 2nd, ... failed attempt; the last repeats.
BACKOFF_S = (0.2, 0.5, 1.0, 2.0, 5.0)
#: Device-clock round trips per synchronisation burst (the fastest one is used).
TIME_SYNC_EXCHANGES = 12
#: Seconds between synchronisation bursts while streaming (the first ones come sooner:
#: after TIME_SYNC_FIRST_INTERVAL_S, doubling up to this).
TIME_SYNC_INTERVAL_S = 30.0
TIME_SYNC_FIRST_INTERVAL_S = 2.0
_DIS_CHARS = {
    "manufacturer": pp.MANUFACTURER_CHAR_UUID,
    "model": pp.MODEL_CHAR_UUID,
    "firmware": pp.FIRMWARE_REV_CHAR_UUID,
}


class BackendPair(NamedTuple):
    """The scanner and client classes of one bleak backend (None = the platform's)."""

    scanner: type[BaseBleakScanner] | None
    client: type[BaseBleakClient] | None


class Companion(Protocol):
    """Something that must run in the client's loop (e.g. the emulated sensor)."""

    async def start(self) -> None:
        """Start inside the client's loop."""

    async def stop(self) -> None:
        """Stop inside the client's loop."""


@dataclasses.dataclass(frozen=True)
class Found:
    """One device seen by :func:`scan`."""

    name: str | None
    address: str
    rssi: int
    profile: str
    #: Advertised service UUIDs (lower case).
    services: tuple[str, ...] = ()
    #: False for a device no profile recognises (listed by ``scan(include_unsupported=True)``).
    supported: bool = True
    #: Sensor kind (``"witmotion"``, ``"polar-h10"``, ``"pelviscope"`` ...), "" if unsupported.
    kind: str = ""


def profile_kind(profile: Profile) -> str:
    """The command-line kind of a profile (``"pelviscope"`` for ours)."""
    return str(getattr(profile, "kind", "") or profile.name.split("/")[0])


async def scan(
    profiles: Sequence[Profile], *, timeout_s: float = 5.0, backend: BackendPair | None = None,
    include_unsupported: bool = False,
) -> list[Found]:
    """Scan for ``timeout_s`` and list the devices some profile recognises (strongest first).

    With ``include_unsupported`` every other advertising device is listed too, with its
    services and ``supported=False`` (after the supported ones).
    """
    seen: dict[str, Found] = {}

    def on_adv(device: BLEDevice, adv: AdvertisementData) -> None:
        uuids = tuple(u.lower() for u in adv.service_uuids)
        name = adv.local_name or device.name
        for prof in profiles:
            if prof.matches(adv.local_name, adv.service_uuids):
                seen[device.address] = Found(name, device.address, adv.rssi, prof.name, uuids,
                                             True, profile_kind(prof))
                return
        old = seen.get(device.address)
        if include_unsupported and (old is None or not old.supported):
            seen[device.address] = Found(name, device.address, adv.rssi, "", uuids, False)

    scanner_cls = backend.scanner if backend else None
    async with BleakScanner(on_adv, backend=scanner_cls):
        await asyncio.sleep(timeout_s)
    return sorted(seen.values(), key=lambda f: (not f.supported, -f.rssi))


class BleSource:
    """Stream a BLE IMU in a background thread (a :class:`SampleSource`).

    Parameters
    ----------
    profile : Profile, optional
        Device profile (ours by default).
    profiles : sequence of Profile, optional
        Accept a device of any of these kinds (auto-detection): the profile that
        recognises the first device found is used (``profile`` is then ignored).
    address : str, optional
        Connect only to this address; otherwise the first matching device (or ``name``).
    name : str, optional
        Connect only to a device advertising this name.
    backend : BackendPair, optional
        bleak backend classes, passed through to ``BleakScanner`` / ``BleakClient``.
    companions : sequence of Companion
        Started in the client's loop before scanning (the emulated sensor).
    clock : callable
        Host clock in seconds (``time.monotonic``; a scaled clock in fast tests).
    reconnect : bool
        Reconnect after a drop (scan, then connect, with backoff).
    scan_timeout_s : float
        How long one scan looks for the device.
    first_connect_timeout_s : float
        Give up (state FAILED) if no device was ever found after this long.
    time_sync_exchanges : int
        Device-clock round trips per synchronisation burst, with a profile that supports
        it (0 = no synchronisation: envelope-only timing, late by the minimum latency).
    time_sync_interval_s : float or None
        Seconds (real time) between bursts while streaming (the first ones come sooner,
        see :data:`TIME_SYNC_FIRST_INTERVAL_S`); None = only on connecting.
    """

    def __init__(
        self,
        *,
        profile: Profile | None = None,
        profiles: Sequence[Profile] = (),
        address: str | None = None,
        name: str | None = None,
        backend: BackendPair | None = None,
        companions: Sequence[Companion] = (),
        clock: Callable[[], float] = time.monotonic,
        reconnect: bool = True,
        scan_timeout_s: float = 5.0,
        first_connect_timeout_s: float = 20.0,
        time_sync_exchanges: int = TIME_SYNC_EXCHANGES,
        time_sync_interval_s: float | None = TIME_SYNC_INTERVAL_S,
    ) -> None:
        self.profiles = tuple(profiles)
        self.profile: Profile = (self.profiles[0] if self.profiles and profile is None
                                 else profile or PelviscopeProfile())
        self.address, self.name = address, name
        self.backend = backend or BackendPair(None, None)
        self.companions = tuple(companions)
        self.clock = clock
        self.reconnect = reconnect
        self.scan_timeout_s = scan_timeout_s
        self.first_connect_timeout_s = first_connect_timeout_s
        self.time_sync_exchanges = time_sync_exchanges
        self.time_sync_interval_s = time_sync_interval_s
        self._queue: queue.Queue[Batch] = queue.Queue()
        self._lock = threading.Lock()
        self._status = SourceStatus()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_event: asyncio.Event | None = None
        self._rate_window: collections.deque[tuple[float, int]] = collections.deque()
        self.decoder: StreamDecoder | None = None
        self._found_profile: Profile | None = None
        #: Host clock (seconds) at ``time_s == 0``; set when the thread starts.
        self.session_origin_s = 0.0
        #: (drop host time, first batch after reconnect host time) per reconnection.
        self.reconnect_log: list[tuple[float, float]] = []

    # ---- SampleSource ---------------------------------------------------------------------
    def start(self) -> None:
        """Start the client thread (returns at once)."""
        if self._thread is not None:
            return
        ready = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(ready,), name="ble-source",
                                        daemon=True)
        self._thread.start()
        ready.wait(5.0)

    def stop(self, timeout_s: float = 10.0) -> None:
        """Stop streaming, disconnect and join the thread."""
        loop, event = self._loop, self._stop_event
        if loop is not None and event is not None and not loop.is_closed():
            loop.call_soon_threadsafe(event.set)
        if self._thread is not None:
            self._thread.join(timeout_s)
            self._thread = None

    def poll(self) -> list[Batch]:
        """Every batch decoded since the last call (never blocks)."""
        return drain(self._queue)

    @property
    def status(self) -> SourceStatus:
        """A snapshot of the connection state and counters."""
        with self._lock:
            return self._status

    @property
    def running(self) -> bool:
        """True while the client thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    # ---- internals -------------------------------------------------------------------------
    def _set(self, **changes: Any) -> None:
        with self._lock:
            self._status = dataclasses.replace(self._status, **changes)

    def _set_device(self, **items: Any) -> None:
        with self._lock:
            device = {**self._status.device, **items}
            self._status = dataclasses.replace(self._status, device=device)

    def _run(self, ready: threading.Event) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._main(ready))
        except Exception as exc:  # last resort: report, never raise into the thread
            log.exception("BLE client crashed")
            self._set(state=State.FAILED, error=f"{type(exc).__name__}: {exc}")
        finally:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    async def _main(self, ready: threading.Event) -> None:
        self._stop_event = asyncio.Event()
        self.session_origin_s = self.clock()
        self.decoder = self._make_decoder()
        ready.set()
        for comp in self.companions:
            await comp.start()
        try:
            await self._connect_loop()
        finally:
            for comp in self.companions:
                try:
                    await comp.stop()
                except Exception:
                    log.exception("companion stop failed")
            if self._status.state != State.FAILED:
                self._set(state=State.DISCONNECTED)

    def _make_decoder(self) -> StreamDecoder:
        """The profile's own stream decoder (vendor profiles) or the standard one."""
        factory = getattr(self.profile, "make_decoder", None)
        if factory is not None:
            decoder: StreamDecoder = factory(self.session_origin_s)
            return decoder
        return StreamDecoder(self.profile.decode, session_origin_s=self.session_origin_s)

    async def _connect_loop(self) -> None:
        assert self._stop_event is not None
        failures, ever_connected = 0, False
        drop_host_s: float | None = None
        while not self._stop_event.is_set():
            self._set(state=State.RECONNECTING if ever_connected else State.SCANNING)
            try:
                device = await self._find()
            except Exception as exc:  # no adapter, no permission, backend error
                self._set(state=State.FAILED, error=f"scan failed: {exc}")
                return
            if device is None:
                waited = self.clock() - self.session_origin_s
                if not ever_connected and waited > self.first_connect_timeout_s:
                    self._set(state=State.FAILED, error="no pelviscope sensor found")
                    return
                self._set(error="device not found, scanning again")
                continue
            try:
                dropped = await self._session(device, drop_host_s)
                ever_connected, failures = True, 0
                drop_host_s = self.clock() if dropped else None
            except Exception as exc:
                dropped, failures = True, failures + 1
                self._set(error=f"{type(exc).__name__}: {exc}")
                waited = self.clock() - self.session_origin_s
                if not ever_connected and waited > self.first_connect_timeout_s:
                    self._set(state=State.FAILED, error=f"could not connect: {exc}")
                    return
            if not dropped or not self.reconnect:
                return
            assert self.decoder is not None
            self.decoder.mark_interruption("disconnect")
            delay = BACKOFF_S[min(failures, len(BACKOFF_S)) - 1] if failures else 0.0
            self._set(state=State.RECONNECTING)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop_event.wait(), delay)

    async def _find(self) -> BLEDevice | None:
        def match(device: BLEDevice, adv: AdvertisementData) -> bool:
            by_address = self.address is not None
            if by_address and device.address.upper() != str(self.address).upper():
                return False
            if self.name is not None and adv.local_name != self.name:
                return False
            for prof in self.profiles or (self.profile,):
                if prof.matches(adv.local_name, adv.service_uuids):
                    self._set_device(rssi=adv.rssi)
                    self._found_profile = prof
                    return True
            return by_address  # an explicit address is used even if nothing recognises it

        self._found_profile = None
        scanner = self.backend.scanner
        if scanner is None:  # bleak's ExtraArgs does not accept backend=None
            device = await BleakScanner.find_device_by_filter(match, timeout=self.scan_timeout_s)
        else:
            device = await BleakScanner.find_device_by_filter(
                match, timeout=self.scan_timeout_s, backend=scanner
            )
        found = self._found_profile
        if device is not None and found is not None and found is not self.profile:
            assert self.decoder is not None
            if self.decoder.counters.frames == 0:  # first connection: adopt its profile
                self.profile = found
                self.decoder = self._make_decoder()
        return device

    async def _session(self, device: BLEDevice, drop_host_s: float | None) -> bool:
        """One connection; returns True if it ended by a drop, False on ``stop()``."""
        assert self._stop_event is not None
        dropped = asyncio.Event()
        self._set(state=State.CONNECTING)
        self._set_device(name=device.name, address=device.address)
        client = BleakClient(device, lambda _c: dropped.set(), backend=self.backend.client,
                             timeout=10.0)
        first_batch = asyncio.Event()
        resync: asyncio.Task[None] | None = None
        await client.connect()
        try:
            await self._read_device(client)
            synced = await self._sync_clock(client)  # before START: an idle link
            meta = await self.profile.start(client, lambda p: self._on_data(p, first_batch))
            if synced and self.time_sync_interval_s:
                resync = asyncio.ensure_future(self._resync_loop(client,
                                                                 self.time_sync_interval_s))
            self._set_device(**meta)
            self._set(state=State.STREAMING, error="")
            if drop_host_s is not None:
                self._set(reconnects=self._status.reconnects + 1)
                await self._wait_first(first_batch, dropped, drop_host_s)
            stop_wait = asyncio.ensure_future(self._stop_event.wait())
            drop_wait = asyncio.ensure_future(dropped.wait())
            await asyncio.wait({stop_wait, drop_wait}, return_when=asyncio.FIRST_COMPLETED)
            stop_wait.cancel()
            drop_wait.cancel()
            if resync is not None:
                resync.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await resync
            if dropped.is_set():
                return True
            try:
                await asyncio.wait_for(self.profile.stop(client), 3.0)
            except Exception as exc:
                log.info("stop command failed: %s", exc)
            return False
        finally:
            if resync is not None:
                resync.cancel()
            await client.disconnect()

    async def _sync_clock(self, client: BleakClient) -> bool:
        """One burst of device-clock round trips; anchor the decoder to the fastest.

        Returns
        -------
        bool
            True if the profile and device support it (whether or not this burst was used).
        """
        profile = self.profile
        if self.time_sync_exchanges <= 0 or not isinstance(profile, ClockSyncProfile):
            return False
        try:
            exchanges = await profile.time_exchanges(client, self.clock,
                                                     self.time_sync_exchanges)
        except Exception as exc:  # timing falls back to the envelope; never fatal
            log.warning("device clock synchronisation failed: %s", exc)
            return False
        if not exchanges:
            return False
        estimate = estimate_offset(exchanges)
        assert self.decoder is not None
        if self.decoder.sync_clock(estimate):
            self._set_device(clock_sync={
                "method": "device_clock_request",
                "round_trip_ms": round(estimate.round_trip_s * 1e3, 3),
                "error_bound_ms": round(estimate.error_bound_s * 1e3, 3),
            })
        return True

    async def _resync_loop(self, client: BleakClient, interval_s: float) -> None:
        """Synchronise again while the session streams (after 2, 4, 8 ... s, then steadily).

        Bursts come every ``interval_s`` once the doubling reaches it. The anchored line
        extrapolates with the envelope's slope, whose error is largest while the fit is
        young, so the first bursts come quickly.
        """
        wait_s = min(TIME_SYNC_FIRST_INTERVAL_S, interval_s)
        while True:
            await asyncio.sleep(wait_s)
            await self._sync_clock(client)
            wait_s = min(2 * wait_s, interval_s)

    async def _wait_first(
        self, first: asyncio.Event, dropped: asyncio.Event, drop_s: float
    ) -> None:
        waiter = asyncio.ensure_future(first.wait())
        done, _ = await asyncio.wait({waiter}, timeout=5.0)
        waiter.cancel()
        if done and not dropped.is_set():
            self.reconnect_log.append((drop_s, self.clock()))

    async def _read_device(self, client: BleakClient) -> None:
        """Read Device Information and Battery (where present); follow battery notifications."""
        self._set_device(mtu=client.mtu_size)
        info: dict[str, Any] = {}
        for key, uuid in _DIS_CHARS.items():
            if client.services.get_characteristic(uuid) is not None:
                info[key] = bytes(await client.read_gatt_char(uuid)).decode("utf-8", "replace")
        self._set_device(**info)
        battery = client.services.get_characteristic(pp.BATTERY_LEVEL_CHAR_UUID)
        if battery is not None:
            level = bytes(await client.read_gatt_char(battery))
            if level:
                self._set(battery_pct=level[0])
            if "notify" in battery.properties:
                await client.start_notify(battery, self._on_battery)

    def _on_battery(self, _char: Any, data: bytearray) -> None:
        if data:
            self._set(battery_pct=int(data[0]))

    def _on_data(self, payload: bytes, first_batch: asyncio.Event) -> None:
        host_s = self.clock()
        assert self.decoder is not None
        try:
            batch = self.decoder.feed(payload, host_s)
        except Exception:  # a decoder bug must not kill the link
            log.exception("decoder failed on a notification")
            return
        c = self.decoder.counters
        if batch is not None:
            self._queue.put_nowait(batch)
            first_batch.set()
            self._rate_window.append((host_s, batch.n_samples))
            while self._rate_window and host_s - self._rate_window[0][0] > 2.0:
                self._rate_window.popleft()
        span = host_s - self._rate_window[0][0] if self._rate_window else 0.0
        n = sum(k for _, k in self._rate_window)
        rate = n / span if span > 0.5 else 0.0
        self._set(rate_hz=rate, samples=c.samples, lost_samples=c.lost_samples,
                  lost_packets=c.lost_packets, bad_frames=c.bad_frames)
