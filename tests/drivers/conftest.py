"""Fixtures for driver tests: a real sshd fleet and a real HAProxy, on loopback addresses.

Driver tests use 127.0.1.100-199; the sandbox's own tests keep to 127.0.1.1-99 and 127.0.2.x.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from baton.config.model import ELBv2Balancer, HAProxyBalancer, NginxBalancer, Server
from baton.config.validation import validate
from baton.sandbox.haproxy import HAProxyProcess, start_haproxy
from baton.sandbox.moto import CREDENTIALS as MOTO_CREDENTIALS
from baton.sandbox.moto import MotoServer, start_moto
from baton.sandbox.nginx import NginxProcess, start_nginx
from baton.sandbox.sshd import SandboxServer, SshdFleet, start_sshd_fleet


@pytest.fixture
def sandbox_dir() -> Iterator[Path]:
    """A directory the sandbox users can enter (pytest's tmp_path is private to root)."""
    directory = Path(tempfile.mkdtemp(prefix="baton-drivers-", dir="/tmp"))
    directory.chmod(0o755)
    yield directory
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def ssh_servers(sandbox_dir: Path) -> list[SandboxServer]:
    return [SandboxServer.create(sandbox_dir, f"drv-{i}", f"127.0.1.{110 + i}") for i in range(2)]


@pytest.fixture
def fleet(sandbox_dir: Path, ssh_servers: list[SandboxServer]) -> Iterator[SshdFleet]:
    fleet = start_sshd_fleet(sandbox_dir, ssh_servers)
    yield fleet
    fleet.stop()


@pytest.fixture
def server(fleet: SshdFleet, ssh_servers: list[SandboxServer]) -> Server:
    """The first sandbox server as the manifest would describe it."""
    return manifest_server(fleet, ssh_servers[0])


def manifest_server(fleet: SshdFleet, sandbox: SandboxServer, **changes: object) -> Server:
    fields: dict[str, object] = {
        "name": sandbox.name,
        "address": sandbox.address,
        "port": sandbox.port,
        "user": sandbox.user,
        "key_file": fleet.client_key,
        "known_hosts": fleet.known_hosts,
        "connect_timeout": 5.0,
    }
    return validate(Server, fields | changes, strict=False)


def processes_of(user: str) -> list[str]:
    """Command lines of the processes ``user`` runs (pgrep exits 1 when there are none)."""
    found = subprocess.run(["pgrep", "-a", "-u", user], capture_output=True, text=True)
    return found.stdout.splitlines()


class NameServer(ThreadingHTTPServer):
    """Answers every request with its own name; ``/slow`` takes a second, ``/fail`` is a 500."""

    daemon_threads = True

    def __init__(self, name: str, address: str) -> None:
        self.name = name
        super().__init__((address, 0), _NameHandler)

    @property
    def where(self) -> str:
        host, port = self.server_address[:2]
        return f"{host!s}:{port}"

    def handle_error(self, request: object, client_address: object) -> None:
        """HAProxy's health checks hang up without reading the answer; that is no error."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)  # type: ignore[arg-type]


class _NameHandler(BaseHTTPRequestHandler):
    server: NameServer

    def do_GET(self) -> None:
        if self.path == "/slow":
            time.sleep(1)
        body = self.server.name.encode()
        self.send_response(500 if self.path == "/fail" else 200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


@pytest.fixture
def name_servers() -> Iterator[dict[str, NameServer]]:
    """Three HTTP servers, a, b and c, on 127.0.1.120-122."""
    servers = {name: NameServer(name, f"127.0.1.{120 + i}") for i, name in enumerate("abc")}
    threads = [threading.Thread(target=s.serve_forever, daemon=True) for s in servers.values()]
    for thread in threads:
        thread.start()
    yield servers
    for server in servers.values():
        server.shutdown()
        server.server_close()


@pytest.fixture
def haproxy(tmp_path: Path, name_servers: dict[str, NameServer]) -> Iterator[HAProxyProcess]:
    members = {name: server.where for name, server in name_servers.items()}
    proxy = start_haproxy(tmp_path / "haproxy", "app", members, check_interval_ms=100)
    yield proxy
    proxy.stop()


def load_balancer(haproxy: HAProxyProcess, **changes: object) -> HAProxyBalancer:
    fields = {"name": "front", "type": "haproxy", "socket": haproxy.socket, "backend": "app"}
    return validate(HAProxyBalancer, fields | changes, strict=False)


@pytest.fixture
def nginx(tmp_path: Path, name_servers: dict[str, NameServer]) -> Iterator[NginxProcess]:
    """A real nginx (foreground, its own prefix) in front of a, b and c."""
    members = [server.where for server in name_servers.values()]
    proxy = start_nginx(tmp_path / "nginx", "app", members)
    yield proxy
    proxy.stop()


def nginx_balancer(
    nginx: NginxProcess, name_servers: dict[str, NameServer], **changes: object
) -> NginxBalancer:
    """The nginx as a manifest names it, servers a, b, c mapped to their addresses."""
    fields = {
        "name": "edge",
        "type": "nginx",
        "file": nginx.upstream_file,
        "upstream": "app",
        "command": nginx.command,
        "pid_file": nginx.pid_file,
        "servers": {name: server.where for name, server in name_servers.items()},
    }
    return validate(NginxBalancer, fields | changes, strict=False)


@pytest.fixture(scope="session")
def moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    """moto's standalone server on a loopback port, for the whole session."""
    server = start_moto(tmp_path_factory.mktemp("moto") / "moto.log")
    yield server
    server.stop()


@pytest.fixture
def aws_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Credentials in the environment, as the standard chain finds them; no profile files and
    no instance metadata (169.254.169.254 is not loopback)."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_DEFAULT_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    for name, value in MOTO_CREDENTIALS.items():
        monkeypatch.setenv(name, value)


def elbv2_balancer(endpoint_url: str, arn: str, **changes: object) -> ELBv2Balancer:
    fields = {
        "name": "alb",
        "type": "elbv2",
        "target_group_arn": arn,
        "endpoint_url": endpoint_url,
        "servers": {"a": "127.0.1.120:8000", "b": "127.0.1.121"},
        "timeout": 2,
    }
    return validate(ELBv2Balancer, fields | changes, strict=False)
