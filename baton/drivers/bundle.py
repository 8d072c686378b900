"""The drivers a deploy uses, as one value: how to reach servers and load balancers."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

from baton.clock import SYSTEM_CLOCK, Clock
from baton.config.model import LoadBalancer, Server
from baton.drivers.loadbalancer import LoadBalancerDriver
from baton.drivers.transport import Transport


@dataclass(frozen=True)
class Drivers:
    """Factories for transports and load balancer drivers; tests and dry runs pass fakes."""

    open_transport: Callable[[Server], Transport]
    load_balancer: Callable[[LoadBalancer], LoadBalancerDriver]
    clock: Clock = SYSTEM_CLOCK
    """The time they and the deploy run on: a fake fleet's fake time comes with it."""

    @classmethod
    def real(cls, clock: Clock = SYSTEM_CLOCK) -> Drivers:
        """SSH or local transports and the registered load balancer drivers, whose waits
        (drains, health) run on ``clock``.

        Imported here, not at the top, so that fakes never load asyncssh.
        """
        from baton.drivers.factory import load_balancer_driver, open_transport

        return cls(open_transport, functools.partial(load_balancer_driver, clock=clock))
