"""Health checks: an HTTP GET from this machine, or a command on the server, retried."""

from __future__ import annotations

from collections.abc import Mapping

from baton.clock import SYSTEM_CLOCK, Clock
from baton.config import HealthCheck
from baton.config.templates import render
from baton.drivers import ShellCommand, Transport
from baton.drivers.http import get, redacted

MIN_ATTEMPT = 0.05
"""Seconds an attempt gets even when the deadline has (almost) passed: the first attempt runs."""


async def check_once(
    check: HealthCheck,
    values: dict[str, object],
    transport: Transport,
    environment: Mapping[str, str] | None = None,
    timeout: float | None = None,
) -> tuple[bool, str]:
    """One attempt of at most ``timeout`` seconds (default the check's): (passed, what
    happened)."""
    seconds = check.timeout if timeout is None else timeout
    if check.url is not None:
        return await check_url(check, values, seconds)
    command = render(check.command or "", values)
    result = await transport.run(ShellCommand(command, seconds, environment or {}))
    status_text = (
        f"timed out after {round(seconds, 1):g}s"
        if result.timed_out
        else f"exit {result.exit_status}"
    )
    return result.ok, f"{command}: {status_text}"


async def check_url(
    check: HealthCheck, values: dict[str, object], timeout: float | None = None
) -> tuple[bool, str]:
    """One GET of a URL health check from this machine, of at most ``timeout`` seconds
    (default the check's): (passed, what happened; a timeout says connect or response). The
    URL is shown without its credentials or query."""
    url = render(check.url or "", values, quote=False)
    shown = redacted(url, path=True)
    try:
        status, _ = await get(url, check.timeout if timeout is None else timeout, body=False)
    except TimeoutError as exc:
        return False, f"GET {shown}: {exc}"
    except OSError as exc:
        return False, f"GET {shown}: {exc.__class__.__name__} {exc}".strip()
    return 200 <= status < 400, f"GET {shown}: HTTP {status}"


async def wait_until_healthy(
    check: HealthCheck,
    values: dict[str, object],
    transport: Transport,
    environment: Mapping[str, str] | None = None,
    clock: Clock = SYSTEM_CLOCK,
) -> tuple[bool, int, str]:
    """Retry every ``interval`` until a pass or the ``deadline``: (passed, attempts, detail).

    Each attempt gets at most the time left before the deadline, so a check whose timeout is
    longer than its deadline still gives up on time."""
    deadline = clock.monotonic() + check.deadline
    attempts = 0
    while True:
        attempts += 1
        left = max(deadline - clock.monotonic(), MIN_ATTEMPT)
        passed, detail = await check_once(
            check, values, transport, environment, min(check.timeout, left)
        )
        if passed or clock.monotonic() + check.interval > deadline:
            return passed, attempts, detail
        await clock.sleep(check.interval)
