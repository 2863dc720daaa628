"""``pelviscope scan``: list nearby BLE IMUs, naming the kind of each one pelviscope can use."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import TYPE_CHECKING

from pelviscope.cli import UsageError

if TYPE_CHECKING:  # the bridge is imported when the command runs, not at start-up
    from firmware_bridge.client import Found


def register(parser: argparse.ArgumentParser) -> None:
    """Add this sub-command's arguments."""
    parser.add_argument("--timeout", type=float, default=5.0, metavar="S",
                        help="how long to listen for advertisements (default 5 s)")
    parser.add_argument("--simulate", action="store_true",
                        help="scan the virtual radio with one emulated sensor of every "
                             "supported kind (and one unsupported device) on it")
    parser.add_argument("--all", action="store_true",
                        help="also list devices no profile supports, with their services")


async def _scan_simulated(timeout_s: float, include_unsupported: bool) -> list[Found]:
    from bumble.core import AdvertisingData

    from firmware_bridge.client import scan
    from firmware_bridge.emulator import BUMBLE_BACKEND, EmulatedSensor, synthetic_signal
    from firmware_bridge.emulator.air import new_address
    from firmware_bridge.emulator.vendors import SENSORS
    from firmware_bridge.profiles import all_profiles

    class _Stranger(EmulatedSensor):
        """A heart-rate strap: advertises only the SIG heart-rate service."""

        def _advertising_data(self) -> bytes:
            return bytes(AdvertisingData([
                (AdvertisingData.FLAGS, bytes([0x06])),
                (AdvertisingData.COMPLETE_LOCAL_NAME, b"HRM-Pro"),
                (AdvertisingData.COMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS, b"\x0d\x18"),
            ]))

    signal = synthetic_signal(2.0, 100.0)
    sensors = [cls(*signal, rate_hz=100.0, address=new_address(0xF1))
               for cls in SENSORS.values()]
    sensors.append(_Stranger(*signal, rate_hz=100.0, name="HRM-Pro",
                             address=new_address(0xF1)))
    for sensor in sensors:
        await sensor.start()
    try:
        return await scan(all_profiles(), timeout_s=timeout_s, backend=BUMBLE_BACKEND,
                          include_unsupported=include_unsupported)
    finally:
        for sensor in sensors:
            await sensor.stop()


def run(args: argparse.Namespace) -> int:
    """Run the sub-command."""
    if not args.timeout > 0:
        raise UsageError(f"--timeout must be positive, got {args.timeout}")
    from firmware_bridge.client import scan
    from firmware_bridge.profiles import all_profiles

    try:
        if args.simulate:
            found = asyncio.run(_scan_simulated(args.timeout, True))
        else:
            found = asyncio.run(scan(all_profiles(), timeout_s=args.timeout,
                                     include_unsupported=args.all))
    except Exception as exc:  # no adapter, BlueZ not running, no permission: not our bug
        from pelviscope.cli import one_line

        print(f"pelviscope scan: error: Bluetooth scan failed: {one_line(exc)}", file=sys.stderr)
        return 2
    supported = [f for f in found if f.supported]
    if supported:
        print(f"{'NAME':<22} {'ADDRESS':<20} {'RSSI':>5}  {'KIND':<13} PROFILE")
        for f in supported:
            print(f"{(f.name or '?'):<22} {f.address:<20} {f.rssi:>5}  {f.kind:<13} {f.profile}")
    others = [f for f in found if not f.supported]
    if others:
        print("\nunsupported devices (advertised services):")
        for f in others:
            services = ", ".join(f.services) or "none advertised"
            print(f"  {(f.name or '?'):<20} {f.address:<20} {f.rssi:>5}  {services}")
    if not supported:  # exit status 2, as for any missing input (1 is kept for bugs)
        print("pelviscope scan: error: no supported sensor found (switched on, in range, "
              "not connected to another device?)", file=sys.stderr)
        return 2
    return 0
