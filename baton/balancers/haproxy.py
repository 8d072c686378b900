"""HAProxy: a backend driven through its runtime API (admin socket or host:port)."""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, Literal

from baton.balancers import Flag, InitOffer, Kind, driver_in, register
from baton.config.balancing import LoadBalancer
from baton.config.validation import Check
from baton.config.values import FilePath, Name

if TYPE_CHECKING:
    from baton.sandbox.fleet import Sandbox

_HOST_PORT = re.compile(r"^[^:\s/]+:\d{1,5}$")


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


def _starter(args: argparse.Namespace, servers: list[dict[str, Any]]) -> dict[str, Any] | None:
    if args.haproxy is None:
        return None
    where = "address" if _HOST_PORT.match(args.haproxy) else "socket"
    return {"name": "haproxy", "type": "haproxy", where: args.haproxy, "backend": args.backend}


class HAProxySandbox:
    """A real HAProxy; with lag, baton talks to it through the lagging admin-socket proxy
    (:mod:`baton.sandbox.lag`)."""

    def check(self, lag: float) -> None:
        pass

    def start(self, sandbox: Sandbox) -> None:
        from baton.sandbox.balancers import members
        from baton.sandbox.haproxy import start_haproxy
        from baton.sandbox.manifest import BACKEND

        haproxy = start_haproxy(
            sandbox.directory / "haproxy", BACKEND, members(sandbox), None, "/", 200
        )
        sandbox.pids["haproxy"] = haproxy.pid
        sandbox.haproxy_socket, sandbox.frontend_url = haproxy.socket, haproxy.frontend_url
        sandbox.save()

    def set_lag(self, sandbox: Sandbox, lag: float) -> None:
        from baton.sandbox.balancers import LAG_MODULE, spawn
        from baton.sandbox.processes import wait_for

        if lag > 0:
            command = ["--listen", str(sandbox.lag_socket), "--target", str(sandbox.haproxy_socket)]
            spawn(sandbox, "lag", LAG_MODULE, [*command, "--lag", str(lag)])
            wait_for(sandbox.lag_socket.exists, "the lag proxy's socket")

    def lag_in_place(self, sandbox: Sandbox, lag: float) -> bool:
        from baton.sandbox.balancers import LAG_MODULE
        from baton.sandbox.processes import is_ours

        return lag == 0 or is_ours(sandbox.pids.get("lag"), LAG_MODULE)

    def processes(self, sandbox: Sandbox) -> list[tuple[int | None, str]]:
        return [(sandbox.pids.get("haproxy"), str(sandbox.directory / "haproxy"))]

    def manifest_keys(self, sandbox: Sandbox) -> dict[str, Any]:
        from baton.sandbox.manifest import BACKEND

        return {"socket": str(sandbox.balancer_socket), "backend": BACKEND,
                "servers": {s.name: s.name for s in sandbox.servers}}  # fmt: skip

    async def membership(self, sandbox: Sandbox) -> dict[str, str]:
        from baton.sandbox.status import membership

        return await membership(sandbox.haproxy_socket)

    def exports(self) -> dict[str, str]:
        return {}


SANDBOX = HAProxySandbox()

KIND = register(
    Kind(
        type="haproxy",
        model=HAProxyBalancer,
        driver=driver_in("baton.drivers.haproxy", "HAProxyDriver"),
        hints={"address": "host:port"},
        init=InitOffer(
            (
                Flag("--haproxy", "SOCKET_OR_HOST:PORT", "HAProxy's runtime API (with --backend)"),
                Flag("--backend", "NAME", "the HAProxy backend of the servers"),
            ),
            _starter,
            together="the runtime API and the backend",
        ),
        sandbox=SANDBOX,
    )
)
