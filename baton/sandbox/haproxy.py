"""A real HAProxy in front of sandbox servers, with an admin socket for the haproxy driver.

Health checks stay on and nothing hides failures: no ``option redispatch`` and no extra
``retries``, so a request sent to a dead server fails where tests can see it.

A restarted HAProxy forgets its runtime state (servers baton took out are back in rotation)
unless that state was saved first: the config names a ``server-state-file`` and loads it
(``load-server-state-from-file global``), and :func:`save_server_state` writes it from the
admin socket, as a careful reload script does before restarting HAProxy.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from baton.sandbox.processes import Started, free_port

HAPROXY = "/usr/sbin/haproxy"
STATE_FILE = "server-state"
"""Beside the admin socket: where HAProxy finds the runtime state saved before a restart."""


@dataclass
class HAProxyProcess(Started):
    """A running HAProxy."""

    socket: Path
    frontend_url: str
    config: Path
    log: Path
    process: subprocess.Popen[bytes] = field(repr=False)


def start_haproxy(
    directory: Path,
    backend: str,
    servers: dict[str, str],
    frontend_port: int | None = None,
    httpchk: str = "/",
    check_interval_ms: int = 500,
    load_state: bool = False,
) -> HAProxyProcess:
    """Write ``directory/haproxy.cfg``, start HAProxy in the foreground, wait for its socket.

    ``servers`` maps HAProxy server names to "address:port"; the frontend listens on
    127.0.0.1:``frontend_port`` (a free port when None). With ``load_state`` HAProxy loads the
    runtime state :func:`save_server_state` saved; otherwise a stale one is removed first.
    """
    directory.mkdir(parents=True, exist_ok=True)
    admin_socket = directory / "haproxy.sock"
    port = frontend_port or free_port()
    config = directory / "haproxy.cfg"
    config.write_text(_config(admin_socket, port, backend, servers, httpchk, check_interval_ms))
    log = directory / "haproxy.log"
    admin_socket.unlink(missing_ok=True)
    if not load_state:
        admin_socket.with_name(STATE_FILE).unlink(missing_ok=True)
    with log.open("wb") as output:
        process = subprocess.Popen(
            [HAPROXY, "-db", "-f", str(config)],
            stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    haproxy = HAProxyProcess(admin_socket, f"http://127.0.0.1:{port}/", config, log, process)
    try:
        _wait_for_socket(haproxy)
    except BaseException:
        haproxy.stop()
        raise
    return haproxy


def _config(
    admin_socket: Path,
    port: int,
    backend: str,
    servers: dict[str, str],
    httpchk: str,
    check_interval_ms: int,
) -> str:
    lines = [
        "global",
        f"    stats socket {admin_socket} mode 600 level admin",
        "    stats timeout 30s",
        f"    server-state-file {admin_socket.with_name(STATE_FILE)}",
        "defaults",
        "    mode http",
        "    load-server-state-from-file global",
        "    timeout connect 2s",
        "    timeout client 30s",
        "    timeout server 30s",
        "frontend baton_sandbox",
        f"    bind 127.0.0.1:{port}",
        f"    default_backend {backend}",
        f"backend {backend}",
        "    balance roundrobin",
        f"    option httpchk GET {httpchk}",
        *(
            f"    server {name} {address} check inter {check_interval_ms}"
            for name, address in servers.items()
        ),
    ]
    return "\n".join(lines) + "\n"


def save_server_state(admin_socket: Path) -> Path:
    """Write HAProxy's runtime state to its server-state-file, for the next start to load."""
    with socket.socket(socket.AF_UNIX) as client:
        client.settimeout(5)
        client.connect(str(admin_socket))
        client.sendall(b"show servers state\n")
        reply = b"".join(iter(lambda: client.recv(65536), b""))
    path = admin_socket.with_name(STATE_FILE)
    path.write_bytes(reply)
    return path


def _wait_for_socket(haproxy: HAProxyProcess, limit: float = 10) -> None:
    deadline = time.monotonic() + limit
    while not _answers(haproxy.socket):
        if haproxy.process.poll() is not None:
            raise RuntimeError(f"haproxy exited: {haproxy.log.read_text().strip()}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"haproxy admin socket {haproxy.socket} silent after {limit}s")
        time.sleep(0.02)


def _answers(path: Path) -> bool:
    with contextlib.suppress(OSError), socket.socket(socket.AF_UNIX) as client:
        client.settimeout(1)
        client.connect(str(path))
        client.sendall(b"show info\n")
        return b"Name: HAProxy" in client.recv(4096)
    return False
