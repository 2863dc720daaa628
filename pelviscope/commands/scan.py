"""``pelviscope scan``: list nearby BLE IMUs pelviscope can use."""

from __future__ import annotations

import argparse
import asyncio

from pelviscope.cli import UsageError


def register(parser: argparse.ArgumentParser) -> None:
    """Add this sub-command's arguments."""
    parser.add_argument("--timeout", type=float, default=5.0, metavar="S",
                        help="how long to listen for advertisements (default 5 s)")
    parser.add_argument("--simulate", action="store_true",
                        help="scan the virtual radio with one emulated sensor on it")


async def _scan_simulated(timeout_s: float) -> list:  # type: ignore[type-arg]
    from firmware_bridge.client import scan
    from firmware_bridge.emulator import BUMBLE_BACKEND, EmulatedSensor, synthetic_signal
    from firmware_bridge.profiles.pelviscope import PelviscopeProfile

    sensor = EmulatedSensor(*synthetic_signal(10.0, 200.0), rate_hz=200.0)
    await sensor.start()
    try:
        return await scan([PelviscopeProfile()], timeout_s=timeout_s, backend=BUMBLE_BACKEND)
    finally:
        await sensor.stop()


def run(args: argparse.Namespace) -> int:
    """Run the sub-command."""
    if not args.timeout > 0:
        raise UsageError(f"--timeout must be positive, got {args.timeout}")
    from firmware_bridge.client import scan
    from firmware_bridge.profiles.pelviscope import PelviscopeProfile

    try:
        if args.simulate:
            found = asyncio.run(_scan_simulated(args.timeout))
        else:
            found = asyncio.run(scan([PelviscopeProfile()], timeout_s=args.timeout))
    except Exception as exc:  # no adapter, BlueZ not running, no permission
        print(f"pelviscope scan: error: Bluetooth scan failed: {exc}")
        return 1
    if not found:
        print("no pelviscope sensor found")
        return 1
    print(f"{'NAME':<16} {'ADDRESS':<20} {'RSSI':>5}  PROFILE")
    for f in found:
        print(f"{(f.name or '?'):<16} {f.address:<20} {f.rssi:>5}  {f.profile}")
    return 0
