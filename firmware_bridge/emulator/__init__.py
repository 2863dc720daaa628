"""Emulated sensor firmware on bumble's virtual controller, and a bleak backend to reach it."""

from firmware_bridge.emulator.air import ScaledClock, local_link
from firmware_bridge.emulator.bleak_backend import (
    BUMBLE_BACKEND,
    BackendPair,
    BumbleClient,
    BumbleScanner,
)
from firmware_bridge.emulator.sensor import EmulatedSensor, FaultConfig

__all__ = [
    "BUMBLE_BACKEND",
    "BackendPair",
    "BumbleClient",
    "BumbleScanner",
    "EmulatedSensor",
    "FaultConfig",
    "ScaledClock",
    "local_link",
]
