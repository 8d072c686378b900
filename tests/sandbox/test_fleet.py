"""``baton sandbox up/status/down``: idempotent, observable, and leaving nothing behind."""

from __future__ import annotations

import asyncio
import json
import os
import pwd
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from baton.sandbox import demo, fleet
from baton.sandbox.demo import baton
from baton.sandbox.processes import in_use
from baton.sandbox.sshd import SandboxServer, ensure_users, remove_users
from baton.sandbox.status import status
from baton.sandbox.traffic import Traffic
from tests.conftest import free_block, running_sandbox, sandbox_directory

pytestmark = pytest.mark.integration


def processes_mentioning(text: str) -> list[str]:
    found = subprocess.run(["pgrep", "-af", text], capture_output=True, text=True)
    return [line for line in found.stdout.splitlines() if "pgrep" not in line]


def users_with_home_under(directory: Path) -> list[str]:
    return [u.pw_name for u in pwd.getpwall() if u.pw_dir.startswith(f"{directory}/")]


def test_up_again_keeps_the_running_sandbox(sandbox_fleet: fleet.Sandbox) -> None:
    before = fleet.load(sandbox_fleet.directory)
    assert before is not None
    again = fleet.up(sandbox_fleet.directory, 3, lag=before.lag, waits=before.waits)
    assert (again.pids, again.frontend_url) == (before.pids, before.frontend_url)


async def test_status_reports_every_server(sandbox_fleet: fleet.Sandbox) -> None:
    code, output = await baton("sandbox", "status", "--dir", str(sandbox_fleet.directory), "--json")
    assert code == 0, output
    servers = json.loads(output)["servers"]
    assert [(s["name"], s["address"]) for s in servers] == [
        (s.name, s.address) for s in sandbox_fleet.servers
    ]
    assert all(s["version"] and s["membership"] == "in rotation" for s in servers)


async def test_down_leaves_no_process_or_listening_socket() -> None:
    with running_sandbox(2, lag=1) as sandbox:
        directory, addresses = sandbox.directory, [s.address for s in sandbox.servers]
        report = await Traffic(sandbox.frontend_url, rate=20, limit=5).run()
        assert report.failed == 0 and report.versions == {"v1": 5}
        assert all(in_use(a, port) for a in addresses for port in (22, 8000))
        code, output = await baton("sandbox", "down", "--dir", str(directory))
        assert code == 0, output
        assert "haproxy" in output and "lag proxy" in output and "sshd" in output
        assert "2 users (removed, with their homes)" in output
        assert users_with_home_under(directory) == []
        assert not (directory / "home").exists() or not any((directory / "home").iterdir())
        assert not any(in_use(a, port) for a in addresses for port in (22, 8000))
        assert not in_use("127.0.0.1", int(sandbox.frontend_url.rsplit(":", 1)[1][:-1]))
        assert processes_mentioning(str(directory)) == []
        assert not sandbox.lag_socket.exists()
        again = await baton("sandbox", "down", "--dir", str(directory))
        assert again == (0, f"nothing running in {directory}\n")


def test_the_manifest_names_the_lag_proxy_only_when_there_is_lag(tmp_path: Path) -> None:
    sandbox = fleet.Sandbox(tmp_path, [], haproxy_socket=tmp_path / "haproxy.sock")
    assert sandbox.balancer_socket == tmp_path / "haproxy.sock"
    sandbox.lag = 2
    assert sandbox.balancer_socket == tmp_path / "lag.sock"


@pytest.fixture(scope="module")
def twin(sandbox_fleet: fleet.Sandbox) -> Iterator[fleet.Sandbox]:
    """A second sandbox, in another directory, whose servers have the same names."""
    prefix = sandbox_fleet.servers[0].name.rstrip("0123456789")
    with running_sandbox(3, prefix=prefix) as sandbox:
        yield sandbox


async def test_two_sandboxes_never_share_users_and_each_serves_its_own_deploy(
    sandbox_fleet: fleet.Sandbox, twin: fleet.Sandbox, tmp_path: Path
) -> None:
    assert [s.name for s in twin.servers] == [s.name for s in sandbox_fleet.servers]
    assert not {s.user for s in twin.servers} & {s.user for s in sandbox_fleet.servers}
    versions = {}
    for sandbox in (sandbox_fleet, twin):
        sandbox = await asyncio.to_thread(fleet.up, sandbox.directory, lag=0, waits=0)
        versions[sandbox.directory] = version = f"own-{uuid.uuid4().hex[:6]}"
        state = tmp_path / sandbox.directory.name
        code, output = await demo.deploy(sandbox, version, "parallel", state=state)
        assert code == 0, output
    for sandbox in (sandbox_fleet, twin):
        served = {s.version for s in await status(sandbox)}
        assert served == {versions[sandbox.directory]}
    assert all(pwd.getpwnam(s.user).pw_dir == str(s.home) for s in sandbox_fleet.servers)


async def test_after_the_demo_the_commands_up_prints_work_as_printed(
    twin: fleet.Sandbox, tmp_path: Path
) -> None:
    one_deploy = (demo.Scenario("parallel", 0, 0),)
    assert await demo.run(twin.directory, keep=True, rate=20, scenarios=one_deploy) == 0
    code, output = await baton("sandbox", "up", "--dir", str(twin.directory))
    assert code == 0, output
    commands = [line.strip() for line in output.splitlines() if line.startswith("  ")]
    assert commands[0] == f"export BATON_STATE={twin.state}"
    assert not any("--state" in command for command in commands)
    script = "set -e\n" + "\n".join(c for c in commands if "sandbox down" not in c)
    printed = subprocess.run(
        ["sh", "-c", script], env=shell_environment(tmp_path), capture_output=True, text=True
    )
    assert printed.returncode == 0, printed.stdout + printed.stderr
    assert "deploy #1 succeeded" in printed.stdout
    history = [line for line in printed.stdout.splitlines() if line.startswith("#")]
    assert len(history) == 1 and history[0].startswith("#1 ")
    assert {s.version for s in await status(twin)} == {"v2"}


def shell_environment(home: Path) -> dict[str, str]:
    """A user's shell: baton on PATH, no BATON_STATE, a home of its own (an empty default state)."""
    unset = ("BATON_STATE", "XDG_STATE_HOME")
    environment = {k: v for k, v in os.environ.items() if k not in unset}
    path = f"{Path(sys.executable).parent}{os.pathsep}{environment.get('PATH', '')}"
    return {**environment, "PATH": path, "HOME": str(home)}


async def test_up_refuses_to_take_over_a_user_of_another_live_sandbox() -> None:
    directory, other = sandbox_directory("baton-sandbox-"), sandbox_directory("baton-sandbox-")
    first = free_block(1)
    mine = SandboxServer.create(directory, "web1", first)
    theirs = SandboxServer("web1", first, mine.user, other / "home" / "web1")
    ensure_users([theirs])
    try:
        arguments = ["--dir", str(directory), "--servers", "1", "--first-address", first]
        code, output = await baton("sandbox", "up", *arguments)
        assert (code, output) == (
            1,
            f"baton: error: sandbox up: user {mine.user} belongs to the sandbox in {other}, "
            f"which still exists; stop it (baton sandbox down --dir {other}) or use another "
            "directory\n",
        )
        assert pwd.getpwnam(mine.user).pw_dir == str(theirs.home)
    finally:
        remove_users([theirs])
        shutil.rmtree(directory, ignore_errors=True)
        shutil.rmtree(other, ignore_errors=True)
