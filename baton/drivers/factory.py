"""Pick the driver the manifest asks for.

Load balancer drivers are looked up by ``lb.type`` in a registry, so another kind (nginx,
AWS ELBv2, a shell command) is one new module plus one entry in :data:`LOAD_BALANCER_DRIVERS`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType

from baton.config.model import LoadBalancer, Server
from baton.drivers.haproxy import HAProxyDriver
from baton.drivers.loadbalancer import LoadBalancerDriver
from baton.drivers.local import LocalTransport
from baton.drivers.ssh import SSHTransport
from baton.drivers.transport import Transport

LoadBalancerFactory = Callable[[LoadBalancer], LoadBalancerDriver]

LOAD_BALANCER_DRIVERS: Mapping[str, LoadBalancerFactory] = MappingProxyType(
    {"haproxy": HAProxyDriver}
)
"""``lb.type`` -> the driver class (or any callable taking the LoadBalancer)."""


def open_transport(server: Server) -> Transport:
    """The transport for ``server`` (not yet connected: use it as an async context manager)."""
    if server.transport == "local":
        return LocalTransport(server)
    return SSHTransport(server)


def load_balancer_driver(
    lb: LoadBalancer, registry: Mapping[str, LoadBalancerFactory] = LOAD_BALANCER_DRIVERS
) -> LoadBalancerDriver:
    """The driver for ``lb``; pass ``registry`` to add or replace kinds (e.g. in tests)."""
    try:
        factory = registry[lb.type]
    except KeyError:
        known = ", ".join(sorted(registry))
        raise ValueError(f"no driver for load balancer type {lb.type!r}; known: {known}") from None
    return factory(lb)
