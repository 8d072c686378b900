"""Fixtures shared by every test package.

``sandbox_fleet`` is one real sandbox for the whole session: 3 sshd servers on 127.0.1.21-23,
each running the sandbox app, behind a real HAProxy. Tests that need load balancer lag or
waits reshape it with ``baton.sandbox.fleet.up(fleet.directory, lag=..., waits=...)`` (only
the lag proxy and the manifest change), and deploy unique versions, so tests can share it.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from baton.sandbox import fleet

SANDBOX_SERVERS = 3
SANDBOX_FIRST_ADDRESS = "127.0.1.21"


def sandbox_directory(prefix: str) -> Path:
    """A directory the sandbox users can enter (pytest's tmp_path is private to root)."""
    directory = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
    directory.chmod(0o755)
    return directory


@pytest.fixture(scope="session")
def sandbox_fleet() -> Iterator[fleet.Sandbox]:
    """A running 3-server sandbox (real sshd, apps, HAProxy) for the whole test session."""
    directory = sandbox_directory("baton-sandbox-")
    try:
        yield fleet.up(directory, SANDBOX_SERVERS, first_address=SANDBOX_FIRST_ADDRESS, prefix="fx")
    finally:
        fleet.down(directory)
        shutil.rmtree(directory, ignore_errors=True)
