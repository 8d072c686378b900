"""nginx: an upstream block in a file baton rewrites and nginx reloads."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from baton._exceptions import InputError
from baton.balancers import InitOffer, Kind, register
from baton.config.balancing import HostedBalancer, LoadBalancer
from baton.config.values import FilePath, Name, Text

if TYPE_CHECKING:
    from baton.drivers.loadbalancer import LoadBalancerDriver


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


def _driver(lb: LoadBalancer) -> LoadBalancerDriver:
    from baton.drivers.nginx import NginxDriver

    assert isinstance(lb, NginxBalancer)
    return NginxDriver(lb)


def _add_flags(init: argparse.ArgumentParser) -> None:
    init.add_argument(
        "--nginx", metavar="FILE", help="the upstream file nginx includes (with --upstream)"
    )
    init.add_argument("--upstream", metavar="NAME", help="the nginx upstream of the servers")


def _check_flags(args: argparse.Namespace) -> None:
    if (args.nginx is None) != (args.upstream is None):
        raise InputError("init: --nginx and --upstream go together (the file and the upstream)")


def _starter(args: argparse.Namespace, servers: list[dict[str, Any]]) -> dict[str, Any] | None:
    if args.nginx is None:
        return None
    members = {s["name"]: f"{s['address']}:{args.app_port or 80}" for s in servers}
    return {
        "name": "nginx", "type": "nginx", "file": args.nginx, "upstream": args.upstream,
        "servers": members,
    }  # fmt: skip


KIND = register(
    Kind(
        type="nginx",
        model=NginxBalancer,
        driver=_driver,
        init=InitOffer(_add_flags, _check_flags, _starter),
    )
)
