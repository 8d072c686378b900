"""Fixtures shared by every test package.

``sandbox_fleet`` is one real sandbox for the whole session: 3 sshd servers on loopback
addresses, each running the sandbox app, behind a real HAProxy. Tests that need load balancer
lag or waits reshape it with ``baton.sandbox.fleet.up(sandbox.directory, lag=..., waits=...)``
(only the lag proxy and the manifest change) and deploy unique versions, so tests share it.

Several test sessions may run at once on one machine, so each sandbox claims free addresses
(from 127.0.1.21 upward) under a lock, and names its servers after them.
"""

from __future__ import annotations

import contextlib
import fcntl
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from baton.clock import FakeClock
from baton.config import Manifest
from baton.drivers.fake import FakeFleet, Script
from baton.sandbox import fleet
from baton.sandbox.processes import in_use
from tests.postgres import Cluster, running_cluster

SANDBOX_SERVERS = 3
FIRST_TEST_ADDRESS = fleet.ADDRESSES.index("127.0.1.21")
LOCK = Path("/tmp/baton-sandbox-tests.lock")


def sandbox_directory(prefix: str) -> Path:
    """A directory the sandbox users can enter (pytest's tmp_path is private to root)."""
    directory = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
    directory.chmod(0o755)
    return directory


def free_block(count: int) -> str:
    """The first address of ``count`` consecutive sandbox addresses nobody listens on."""
    for start in range(FIRST_TEST_ADDRESS, len(fleet.ADDRESSES) - count, count):
        block = fleet.ADDRESSES[start : start + count]
        if not any(in_use(a, port) for a in block for port in (22, 8000)):
            return block[0]
    raise RuntimeError("no free sandbox addresses")


@contextlib.contextmanager
def running_sandbox(
    count: int, prefix: str | None = None, **options: Any
) -> Iterator[fleet.Sandbox]:
    """A sandbox of ``count`` servers on free addresses, named ``<prefix>1..`` (default: after
    the first address); stopped, its users removed, and its directory deleted afterwards."""
    directory = sandbox_directory("baton-sandbox-")
    try:
        with LOCK.open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # until our sshds listen, so no one else takes them
            first = free_block(count)
            prefix = prefix or "t" + first.split(".", 2)[2].replace(".", "-") + "-"
            sandbox = fleet.up(directory, count, first_address=first, prefix=prefix, **options)
        yield sandbox
    finally:
        fleet.down(directory)
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="session", autouse=True)
def manifest_cache() -> Iterator[Path]:
    """The session's own cache of validated manifests (baton.config.cache), on as for a user
    but never the user's ``~/.cache/baton``; commands the tests start inherit it."""
    directory = Path(tempfile.mkdtemp(prefix="baton-cache-"))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("BATON_CACHE", str(directory))
        yield directory
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="session")
def sandbox_fleet() -> Iterator[fleet.Sandbox]:
    """A running 3-server sandbox (real sshd, apps, HAProxy) for the whole test session."""
    with running_sandbox(SANDBOX_SERVERS) as sandbox:
        yield sandbox


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[Cluster]:
    """A throw-away PostgreSQL 15 cluster on a loopback port for the whole session."""
    with running_cluster() as cluster:
        yield cluster


@pytest.fixture
def postgres_url(postgres_cluster: Cluster) -> str:
    """The URL of a fresh, empty PostgreSQL database."""
    return postgres_cluster.new_database()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test on the throw-away PostgreSQL cluster needs a real server: it is an integration
    test, whichever file it is in."""
    for item in items:
        if "postgres_cluster" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.integration)


@pytest.fixture
def clock() -> FakeClock:
    """The test's fake time: one per test, as two FakeClocks on one event loop would each
    wait for the other to go idle."""
    return FakeClock()


@pytest.fixture
def fake_fleet(clock: FakeClock) -> Callable[[Manifest], FakeFleet]:
    """Fake servers and load balancers on the test's fake time: a deploy handed
    ``fleet.clock`` waits for nothing, and its waits are asserted in exact fake seconds."""

    def make(manifest: Manifest, script: Script | None = None) -> FakeFleet:
        return FakeFleet(manifest, script, clock)

    return make
