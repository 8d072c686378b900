"""Per-server locks: two deploys (of any applications sharing a state) never run steps on one
server, named by address and port, at the same time.

A lock is ``flock`` on a file under ``STATE/servers/``: the kernel releases it when its holder
exits, however it exits, so a killed deploy never leaves a server locked. The file holds a
line saying who holds it, for the message the other deploy prints.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
from collections.abc import AsyncIterator
from pathlib import Path

from baton._exceptions import LockError


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
        LockError naming who has it."""
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        descriptor = os.open(self.path(address, port), os.O_RDWR | os.O_CREAT, 0o600)
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


def _read(descriptor: int) -> str:
    with contextlib.suppress(OSError):
        return os.pread(descriptor, 1024, 0).decode(errors="replace").strip()
    return ""
