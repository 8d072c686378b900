"""Health checks: an HTTP GET from this machine, or a command on the server, retried."""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import Mapping
from urllib.parse import urlsplit

from baton.config import HealthCheck
from baton.config.templates import render
from baton.drivers import Transport


async def http_status(url: str, timeout: float) -> int:
    """Status code of a GET to ``url`` (no redirects followed); raises OSError on failure."""
    parts = urlsplit(url)
    secure = parts.scheme == "https"
    port = parts.port or (443 if secure else 80)
    host = parts.hostname or "localhost"
    context = ssl.create_default_context() if secure else None
    async with asyncio.timeout(timeout):
        reader, writer = await asyncio.open_connection(host, port, ssl=context)
        try:
            target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            writer.write(
                f"GET {target} HTTP/1.1\r\nHost: {parts.netloc}\r\nConnection: close\r\n"
                "User-Agent: baton-health-check\r\n\r\n".encode()
            )
            status_line = await reader.readline()
        finally:
            writer.close()
    fields = status_line.split()
    if len(fields) < 2 or not fields[1].isdigit():
        raise OSError(f"no HTTP answer from {url}")
    return int(fields[1])


async def check_once(
    check: HealthCheck,
    values: dict[str, object],
    transport: Transport,
    environment: Mapping[str, str] | None = None,
) -> tuple[bool, str]:
    """One attempt: (passed, what happened)."""
    if check.url is not None:
        url = render(check.url, values, quote=False)
        try:
            status = await http_status(url, check.timeout)
        except (OSError, TimeoutError) as exc:
            return False, f"GET {url}: {exc.__class__.__name__} {exc}".strip()
        return 200 <= status < 400, f"GET {url}: HTTP {status}"
    command = render(check.command or "", values)
    result = await transport.run(command, timeout=check.timeout, environment=environment)
    status_text = "timed out" if result.timed_out else f"exit {result.exit_status}"
    return result.ok, f"{command}: {status_text}"


async def wait_until_healthy(
    check: HealthCheck,
    values: dict[str, object],
    transport: Transport,
    environment: Mapping[str, str] | None = None,
) -> tuple[bool, int, str]:
    """Retry every ``interval`` until a pass or the ``deadline``: (passed, attempts, detail)."""
    deadline = time.monotonic() + check.deadline
    attempts = 0
    while True:
        attempts += 1
        passed, detail = await check_once(check, values, transport, environment)
        if passed or time.monotonic() + check.interval > deadline:
            return passed, attempts, detail
        await asyncio.sleep(check.interval)
