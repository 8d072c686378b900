"""A sandbox fleet on this machine: real sshds, the sandbox app, a real HAProxy, a manifest.

``up`` is idempotent: a running sandbox with the same servers is kept (only the lag proxy and
the manifest follow a new ``lag`` or ``waits``); anything else is torn down and started afresh.
Everything lives in one directory, and ``down`` stops exactly the processes recorded there::

    DIR/sandbox.json            what runs: servers, HAProxy, lag proxy, their pids
    DIR/baton.yml               the manifest for application "sandbox"
    DIR/ssh/                    sshd configs, keys, known_hosts (baton.sandbox.sshd)
    DIR/home/<server>/          each server's home: releases/, current, app.pid, app.log
    DIR/haproxy/                HAProxy's config and admin socket (baton.sandbox.haproxy)
    DIR/shared/                 the release artifact and the migrations database
    DIR/lag.sock, DIR/lag.log   the lagging admin-socket proxy, when lag > 0
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import math
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Coroutine
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from baton.sandbox import app
from baton.sandbox.haproxy import start_haproxy
from baton.sandbox.manifest import (
    APP_PORT,
    BACKEND,
    install_initial,
    prepare_shared,
    write_manifest,
)
from baton.sandbox.sshd import SandboxServer, sandbox_user, start_sshd_fleet, stop_sshd_fleet
from baton.sandbox.status import IN_ROTATION, status

DEFAULT_DIRECTORY = Path(".sandbox")
DEFAULT_FIRST_ADDRESS = "127.0.1.1"
INITIAL_VERSION = "v1"
LAG_MODULE = "baton.sandbox.lag"
T = TypeVar("T")
STARTUP_DEADLINE = 30.0


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

    @property
    def manifest(self) -> Path:
        return self.directory / "baton.yml"

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
    home = directory / "home"
    names = [f"{prefix}{i}" for i in range(1, count + 1)]
    addresses = ADDRESSES[start : start + count]
    return [
        SandboxServer(n, a, sandbox_user(n), home / n)
        for n, a in zip(names, addresses, strict=True)
    ]


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
) -> Sandbox:
    """Bring the sandbox in ``directory`` to the wanted shape and return it (blocking).

    ``first_address`` and ``prefix`` (server names are ``<prefix>1``, ...) default to those of
    the running sandbox, else 127.0.1.1 and "web". ``waits`` defaults to the lag, rounded up.
    """
    directory = directory.absolute()
    ensure_packages()
    sandbox = load(directory)
    first = sandbox.servers[0] if sandbox is not None and sandbox.servers else None
    first_address = first_address or (first.address if first else DEFAULT_FIRST_ADDRESS)
    prefix = prefix or (first.name.rstrip("0123456789") if first else "web")
    wanted = plan_servers(directory, servers, first_address, prefix)
    if sandbox is None or sandbox.servers != wanted or not running(sandbox):
        down(directory)
        sandbox = _start(directory, wanted)
    if sandbox.lag != lag or (lag > 0 and not _alive(sandbox.pids.get("lag"), LAG_MODULE)):
        _set_lag(sandbox, lag)
    sandbox.waits = math.ceil(lag) if waits is None else waits
    sandbox.save()
    write_manifest(sandbox)
    return sandbox


def _start(directory: Path, servers: list[SandboxServer]) -> Sandbox:
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
    sandbox = Sandbox(directory, servers)
    sandbox.save()
    try:
        prepare_shared(directory)
        fleet = start_sshd_fleet(directory / "ssh", servers)
        sandbox.pids["sshd"] = fleet.pids[0]
        for server in servers:
            install_initial(directory, server, INITIAL_VERSION)
            _start_app(server)
        _start_balancer(sandbox)
        _wait_until_serving(sandbox)
    except BaseException:
        down(directory)
        raise
    return sandbox


def _start_app(server: SandboxServer) -> None:
    command = ["/usr/bin/python3", str(server.home / "current" / "app.py"), "restart"]
    command += ["--root", str(server.home), "--address", server.address, "--port", str(APP_PORT)]
    subprocess.run(command, user=server.user, check=True, cwd=server.home, capture_output=True)


def _start_balancer(sandbox: Sandbox) -> None:
    members = {s.name: f"{s.address}:{APP_PORT}" for s in sandbox.servers}
    proxy = start_haproxy(sandbox.directory / "haproxy", BACKEND, members, None, "/", 200)
    sandbox.pids["haproxy"] = proxy.pid
    sandbox.haproxy_socket, sandbox.frontend_url = proxy.socket, proxy.frontend_url
    sandbox.save()


def _set_lag(sandbox: Sandbox, lag: float) -> None:
    _stop_pid(sandbox.pids.pop("lag", None), LAG_MODULE)
    sandbox.lag = lag
    if lag > 0:
        command = [sys.executable, "-m", LAG_MODULE, "--listen", str(sandbox.lag_socket)]
        command += ["--target", str(sandbox.haproxy_socket), "--lag", str(lag)]
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])}
        with (sandbox.directory / "lag.log").open("ab") as log:
            process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                env=env,
                start_new_session=True,
            )
        sandbox.pids["lag"] = process.pid
        _wait_for(sandbox.lag_socket.exists, "the lag proxy's socket")
    sandbox.save()


def down(directory: Path) -> list[str]:
    """Stop every process the sandbox in ``directory`` started; return what was stopped."""
    directory = directory.absolute()
    sandbox = load(directory)
    stopped: list[str] = []
    if sandbox is None:
        return stopped
    if _stop_pid(sandbox.pids.get("lag"), LAG_MODULE):
        stopped.append("lag proxy")
    if _stop_pid(sandbox.pids.get("haproxy"), str(directory / "haproxy")):
        stopped.append("haproxy")
    for server in sandbox.servers:
        if _stop_pid(app.read_pid(server.home), str(server.home)):
            stopped.append(f"app on {server.name}")
    if _stop_sshd(directory / "ssh", sandbox.pids.get("sshd")):
        stopped.append("sshd")
    sandbox.pids.clear()
    sandbox.save()
    return stopped


def _stop_sshd(ssh_directory: Path, pid: int | None) -> bool:
    """Stop the sshd listener and its sessions; make sure of the listener ourselves, since
    ``stop_sshd_fleet`` looks for a command line that sshd rewrites once it listens."""
    alive = _alive(pid, str(ssh_directory))
    stop_sshd_fleet(ssh_directory)
    _stop_pid(pid, str(ssh_directory))
    return alive


def running(sandbox: Sandbox) -> bool:
    """Whether every process of the sandbox is still alive."""
    directory = sandbox.directory
    processes = [(sandbox.pids.get("haproxy"), str(directory / "haproxy"))]
    processes += [(sandbox.pids.get("sshd"), str(directory / "ssh"))]
    processes += [(app.read_pid(s.home), str(s.home)) for s in sandbox.servers]
    return all(_alive(pid, marker) for pid, marker in processes)


def _alive(pid: int | None, marker: str) -> bool:
    """Whether ``pid`` is a live process whose command line contains ``marker``."""
    if pid is None:
        return False
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        zombie = "State:\tZ" in Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return marker in cmdline and not zombie


def _stop_pid(pid: int | None, marker: str, deadline: float = 5.0) -> bool:
    """SIGTERM ``pid`` if it is ours (``marker`` in its command line); SIGKILL if it lingers."""
    if pid is None or not _alive(pid, marker):
        return False
    os.kill(pid, signal.SIGTERM)
    end = time.monotonic() + deadline
    while _alive(pid, marker) and time.monotonic() < end:
        time.sleep(0.02)
    if _alive(pid, marker):
        os.kill(pid, signal.SIGKILL)
    return True


def _wait_for(condition: Callable[[], bool], what: str) -> None:
    end = time.monotonic() + STARTUP_DEADLINE
    while not condition():
        if time.monotonic() > end:
            raise RuntimeError(f"timed out after {STARTUP_DEADLINE:.0f}s waiting for {what}")
        time.sleep(0.05)


def in_use(address: str, port: int) -> bool:
    """Whether something listens on ``address:port`` (a bind there fails)."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((address, port))
        except OSError:
            return True
    return False


def _wait_until_serving(sandbox: Sandbox) -> None:
    def serving() -> bool:
        states = _blocking(status(sandbox))
        return all(s.version is not None and s.membership == IN_ROTATION for s in states)

    _wait_for(serving, "every app to answer and be in rotation")


def _blocking(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run ``coroutine`` to completion, also when called (blocking) from async code."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def ensure_packages() -> None:
    """Install sshd and HAProxy with apt-get when missing (as root), or say how to."""
    missing = [pkg for pkg, program in _PACKAGES.items() if not Path(program).exists()]
    if not missing:
        return
    if os.geteuid() != 0:
        raise RuntimeError(f"the sandbox needs {', '.join(missing)}: run as root, or install them")
    print(f"installing {', '.join(missing)} with apt-get ...", file=sys.stderr)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update"], ["apt-get", "install", "-y", *missing]):
        result = subprocess.run(command, env=env, capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(
                f"cannot install {', '.join(missing)}: `{' '.join(command)}` failed:\n"
                f"{result.stderr.strip()[-2000:]}\ninstall them yourself and run `up` again"
            )


_PACKAGES = {"openssh-server": "/usr/sbin/sshd", "haproxy": "/usr/sbin/haproxy"}
