"""Drivers: transports (run a command on a server) and load balancers (rotation membership)."""

from baton.drivers._output import KEEP_HEAD, KEEP_TAIL, KeptOutput, left_out_marker
from baton.drivers.loadbalancer import LoadBalancerDriver, Membership
from baton.drivers.transport import CommandResult, OutputCallback, ShellCommand, Transport

__all__ = [
    "KEEP_HEAD",
    "KEEP_TAIL",
    "CommandResult",
    "KeptOutput",
    "LoadBalancerDriver",
    "Membership",
    "OutputCallback",
    "ShellCommand",
    "Transport",
    "left_out_marker",
]
