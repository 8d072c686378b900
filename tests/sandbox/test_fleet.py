"""``baton sandbox up/status/down``: idempotent, observable, and leaving nothing behind."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from baton.sandbox import fleet
from baton.sandbox.demo import baton
from baton.sandbox.processes import in_use
from baton.sandbox.traffic import Traffic
from tests.conftest import running_sandbox

pytestmark = pytest.mark.integration


def processes_mentioning(text: str) -> list[str]:
    found = subprocess.run(["pgrep", "-af", text], capture_output=True, text=True)
    return [line for line in found.stdout.splitlines() if "pgrep" not in line]


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
