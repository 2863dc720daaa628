"""The virtual radio: one bumble ``LocalLink`` per asyncio loop, addresses and a scalable clock.

Bumble's virtual controllers talk through a :class:`bumble.link.LocalLink` that schedules
deliveries with ``call_soon`` on the running loop, so every virtual device and the
central that talks to it must live in the same loop. :func:`local_link` hands out that
loop's link; the emulated sensor and the bleak backend both use it.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
import weakref

from bumble.controller import Controller
from bumble.device import Device
from bumble.hci import Address
from bumble.host import Host
from bumble.link import LocalLink
from bumble.transport.common import AsyncPipeSink

_LINKS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, LocalLink] = (
    weakref.WeakKeyDictionary()
)
_ADDRESSES = itertools.count(1)


def local_link() -> LocalLink:
    """The virtual link of the running asyncio loop (created on first use)."""
    loop = asyncio.get_running_loop()
    link = _LINKS.get(loop)
    if link is None:
        link = _LINKS[loop] = LocalLink()
    return link


def new_address(prefix: int = 0xC0) -> str:
    """A fresh static-random-looking address, unique in this process."""
    n = next(_ADDRESSES)
    return ":".join(f"{b:02X}" for b in [prefix, 0x5E, (n >> 24) & 0xFF, (n >> 16) & 0xFF,
                                          (n >> 8) & 0xFF, n & 0xFF])


def virtual_device(name: str, address: str) -> Device:
    """A bumble ``Device`` with its own virtual controller on this loop's link.

    Must be called inside the running loop (bumble objects bind to it).
    """
    controller = Controller(name, link=local_link(), public_address=address)
    host = Host(controller, AsyncPipeSink(controller))
    return Device(name=name, address=Address(address), host=host)


async def retire_device(device: Device) -> None:
    """Power a virtual device off and take its controller off the link."""
    controller = device.host.controller
    with contextlib.suppress(Exception):  # best effort on a dying virtual device
        await device.power_off()
    link = getattr(controller, "link", None)
    if link is not None and controller in link.controllers:
        link.remove_controller(controller)


class ScaledClock:
    """A monotonic clock that runs ``scale`` times faster than real time.

    The emulated sensor and the client can share one to run a session faster than
    real time in tests (``scale=1`` is the ordinary monotonic clock).

    Parameters
    ----------
    scale : float
        Virtual seconds per real second.
    """

    def __init__(self, scale: float = 1.0) -> None:
        self.scale = scale
        self._t0 = time.monotonic()

    def __call__(self) -> float:
        """Virtual seconds since creation."""
        return (time.monotonic() - self._t0) * self.scale

    async def sleep(self, virtual_s: float) -> None:
        """Sleep for ``virtual_s`` virtual seconds."""
        await asyncio.sleep(max(0.0, virtual_s) / self.scale)
