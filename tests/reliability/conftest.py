"""A dedicated sandbox for fault injection, and helpers to run ``baton`` and strike mid-way.

The fleet is this package's own (3 servers on free addresses from 127.0.1.60, names ``rel1..``),
so the tests can stop its sshd or hide its HAProxy socket without touching the shared
``sandbox_fleet``. Each test gets a fresh state directory and starts with every server in
rotation.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import re
import shutil
import signal
import sys
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from baton.config import HAProxyBalancer
from baton.drivers.haproxy import HAProxyDriver
from baton.sandbox import fleet
from baton.sandbox.manifest import APPLICATION, BACKEND, manifest_data
from baton.sandbox.processes import in_use
from baton.sandbox.traffic import Traffic, TrafficReport
from tests.conftest import LOCK, sandbox_directory

FIRST, LAST = fleet.ADDRESSES.index("127.0.1.60"), fleet.ADDRESSES.index("127.0.1.99")
SERVERS = 3
RATE = 50.0
ROOT = str(Path(__file__).resolve().parents[2])


def _free_first_address() -> str:
    for start in range(FIRST, LAST - SERVERS + 2, SERVERS):
        block = fleet.ADDRESSES[start : start + SERVERS]
        if not any(in_use(a, port) for a in block for port in (22, 8000)):
            return block[0]
    raise RuntimeError("no free addresses in 127.0.1.60-99 for the reliability fleet")


@pytest.fixture(scope="package")
def rfleet() -> Iterator[fleet.Sandbox]:
    """This package's own running 3-server sandbox, torn down at the end."""
    directory = sandbox_directory("baton-reliability-")
    try:
        with LOCK.open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            first = _free_first_address()
            sandbox = fleet.up(directory, SERVERS, first_address=first, prefix="rel")
        yield sandbox
    finally:
        fleet.down(directory)
        shutil.rmtree(directory, ignore_errors=True)


@dataclass
class Site:
    """The fleet as one test sees it: a manifest to change and a fresh state directory."""

    sandbox: fleet.Sandbox
    state: Path

    def manifest(self, change: Callable[[dict[str, Any]], None] | None = None) -> Path:
        """Write the sandbox manifest (1 s wait after removing, 5 s health deadline) + change."""
        data = manifest_data(self.sandbox)
        data["load_balancers"][0]["configuration"].update(
            wait_after_removing_servers=1, wait_after_adding_servers=0
        )
        data["deploy"]["health_check"]["deadline"] = 5
        if change is not None:
            change(data)
        path = self.state / f"baton-{uuid.uuid4().hex[:6]}.yml"
        path.write_text(yaml.safe_dump(data, sort_keys=False))
        return path

    def arguments(self, command: str, manifest: Path) -> list[str]:
        return [command, "-s", APPLICATION, "-f", str(manifest), "--state", str(self.state)]

    def deploy_arguments(self, manifest: Path, version: str, *extra: str) -> list[str]:
        return [*self.arguments("deploy", manifest), "--version", version, *extra]


@pytest.fixture
async def site(rfleet: fleet.Sandbox, tmp_path: Path) -> Site:
    sandbox = await asyncio.to_thread(fleet.up, rfleet.directory)  # restarts what a test broke
    await put_all_back(sandbox)
    return Site(sandbox, tmp_path)


async def put_all_back(sandbox: fleet.Sandbox) -> None:
    balancer = HAProxyBalancer(type="haproxy", socket=sandbox.haproxy_socket, backend=BACKEND)
    driver = HAProxyDriver(balancer)
    for server in sandbox.servers:
        await driver.add(server.name)
    await driver.close()


def environment(**extra: str) -> dict[str, str]:
    path = os.pathsep.join(p for p in (ROOT, os.environ.get("PYTHONPATH")) if p)
    return {**os.environ, "PYTHONPATH": path, **extra}


class Baton:
    """``python -m baton ...`` as a child process whose output is read line by line."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.lines: list[str] = []

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    async def until(self, pattern: str) -> str:
        """Read output until a line matches ``pattern``; that line."""
        assert self.process.stdout is not None
        while line := (await self.process.stdout.readline()).decode(errors="replace"):
            self.lines.append(line.rstrip("\n"))
            if re.search(pattern, line):
                return line
        raise AssertionError(f"baton ended without printing {pattern!r}:\n{self.output}")

    def signal(self, number: signal.Signals) -> None:
        os.kill(self.process.pid, number)

    async def finish(self) -> int:
        """Read the rest of the output; the exit status (-9 when killed)."""
        assert self.process.stdout is not None
        rest = (await self.process.stdout.read()).decode(errors="replace")
        self.lines += rest.splitlines()
        return await self.process.wait()


async def start(*arguments: str, **env: str) -> Baton:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "baton", *arguments, env=environment(**env),
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    return Baton(process)


async def run(*arguments: str, **env: str) -> tuple[int, str]:
    """Run ``baton`` to the end: (exit status, stdout and stderr together)."""
    baton = await start(*arguments, **env)
    return await baton.finish(), baton.output


@asynccontextmanager
async def traffic(sandbox: fleet.Sandbox) -> AsyncIterator[TrafficReport]:
    """Steady requests through HAProxy while the block runs; the report fills in at the end."""
    sender = Traffic(sandbox.frontend_url, rate=RATE)
    sender.start()
    try:
        yield sender.report
    finally:
        await asyncio.sleep(0.3)
        await sender.stop()


def sessions_of(user: str) -> list[int]:
    """The pids of the sshd processes serving ``user``'s SSH sessions (not its app)."""
    found = []
    for entry in Path("/proc").iterdir():
        with contextlib.suppress(OSError):
            if entry.name.isdigit() and (entry / "cmdline").read_bytes().startswith(
                f"sshd: {user}".encode()
            ):
                found.append(int(entry.name))
    return found
