"""Pick the driver the manifest asks for.

Load balancer drivers are looked up by ``lb.type`` among the kinds registered in
:mod:`baton.balancers`, so another kind is one new module that registers itself. Each kind's
factory imports its driver when first called, so a deploy behind HAProxy never loads boto3.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping

from baton.balancers import kinds
from baton.clock import SYSTEM_CLOCK, Clock
from baton.config.model import LoadBalancer, Server
from baton.drivers.loadbalancer import LoadBalancerDriver
from baton.drivers.local import LocalTransport
from baton.drivers.ssh import SSHTransport
from baton.drivers.transport import Transport

LoadBalancerFactory = Callable[[LoadBalancer, Clock], LoadBalancerDriver]


class _Drivers(Mapping[str, LoadBalancerFactory]):
    """``lb.type`` -> its kind's driver factory, for every kind registered now."""

    def __getitem__(self, type_: str) -> LoadBalancerFactory:
        return kinds()[type_].driver

    def __iter__(self) -> Iterator[str]:
        return iter(kinds())

    def __len__(self) -> int:
        return len(kinds())


LOAD_BALANCER_DRIVERS: Mapping[str, LoadBalancerFactory] = _Drivers()
"""``lb.type`` -> a callable taking the LoadBalancer and a clock and returning its driver."""


def open_transport(server: Server) -> Transport:
    """The transport for ``server`` (not yet connected: use it as an async context manager)."""
    if server.transport == "local":
        return LocalTransport(server)
    return SSHTransport(server)


def load_balancer_driver(
    lb: LoadBalancer,
    registry: Mapping[str, LoadBalancerFactory] = LOAD_BALANCER_DRIVERS,
    *,
    clock: Clock = SYSTEM_CLOCK,
) -> LoadBalancerDriver:
    """The driver for ``lb``, waiting on ``clock``; pass ``registry`` to add or replace kinds
    (e.g. in tests)."""
    try:
        factory = registry[lb.type]
    except KeyError:
        known = ", ".join(sorted(registry))
        raise ValueError(f"no driver for load balancer type {lb.type!r}; known: {known}") from None
    return factory(lb, clock)
