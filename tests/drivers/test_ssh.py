"""SSHTransport against real sshd processes on loopback."""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncssh
import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.hazmat.primitives.serialization import Encoding

from baton import UnreachableError
from baton.config.model import Server
from baton.drivers import KEEP_HEAD, ssh
from baton.drivers.ssh import SSHTransport
from baton.drivers.transport import ShellCommand
from baton.sandbox.sshd import SandboxServer, SshdFleet
from tests.drivers.conftest import manifest_server, processes_of

pytestmark = pytest.mark.integration


class Recorder:
    """An on_output callback that remembers (seconds since start, stream, line)."""

    def __init__(self) -> None:
        self.start = time.monotonic()
        self.lines: list[tuple[float, str, str]] = []

    def __call__(self, stream: str, line: str) -> None:
        self.lines.append((time.monotonic() - self.start, stream, line))

    @property
    def seen(self) -> list[tuple[str, str]]:
        return [(stream, line) for _, stream, line in self.lines]


def count_connects(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    attempts: list[object] = []
    real_connect = asyncssh.connect

    async def connect(**options: Any) -> asyncssh.SSHClientConnection:
        attempts.append(options["host"])
        return await real_connect(**options)

    monkeypatch.setattr(asyncssh, "connect", connect)
    monkeypatch.setattr(ssh, "FIRST_BACKOFF", 0.01)
    return attempts


async def test_streams_lines_in_order_and_returns_combined_output(server: Server) -> None:
    recorder = Recorder()
    command = "echo one; sleep 0.1; echo two >&2; sleep 0.1; echo three; printf tail"
    async with SSHTransport(server) as transport:
        result = await transport.run(ShellCommand(command, timeout=10), on_output=recorder)
    assert recorder.seen == [
        ("stdout", "one\n"),
        ("stderr", "two\n"),
        ("stdout", "three\n"),
        ("stdout", "tail\n"),
    ]
    assert result.exit_status == 0 and result.ok and not result.timed_out
    assert result.output == "one\ntwo\nthree\ntail\n"


async def test_lines_arrive_while_the_command_runs(server: Server) -> None:
    recorder = Recorder()
    async with SSHTransport(server) as transport:
        late = ShellCommand("echo early; sleep 1; echo late", timeout=10)
        await transport.run(late, on_output=recorder)
    (early, _, _), (late, _, _) = recorder.lines
    assert early < 0.8 <= late


async def test_reports_exit_status_and_runs_in_the_users_home(
    server: Server, ssh_servers: list[SandboxServer]
) -> None:
    async with SSHTransport(server) as transport:
        failed = await transport.run(ShellCommand("pwd; exit 3", timeout=10))
        killed = await transport.run(ShellCommand("kill -TERM $$", timeout=10))
    assert failed.exit_status == 3 and not failed.ok
    assert failed.output == f"{ssh_servers[0].home}\n"
    assert killed.exit_status == 143


async def test_timeout_kills_the_remote_processes(server: Server) -> None:
    async with SSHTransport(server) as transport:
        started = time.monotonic()
        result = await transport.run(ShellCommand("echo started; sleep 301 & sleep 300", timeout=1))
        elapsed = time.monotonic() - started
        assert result.timed_out and result.exit_status is None and not result.ok
        assert result.output == "started\n"
        assert elapsed < 3
        await asyncio.sleep(0.2)
        assert not [p for p in processes_of(server.user) if "sleep 30" in p]
        after = await transport.run(ShellCommand("echo still usable", timeout=10))
    assert after.output == "still usable\n"


async def test_one_connection_serves_every_command(server: Server, fleet: SshdFleet) -> None:
    async with SSHTransport(server) as transport:
        for i in range(3):
            await transport.run(ShellCommand(f"echo {i}", timeout=10))
        results = await asyncio.gather(
            *(transport.run(ShellCommand(f"echo {i}", timeout=10)) for i in range(20))
        )
    assert [r.output for r in results] == [f"{i}\n" for i in range(20)]
    assert fleet.log_text().count(f"Accepted publickey for {server.user} ") == 1


async def test_output_streams_in_chunks_of_lines_and_keeps_head_and_tail(server: Server) -> None:
    chunks: list[str] = []
    command = "i=0; while [ $i -lt 3000 ]; do printf '%0999d\\n' $i; i=$((i+1)); done"
    async with SSHTransport(server) as transport:
        result = await transport.run(
            ShellCommand(command, timeout=30), on_output=lambda _, text: chunks.append(text)
        )
    assert "".join(chunks) == "".join(f"{i:0999d}\n" for i in range(3000))
    assert len(chunks) < 3000 and all(c.endswith("\n") for c in chunks)
    head, _, tail = result.output.partition("[... ")
    assert head.startswith(f"{0:0999d}\n") and tail.endswith(f"{2999:0999d}\n")
    assert len(result.output) < 300_000
    left_out = 3_000_000 - KEEP_HEAD - len(tail.split("\n", 1)[1])  # head ends mid-line
    assert tail.startswith(f"{left_out:,} bytes of output left out ...]\n"), tail[:80]


async def test_an_unknown_host_is_refused_without_retrying(
    fleet: SshdFleet,
    ssh_servers: list[SandboxServer],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    known_hosts = tmp_path / "known_hosts"
    lines = fleet.known_hosts.read_text().splitlines(keepends=True)
    others = [line for line in lines if not line.startswith(f"{ssh_servers[0].address} ")]
    assert others  # the other server's key: the file is not empty, this host is just not in it
    known_hosts.write_text("".join(others))
    server = manifest_server(fleet, ssh_servers[0], known_hosts=known_hosts)
    attempts = count_connects(monkeypatch)
    with pytest.raises(UnreachableError) as raised:
        await SSHTransport(server).open()
    message = str(raised.value)
    assert f"server {server.name} ({server.user}@{server.address}:22)" in message
    assert "host key not trusted" in message and str(known_hosts) in message
    assert "CHANGED" not in message and "\n" not in message
    assert len(attempts) == 1


async def test_a_changed_host_key_says_so_and_is_not_mistaken_for_an_unknown_host(
    fleet: SshdFleet, ssh_servers: list[SandboxServer], tmp_path: Path
) -> None:
    other_key = asyncssh.generate_private_key("ssh-ed25519").export_public_key().decode()
    known_hosts = tmp_path / "known_hosts"
    known_hosts.write_text(f"{ssh_servers[0].address} {other_key}")
    server = manifest_server(fleet, ssh_servers[0], known_hosts=known_hosts)
    with pytest.raises(UnreachableError) as raised:
        await SSHTransport(server).open()
    assert str(raised.value) == (
        f"cannot reach server {server.name} ({server.user}@{server.address}:22): host key "
        f"CHANGED for {server.name} ({server.address}): possible man-in-the-middle; if the "
        f"server was rebuilt, update {known_hosts}"
    )


async def test_host_key_checking_can_be_turned_off(
    fleet: SshdFleet, ssh_servers: list[SandboxServer], tmp_path: Path
) -> None:
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    server = manifest_server(fleet, ssh_servers[0], known_hosts=empty, host_key_checking=False)
    async with SSHTransport(server) as transport:
        assert (await transport.run(ShellCommand("echo in", timeout=10))).output == "in\n"


async def test_x509_certificates_where_asyncssh_looks_by_default_are_ignored(
    server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """baton, like OpenSSH, has no X.509 host keys: ~/.ssh/ca-bundle.crt changes nothing."""
    (tmp_path / ".ssh").mkdir()
    (tmp_path / ".ssh" / "ca-bundle.crt").write_bytes(self_signed_certificate())
    monkeypatch.setenv("HOME", str(tmp_path))
    async with SSHTransport(server) as transport:
        assert (await transport.run(ShellCommand("echo in", timeout=10))).output == "in\n"


def self_signed_certificate() -> bytes:
    key = ed25519.Ed25519PrivateKey.generate()
    name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "baton test CA")])
    now = datetime.now(UTC)
    builder = x509.CertificateBuilder(
        issuer_name=name,
        subject_name=name,
        public_key=key.public_key(),
        serial_number=1,
        not_valid_before=now,
        not_valid_after=now + timedelta(days=1),
    )
    return builder.sign(key, None).public_bytes(Encoding.PEM)


