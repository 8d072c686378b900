"""A sandbox fleet on this machine: real sshds, the sandbox app, a load balancer, a manifest.

``up`` is idempotent: a running sandbox with the same servers is kept (only the lag proxy and
the manifest follow a new ``lag`` or ``waits``); anything else is torn down and started afresh.
Everything lives in one directory, and ``down`` stops exactly the processes recorded there::

    DIR/sandbox.json            what runs: servers, HAProxy, lag proxy, their pids
    DIR/baton.yml               the manifest for application "sandbox"
    DIR/state/                  baton's state for deploys to it (what ``up`` tells to export)
    DIR/ssh/                    sshd configs, keys, known_hosts (baton.sandbox.sshd)
    DIR/home/<server>/          each server's home: releases/, current, app.pid, app.log
    DIR/haproxy/                HAProxy's config and admin socket (baton.sandbox.haproxy)
    DIR/nginx/                  nginx's prefix, with upstream.conf (--balancer nginx)
    DIR/moto.log, DIR/cloud.log moto's server and the data plane following it (--balancer elbv2)
    DIR/shared/                 the release artifact and the migrations database
    DIR/lag.sock, DIR/lag.log   the lagging admin-socket proxy, when lag > 0
"""

from __future__ import annotations

import json
import math
import subprocess
from dataclasses import asdict, dataclass, field
from pathlib import Path

from baton.sandbox import DEFAULT_FIRST_ADDRESS, app, balancers
from baton.sandbox.haproxy import save_server_state, start_haproxy
from baton.sandbox.manifest import (
    APP_PORT,
    BACKEND,
    install_initial,
    prepare_shared,
    write_manifest,
)
from baton.sandbox.processes import blocking, ensure_packages, in_use, is_ours, stop_ours, wait_for
from baton.sandbox.sshd import (
    SandboxServer,
    remove_users,
    start_sshd_fleet,
    stop_sshd_fleet,
)
from baton.sandbox.status import IN_ROTATION, status

INITIAL_VERSION = "v1"


@dataclass
class Sandbox:
    """A running sandbox, as recorded in ``DIR/sandbox.json``."""

    directory: Path
    servers: list[SandboxServer]
    frontend_url: str = ""
    haproxy_socket: Path = Path()
    lag: float = 0.0
    waits: int = 0
    pids: dict[str, int] = field(default_factory=dict)
    balancer: str = "haproxy"
    """haproxy, nginx or elbv2 (:mod:`baton.sandbox.balancers`)."""
    endpoint_url: str = ""
    target_group_arn: str = ""

    @property
    def manifest(self) -> Path:
        return self.directory / "baton.yml"

    @property
    def state(self) -> Path:
        """baton's state directory for this sandbox's deploys."""
        return self.directory / "state"

    @property
    def lag_socket(self) -> Path:
        return self.directory / "lag.sock"

    @property
    def balancer_socket(self) -> Path:
        """The socket baton talks to: the lag proxy when there is lag, else HAProxy itself."""
        return self.lag_socket if self.lag > 0 else self.haproxy_socket

    def save(self) -> None:
        data = asdict(self)
        data["servers"] = [{**asdict(s), "home": str(s.home)} for s in self.servers]
        text = json.dumps(data, indent=2, default=str)
        (self.directory / "sandbox.json").write_text(text + "\n")


def load(directory: Path) -> Sandbox | None:
    """The sandbox recorded in ``directory``, or None."""
    try:
        data = json.loads((directory / "sandbox.json").read_text())
    except (OSError, ValueError):
        return None
    servers = [SandboxServer(**{**s, "home": Path(s["home"])}) for s in data.pop("servers")]
    data.update(directory=Path(data["directory"]), haproxy_socket=Path(data["haproxy_socket"]))
    return Sandbox(servers=servers, **data)


def plan_servers(
    directory: Path, count: int, first_address: str, prefix: str
) -> list[SandboxServer]:
    """``count`` servers named ``<prefix>1..`` on consecutive sandbox addresses."""
    start = ADDRESSES.index(first_address)
    if start + count > len(ADDRESSES):
        raise ValueError(f"at most {len(ADDRESSES) - start} servers from {first_address}")
    names = [f"{prefix}{i}" for i in range(1, count + 1)]
    addresses = ADDRESSES[start : start + count]
    return [SandboxServer.create(directory, n, a) for n, a in zip(names, addresses, strict=True)]


def _address_pool() -> list[str]:
    """127.0.1.1-99, then 127.0.2.1-254 and upward (127.0.1.100-199 belongs to driver tests)."""
    first = [f"127.0.1.{n}" for n in range(1, 100)]
    return first + [f"127.0.{a}.{n}" for a in range(2, 255) for n in range(1, 255)]


ADDRESSES = _address_pool()


