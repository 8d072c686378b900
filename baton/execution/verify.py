"""Verifying a canary after it rejoined: probe it, and read its error rate off the balancers.

For ``seconds``, the manifest's ``deploy.verify`` URL or command (if any) runs once per
interval; before and after, every load balancer that counts traffic (HAProxy ``show stat``)
is asked for the server's responses and errors. Either rate above ``max_error_rate`` fails, and
so does a load balancer reporting the server down at the end (failing its own health checks,
it got no traffic to count).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from baton.clock import Clock
from baton.config import Verify as VerifySettings
from baton.drivers import LoadBalancerDriver, Membership, Transport
from baton.drivers.loadbalancer import ServerTraffic
from baton.execution.health import check_once

SAME_MOMENT = 1e-6
"""Seconds within which a probe due at the deadline counts as at it (and is not made):
intervals added up in floats land either side of it."""


@dataclass(frozen=True)
class Verdict:
    passed: bool
    detail: str


@dataclass(frozen=True)
class Canary:
    """What verifying one server needs."""

    server: str
    settings: VerifySettings
    values: dict[str, object]
    transport: Transport
    environment: Mapping[str, str]


async def verify(
    canary: Canary,
    load_balancers: Mapping[str, LoadBalancerDriver],
    seconds: float,
    max_error_rate: float,
    clock: Clock,
) -> Verdict:
    before = await _traffic(load_balancers, canary.server)
    probes, failed, last = await _probe(canary, seconds, clock)
    after = await _traffic(load_balancers, canary.server)
    responses, errors = after.responses - before.responses, after.errors - before.errors
    problems = await _down(load_balancers, canary.server)
    if probes and failed / probes > max_error_rate:
        problems.append(f"{failed} of {probes} probes failed ({last})")
    if responses and errors / responses > max_error_rate:
        problems.append(f"the load balancers saw {errors} errors in {responses} responses")
    limit = f"above {max_error_rate:.1%}"
    if problems:
        return Verdict(False, f"verification failed after {seconds:g}s: {'; '.join(problems)}"
                       f" ({limit})")  # fmt: skip
    seen = f"{probes - failed}/{probes} probes passed, " if probes else ""
    return Verdict(True, f"verified {seconds:g}s: {seen}{errors} errors in {responses} responses")


async def _probe(canary: Canary, seconds: float, clock: Clock) -> tuple[int, int, str]:
    """(probes, failed, what the last failure said); only waits when there is no probe."""
    check = canary.settings.probe
    if check is None:
        await clock.sleep(seconds)
        return 0, 0, ""
    deadline = clock.monotonic() + seconds
    probes = failed = 0
    last = ""
    while True:
        passed, detail = await check_once(
            check, canary.values, canary.transport, canary.environment
        )
        probes += 1
        if not passed:
            failed, last = failed + 1, detail
        if clock.monotonic() + canary.settings.interval > deadline - SAME_MOMENT:
            return probes, failed, last
        await clock.sleep(canary.settings.interval)


async def _down(load_balancers: Mapping[str, LoadBalancerDriver], server: str) -> list[str]:
    return [
        f"{name} reports it down (failing the load balancer's own health checks)"
        for name, lb in load_balancers.items()
        if (await lb.membership()).get(server) is Membership.DOWN
    ]


async def _traffic(load_balancers: Mapping[str, LoadBalancerDriver], server: str) -> ServerTraffic:
    counts = [(await lb.traffic()).get(server) for lb in load_balancers.values()]
    found = [c for c in counts if c is not None]
    return ServerTraffic(sum(c.responses for c in found), sum(c.errors for c in found))