@pytest.mark.parametrize("algorithm", ["ssh-rsa", "ecdsa-sha2-nistp256"])
async def test_rsa_and_ecdsa_keys_log_in(
    fleet: SshdFleet, ssh_servers: list[SandboxServer], tmp_path: Path, algorithm: str
) -> None:
    key = asyncssh.generate_private_key(algorithm)
    key.write_private_key(tmp_path / "key")
    with (fleet.directory / "authorized_keys").open("ab") as authorized:
        authorized.write(key.export_public_key())
    server = manifest_server(fleet, ssh_servers[0], key_file=tmp_path / "key")
    async with SSHTransport(server) as transport:
        assert (await transport.run(ShellCommand("echo in", timeout=10))).output == "in\n"


async def test_an_openssh_certificate_in_the_agent_logs_in(
    fleet: SshdFleet,
    ssh_servers: list[SandboxServer],
    agent: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    authority, key = (asyncssh.generate_private_key("ssh-ed25519") for _ in range(2))
    user = ssh_servers[0].user
    certificate = authority.generate_user_certificate(key, "baton-test", principals=[user])
    key.write_private_key(tmp_path / "id_ed25519")
    (tmp_path / "id_ed25519").chmod(0o600)
    certificate.write_certificate(tmp_path / "id_ed25519-cert.pub")  # ssh-add takes both
    env = {"SSH_AUTH_SOCK": str(agent), "PATH": "/usr/bin:/bin"}
    subprocess.run(["ssh-add", "-q", str(tmp_path / "id_ed25519")], env=env, check=True)
    # only the authority is trusted: the key alone is refused, the certificate accepted
    (fleet.directory / "authorized_keys").write_bytes(
        b"cert-authority " + authority.export_public_key()
    )
    monkeypatch.setenv("SSH_AUTH_SOCK", str(agent))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))  # no default keys of this machine
    server = manifest_server(fleet, ssh_servers[0], key_file=None, agent=True)
    async with SSHTransport(server) as transport:
        assert (await transport.run(ShellCommand("echo in", timeout=10))).output == "in\n"
    assert f"Accepted publickey for {user} " in fleet.log_text()
    assert "ED25519-CERT" in fleet.log_text() and "ID baton-test" in fleet.log_text()


