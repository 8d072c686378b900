"""Open every server's transport before a deploy changes anything, and reuse it after.

Opening them all up front is the preflight for reachability: one unreachable server stops the
deploy before any load balancer or server is touched. Connection starts are throttled so a
fleet of a thousand never trips sshd's MaxStartups.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable

from baton._exceptions import BatonError, ConnectionError_
from baton.config import Server
from baton.drivers import Transport

CONNECT_CONCURRENCY = 64


class Connections:
    """One opened transport per server, handed to the engine by name."""

    def __init__(self, open_transport: Callable[[Server], Transport]) -> None:
        self._open_transport = open_transport
        self._transports: dict[str, Transport] = {}

    async def open_all(
        self, servers: Iterable[Server], concurrency: int = CONNECT_CONCURRENCY
    ) -> None:
        """Connect to every server; raise one error naming every server that failed."""
        gate = asyncio.Semaphore(concurrency)
        servers = list(servers)

        async def connect(server: Server) -> str | None:
            async with gate:
                transport = self._open_transport(server)
                try:
                    await transport.open()
                except BatonError as exc:
                    return str(exc)
                self._transports[server.name] = transport
                return None

        failures = [f for f in await asyncio.gather(*(connect(s) for s in servers)) if f]
        if failures:
            await self.close_all()
            more = f" (and {len(failures) - 3} more)" if len(failures) > 3 else ""
            raise ConnectionError_(
                f"preflight: {len(failures)} of {len(servers)} server(s) unreachable, nothing "
                f"changed: {'; '.join(failures[:3])}{more}"
            )

    def transport(self, server: Server) -> Transport:
        """The opened transport for ``server`` (a new one if preflight did not open it)."""
        return self._transports.pop(server.name, None) or self._open_transport(server)

    def peek(self, server: Server) -> Transport:
        """The opened transport for ``server``, left in place for the engine."""
        return self._transports[server.name]

    async def close_all(self) -> None:
        transports, self._transports = list(self._transports.values()), {}
        await asyncio.gather(*(t.close() for t in transports), return_exceptions=True)
