"""Servers and balancer hosts share one SSH endpoint model, so they share its checks: a balancer
``host:`` that both names a key and asks for the agent is refused when the manifest loads (exit 2,
one line with file and line), not when ``check`` or ``deploy`` first connects to it."""

from __future__ import annotations

from pathlib import Path

import pytest

from baton.cli.main import main
from baton.config.model import CommandBalancer, NginxBalancer, Server, SSHEndpoint
from tests.manifests import manifest_text

HOST = "    host:\n      address: 10.0.0.5\n      key_file: ~/.ssh/deploy\n      agent: true\n"
COMMAND = (
    "  - name: edge\n    type: command\n" + HOST + "    remove: 'true'\n    add: 'true'\n"
    "    status: 'echo web1 in'\n"
)


@pytest.mark.parametrize("command", ["check", "deploy"])
def test_a_balancer_host_with_key_file_and_agent_fails_at_load(
    command: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("BATON_CACHE", "off")
    text = manifest_text(2)
    manifest = tmp_path / "baton.yml"
    manifest.write_text(text.replace("load_balancers:\n", "load_balancers:\n" + COMMAND, 1))
    line = manifest.read_text().splitlines().index("      address: 10.0.0.5") + 1
    argv = [command, "-s", "shop", "-f", str(manifest), "--state", str(tmp_path / "state")]
    if command == "deploy":
        argv += ["--version", "v1"]
    assert main(argv) == 2
    error = capsys.readouterr().err
    assert error == (
        f"baton: error: {manifest}:{line}: load_balancers[0].host: "
        "give either key_file or agent: true, not both\n"
    )


def test_servers_and_balancer_hosts_are_one_model() -> None:
    """The checks live on SSHEndpoint; a server is one, with its name, roles and transport."""
    assert issubclass(Server, SSHEndpoint)
    for kind in (CommandBalancer, NginxBalancer):
        assert "SSHEndpoint" in str(kind.__dataclass_fields__["host"].type)
    with pytest.raises(ValueError, match="not both"):
        SSHEndpoint(address="10.0.0.5", key_file=Path("k"), agent=True)
    assert Server(
        name="one", address="localhost", transport="local", key_file=Path("k"), agent=True
    )


def test_a_balancer_host_as_a_server_keeps_every_ssh_key() -> None:
    host = SSHEndpoint(address="10.0.0.5", port=2222, user="ops", agent=True, connect_timeout=3)
    server = host.as_server("edge-host")
    assert (server.name, server.address, server.port, server.user) == (
        "edge-host",
        "10.0.0.5",
        2222,
        "ops",
    )
    assert (server.agent, server.connect_timeout, server.transport) == (True, 3, "ssh")
