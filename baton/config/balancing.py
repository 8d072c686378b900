"""The manifest's load balancers: what every kind has, and each kind's own keys."""

from __future__ import annotations

import string
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal

from baton.config.servers import SSHEndpoint
from baton.config.templates import BALANCER_PLACEHOLDERS, check_template
from baton.config.validation import Check, Frozen
from baton.config.values import FilePath, HttpURL, Name, PathError, PositiveSeconds, Seconds, Text


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
TARGET_GROUP_ARN = (
    r"^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:\d{12}:targetgroup/[A-Za-z0-9-]{1,32}/"
    r"[0-9a-f]{16}$"
)


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

    def describe(self) -> str:
        """What the balancer is, for messages: "backend app", "target group ...", ..."""
        return self.type


@dataclass(frozen=True, kw_only=True)
class HAProxyBalancer(LoadBalancer):
    """A backend of HAProxy, driven through its admin socket."""

    type: Literal["haproxy"]
    """The kind of load balancer."""
    socket: FilePath | None = None
    """HAProxy's admin socket (the runtime API); give this or address."""
    address: Annotated[str, Check("Field", pattern=r"^[^:\s]+:\d{1,5}$")] | None = None
    """host:port of HAProxy's runtime API over TCP; give this or socket."""
    backend: Name
    """The HAProxy backend the servers are members of."""

    def __post_init__(self) -> None:
        if (self.socket is None) == (self.address is None):
            raise ValueError(
                "give exactly one of socket (admin socket path) or address (host:port)"
            )

    def describe(self) -> str:
        return f"backend {self.backend}"


@dataclass(frozen=True, kw_only=True)
class HostedBalancer(LoadBalancer):
    """A balancer baton drives with commands, here (``local``) or on a host over SSH."""

    host: Literal["local"] | SSHEndpoint = "local"
    """Where the balancer's commands run: local (this machine) or a host reached over SSH."""
    sudo: bool = False
    """Run them through `sudo -n` (never a password prompt)."""


@dataclass(frozen=True, kw_only=True)
class NginxBalancer(HostedBalancer):
    """An upstream block of open-source nginx, in a file baton rewrites (``down`` marks)."""

    type: Literal["nginx"]
    """The kind of load balancer."""
    file: FilePath
    """The file baton rewrites; nginx's configuration includes it and it holds the upstream."""
    upstream: Name
    """The upstream block in that file whose server lines are the servers."""
    command: Text = "nginx"
    """How to call nginx on its host, with any -p/-c options: baton adds -t, -T, -s reload."""
    reload: Text | None = None
    """The graceful reload (default: ``<command> -s reload``)."""
    pid_file: FilePath = Path("/run/nginx.pid")
    """The master's pid file: its workers are watched to see the old generation drain."""

    @property
    def reload_command(self) -> str:
        return self.reload or f"{self.command} -s reload"

    def describe(self) -> str:
        return f"nginx upstream {self.upstream} in {self.file}"


@dataclass(frozen=True, kw_only=True)
class ELBv2Balancer(LoadBalancer):
    """An AWS Elastic Load Balancing v2 target group; ``servers`` maps each server to its target
    (instance id or IP, with ``:port`` when not the group's port)."""

    type: Literal["elbv2"]
    """The kind of load balancer."""
    target_group_arn: Annotated[str, Check("Field", pattern=TARGET_GROUP_ARN)]
    """The target group's ARN; credentials come from the AWS chain, never the manifest."""
    region: Annotated[str, Check("Field", pattern=r"^[a-z]{2}(-[a-z]+)+-\d$")] | None = None
    """The target group's region (by default the one its ARN names)."""
    endpoint_url: HttpURL | None = None
    """Another endpoint for the API (a VPC endpoint; moto in tests)."""

    @property
    def region_name(self) -> str:
        return self.region or self.target_group_arn.split(":")[3]

    def describe(self) -> str:
        return f"target group {self.target_group_arn.rsplit(':', 1)[-1]}"


@dataclass(frozen=True, kw_only=True)
class CommandBalancer(HostedBalancer):
    """Any balancer with a command line: baton runs your ``remove``, ``add`` and ``status``."""

    type: Literal["command"]
    """The kind of load balancer."""
    remove: Text
    """Takes {server} out of rotation ({server}, {address}, {port} are shell-quoted)."""
    add: Text
    """Puts {server} back into rotation."""
    status: Text
    """Prints in, out or down for {server}; without a placeholder, one "<name> <state>" line
    per server."""

    def __post_init__(self) -> None:
        for key in ("remove", "add", "status"):
            try:
                check_template(getattr(self, key), BALANCER_PLACEHOLDERS)
            except ValueError as error:
                raise PathError((key,), str(error)) from None

    @property
    def status_per_server(self) -> bool:
        """Whether ``status`` names a server, so it runs once per server."""
        return any(f is not None for _, f, _, _ in string.Formatter().parse(self.status))

    def describe(self) -> str:
        return "status command"


AnyLoadBalancer = Annotated[
    HAProxyBalancer | NginxBalancer | ELBv2Balancer | CommandBalancer,
    Check("Field", discriminator="type"),
]
LOAD_BALANCER_TYPES: dict[str, type[LoadBalancer]] = {
    "haproxy": HAProxyBalancer,
    "nginx": NginxBalancer,
    "elbv2": ELBv2Balancer,
    "command": CommandBalancer,
}
"""``type:`` -> the model of that kind of balancer."""
