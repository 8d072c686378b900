"""The benchmark's fleet: bare sshd servers on loopback, and HAProxy for the serial case.

Servers are ``PREFIX-0001`` … on 127.0.3.1 onward (254 addresses per /24: 127.0.3.x, 127.0.4.x,
…); the ranges 127.0.1.x and 127.0.2.x belong to other tests. Everything started here is stopped
by :meth:`BenchFleet.close`, also when start-up fails half way.
"""

from __future__ import annotations

import contextlib
import ipaddress
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from baton.sandbox.haproxy import HAProxyProcess, start_haproxy
from baton.sandbox.sshd import SandboxServer, SshdFleet, start_sshd_fleet
from bench.workload import BACKEND, Host

FIRST_ADDRESS = "127.0.3.1"
BACKEND_PORT = 8080
BACKENDS_READY = 10.0


def addresses(first: str, count: int) -> list[str]:
    """``count`` loopback addresses from ``first``, skipping .0 and .255 of every /24."""
    found: list[str] = []
    current = ipaddress.IPv4Address(first)
    while len(found) < count:
        if not 0 < int(current) % 256 < 255:
            current += 1
            continue
        if not current.is_loopback:
            raise ValueError(f"{current} is not a loopback address")
        found.append(str(current))
        current += 1
    return found


@dataclass
class BenchFleet:
    directory: Path
    hosts: tuple[Host, ...]
    sshd: SshdFleet
    haproxy: HAProxyProcess | None = None
    backends: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def haproxy_socket(self) -> Path | None:
        return self.haproxy.socket if self.haproxy else None

    def close(self) -> None:
        if self.haproxy is not None:
            self.haproxy.stop()
        if self.backends is not None:
            self.backends.terminate()
            self.backends.wait(timeout=10)
        self.sshd.stop()


@contextlib.contextmanager
def bench_fleet(
    directory: Path,
    size: int,
    *,
    prefix: str = "bench",
    first_address: str = FIRST_ADDRESS,
    load_balancer: bool = False,
) -> Iterator[BenchFleet]:
    """Start ``size`` sshd servers (and HAProxy with HTTP backends), stop them all on exit."""
    directory.mkdir(parents=True, exist_ok=True)
    servers = [
        SandboxServer.create(directory, f"{prefix}-{i:04d}", address)
        for i, address in enumerate(addresses(first_address, size), start=1)
    ]
    hosts = tuple(Host(s.name, s.address, s.user) for s in servers)
    fleet = BenchFleet(directory, hosts, start_sshd_fleet(directory / "ssh", servers))
    try:
        if load_balancer:
            fleet.backends = _start_backends(hosts)
            members = {h.name: f"{h.address}:{BACKEND_PORT}" for h in hosts}
            fleet.haproxy = start_haproxy(directory / "haproxy", BACKEND, members)
        yield fleet
    finally:
        fleet.close()


def _start_backends(hosts: tuple[Host, ...]) -> subprocess.Popen[bytes]:
    endpoints = [f"{h.address}:{BACKEND_PORT}" for h in hosts]
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.backends", *endpoints],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, start_new_session=True,
        cwd=Path(__file__).resolve().parent.parent,
    )  # fmt: skip
    assert process.stdout is not None
    if process.stdout.readline().strip() != b"listening":
        process.kill()
        process.wait()
        raise RuntimeError(f"HTTP backends did not start on {endpoints[:3]}…")
    return process
