"""The sshd and HAProxy launchers: real processes, cleaned up, idempotent. Uses 127.0.1.160-179."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from baton.sandbox.haproxy import start_haproxy
from baton.sandbox.sshd import (
    SandboxServer,
    ensure_users,
    remove_users,
    sandbox_user,
    start_sshd_fleet,
    stop_sshd_fleet,
)

pytestmark = pytest.mark.integration


@pytest.fixture
def directory() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="baton-launchers-", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"


def ssh(fleet_dir: Path, server: SandboxServer, command: str) -> subprocess.CompletedProcess[str]:
    options = ["-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes"]
    options += ["-o", f"UserKnownHostsFile={fleet_dir / 'known_hosts'}"]
    target = f"{server.user}@{server.address}"
    return subprocess.run(
        ["ssh", *options, "-i", str(fleet_dir / "client_key"), target, command],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip


def test_sshd_fleet_serves_every_address_and_stops(directory: Path) -> None:
    servers = [SandboxServer.create(directory, f"l{i}", f"127.0.1.{160 + i}") for i in range(20)]
    fleet = start_sshd_fleet(directory, servers)
    try:
        assert len(fleet.pids) == 2  # 16 addresses per sshd
        assert len(fleet.known_hosts.read_text().splitlines()) == 20
        done = ssh(directory, servers[17], "id -un; pwd; echo $0")
        assert done.stdout.split() == [servers[17].user, str(servers[17].home), "sh"]
    finally:
        fleet.stop()
    assert not [pid for pid in fleet.pids if running(pid)]
    with pytest.raises(OSError), socket.create_connection(("127.0.1.177", 22), timeout=1):
        pass
    assert not any(user_exists(s.user) or s.home.exists() for s in servers)


def user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def test_sshd_fleet_restarts_in_the_same_directory_and_stops_from_pid_file(
    directory: Path,
) -> None:
    servers = [SandboxServer.create(directory, "again", "127.0.1.179")]
    start_sshd_fleet(directory, servers).stop()
    key = (directory / "client_key").read_text()
    fleet = start_sshd_fleet(directory, servers)
    assert (directory / "client_key").read_text() == key
    assert ssh(directory, servers[0], "echo hi").stdout == "hi\n"
    stop_sshd_fleet(directory)
    for process in fleet.processes:
        process.wait(timeout=5)
    assert not (directory / "sshd.pids").exists()
    assert remove_users(servers) == [servers[0].user]
    assert not user_exists(servers[0].user) and not servers[0].home.exists()


def test_sandbox_user_names_are_valid_and_distinct_per_sandbox(directory: Path) -> None:
    user = sandbox_user("web-1", directory)
    assert user.startswith("bsb-") and user.endswith("-web-1") and len(user) <= 32
    assert sandbox_user("web-1", directory / "other") != user
    long_names = ["Web.Server_" + "x" * 40 + suffix for suffix in "ab"]
    users = [sandbox_user(name, directory) for name in long_names]
    assert users[0] != users[1] and all(len(u) <= 32 for u in users)
    assert all(u.startswith(user[:11] + "web-server_") for u in users)


def test_a_user_of_another_sandbox_is_never_taken_over(directory: Path) -> None:
    other = Path(tempfile.mkdtemp(prefix="baton-launchers-other-", dir="/tmp"))
    mine = SandboxServer.create(directory, "u", "127.0.1.176")
    theirs = SandboxServer(mine.name, mine.address, mine.user, other / "home" / "u")
    ensure_users([theirs])
    try:
        with pytest.raises(ValueError, match=f"user {mine.user} belongs to the sandbox in {other}"):
            start_sshd_fleet(directory, [mine])
        assert pwd.getpwnam(mine.user).pw_dir == str(theirs.home)
        assert remove_users([mine]) == []  # not ours to remove
    finally:
        remove_users([theirs])
        shutil.rmtree(other, ignore_errors=True)
    assert not user_exists(mine.user)


def test_haproxy_answers_on_its_socket_and_serves_the_frontend(directory: Path) -> None:
    with socket.socket() as backend:
        backend.bind(("127.0.1.178", 0))
        address = f"127.0.1.178:{backend.getsockname()[1]}"
    proxy = start_haproxy(directory, "app", {"only": address}, check_interval_ms=100)
    try:
        assert proxy.socket.is_socket() and proxy.frontend_url.startswith("http://127.0.0.1:")
        assert "option httpchk GET /" in proxy.config.read_text()
        with pytest.raises(urllib.error.HTTPError, match="503"):
            urllib.request.urlopen(proxy.frontend_url, timeout=5)  # backend down: visible
    finally:
        proxy.stop()
        proxy.stop()
    assert not running(proxy.pid)
