"""What the load balancers counted during a deploy: "did this deploy drop requests?" answered
by the balancer (HAProxy ``show stat``: 5xx, connection and response errors per server)."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping

from baton._exceptions import BatonError
from baton.drivers import LoadBalancerDriver
from baton.drivers.loadbalancer import ServerTraffic

Counts = dict[str, dict[str, ServerTraffic]]
"""Load balancer name -> server -> counters."""


async def snapshot(load_balancers: Mapping[str, LoadBalancerDriver]) -> Counts:
    """Every balancer's counters now; a balancer that does not answer is left out."""
    counts: Counts = {}
    for name, driver in load_balancers.items():
        with contextlib.suppress(BatonError):
            counts[name] = await driver.traffic()
    return counts


def observed(before: Counts, after: Counts, servers: tuple[str, ...]) -> tuple[str, ...]:
    """One line per balancer that counted: errors in responses, and which servers erred."""
    lines = []
    for name, now in after.items():
        then = before.get(name)
        if then is None or not now:
            continue
        delta = {s: _minus(now[s], then.get(s)) for s in servers if s in now}
        responses = sum(d.responses for d in delta.values())
        errors = sum(d.errors for d in delta.values())
        erred = ", ".join(f"{s}: {d.errors}" for s, d in delta.items() if d.errors)
        lines.append(
            f"{name} saw {errors} error(s) in {responses} response(s) during the deploy"
            + (f" ({erred})" if erred else "")
        )
    return tuple(lines)


def _minus(now: ServerTraffic, then: ServerTraffic | None) -> ServerTraffic:
    if then is None:
        return now
    return ServerTraffic(now.responses - then.responses, now.errors - then.errors)
