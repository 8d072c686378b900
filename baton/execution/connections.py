"""Open every server's transport before a deploy changes anything, and reuse it after.

Opening them all up front is the preflight for reachability: one unreachable server stops the
deploy before any load balancer or server is touched. Connection starts are throttled so a
fleet of a thousand never trips sshd's MaxStartups.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from baton._exceptions import BatonError, UnreachableError
from baton.config import Server
from baton.drivers import Transport

CONNECT_CONCURRENCY = 64


@dataclass(frozen=True)
class Attempt:
    """One server's connection attempt: how long it took, and why it failed (None: it did)."""

    seconds: float
    error: BatonError | None


class Connections:
    """One opened transport per server, handed to the engine by name."""

    def __init__(self, open_transport: Callable[[Server], Transport]) -> None:
        self._open_transport = open_transport
        self._transports: dict[str, Transport] = {}

    async def open_all(
        self, servers: Iterable[Server], concurrency: int = CONNECT_CONCURRENCY
    ) -> None:
        """Connect to every server; raise one error naming every server that failed."""
        servers = list(servers)
        attempts = await self.open_each(servers, concurrency)
        failures = [str(a.error) for a in attempts.values() if a.error is not None]
        if failures:
            await self.close_all()
            more = f" (and {len(failures) - 3} more)" if len(failures) > 3 else ""
            raise UnreachableError(
                f"preflight: {len(failures)} of {len(servers)} server(s) unreachable, nothing "
                f"changed: {'; '.join(failures[:3])}{more}"
            )

    async def open_each(
        self, servers: Iterable[Server], concurrency: int = CONNECT_CONCURRENCY
    ) -> dict[str, Attempt]:
        """Connect to every server at once (``concurrency`` starting at a time); how each went.
        The servers that connected stay open."""
        gate = asyncio.Semaphore(concurrency)

        async def connect(server: Server) -> Attempt:
            async with gate:
                transport = self._open_transport(server)
                started = time.monotonic()
                try:
                    await transport.open()
                except BatonError as exc:
                    return Attempt(time.monotonic() - started, exc)
                self._transports[server.name] = transport
                return Attempt(time.monotonic() - started, None)

        servers = list(servers)
        attempts = await asyncio.gather(*(connect(s) for s in servers))
        return {s.name: a for s, a in zip(servers, attempts, strict=True)}

    def transport(self, server: Server) -> Transport:
        """The opened transport for ``server`` (a new one if preflight did not open it)."""
        return self._transports.pop(server.name, None) or self._open_transport(server)

    def peek(self, server: Server) -> Transport:
        """The opened transport for ``server``, left in place for the engine."""
        return self._transports[server.name]

    def opened(self, server: Server) -> Transport | None:
        """The opened transport for ``server``, or None when it is not connected."""
        return self._transports.get(server.name)

    async def close_all(self) -> None:
        transports, self._transports = list(self._transports.values()), {}
        await asyncio.gather(*(t.close() for t in transports), return_exceptions=True)
