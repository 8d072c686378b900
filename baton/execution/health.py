"""Health checks: an HTTP GET from this machine, or a command on the server, retried."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping

from baton.config import HealthCheck
from baton.config.templates import render
from baton.drivers import Transport
from baton.drivers.http import get


async def check_once(
    check: HealthCheck,
    values: dict[str, object],
    transport: Transport,
    environment: Mapping[str, str] | None = None,
) -> tuple[bool, str]:
    """One attempt: (passed, what happened)."""
    if check.url is not None:
        return await check_url(check, values)
    command = render(check.command or "", values)
    result = await transport.run(command, timeout=check.timeout, environment=environment)
    status_text = "timed out" if result.timed_out else f"exit {result.exit_status}"
    return result.ok, f"{command}: {status_text}"


async def check_url(check: HealthCheck, values: dict[str, object]) -> tuple[bool, str]:
    """One GET of a URL health check from this machine: (passed, what happened)."""
    url = render(check.url or "", values, quote=False)
    try:
        status, _ = await get(url, check.timeout, body=False)
    except (OSError, TimeoutError) as exc:
        return False, f"GET {url}: {exc.__class__.__name__} {exc}".strip()
    return 200 <= status < 400, f"GET {url}: HTTP {status}"


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
