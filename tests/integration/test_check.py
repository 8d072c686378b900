"""``baton init`` then ``baton check`` on the session's real fleet (sshd, HAProxy, the apps):
every server ok; then a stopped sshd, a server deleted from HAProxy's backend and a broken
health check, each the right row with the right advice, exit 1, and nothing changed. What a
test breaks it puts back in place, since the fleet is shared.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from baton.sandbox import fleet
from baton.sandbox.manifest import APP_PORT, APPLICATION, BACKEND, manifest_data
from baton.sandbox.sshd import SSHD, SandboxServer, start_sshd_fleet, stop_sshd_fleet
from baton.sandbox.status import IN_ROTATION, membership, status

pytestmark = pytest.mark.integration


@dataclass
class Site:
    sandbox: fleet.Sandbox
    state: Path

    def manifest(self, change: Callable[[dict[str, Any]], None] | None = None) -> Path:
        """The sandbox's manifest (health deadline 5 s), changed by ``change``."""
        data = manifest_data(self.sandbox)
        data["deploy"]["health_check"]["deadline"] = 5
        if change is not None:
            change(data)
        path = self.state / "baton.yml"
        path.write_text(yaml.safe_dump(data, sort_keys=False))
        return path


@pytest.fixture
def site(sandbox_fleet: fleet.Sandbox, tmp_path: Path) -> Site:
    return Site(fleet.up(sandbox_fleet.directory, lag=0, waits=0), tmp_path)


async def run(*arguments: str) -> tuple[int, str]:
    """``baton ARGUMENTS``: (exit status, stdout and stderr together)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "baton", *arguments,
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    output, _ = await process.communicate()
    return await process.wait(), output.decode()


async def seen(site: Site) -> list[tuple[str, str | None, str]]:
    """What a user sees of the fleet: each server's version and HAProxy membership."""
    return [(s.name, s.version, s.membership) for s in await status(site.sandbox)]


async def check(site: Site, manifest: Path) -> tuple[int, str]:
    """``baton check`` with a state directory that does not exist (check must not create it)."""
    state = site.state / "state"
    code, output = await run("check", "-s", APPLICATION, "-f", str(manifest), "--state", str(state))
    assert not state.exists(), "check wrote state"
    return code, output


def row(output: str, server: str) -> str:
    """The server's row of the table, its cells separated by one space."""
    line = next(line for line in output.splitlines() if line.startswith(f"{server} "))
    return " ".join(line.split())


async def test_init_then_check_reports_every_server_ok(site: Site) -> None:
    sandbox, ssh = site.sandbox, site.sandbox.directory / "ssh"
    manifest = site.state / "baton.yml"
    servers = [f"--server={s.name}={s.user}@{s.address}" for s in sandbox.servers]
    code, output = await run(
        "init", "-f", str(manifest), "--app", APPLICATION, *servers,
        "--key", str(ssh / "client_key"), "--known-hosts", str(ssh / "known_hosts"),
        "--haproxy", str(sandbox.haproxy_socket), "--backend", BACKEND,
        "--health-url", f"http://{{address}}:{APP_PORT}/",
    )  # fmt: skip
    assert code == 0, output
    before = await seen(site)
    code, output = await check(site, manifest)
    assert code == 0, output
    for server in sandbox.servers:
        assert re.fullmatch(rf"{server.name} ok \d\.\d\ds ok ok ok", row(output, server.name))
    assert "server ssh steps haproxy health" in " ".join(output.split())
    assert output.splitlines()[-1] == "a deploy could start now", output
    assert await seen(site) == before


async def test_a_stopped_sshd_is_its_servers_row_and_says_start_it(site: Site) -> None:
    first, second, third = site.sandbox.servers
    before = await seen(site)
    with sshd_stopped_on(site, second):
        code, output = await check(site, site.manifest())
    assert code == 1, output
    assert re.fullmatch(r"\S+ PROBLEM - ok ok", row(output, second.name)), output
    for server in (first, third):
        assert re.fullmatch(rf"{server.name} ok \S+ ok ok ok", row(output, server.name)), output
    assert (
        f"{second.name} ssh: PROBLEM: cannot reach server {second.name} "
        f"({second.user}@{second.address}:22): connection refused: nothing listens on port 22 "
        "(is sshd running?)\n"
        f"  -> start sshd on {second.address} (systemctl start ssh), or correct address/port "
        "in the manifest"
    ) in output
    assert output.splitlines()[-1] == "a deploy would not get through: 1 problem(s) above"
    assert await seen(site) == before


