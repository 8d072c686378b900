"""A real nginx whose configuration does not include the file baton manages: ``baton check``
says so (exit 1, the driver's message) and ``baton deploy`` refuses, nothing changed. Before
the one preflight, check asked only the membership and reported this nginx ok."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from baton.cli.main import main
from baton.config import parse_manifest
from baton.drivers.bundle import Drivers
from baton.drivers.factory import load_balancer_driver
from baton.drivers.fake import FakeFleet
from baton.sandbox.nginx import NginxProcess
from baton.state import Store
from tests.drivers.conftest import NameServer

pytestmark = pytest.mark.integration


def test_an_nginx_that_does_not_include_the_file_fails_check_and_refuses_deploy(
    nginx: NginxProcess,
    name_servers: dict[str, NameServer],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    elsewhere = tmp_path / "other.conf"
    elsewhere.write_text(nginx.upstream_file.read_text())
    balancer = {
        "name": "edge",
        "type": "nginx",
        "file": str(elsewhere),
        "upstream": "app",
        "command": nginx.command,
        "pid_file": str(nginx.pid_file),
        "servers": {name: server.where for name, server in name_servers.items()},
    }
    data = {
        "application": "shop",
        "servers": [{"name": name, "address": "127.0.0.1"} for name in name_servers],
        "load_balancers": [balancer],
        "deploy": {"steps": [{"name": "restart", "run": "restart {server}"}]},
    }
    path = tmp_path / "baton.yml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    fleet = FakeFleet(parse_manifest(path.read_text()))
    drivers = Drivers(fleet.transport, load_balancer_driver)
    monkeypatch.setattr(Drivers, "real", classmethod(lambda cls: drivers))
    arguments = ["-s", "shop", "-f", str(path), "--state", str(tmp_path / "state")]
    refusal = (
        f"`{nginx.command} -T` does not show {elsewhere}: include it from nginx's configuration"
    )

    assert main(["check", *arguments]) == 1
    out = capsys.readouterr().out
    assert "edge: PROBLEM: " in out and refusal in out

    before = elsewhere.read_text()
    assert main(["deploy", *arguments, "--version", "v2"]) == 1
    assert refusal in capsys.readouterr().err
    assert elsewhere.read_text() == before
    assert not [c for c in fleet.timeline.commands() if c.startswith("restart")]
    assert Store(tmp_path / "state").deploys() == []
