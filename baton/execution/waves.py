"""What the servers of one wave share while it runs: who failed, and the rejoin barrier.

The plan decides the shape (which servers share a wave, whether a failure stops the others,
where a batch waits for itself); this only keeps the count.
"""

from __future__ import annotations

import asyncio

from baton.planning.actions import Wave


class Stopped(Exception):
    """Raised in a server's run when another server of its wave failed (stop_on_failure)."""


class WaveRun:
    def __init__(self, wave: Wave) -> None:
        self.wave = wave
        self.failed: list[str] = []
        self._pending = {sp.server.name for sp in wave.servers}
        self._everyone_here = asyncio.Event()

    def check_going(self) -> None:
        """Raise Stopped if the wave stops on failure and a server of it failed."""
        if self.wave.stop_on_failure and self.failed:
            raise Stopped(f"stopped: {', '.join(self.failed)} failed in its batch")

    async def arrive(self, server: str) -> None:
        """Wait until every server of the wave arrived here or finished."""
        self.leave(server)
        await self._everyone_here.wait()

    def leave(self, server: str, failed: bool = False) -> None:
        """``server`` is done with the wave (it will not arrive)."""
        if failed:
            self.failed.append(server)
        self._pending.discard(server)
        if not self._pending:
            self._everyone_here.set()
