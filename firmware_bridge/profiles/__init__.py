"""Device profiles: how to find, configure and decode each kind of BLE IMU.

:data:`KINDS` maps the command-line name of each supported sensor kind to its profile
class; :func:`identify` picks the profile of an advertisement (vendor profiles first,
our open profile for any device that advertises our service).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from firmware_bridge.profiles.base import DeviceError, Profile
from firmware_bridge.profiles.movella_dot import MovellaDotProfile
from firmware_bridge.profiles.movesense import MovesenseProfile
from firmware_bridge.profiles.pelviscope import PelviscopeProfile
from firmware_bridge.profiles.pelviscope_profile import StreamConfig
from firmware_bridge.profiles.polar import PolarH10Profile, PolarProfile
from firmware_bridge.profiles.thingy52 import Thingy52Profile
from firmware_bridge.profiles.witmotion import WitMotionProfile

#: Sensor kinds (command-line names) -> profile classes; ours last.
KINDS: dict[str, Any] = {
    "witmotion": WitMotionProfile,
    "thingy52": Thingy52Profile,
    "movesense": MovesenseProfile,
    "polar-verity": PolarProfile,
    "polar-h10": PolarH10Profile,
    "movella-dot": MovellaDotProfile,
    "pelviscope": PelviscopeProfile,
}


def make_profile(kind: str, rate_hz: float | None = None) -> Profile:
    """A profile instance for ``kind`` (a key of :data:`KINDS`) asking for ``rate_hz``.

    Raises
    ------
    ValueError
        For an unknown kind (the message lists the known ones).
    """
    cls = KINDS.get(kind)
    if cls is None:
        raise ValueError(f"unknown sensor kind {kind!r}; known: {', '.join(KINDS)}")
    if cls is PelviscopeProfile:
        return PelviscopeProfile(StreamConfig(rate_hz=rate_hz or 200.0))
    profile: Profile = cls(rate_hz)
    return profile


def all_profiles(rate_hz: float | None = None) -> list[Profile]:
    """One profile of every kind, vendor profiles first (the order :func:`identify` uses)."""
    return [make_profile(kind, rate_hz) for kind in KINDS]


def identify(profiles: Sequence[Profile], local_name: str | None,
             service_uuids: Sequence[str]) -> Profile | None:
    """The first profile that recognises an advertisement, or None (unsupported)."""
    for prof in profiles:
        if prof.matches(local_name, service_uuids):
            return prof
    return None


__all__ = ["KINDS", "DeviceError", "Profile", "all_profiles", "identify", "make_profile"]
