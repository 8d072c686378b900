"""nginx: an upstream block in a file baton rewrites and nginx reloads."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from baton.balancers import Flag, InitOffer, Kind, driver_in, register
from baton.config.balancing import HostedBalancer
from baton.config.values import FilePath, Name, Text

if TYPE_CHECKING:
    from baton.sandbox.fleet import Sandbox


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
    on_drain_timeout: Literal["warn", "fail"] = "warn"
    """When old workers still hold requests at ``timeout``: warn and go on (those requests may
    be cut), or fail the server."""

    @property
    def reload_command(self) -> str:
        return self.reload or f"{self.command} -s reload"

    def describe(self) -> str:
        return f"nginx upstream {self.upstream} in {self.file}"


def _starter(args: argparse.Namespace, servers: list[dict[str, Any]]) -> dict[str, Any] | None:
    if args.nginx is None:
        return None
    members = {s["name"]: f"{s['address']}:{args.app_port or 80}" for s in servers}
    return {
        "name": "nginx", "type": "nginx", "file": args.nginx, "upstream": args.upstream,
        "servers": members,
    }  # fmt: skip


class NginxSandbox:
    """A real nginx whose upstream file the nginx driver rewrites (no lag: nginx applies a
    change when it reloads)."""

    def check(self, lag: float) -> None:
        from baton.sandbox.nginx import NGINX

        if lag > 0:
            raise ValueError("--lag needs --balancer haproxy or elbv2 (nginx acts at its reload)")
        if not Path(NGINX).exists():
            raise ValueError(f"--balancer nginx needs {NGINX}: apt-get install nginx")

    def start(self, sandbox: Sandbox) -> None:
        from baton.sandbox.balancers import members
        from baton.sandbox.manifest import BACKEND
        from baton.sandbox.nginx import start_nginx

        proxy = start_nginx(sandbox.directory / "nginx", BACKEND, list(members(sandbox).values()))
        sandbox.pids["nginx"], sandbox.frontend_url = proxy.pid, proxy.frontend_url
        sandbox.save()

    def set_lag(self, sandbox: Sandbox, lag: float) -> None:
        pass  # check() refuses lag

    def lag_in_place(self, sandbox: Sandbox, lag: float) -> bool:
        return True

    def processes(self, sandbox: Sandbox) -> list[tuple[int | None, str]]:
        return [(sandbox.pids.get("nginx"), str(sandbox.directory / "nginx"))]

    def manifest_keys(self, sandbox: Sandbox) -> dict[str, Any]:
        from baton.sandbox.balancers import members
        from baton.sandbox.manifest import BACKEND
        from baton.sandbox.nginx import NGINX

        proxy = sandbox.directory / "nginx"
        return {"file": str(proxy / "upstream.conf"), "upstream": BACKEND,
                "command": f"{NGINX} -p {proxy} -c {proxy / 'nginx.conf'}",
                "pid_file": str(proxy / "nginx.pid"), "servers": members(sandbox)}  # fmt: skip

    async def membership(self, sandbox: Sandbox) -> dict[str, str]:
        """Read from the upstream file by the nginx driver itself."""
        from baton.config.validation import validate
        from baton.drivers.nginx import NginxDriver
        from baton.sandbox.balancers import manifest_block

        driver = NginxDriver(validate(NginxBalancer, manifest_block(sandbox), strict=False))
        try:
            return {name: m.value for name, m in (await driver.membership()).items()}
        finally:
            await driver.close()

    def exports(self) -> dict[str, str]:
        return {}


KIND = register(
    Kind(
        type="nginx",
        model=NginxBalancer,
        driver=driver_in("baton.drivers.nginx", "NginxDriver"),
        init=InitOffer(
            (
                Flag("--nginx", "FILE", "the upstream file nginx includes (with --upstream)"),
                Flag("--upstream", "NAME", "the nginx upstream of the servers"),
            ),
            _starter,
            together="the file and the upstream",
        ),
        sandbox=NginxSandbox(),
    )
)
