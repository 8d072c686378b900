"""CommandDriver running the operator's own commands, here and on a host over SSH."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from baton import LoadBalancerError
from baton.config.model import CommandBalancer
from baton.config.validation import validate
from baton.drivers import Membership
from baton.drivers.command import CommandDriver
from baton.drivers.factory import load_balancer_driver
from baton.sandbox.sshd import SandboxServer, SshdFleet

IN, OUT = Membership.IN_ROTATION, Membership.OUT_OF_ROTATION


def balancer(directory: Path, **changes: object) -> CommandBalancer:
    """A "balancer" keeping one file per member, holding in or out."""
    state = str(directory)
    fields = {
        "name": "cli",
        "type": "command",
        "remove": f"echo out > {state}/{{server}}",
        "add": f"echo in > {state}/{{server}}",
        "status": f"cat {state}/{{server}}",
        "servers": {"web1": "web1", "web2": "10.0.0.2:8080"},
    }
    return validate(CommandBalancer, fields | changes, strict=False)


@pytest.fixture
def members(tmp_path: Path) -> Path:
    for member in ("web1", "10.0.0.2:8080"):
        (tmp_path / member).write_text("in\n")
    return tmp_path


async def test_remove_add_and_status_per_server(members: Path) -> None:
    driver = load_balancer_driver(balancer(members))
    assert isinstance(driver, CommandDriver)
    assert await driver.membership() == {"web1": IN, "web2": IN}
    await driver.remove("web2")
    assert (members / "10.0.0.2:8080").read_text() == "out\n"
    assert await driver.membership() == {"web1": IN, "web2": OUT}
    await driver.add("web2")
    assert await driver.membership() == {"web1": IN, "web2": IN}


async def test_one_status_call_lists_every_server(members: Path) -> None:
    table = f'cd {members} && for f in *; do echo "$f $(cat "$f")"; done'
    driver = CommandDriver(balancer(members, status=table, add="true"))
    await driver.remove("web1")
    assert await driver.membership() == {"web1": OUT, "web2": IN}
    (members / "web1").unlink()
    with pytest.raises(LoadBalancerError, match=r"status does not list web1"):
        await driver.add("web1")


async def test_address_and_port_are_the_halves_and_quoted(members: Path) -> None:
    log = members / "log"
    driver = CommandDriver(balancer(members, remove=f"echo {{address}} {{port}} >> {log}"))
    with pytest.raises(LoadBalancerError, match=r"after the remove command, status says web2 is"):
        await driver.remove("web2")  # the command changed nothing: the read-back says so
    assert log.read_text() == "10.0.0.2 8080\n"


async def test_a_failing_command_fails_with_its_words(members: Path) -> None:
    driver = CommandDriver(balancer(members, remove="echo 'no such droplet' >&2; exit 3"))
    with pytest.raises(LoadBalancerError) as failed:
        await driver.remove("web1")
    assert str(failed.value) == (
        "load balancer cli (command): the remove command failed (exit 3): no such droplet"
    )
    driver = CommandDriver(balancer(members, status="echo maybe {server}"))
    with pytest.raises(
        LoadBalancerError, match=r"status for web1 said 'maybe web1': expected in, out or down$"
    ):
        await driver.membership()


@pytest.mark.integration
async def test_commands_run_on_the_balancers_host_over_ssh(
    fleet: SshdFleet, ssh_servers: list[SandboxServer]
) -> None:
    host = ssh_servers[0]
    for member in ("web1", "10.0.0.2:8080"):
        (host.home / member).write_text("in\n")
        shutil.chown(host.home / member, host.user)
    where = {
        "address": host.address, "user": host.user, "key_file": str(fleet.client_key),
        "known_hosts": str(fleet.known_hosts), "connect_timeout": 5,
    }  # fmt: skip
    driver = CommandDriver(
        balancer(
            host.home,
            host=where,
            remove="test $(whoami) = " + host.user + " && echo out > {server}",
        )
    )
    await driver.remove("web1")
    assert (host.home / "web1").read_text() == "out\n"
    assert await driver.membership() == {"web1": OUT, "web2": IN}
    await driver.close()
    unreachable = CommandDriver(balancer(host.home, host={**where, "port": 1}))
    with pytest.raises(LoadBalancerError, match=r"^load balancer cli \(command\): cannot reach"):
        await unreachable.membership()
