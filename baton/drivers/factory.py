"""Pick the driver the manifest asks for.

Load balancer drivers are looked up by ``lb.type`` in a registry, so another kind is one new
module plus one entry in :data:`LOAD_BALANCER_DRIVERS`. Each entry imports its module when
first called, so a deploy behind HAProxy never loads boto3.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType

from baton.config.model import (
    CommandBalancer,
    ELBv2Balancer,
    HAProxyBalancer,
    LoadBalancer,
    NginxBalancer,
    Server,
)
from baton.drivers.loadbalancer import LoadBalancerDriver
from baton.drivers.local import LocalTransport
from baton.drivers.ssh import SSHTransport
from baton.drivers.transport import Transport

LoadBalancerFactory = Callable[[LoadBalancer], LoadBalancerDriver]


def _haproxy(lb: LoadBalancer) -> LoadBalancerDriver:
    from baton.drivers.haproxy import HAProxyDriver

    assert isinstance(lb, HAProxyBalancer)
    return HAProxyDriver(lb)


def _nginx(lb: LoadBalancer) -> LoadBalancerDriver:
    from baton.drivers.nginx import NginxDriver

    assert isinstance(lb, NginxBalancer)
    return NginxDriver(lb)


def _elbv2(lb: LoadBalancer) -> LoadBalancerDriver:
    from baton.drivers.elbv2 import ELBv2Driver

    assert isinstance(lb, ELBv2Balancer)
    return ELBv2Driver(lb)


def _command(lb: LoadBalancer) -> LoadBalancerDriver:
    from baton.drivers.command import CommandDriver

    assert isinstance(lb, CommandBalancer)
    return CommandDriver(lb)


LOAD_BALANCER_DRIVERS: Mapping[str, LoadBalancerFactory] = MappingProxyType(
    {"haproxy": _haproxy, "nginx": _nginx, "elbv2": _elbv2, "command": _command}
)
"""``lb.type`` -> a callable taking the LoadBalancer and returning its driver."""


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
