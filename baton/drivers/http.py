"""One HTTP/1.1 GET on a fresh connection: what health checks and the sandbox's traffic need.

No client library: a health check must not pull one in, and the sandbox's traffic wants each
request on its own connection, exactly as a new visitor would arrive.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from urllib.parse import urlsplit


async def get(url: str, timeout: float, *, body: bool = True) -> tuple[int, str]:
    """(status, body) of a GET to ``url``, no redirects followed; ``body=False`` reads only the
    status line. Raises OSError (ConnectionError when the answer is not HTTP) or TimeoutError."""
    parts = urlsplit(url)
    secure = parts.scheme == "https"
    host = parts.hostname or "localhost"
    port = parts.port or (443 if secure else 80)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    request = f"GET {target} HTTP/1.1\r\nHost: {parts.netloc}\r\nConnection: close\r\n"
    request += "User-Agent: baton\r\n\r\n"
    async with asyncio.timeout(timeout):
        reader, writer = await asyncio.open_connection(
            host, port, ssl=ssl.create_default_context() if secure else None
        )
        try:
            writer.write(request.encode())
            response = await (reader.read() if body else reader.readline())
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
    head, _, text = response.decode(errors="replace").partition("\r\n\r\n")
    fields = head.split("\r\n", 1)[0].split()
    if len(fields) < 2 or not fields[1].isdigit():
        raise ConnectionError(f"no HTTP answer from {url}")
    return int(fields[1]), text.strip()
