"""Where a server stands with its load balancers: changed by :class:`Rotation`, journalled,
and read back from them, never assumed.

A load balancer can change its mind behind baton's back: HAProxy restarted without a saved
server-state-file comes back with every server in rotation. So before every step on a server
that should be out of rotation, and before reporting, the engine asks (:class:`ReadBack`), and
every outcome it reports carries the membership as read (:func:`as_read`).
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from typing import Protocol

from baton._exceptions import BatonError, LoadBalancerError, LockLost, StateWriteError
from baton.clock import SYSTEM_CLOCK, Clock
from baton.drivers import LoadBalancerDriver, Membership
from baton.execution.events import (
    EventSink,
    LoadBalancerChanged,
    ServerStatus,
    Stage,
    StageChanged,
    Warned,
)
from baton.execution.observed import LateTraffic
from baton.execution.result import ServerOutcome
from baton.planning import Plan
from baton.planning.values import wait_seconds

READ_BACK_TRIES, READ_BACK_PAUSE = 5, 0.5
"""A read-back is tried 5 times, 0.5 s apart, before it counts as failed: a balancer that is
restarting does not answer at once."""
Tables = dict[str, dict[str, Membership] | str]
"""Per load balancer, its membership table, or why it could not be read."""
CAPACITY_POLL = 0.25
CAPACITY_DEADLINE = 30.0
"""Seconds to wait for capacity when the manifest has no health check (else its deadline)."""


class Change(enum.StrEnum):
    """What baton does to a server on a load balancer, as the journal records it."""

    REMOVE = "remove"
    ADD = "add"


class Progress(enum.StrEnum):
    """A journalled change is written before it is made (intended) and after (done)."""

    INTENDED = "intended"
    DONE = "done"


class Journal(Protocol):
    """Records one change of one server on one load balancer; may raise StateWriteError."""

    def __call__(
        self, load_balancer: str, server: str, change: Change, progress: Progress, /
    ) -> None: ...


def no_journal(load_balancer: str, server: str, change: Change, progress: Progress, /) -> None:
    return None


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
        left = outcome.status in {ServerStatus.FAILED, ServerStatus.STOPPED, ServerStatus.CANCELLED}
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


class Rotation:
    """The engine's rotation bookkeeping: which balancers each server is out of, what they did
    on their own, and every change journalled before and after it is made."""

    def __init__(
        self,
        plan: Plan,
        load_balancers: Mapping[str, LoadBalancerDriver],
        emit: EventSink,
        *,
        journal: Journal,
        clock: Clock,
        stop: Callable[[StateWriteError], None],
    ) -> None:
        self._plan, self._load_balancers, self._emit = plan, load_balancers, emit
        self._journal, self._clock, self._stop = journal, clock, stop
        self.read_back = ReadBack(load_balancers, emit, clock)
        self._out: dict[str, set[str]] = {}
        self._notes: dict[str, list[str]] = {}
        removal_wait = wait_seconds(plan.values, "wait_after_removing_servers")
        self.late_traffic = LateTraffic(load_balancers, removal_wait)

    def out_of(self, server: str) -> set[str]:
        """The balancers ``server`` is out of, as baton left it."""
        return self._out.setdefault(server, set())

    def notes(self, server: str) -> list[str]:
        """What the load balancers did to ``server`` on their own (forgot runtime state)."""
        return self._notes.setdefault(server, [])

    async def remove(self, server: str, names: tuple[str, ...]) -> None:
        self._stage(server, Stage.LEAVING_ROTATION)
        for name in names:
            await self._check_capacity(server, name)
        for name in names:
            await finishing(self._change(server, name, Change.REMOVE))
        self._stage(server, Stage.OUT_OF_ROTATION)

    async def add(self, server: str, names: tuple[str, ...]) -> None:
        self._stage(server, Stage.REJOINING_ROTATION)
        await self.late_traffic.rejoining(server)
        for name in names:
            await finishing(self._change(server, name, Change.ADD))

    async def put_back(self, server: str) -> None:
        """Add ``server`` back wherever it is out (it was not changed: interrupted)."""
        if out := self.out_of(server):
            await self.add(server, tuple(sorted(out)))

    async def _change(self, server: str, name: str, change: Change) -> None:
        """A change, its journal and its event, finished whole even when interrupted.

        A removal that cannot be journalled first is not made (the deploy stops); an add is
        made anyway: putting a server back never needs the state to be written. Neither is
        made once another deploy took over the lock: the balancers are that deploy's now."""
        if not self._record(name, server, change, Progress.INTENDED):
            return
        if change is Change.REMOVE:
            self.out_of(server).add(name)
            await self._load_balancers[name].remove(server)
        else:
            await self._load_balancers[name].add(server)
            self.out_of(server).discard(name)
        self._record(name, server, change, Progress.DONE)
        verb = "removed" if change is Change.REMOVE else "added"
        self._emit(LoadBalancerChanged(server=server, load_balancer=name, action=verb))
        for warning in self._load_balancers[name].take_warnings():
            self._emit(Warned(message=warning))

    def _record(self, load_balancer: str, server: str, change: Change, progress: Progress) -> bool:
        """Journal one change; whether it may be made. When the state cannot be written the
        deploy stops, and only an add goes on; when the lock was lost, nothing does."""
        try:
            self._journal(load_balancer, server, change, progress)
        except StateWriteError as error:
            self._stop(error)
            return change is Change.ADD and not isinstance(error, LockLost)
        return True

    async def confirm_out(self, server: str, when: str) -> None:
        """Confirm ``server`` is still out of every balancer that took it out (a balancer that
        restarted may have put it back): take it out again and say so, or raise. The first
        time after a removal (its wait over), count what the server answers from then on."""
        out = sorted(self.out_of(server))
        await self.late_traffic.drained(server, out)
        for note in await self.read_back.confirm_out(server, out, when):
            self.notes(server).append(note)
            self._emit(Warned(message=note))

    async def _check_capacity(self, server: str, name: str) -> None:
        """Wait until removing ``server`` leaves min_in_service servers in rotation, or refuse.

        A server put back a moment ago may still be failing the load balancer's own health
        checks; waiting for it (up to the health check deadline) is what keeps capacity.
        """
        floor = self._plan.min_in_service
        deadline = self._clock.monotonic() + self._capacity_deadline()
        while (others := await self._others_in_rotation(server, name)) < floor:
            if self._clock.monotonic() >= deadline:
                raise LoadBalancerError(
                    f"{server}: not removed from {name}: only {others} other server(s) in "
                    f"rotation, deploy.min_in_service is {floor}"
                )
            self._stage(server, Stage.QUEUED, f"waiting for {name} to have capacity")
            await self._clock.sleep(CAPACITY_POLL)

    def _capacity_deadline(self) -> float:
        check = self._plan.manifest.deploy.health_check
        return check.deadline if check is not None else CAPACITY_DEADLINE

    async def _others_in_rotation(self, server: str, name: str) -> int:
        membership = await self._load_balancers[name].membership()
        servers = {s.name for s in self._plan.manifest.servers}
        others = (m for s, m in membership.items() if s in servers and s != server)
        return sum(m is Membership.IN_ROTATION for m in others)

    def assumed(self, server: str) -> Tables:
        """The membership tables as baton believes them to be for ``server``."""
        out = self.out_of(server)
        return {
            lb.name: {
                server: Membership.OUT_OF_ROTATION if lb.name in out else Membership.IN_ROTATION
            }
            for lb in self._plan.manifest.load_balancers
        }

    async def read_everything(self) -> Tables:
        """Before reporting: servers meant to be out are confirmed out (taken out again if a
        balancer put them back), then every balancer's table as read back."""
        for server, out in self._out.items():
            if out:
                with contextlib.suppress(BatonError):  # reported as read back
                    await self.confirm_out(server, "before reporting")
        return await self.read_back.everything()

    def _stage(self, server: str, stage: Stage, detail: str = "") -> None:
        self._emit(StageChanged(server=server, stage=stage, detail=detail))
