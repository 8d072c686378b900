"""Fixtures for driver tests: a real sshd fleet and a real HAProxy, on loopback addresses.

Driver tests use 127.0.1.100-199; the sandbox's own tests keep to 127.0.1.1-99 and 127.0.2.x.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from baton.config.model import Server
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
    return Server.model_validate(fields | changes, strict=False)


def processes_of(user: str) -> list[str]:
    """Command lines of the processes ``user`` runs (pgrep exits 1 when there are none)."""
    found = subprocess.run(["pgrep", "-a", "-u", user], capture_output=True, text=True)
    return found.stdout.splitlines()