def up(
    directory: Path,
    servers: int = 3,
    *,
    lag: float = 0.0,
    waits: int | None = None,
    first_address: str | None = None,
    prefix: str | None = None,
    balancer: str | None = None,
) -> Sandbox:
    """Bring the sandbox in ``directory`` to the wanted shape and return it (blocking).

    ``first_address``, ``prefix`` (server names are ``<prefix>1``, ...) and ``balancer``
    default to those of the running sandbox, else 127.0.1.1, "web" and "haproxy". ``waits``
    defaults to the lag, rounded up.
    """
    directory = directory.absolute()
    ensure_packages()
    sandbox = load(directory)
    first = sandbox.servers[0] if sandbox is not None and sandbox.servers else None
    first_address = first_address or (first.address if first else DEFAULT_FIRST_ADDRESS)
    prefix = prefix or (first.name.rstrip("0123456789") if first else "web")
    balancer = balancer or (sandbox.balancer if sandbox is not None else "haproxy")
    balancers.check(balancer, lag)
    wanted = plan_servers(directory, servers, first_address, prefix)
    if (
        sandbox is None
        or sandbox.servers != wanted
        or sandbox.balancer != balancer
        or not running(sandbox)
    ):
        down(directory)
        sandbox = _start(directory, wanted, balancer)
    if not balancers.lag_in_place(sandbox, lag):
        balancers.set_lag(sandbox, lag)
    sandbox.waits = math.ceil(lag) if waits is None else waits
    sandbox.save()
    write_manifest(sandbox)
    return sandbox


def _start(directory: Path, servers: list[SandboxServer], balancer: str) -> Sandbox:
    busy = [
        f"{s.address}:{port}" for s in servers for port in (22, APP_PORT) if in_use(s.address, port)
    ]
    if busy:
        raise RuntimeError(
            f"{', '.join(busy[:4])} already in use (another sandbox?); stop it, or choose "
            "other addresses with --first-address"
        )
    directory.mkdir(parents=True, exist_ok=True)
    directory.chmod(0o755)
    sandbox = Sandbox(directory, servers, balancer=balancer)
    sandbox.save()
    try:
        prepare_shared(directory)
        fleet = start_sshd_fleet(directory / "ssh", servers)
        sandbox.pids["sshd"] = fleet.pids[0]
        for server in servers:
            install_initial(directory, server, INITIAL_VERSION)
            _start_app(server)
        balancers.start(sandbox)
        _wait_until_serving(sandbox)
    except BaseException:
        down(directory)
        raise
    return sandbox


def _start_app(server: SandboxServer) -> None:
    command = ["/usr/bin/python3", str(server.home / "current" / "app.py"), "restart"]
    command += ["--root", str(server.home), "--address", server.address, "--port", str(APP_PORT)]
    subprocess.run(command, user=server.user, check=True, cwd=server.home, capture_output=True)


def restart_balancer(sandbox: Sandbox, *, keep_state: bool) -> None:
    """Stop the sandbox's HAProxy and start it again with the same configuration and port.

    With ``keep_state`` its runtime state is saved to its server-state-file first, so servers
    out of rotation stay out; without, it comes back with every server in rotation, as after
    a crash or a restart by someone who did not save it. Blocking; HAProxy sandboxes only."""
    if sandbox.balancer != "haproxy":
        raise ValueError(f"restart_balancer restarts HAProxy, not {sandbox.balancer}")
    if keep_state:
        save_server_state(sandbox.haproxy_socket)
    stop_ours(sandbox.pids.get("haproxy"), str(sandbox.directory / "haproxy"))
    port = int(sandbox.frontend_url.rstrip("/").rsplit(":", 1)[1])
    haproxy = start_haproxy(
        sandbox.directory / "haproxy", BACKEND, balancers.members(sandbox), port, "/", 200,
        load_state=keep_state,
    )  # fmt: skip
    sandbox.pids["haproxy"], sandbox.haproxy_socket = haproxy.pid, haproxy.socket
    sandbox.save()


def down(directory: Path) -> list[str]:
    """Stop every process the sandbox in ``directory`` started and remove its users and their
    homes; return what was stopped."""
    directory = directory.absolute()
    sandbox = load(directory)
    if sandbox is None:
        return []
    stopped = balancers.stop(sandbox)
    for server in sandbox.servers:
        if stop_ours(app.read_pid(server.home), str(server.home)):
            stopped.append(f"app on {server.name}")
    if _stop_sshd(directory / "ssh", sandbox.pids.get("sshd")):
        stopped.append("sshd")
    if users := remove_users(sandbox.servers):
        stopped.append(f"{len(users)} users (removed, with their homes)")
    sandbox.pids.clear()
    sandbox.save()
    return stopped


def _stop_sshd(ssh_directory: Path, pid: int | None) -> bool:
    """Stop the sshd listener and its sessions; make sure of the listener ourselves, since
    ``stop_sshd_fleet`` looks for a command line that sshd rewrites once it listens."""
    alive = is_ours(pid, str(ssh_directory))
    stop_sshd_fleet(ssh_directory)
    stop_ours(pid, str(ssh_directory))
    return alive


def running(sandbox: Sandbox) -> bool:
    """Whether every process of the sandbox is still alive."""
    directory = sandbox.directory
    processes = balancers.processes(sandbox)
    processes += [(sandbox.pids.get("sshd"), str(directory / "ssh"))]
    processes += [(app.read_pid(s.home), str(s.home)) for s in sandbox.servers]
    return all(is_ours(pid, marker) for pid, marker in processes)


def _wait_until_serving(sandbox: Sandbox) -> None:
    def serving() -> bool:
        states = blocking(status(sandbox))
        return all(s.version is not None and s.membership == IN_ROTATION for s in states)

    wait_for(serving, "every app to answer and be in rotation")
