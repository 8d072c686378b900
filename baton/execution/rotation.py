"""Where a server stands with its load balancers: read back from them, never assumed.

A load balancer can change its mind behind baton's back: HAProxy restarted without a saved
server-state-file comes back with every server in rotation. So before every step on a server
that should be out of rotation, and before reporting, the engine asks (:class:`ReadBack`), and
every outcome it reports carries the membership as read (:func:`as_read`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Mapping
from dataclasses import replace

from baton._exceptions import LoadBalancerError
from baton.clock import SYSTEM_CLOCK, Clock
from baton.drivers import LoadBalancerDriver, Membership
from baton.execution.events import EventSink, LoadBalancerChanged
from baton.execution.result import ServerOutcome

READ_BACK_TRIES, READ_BACK_PAUSE = 5, 0.5
"""A read-back is tried 5 times, 0.5 s apart, before it counts as failed: a balancer that is
restarting does not answer at once."""
Tables = dict[str, dict[str, Membership] | str]
"""Per load balancer, its membership table, or why it could not be read."""


class ReadBack:
    """Asks the load balancers (through ``membership()`` only) where servers are."""

    def __init__(
        self,
        load_balancers: Mapping[str, LoadBalancerDriver],
        emit: EventSink,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self._load_balancers, self._emit, self._clock = load_balancers, emit, clock

    async def membership(self, name: str) -> dict[str, Membership]:
        """Load balancer ``name``'s membership table, retried a few times."""
        for _ in range(READ_BACK_TRIES - 1):
            try:
                return await self._load_balancers[name].membership()
            except LoadBalancerError:
                await self._clock.sleep(READ_BACK_PAUSE)
        return await self._load_balancers[name].membership()

    async def confirm_out(self, server: str, names: list[str], when: str) -> list[str]:
        """Make sure each balancer in ``names`` still has ``server`` out of rotation; take it
        out again where one put it back. Returns what happened, one note per balancer that
        had forgotten; raises LoadBalancerError when it cannot be taken out again."""
        notes = []
        for name in names:
            found = (await self.membership(name)).get(server)
            if found in (Membership.OUT_OF_ROTATION, None):  # absent: no traffic either
                continue
            now = time.strftime("%H:%M:%S", time.localtime(self._clock.time()))
            what = f"{name} forgot runtime state at {now}: server {server}"
            what += f" was {_described(found)}"
            try:
                await finishing(self._load_balancers[name].remove(server))
            except LoadBalancerError as error:
                raise LoadBalancerError(
                    f"{what}; could not take it out again {when}: {error}"
                ) from error
            self._emit(LoadBalancerChanged(server=server, load_balancer=name, action="removed"))
            notes.append(f"{what}; taken out again")
        return notes

    async def everything(self) -> Tables:
        """Every balancer's table, or why it could not be read."""
        read: Tables = {}
        for name, driver in sorted(self._load_balancers.items()):
            try:
                read[name] = await driver.membership()
            except Exception as error:  # the report goes out regardless, saying what is unknown
                read[name] = str(error) or type(error).__name__
        return read


def _described(found: Membership) -> str:
    if found is Membership.IN_ROTATION:
        return "back in rotation"
    return f"enabled again ({found.value})"


def as_read(outcome: ServerOutcome, read: Tables, notes: list[str]) -> ServerOutcome:
    """``outcome`` (its detail saying only what happened to the server) with its rotation as
    the balancers in ``read`` report it, and what they did meanwhile (``notes``)."""
    if not read:
        return outcome
    detail = outcome.detail
    out, unknown = [], []
    for name, table in read.items():
        if isinstance(table, str):
            unknown.append(f"{name} could not be read back ({table})")
        elif (found := table.get(outcome.server)) is not Membership.IN_ROTATION:
            out.append(name if found is Membership.OUT_OF_ROTATION else f"{name} ({_state(found)})")
    parts = [detail, *notes]
    if out:
        left = outcome.status in {"failed", "stopped", "cancelled"}
        parts.append(f"{'left out' if left else 'out'} of rotation on {', '.join(out)}")
    parts += unknown
    in_rotation = outcome.in_rotation if unknown and not out else not out
    return replace(outcome, detail="; ".join(parts), in_rotation=in_rotation)


def _state(found: Membership | None) -> str:
    return found.value if found else "missing"


async def finishing(change: Awaitable[None]) -> None:
    """Await a load balancer change to its end even if the deploy is interrupted meanwhile."""
    task = asyncio.ensure_future(change)
    try:
        await asyncio.shield(task)
    except asyncio.CancelledError:
        await task
        raise