@pytest.fixture
def agent(tmp_path: Path) -> Iterator[Path]:
    """A real ssh-agent, listening on a socket of its own."""
    socket = tmp_path / "agent.sock"
    process = subprocess.Popen(["ssh-agent", "-D", "-a", str(socket)], stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while not socket.exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        yield socket
    finally:
        process.kill()
        process.wait()


async def test_a_wrong_key_is_refused_with_a_clear_message(
    fleet: SshdFleet,
    ssh_servers: list[SandboxServer],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    key_file = tmp_path / "wrong_key"
    asyncssh.generate_private_key("ssh-ed25519").write_private_key(key_file)
    server = manifest_server(fleet, ssh_servers[1], key_file=key_file)
    attempts = count_connects(monkeypatch)
    with pytest.raises(UnreachableError) as raised:
        await SSHTransport(server).open()
    assert str(raised.value) == (
        f"cannot reach server drv-1 ({server.user}@127.0.1.111:22): authentication as "
        f"'{server.user}' with {key_file} was refused (Permission denied for user "
        f"{server.user} on host 127.0.1.111)"
    )
    assert len(attempts) == 1


async def test_a_refused_connection_is_retried_then_reported(
    fleet: SshdFleet, ssh_servers: list[SandboxServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    server = manifest_server(fleet, ssh_servers[0], address="127.0.1.199", name="nobody")
    attempts = count_connects(monkeypatch)
    with pytest.raises(
        UnreachableError, match=r"^cannot reach server nobody \(.*@127.0.1.199:22\)"
    ):
        await SSHTransport(server).open()
    assert len(attempts) == 3


async def test_a_missing_key_file_is_reported_once(
    fleet: SshdFleet,
    ssh_servers: list[SandboxServer],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server = manifest_server(fleet, ssh_servers[0], key_file=tmp_path / "absent")
    attempts = count_connects(monkeypatch)
    with pytest.raises(UnreachableError, match="No such file"):
        await SSHTransport(server).open()
    assert attempts == []


async def test_a_lost_connection_is_reported_and_the_next_run_reconnects(
    server: Server, fleet: SshdFleet
) -> None:
    async with SSHTransport(server) as transport:
        with pytest.raises(UnreachableError, match=f"cannot reach server {server.name}"):
            # kill this session's sshd: the parent of the shell running the command
            await transport.run(ShellCommand("kill -KILL $PPID; sleep 5", timeout=10))
        assert (await transport.run(ShellCommand("echo back", timeout=10))).output == "back\n"
    assert fleet.log_text().count(f"Accepted publickey for {server.user} ") == 2
