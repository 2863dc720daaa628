"""Emulated sensor firmware on bumble's virtual controller, and a bleak backend to reach it."""

from firmware_bridge.emulator.air import ScaledClock, local_link
from firmware_bridge.emulator.bleak_backend import BUMBLE_BACKEND, BumbleClient, BumbleScanner
from firmware_bridge.emulator.sensor import EmulatedSensor, FaultConfig
from firmware_bridge.emulator.source import emulated_source, synthetic_signal

__all__ = [
    "BUMBLE_BACKEND",
    "BumbleClient",
    "BumbleScanner",
    "EmulatedSensor",
    "FaultConfig",
    "ScaledClock",
    "emulated_source",
    "local_link",
    "synthetic_signal",
]
