"""The load balancer interface: take a server out of rotation, put it back, say who is in.

Drivers must confirm each change by reading the state back, and raise
:class:`baton.LoadBalancerError` when the load balancer disagrees with what was set.
"""

from __future__ import annotations

import abc
import enum
from dataclasses import dataclass


class Membership(enum.Enum):
    """A server as the load balancer reports it."""

    IN_ROTATION = "in rotation"
    """Enabled by the operator and considered up: gets traffic."""
    OUT_OF_ROTATION = "out of rotation"
    """Taken out on purpose (maintenance or drain): gets no new traffic."""
    DOWN = "down"
    """Enabled, but failing the load balancer's own health checks."""


@dataclass(frozen=True)
class ServerTraffic:
    """What a load balancer counted for one server since it started."""

    responses: int
    errors: int
    """5xx responses, connection errors and broken responses."""


class LoadBalancerDriver(abc.ABC):
    """One load balancer, addressed with baton server names."""

    name: str

    @abc.abstractmethod
    async def remove(self, server: str) -> None:
        """Take ``server`` out of rotation and confirm it."""

    @abc.abstractmethod
    async def add(self, server: str) -> None:
        """Put ``server`` back into rotation and confirm it."""

    @abc.abstractmethod
    async def membership(self) -> dict[str, Membership]:
        """Every known server's membership, keyed by baton server name.

        The engine reads it back before every step on a server it took out, and before
        reporting: a server taken out must read OUT_OF_ROTATION (or be absent) until it is
        added back. IN_ROTATION or DOWN there mean the balancer forgot (say, it restarted
        without its state) and may route to it: the engine removes it again and says so.
        Keep it cheap; it is called often."""

    async def preflight(self) -> list[str]:
        """Check what :meth:`membership` cannot show, before a deploy changes anything (raise
        :class:`baton.LoadBalancerError`); return warnings the deploy should show."""
        return []

    def take_warnings(self) -> list[str]:
        """What the last changes did that the deploy should show (a drain cut short), each
        returned once."""
        return []

    async def traffic(self) -> dict[str, ServerTraffic]:
        """Each server's counters, keyed by baton name; {} when the balancer reports none."""
        return {}

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Release any connection the driver keeps."""
