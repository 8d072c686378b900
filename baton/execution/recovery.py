"""Putting back servers that a killed or interrupted deploy left out of rotation.

Every load balancer change is journalled before it is made and after. A removal with no
confirmed add, from a deploy that did not end on its own (killed, abandoned, cancelled), means
baton took the server out and never got the chance to decide about it. Such a server is put
back if its health check passes, and reported otherwise. Servers that a *failed* deploy left out
were left out on purpose, and stay out until a deploy succeeds on them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from baton.clock import SYSTEM_CLOCK, Clock
from baton.config import Manifest
from baton.config.templates import values_for
from baton.drivers import LoadBalancerDriver, Transport
from baton.execution.health import wait_until_healthy
from baton.execution.rotation import Change, Journal, Progress
from baton.state import JournalEntry, Store

UNFINISHED = {"running", "abandoned", "cancelled"}


@dataclass(frozen=True)
class Recovered:
    server: str
    load_balancers: tuple[str, ...]
    restored: bool
    detail: str


def stranded(manifest: Manifest, store: Store) -> dict[str, list[JournalEntry]]:
    """Servers a deploy that did not finish on its own took out and did not surely put back."""
    servers = {s.name for s in manifest.servers}
    load_balancers = {lb.name for lb in manifest.load_balancers}
    result: dict[str, list[JournalEntry]] = {}
    for entry in store.journal_entries(manifest.application):
        # The journal keeps each server's last change: a removal, or an add that was only
        # intended (killed before the load balancer confirmed it), may have left it out.
        if (entry.action, entry.state) == ("add", "done") or entry.server not in servers:
            continue
        if entry.load_balancer not in load_balancers:
            continue
        record = store.deploy(entry.deploy_id)
        if record is None or record.status in UNFINISHED:
            result.setdefault(entry.server, []).append(entry)
    return result


async def recover(
    manifest: Manifest,
    servers: Mapping[str, list[JournalEntry]],
    load_balancers: Mapping[str, LoadBalancerDriver],
    transport_for: Mapping[str, Transport],
    journal: Journal,
    clock: Clock = SYSTEM_CLOCK,
) -> list[Recovered]:
    """Health-check each of the ``servers`` :func:`stranded` found; put the healthy ones back."""
    outcomes = []
    for server, entries in servers.items():
        names = tuple(sorted({e.load_balancer for e in entries}))
        passed, detail = await _healthy(manifest, server, transport_for[server], clock)
        if passed:
            for name in names:
                journal(name, server, Change.ADD, Progress.INTENDED)
                await load_balancers[name].add(server)
                journal(name, server, Change.ADD, Progress.DONE)
        outcomes.append(Recovered(server, names, passed, detail))
    return outcomes


async def _healthy(
    manifest: Manifest, server: str, transport: Transport, clock: Clock
) -> tuple[bool, str]:
    check = manifest.deploy.health_check
    if check is None:
        return False, "no health check in the manifest: left out of rotation for you to decide"
    values = values_for(manifest.application, manifest.server(server), "")
    passed, _, detail = await wait_until_healthy(check, values, transport, clock=clock)
    return passed, detail
