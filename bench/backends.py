"""Tiny HTTP backends for HAProxy's health checks: ``python -m bench.backends ADDR:PORT...``.

One process answers ``200 OK`` on every address given, so HAProxy sees the servers UP and the
serial deploy's capacity check (``deploy.min_in_service``) passes, as in production.
"""

from __future__ import annotations

import asyncio
import sys

RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n"


async def _answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(RESPONSE)
        await writer.drain()
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, OSError):
        pass
    finally:
        writer.close()


async def serve(endpoints: list[str]) -> None:
    servers = []
    for endpoint in endpoints:
        host, port = endpoint.rsplit(":", 1)
        servers.append(await asyncio.start_server(_answer, host, int(port)))
    print("listening", flush=True)
    await asyncio.gather(*(s.serve_forever() for s in servers))


if __name__ == "__main__":
    asyncio.run(serve(sys.argv[1:]))
