"""What a user checks on a sandbox: the version each server serves, and HAProxy's view of it.

Membership is read from the real HAProxy admin socket, never through the lag proxy, so it
shows what HAProxy actually does with traffic.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from baton.config.model import HAProxyBalancer
from baton.drivers.haproxy import HAProxyDriver
from baton.drivers.http import get
from baton.drivers.loadbalancer import Membership
from baton.sandbox.manifest import APP_PORT, BACKEND

if TYPE_CHECKING:
    from baton.sandbox.fleet import Sandbox

IN_ROTATION = Membership.IN_ROTATION.value


@dataclass(frozen=True)
class ServerStatus:
    """One server as a user would check it: what it serves, and whether HAProxy sends it traffic."""

    name: str
    address: str
    version: str | None
    membership: str


async def status(sandbox: Sandbox) -> list[ServerStatus]:
    """Each server's version (asked directly) and membership (from the balancer that carries
    the traffic: the real HAProxy or nginx, never the lag proxy or moto)."""
    from baton.sandbox.balancers import membership as balancer_membership

    members, versions = await asyncio.gather(
        balancer_membership(sandbox),
        asyncio.gather(*(served_version(s.address) for s in sandbox.servers)),
    )
    return [
        ServerStatus(s.name, s.address, version, members.get(s.name, "unknown"))
        for s, version in zip(sandbox.servers, versions, strict=True)
    ]


async def served_version(address: str, timeout: float = 1.0) -> str | None:
    """What the app on ``address`` answers, or None when it does not answer 200."""
    try:
        code, body = await get(f"http://{address}:{APP_PORT}/", timeout)
    except OSError:
        return None
    return body if code == 200 else None


async def membership(haproxy_socket: Path, backend: str = BACKEND) -> dict[str, str]:
    """Each server's :class:`Membership` value, as the HAProxy at ``haproxy_socket`` reports."""
    balancer = HAProxyBalancer(type="haproxy", socket=haproxy_socket, backend=backend)
    driver = HAProxyDriver(balancer)
    try:
        return {name: member.value for name, member in (await driver.membership()).items()}
    finally:
        await driver.close()
