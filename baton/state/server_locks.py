"""Per-server locks: two deploys (of any applications sharing a state) never run steps on one
server, named by address and port, at the same time.

A lock is ``flock`` on a file under ``STATE/servers/``: the kernel releases it when its holder
exits, however it exits, so a killed deploy never leaves a server locked. The file holds a
line saying who holds it, for the message the other deploy prints.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import re
import stat
from collections.abc import AsyncIterator
from pathlib import Path

from baton._exceptions import LockError
from baton.ownership import not_private, what_to_do


class ServerLocks:
    """Hands out the lock of each server for one deploy, described by ``holder``."""

    def __init__(self, state_directory: Path, holder: str) -> None:
        self.directory = state_directory / "servers"
        self.holder = holder

    def path(self, address: str, port: int) -> Path:
        name = re.sub(r"[^A-Za-z0-9.-]", "_", f"{address}_{port}")
        return self.directory / f"{name}.lock"

    @contextlib.asynccontextmanager
    async def hold(self, name: str, address: str, port: int) -> AsyncIterator[None]:
        """Hold the lock of server ``name`` at ``address:port`` while the block runs, or raise
        LockError naming who has it (or what is wrong with its lock file)."""
        descriptor = self._open(name, address, port)
        try:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise LockError(
                    f"server {name} ({address}:{port}) is being deployed "
                    f"by {_read(descriptor) or 'another deploy'}; not touched"
                ) from None
            with contextlib.suppress(OSError):  # who holds it is a courtesy, not a need
                os.ftruncate(descriptor, 0)
                os.pwrite(descriptor, self.holder.encode(), 0)
            yield
        finally:
            os.close(descriptor)

    def _open(self, name: str, address: str, port: int) -> int:
        """The server's lock file, opened without following a symbolic link (one planted there
        would make baton truncate the file it points to), and only if it and its directory are
        this user's alone; else LockError, and the server is not touched."""
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        path = self.path(address, port)
        problem = _problem("the lock directory", self.directory, self.directory.stat())
        if problem is None:
            try:
                descriptor = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
            except OSError as exc:
                if exc.errno != errno.ELOOP:
                    raise
                problem = f"its lock file {path} is a symbolic link; remove it"
            else:
                problem = _problem("its lock file", path, os.fstat(descriptor))
                if problem is None:
                    return descriptor
                os.close(descriptor)
        raise LockError(
            f"server {name} ({address}:{port}): {problem} (another user could hold the lock or "
            "turn baton's writes onto another file); not touched"
        )


def _problem(what: str, path: Path, status: os.stat_result) -> str | None:
    """What is wrong with a lock file or its directory that is not this user's alone."""
    directory = what == "the lock directory"
    if not (stat.S_ISDIR if directory else stat.S_ISREG)(status.st_mode):
        return f"{what} {path} is not a {'directory' if directory else 'regular file'}"
    if reason := not_private(status):
        return f"{what} {path} is {reason}; remove it, or {what_to_do(path, status)}"
    return None


def _read(descriptor: int) -> str:
    with contextlib.suppress(OSError):
        return os.pread(descriptor, 1024, 0).decode(errors="replace").strip()
    return ""
