"""What the load balancers counted during a deploy: "did this deploy drop requests?" answered
by the balancer (HAProxy ``show stat``: 5xx, connection and response errors per server), and
"were the waits long enough?": requests a server answered out of rotation (:class:`LateTraffic`)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping

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


class LateTraffic:
    """Requests a server answered while out of rotation once the removal wait had passed: the
    balancer (or its data plane) still sent it some, so a restart then drops requests, and
    ``wait_after_removing_servers`` looks too short. Counted where the balancer counts
    (:meth:`LoadBalancerDriver.traffic`) and a removal wait is set; ``lines`` say it after the
    deploy, naming the balancer and the setting to raise."""

    def __init__(self, load_balancers: Mapping[str, LoadBalancerDriver], wait: int) -> None:
        self._load_balancers, self._wait = load_balancers, wait
        self._drained: dict[str, Counts] = {}
        self.lines: list[str] = []

    async def drained(self, server: str, names: Iterable[str]) -> None:
        """``server``'s removal wait is over: count its requests from here, once per removal."""
        wanted = {n: self._load_balancers[n] for n in names}
        if self._wait and wanted and server not in self._drained:
            self._drained[server] = await snapshot(wanted)

    async def rejoining(self, server: str) -> None:
        """``server`` is about to be put back: note each balancer that sent it requests since."""
        then = self._drained.pop(server, None)
        if not then:
            return
        now = await snapshot({n: self._load_balancers[n] for n in then})
        for name, counts in now.items():
            before, after = then[name].get(server), counts.get(server)
            if before is None or after is None or after.responses <= before.responses:
                continue
            self.lines.append(
                f"WARNING: {server} answered {after.responses - before.responses} request(s) "
                f"through {name} after it was out of rotation and wait_after_removing_servers "
                f"({self._wait}s) had passed: the waits look too short; raise {name}'s "
                "wait_after_removing_servers"
            )
