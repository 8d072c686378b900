"""What the nginx driver needs of its transports and of sudo, on real parts: a file's text of
any size on a command's stdin, over SSH as well as here, and every line it runs with
``sudo: true`` working as ``sudo -n PROGRAM ARGS`` (a recording ``sudo`` on PATH stands in for
the real one: what it is asked to run is exactly what sudoers must allow)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from baton.config.model import Server
from baton.drivers.ssh import SSHTransport
from baton.drivers.transport import ShellCommand
from baton.sandbox.nginx import NginxProcess
from tests.drivers.conftest import NameServer, nginx_balancer

pytestmark = pytest.mark.integration

BIG = "".join(f"# {n:06d} {'x' * 90}\n" for n in range(1600))  # about 155 KiB


async def test_a_command_reads_a_large_input_over_ssh(server: Server) -> None:
    async with SSHTransport(server) as transport:
        result = await transport.run(ShellCommand("wc -c", 10, input=BIG))
    assert result.ok and result.output.split() == [str(len(BIG))]


def test_a_command_takes_its_environment_or_an_input_not_both() -> None:
    with pytest.raises(ValueError, match="its environment or an input on stdin, not both"):
        ShellCommand("cat", 1, environment={"A": "1"}, input="x")


async def test_with_sudo_each_program_runs_through_its_own_sudo_n(
    nginx: NginxProcess,
    name_servers: dict[str, NameServer],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from baton.drivers.nginx import NginxDriver

    bin_dir, log = tmp_path / "bin", tmp_path / "sudo.log"
    bin_dir.mkdir()
    sudo = bin_dir / "sudo"
    sudo.write_text(f'#!/bin/sh\necho "$*" >> {log}\n[ "$1" = -n ] || exit 1\nshift\nexec "$@"\n')
    sudo.chmod(sudo.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    driver = NginxDriver(nginx_balancer(nginx, name_servers, sudo=True))

    assert await driver.preflight() == []
    await driver.remove("b")
    await driver.add("b")
    await driver.close()

    assert "down" not in nginx.upstream_file.read_text()
    programs = {line.split()[1] for line in log.read_text().splitlines()}
    assert programs == {"cat", "mktemp", "tee", "chmod", "mv", "/usr/sbin/nginx"}
    assert all(line.startswith("-n ") for line in log.read_text().splitlines())
