"""The manifest's load balancers: what every kind has; each kind's own keys are in its module
under :mod:`baton.balancers`."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Annotated, Literal

from baton.balancers import AnyKind
from baton.config.servers import SSHEndpoint
from baton.config.validation import Check, Frozen
from baton.config.values import Name, PositiveSeconds, Seconds


@dataclass(frozen=True, kw_only=True)
class LoadBalancerConfiguration(Frozen):
    """Values that stick once a deploy applied them (see baton.state)."""

    wait_after_adding_servers: Seconds | None = None
    """Whole seconds a serial deploy waits after putting a server back, for the load balancer
    to really route to it. Sticks once deployed: set 0 and deploy to clear it."""
    wait_after_removing_servers: Seconds | None = None
    """Whole seconds a serial deploy waits after taking a server out, for the load balancer to
    really stop routing to it. Sticks once deployed: set 0 and deploy to clear it."""
    httpchk: Annotated[str, Check("Field", pattern=r"^/")] | None = None
    """The load balancer's health path, kept and shown with the waits (HAProxy's runtime API
    cannot change it: keep haproxy.cfg's `option httpchk` in step)."""


Member = Annotated[
    str, Check("StringConstraints", pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$", max_length=255)
]
"""A load balancer's own name for a server: an HAProxy server, an nginx upstream member
(``host:port``), an AWS target (``id`` or ``id:port``)."""


@dataclass(frozen=True, kw_only=True)
class LoadBalancer(Frozen):
    """What every kind of load balancer has; ``servers`` maps baton names to its own names."""

    name: Name = "default"
    """The load balancer's name in baton's output and state."""
    type: str
    """The kind of load balancer: haproxy, nginx, elbv2 or command."""
    servers: dict[Name, Member] = field(default_factory=dict)
    """baton server name -> the load balancer's name for it (default: the same name)."""
    timeout: PositiveSeconds = 5.0
    """Seconds for each call to the load balancer, and the longest wait for a drain."""
    configuration: LoadBalancerConfiguration = LoadBalancerConfiguration()
    """Values that stick once a deploy applied them (see `baton config show`)."""

    def member_name(self, server: str) -> str:
        """The load balancer's own name for a baton server (the same name unless mapped)."""
        return self.servers.get(server, server)

    def server_for(self, member: str) -> str:
        """baton's name for one of the load balancer's members (the same name unless mapped):
        the one way back from what a balancer reports to the servers baton deploys."""
        return self._servers_by_member.get(member, member)

    def mapped_server(self, member: str) -> str | None:
        """The server ``servers`` maps to ``member``; None when none is."""
        return self._servers_by_member.get(member)

    def poses_as_a_server(self, member: str) -> bool:
        """Whether ``member`` bears the name of a baton server mapped to another member: it is
        not that server, and must not pass for it (in preflight, say)."""
        return member in self.servers and member not in self._servers_by_member

    @functools.cached_property
    def _servers_by_member(self) -> dict[str, str]:
        return {member: name for name, member in self.servers.items()}

    def describe(self) -> str:
        """What the balancer is, for messages: "backend app", "target group ...", ..."""
        return self.type

    def check_servers(self, names: list[str]) -> None:
        """Refuse a mapping this kind cannot work with (PathError, under this balancer);
        ``names`` are the manifest's servers, each known to be mapped or not."""


@dataclass(frozen=True, kw_only=True)
class HostedBalancer(LoadBalancer):
    """A balancer baton drives with commands, here (``local``) or on a host over SSH."""

    host: Literal["local"] | SSHEndpoint = "local"
    """Where the balancer's commands run: local (this machine) or a host reached over SSH."""
    sudo: bool = False
    """Run them through `sudo -n` (never a password prompt)."""


AnyLoadBalancer = Annotated[LoadBalancer, AnyKind()]
"""A load balancer of any kind registered in :mod:`baton.balancers`, told apart by ``type``."""