async def test_a_server_deleted_from_the_backend_is_named_with_what_to_do(site: Site) -> None:
    first, second, third = site.sandbox.servers
    await haproxy(site, f"set server {BACKEND}/{second.name} state maint")
    try:
        deleted = await haproxy(site, f"del server {BACKEND}/{second.name}")
        code, output = await check(site, site.manifest())
        after = await seen(site)
    finally:
        await put_back(site, second)
    assert deleted.strip() == "Server deleted."
    assert code == 1, output
    assert row(output, second.name) == f"{second.name} ok {_secs(output, second)} ok PROBLEM ok"
    assert (
        f"{second.name} haproxy: PROBLEM: load balancer haproxy does not know server "
        f"{second.name} (it knows: {first.name}, {third.name})\n"
        f"  -> add {second.name} to the load balancer, or map {second.name} to its name there "
        "under load_balancers[0].servers"
    ) in output
    assert [(name, membership) for name, _, membership in after] == [
        (first.name, IN_ROTATION), (second.name, "unknown"), (third.name, IN_ROTATION)
    ]  # fmt: skip


async def test_a_broken_health_check_is_each_servers_row_and_says_check_the_url(
    site: Site,
) -> None:
    def wrong_port(data: dict[str, Any]) -> None:
        data["deploy"]["health_check"]["url"] = f"http://{{address}}:{APP_PORT + 1}/"

    before = await seen(site)
    code, output = await check(site, site.manifest(wrong_port))
    assert code == 1, output
    for server in site.sandbox.servers:
        assert row(output, server.name) == f"{server.name} ok {_secs(output, server)} ok ok PROBLEM"
        assert re.search(
            rf"^{server.name} health: PROBLEM: GET http://{server.address}:{APP_PORT + 1}/: "
            rf"ConnectionRefusedError.*\n  -> check the URL \(address, port, path\) and that the "
            rf"application runs on {server.name}; a deploy would halt at this server after 5s$",
            output,
            re.MULTILINE,
        ), output
    assert "3 problem(s)" in output.splitlines()[-1]
    assert await seen(site) == before


def _secs(output: str, server: SandboxServer) -> str:
    return row(output, server.name).split()[2]


async def haproxy(site: Site, command: str) -> str:
    """One command on the real HAProxy's runtime API."""
    reader, writer = await asyncio.open_unix_connection(site.sandbox.haproxy_socket)
    writer.write(f"{command}\n".encode())
    await writer.drain()
    reply = (await reader.read()).decode()
    writer.close()
    return reply


async def put_back(site: Site, server: SandboxServer) -> None:
    """Add the deleted server again as haproxy.cfg has it, and wait until it is in rotation
    (failing that, stop HAProxy: the next test's ``fleet.up`` starts it afresh)."""
    member = f"{BACKEND}/{server.name}"
    await haproxy(site, f"add server {member} {server.address}:{APP_PORT} check inter 500")
    await haproxy(site, f"enable health {member}")
    await haproxy(site, f"enable server {member}")
    deadline = time.monotonic() + 10
    while (await membership(site.sandbox.haproxy_socket)).get(server.name) != IN_ROTATION:
        if time.monotonic() > deadline:
            os.kill(site.sandbox.pids["haproxy"], signal.SIGTERM)
            return
        await asyncio.sleep(0.1)


@contextlib.contextmanager
def sshd_stopped_on(site: Site, server: SandboxServer) -> Iterator[None]:
    """``systemctl stop ssh`` on one server: the fleet's sshd (which listens for every server)
    is replaced by one listening on the others' addresses only, and restarted afterwards."""
    sandbox, ssh = site.sandbox, site.sandbox.directory / "ssh"
    config = ssh / "sshd-check.conf"
    listen = f"ListenAddress {server.address}:{server.port}"
    lines = (ssh / "sshd-0.conf").read_text().splitlines()
    config.write_text("".join(f"{line}\n" for line in lines if line != listen))
    stop_sshd_fleet(ssh)
    _wait(lambda: not any(_listening(s) for s in sandbox.servers))
    replacement = subprocess.Popen(
        [SSHD, "-D", "-f", str(config), "-E", str(ssh / "sshd-check.log")],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        _wait(lambda: all(_listening(s) for s in sandbox.servers if s != server))
        yield
    finally:
        replacement.terminate()
        replacement.wait()
        _wait(lambda: not any(_listening(s) for s in sandbox.servers))
        sandbox.pids["sshd"] = start_sshd_fleet(ssh, sandbox.servers).pids[0]
        sandbox.save()


def _listening(server: SandboxServer) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((server.address, server.port), 0.2):
        return True
    return False


def _wait(condition: Any, limit: float = 10.0) -> None:
    deadline = time.monotonic() + limit
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)
