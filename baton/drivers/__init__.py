"""Drivers: transports (run a command on a server) and load balancers (rotation membership)."""

from baton.drivers.loadbalancer import LoadBalancerDriver, Membership
from baton.drivers.transport import CommandResult, OutputCallback, Transport

__all__ = ["CommandResult", "LoadBalancerDriver", "Membership", "OutputCallback", "Transport"]
