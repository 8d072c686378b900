"""Real ``sshd`` processes on loopback addresses, one Unix user per sandbox server.

Used by the driver tests and by ``baton sandbox up``. Runs as root: it creates users and starts
``/usr/sbin/sshd`` with its own configuration, host key and client key in ``directory``::

    directory/
        ssh_host_ed25519_key(.pub)   the host key every sshd presents
        client_key(.pub)             the key clients log in with (see ``SshdFleet.client_key``)
        authorized_keys              shared by every sandbox user (``AuthorizedKeysFile``)
        known_hosts                  one line per address, for ``Server.known_hosts``
        sshd-N.conf / sshd-N.log     one sshd per 16 addresses (sshd's ListenAddress limit)
        sshd.pids                    pids of the listening sshds, for :func:`stop_sshd_fleet`
        home/<server>/               each user's home directory

Users log in with ``/bin/sh`` (dash) so no shell startup file slows every command down. Unix
users are machine-wide, so each sandbox names its own (:func:`sandbox_user`: a hash of the
sandbox's directory in every name), never takes over a user whose home belongs to another
sandbox that still exists, and :func:`remove_users` deletes them and their homes when it stops.
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import os
import pwd
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

SSHD = "/usr/sbin/sshd"
ADDRESSES_PER_SSHD = 16
USER_COMMENT = "baton sandbox"
USERS_GID = 100  # Debian's "users" group
PASSWD = Path("/etc/passwd")
SHADOW = Path("/etc/shadow")


@dataclass(frozen=True)
class SandboxServer:
    """One sandbox server: an address sshd listens on and the Unix user that logs in there."""

    name: str
    address: str
    user: str
    home: Path
    port: int = 22

    @classmethod
    def create(cls, directory: Path, name: str, address: str, port: int = 22) -> SandboxServer:
        """A server whose user is :func:`sandbox_user` and whose home is under ``directory``."""
        return cls(name, address, sandbox_user(name, directory), directory / "home" / name, port)


@dataclass
class SshdFleet:
    """Running sshds; ``stop()`` ends them and every session they started."""

    directory: Path
    client_key: Path
    known_hosts: Path
    logs: list[Path]
    processes: list[subprocess.Popen[bytes]] = field(repr=False)
    servers: list[SandboxServer] = field(default_factory=list, repr=False)

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self.processes]

    def log_text(self) -> str:
        """Everything the sshds logged so far (e.g. to count ``Accepted publickey`` lines)."""
        return "".join(path.read_text(errors="replace") for path in self.logs)

    def stop(self) -> None:
        """Stop the listeners, kill their sessions, wait, and remove the users; safe twice."""
        _stop_pids(self.pids)
        for process in self.processes:
            process.wait()
        remove_users(self.servers)


def sandbox_user(name: str, directory: Path) -> str:
    """A valid Unix user name (at most 32 characters) for server ``name`` of the sandbox in
    ``directory``: ``bsb-<hash of the directory>-<name>``, the name hashed when it must be."""
    tag = hashlib.sha1(str(directory.resolve()).encode()).hexdigest()[:6]
    clean = re.sub(r"[^a-z0-9_-]", "-", name.lower())
    user = f"bsb-{tag}-{clean}"
    if clean == name and len(user) <= 32:
        return user
    digest = hashlib.sha1(name.encode()).hexdigest()[:6]
    return f"{user[:25]}-{digest}"


def start_sshd_fleet(directory: Path, servers: list[SandboxServer]) -> SshdFleet:
    """Create users, keys and configs in ``directory``, start the sshds, wait for them to listen."""
    directory = directory.resolve()
    _prepare_directory(directory)
    host_key = _keypair(directory / "ssh_host_ed25519_key")
    client_key = _keypair(directory / "client_key")
    (directory / "authorized_keys").write_text(client_key.with_suffix(".pub").read_text())
    ensure_users(servers)
    known_hosts = _write_known_hosts(directory, servers, host_key)
    step = ADDRESSES_PER_SSHD
    chunks = [servers[i : i + step] for i in range(0, len(servers), step)]
    processes: list[subprocess.Popen[bytes]] = []
    logs: list[Path] = []
    try:
        for index, chunk in enumerate(chunks):
            config = _write_config(directory, index, chunk, host_key)
            logs.append(directory / f"sshd-{index}.log")
            processes.append(_launch(config, logs[-1]))
        (directory / "sshd.pids").write_text("".join(f"{p.pid}\n" for p in processes))
        fleet = SshdFleet(directory, client_key, known_hosts, logs, processes, servers)
        _wait_listening(fleet, {(s.address, s.port) for s in servers})
    except BaseException:
        _stop_pids([p.pid for p in processes])
        raise
    return fleet


def stop_sshd_fleet(directory: Path) -> None:
    """Stop a fleet started by another process, from the pids it left in ``directory``."""
    pid_file = directory / "sshd.pids"
    if pid_file.exists():
        pids = [int(line) for line in pid_file.read_text().split()]
        _stop_pids([pid for pid in pids if _is_our_sshd(pid, directory)])
        pid_file.unlink()


def _prepare_directory(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    directory.chmod(0o755)  # sshd reads authorized_keys as the user; homes live under here
    for parent in directory.parents:
        if not parent.stat().st_mode & 0o001:
            raise ValueError(
                f"sandbox directory {directory} is under {parent}, which other users cannot "
                "enter; choose a directory the sandbox users can reach (e.g. under /tmp)"
            )
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege separation directory


def _keypair(path: Path) -> Path:
    if not path.exists():
        command = ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "baton-sandbox"]
        subprocess.run([*command, "-f", str(path)], check=True, stdin=subprocess.DEVNULL)
    return path


def ensure_users(servers: list[SandboxServer]) -> None:
    """Add or re-home the users in one rewrite of /etc/passwd and /etc/shadow.

    ``useradd`` rewrites both files once per user: 16 s for 1,000 users against 0.1 s here.
    Raises ValueError for a user that is not a sandbox user, or whose home belongs to another
    sandbox that still exists (a user is never shared: that sandbox's deploys would run here).
    """
    wanted = {s.user: str(s.home) for s in servers}
    with _password_files_locked():
        passwd = _read_lines(PASSWD)
        current = {line.split(":")[0]: line.split(":") for line in passwd}
        for user, home in wanted.items():
            if user in current:
                _check_ours(user, current[user], home)
        if any(current.get(u, [""] * 7)[5] != home for u, home in wanted.items()):
            _rewrite_users(passwd, current, wanted)
    for server in servers:
        entry = pwd.getpwnam(server.user)
        server.home.mkdir(parents=True, exist_ok=True)
        os.chown(server.home, entry.pw_uid, entry.pw_gid)


def _check_ours(user: str, fields: list[str], home: str) -> None:
    if fields[4] != USER_COMMENT:
        raise ValueError(f"user {user} exists and is not a baton sandbox user")
    if fields[5] != home and Path(fields[5]).exists():
        other = Path(fields[5]).parent.parent
        raise ValueError(
            f"user {user} belongs to the sandbox in {other}, which still exists; stop it "
            f"(baton sandbox down --dir {other}) or use another directory"
        )


def remove_users(servers: list[SandboxServer]) -> list[str]:
    """Delete the users of ``servers`` (those whose home is still theirs), their processes and
    their homes; the users removed."""
    homes = {s.user: str(s.home) for s in servers}
    with _password_files_locked():
        passwd = _read_lines(PASSWD)
        entries = [line.split(":") for line in passwd]
        ours = {
            f[0]: int(f[2]) for f in entries if f[4] == USER_COMMENT and homes.get(f[0]) == f[5]
        }
        if ours:
            _kill_processes_of(set(ours.values()))
            _replace(PASSWD, [line for line in passwd if line.split(":")[0] not in ours])
            shadow = _read_lines(SHADOW)
            _replace(SHADOW, [line for line in shadow if line.split(":")[0] not in ours])
    for server in servers:
        if server.user in ours:
            shutil.rmtree(server.home, ignore_errors=True)
    return sorted(ours)


def _kill_processes_of(uids: set[int]) -> None:
    """SIGKILL what still runs as these users (a step's stray child), so no process outlives its
    user and none passes to a later user given the same uid."""
    for entry in Path("/proc").iterdir():
        with contextlib.suppress(OSError, ValueError):
            if entry.name.isdigit() and entry.stat().st_uid in uids:
                _signal(int(entry.name), signal.SIGKILL)


def _rewrite_users(
    passwd: list[str], current: dict[str, list[str]], wanted: dict[str, str]
) -> None:
    uids = [int(f[2]) for f in current.values() if 1000 <= int(f[2]) < 60000]
    next_uid = max(uids, default=1000) + 1
    lines = []
    for line in passwd:
        fields = line.split(":")
        if fields[0] in wanted:
            fields[5] = wanted[fields[0]]
        lines.append(":".join(fields))
    added = [user for user in wanted if user not in current]
    for uid, user in enumerate(added, start=next_uid):
        lines.append(f"{user}:x:{uid}:{USERS_GID}:{USER_COMMENT}:{wanted[user]}:/bin/sh")
    days = int(time.time() // 86400)
    shadow = _read_lines(SHADOW) + [f"{user}:*:{days}:0:99999:7:::" for user in added]
    _replace(PASSWD, lines)
    _replace(SHADOW, shadow)


@contextlib.contextmanager
def _password_files_locked() -> Iterator[None]:
    """Hold the lock useradd/passwd take (lckpwdf) while we rewrite the files."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.lckpwdf() != 0:
        raise RuntimeError("cannot lock /etc/passwd (lckpwdf failed)")
    try:
        yield
    finally:
        libc.ulckpwdf()


def _read_lines(path: Path) -> list[str]:
    return [line for line in path.read_text().splitlines() if line]


def _replace(path: Path, lines: list[str]) -> None:
    """Write next to ``path`` with its mode and owner, then rename over it (atomic)."""
    status = path.stat()
    temporary = path.with_name(f"{path.name}.baton-sandbox")
    temporary.write_text("".join(f"{line}\n" for line in lines))
    os.chown(temporary, status.st_uid, status.st_gid)
    temporary.chmod(status.st_mode & 0o7777)
    os.replace(temporary, path)


def _write_known_hosts(directory: Path, servers: list[SandboxServer], host_key: Path) -> Path:
    key = " ".join(host_key.with_suffix(".pub").read_text().split()[:2])
    hosts = sorted({_host_pattern(s.address, s.port) for s in servers})
    path = directory / "known_hosts"
    path.write_text("".join(f"{host} {key}\n" for host in hosts))
    return path


def _host_pattern(address: str, port: int) -> str:
    return address if port == 22 else f"[{address}]:{port}"


def _write_config(
    directory: Path, index: int, servers: list[SandboxServer], host_key: Path
) -> Path:
    listen = "".join(f"ListenAddress {s.address}:{s.port}\n" for s in servers)
    users = " ".join(sorted({s.user for s in servers}))
    path = directory / f"sshd-{index}.conf"
    path.write_text(
        f"{listen}HostKey {host_key}\nAuthorizedKeysFile {directory}/authorized_keys\n"
        f"AllowUsers {users}\nPidFile none\nUsePAM no\nPasswordAuthentication no\n"
        "KbdInteractiveAuthentication no\nPubkeyAuthentication yes\nPermitRootLogin no\n"
        "StrictModes no\nMaxStartups 1000:30:1000\nMaxSessions 256\nUseDNS no\n"
        "PrintMotd no\nPrintLastLog no\nX11Forwarding no\nLogLevel INFO\n"
        "Subsystem sftp internal-sftp\n"
    )
    return path


def _launch(config: Path, log: Path) -> subprocess.Popen[bytes]:
    log.touch()
    with log.with_suffix(".stderr").open("wb") as stderr:
        return subprocess.Popen(
            [SSHD, "-D", "-f", str(config), "-E", str(log)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr,
            start_new_session=True,
        )  # fmt: skip


def _wait_listening(fleet: SshdFleet, expected: set[tuple[str, int]], limit: float = 30) -> None:
    deadline = time.monotonic() + limit
    while not expected <= _listening_sockets():
        for process, log in zip(fleet.processes, fleet.logs, strict=True):
            if process.poll() is not None:
                errors = log.with_suffix(".stderr").read_text() + log.read_text()
                raise RuntimeError(f"sshd ({log.with_suffix('.conf')}) exited: {errors.strip()}")
        if time.monotonic() > deadline:
            missing = sorted(expected - _listening_sockets())[:5]
            raise RuntimeError(f"sshd not listening after {limit}s on {missing}")
        time.sleep(0.02)


def _listening_sockets() -> set[tuple[str, int]]:
    """(address, port) of every listening IPv4 TCP socket, from /proc/net/tcp."""
    sockets = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        if state == "0A":  # TCP_LISTEN
            address, port = local.split(":")
            octets = bytes.fromhex(address)[::-1]
            sockets.add((".".join(str(b) for b in octets), int(port, 16)))
    return sockets


def _stop_pids(pids: list[int]) -> None:
    """SIGTERM the listeners, then SIGKILL every session they forked (sessions outlive them)."""
    sessions = _descendants(set(pids))
    for pid in pids:
        _signal(pid, signal.SIGTERM)
    for pid in sessions:
        _signal(pid, signal.SIGKILL)


def _descendants(roots: set[int]) -> list[int]:
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        parents[int(stat.parent.name)] = int(text.rsplit(")", 1)[1].split()[1])
    found: list[int] = []
    frontier = set(roots)
    while frontier:
        frontier = {pid for pid, ppid in parents.items() if ppid in frontier}
        found.extend(frontier)
    return found


def _signal(pid: int, number: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, number)


def _is_our_sshd(pid: int, directory: Path) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return False
    return SSHD in cmdline and str(directory.resolve()) in cmdline  # sshd retitles itself
