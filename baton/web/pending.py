"""Deploys waiting for their application's lock: at most one per application, the newest wins.

The deploy webhook hands every request here (:meth:`PendingDeploys.submit`). Whether it starts
now or waits is decided the moment it arrives, in one step of the event loop: it starts only
if the application's lock is free, no deploy is waiting and no other start of it is under way
here (its preflight still running, the lock not yet taken); otherwise it becomes the pending
deploy, replacing an older one. Deciding later, once a preflight fails on the lock, would queue
requests in the order their preflights happened to end: an older version deployed last.

A waiter per application polls the lock (a deploy from the command line or another machine
sharing the state holds it too) and starts the pending deploy once it is free.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from typing import Any

from baton._exceptions import BatonError, LockError
from baton.clock import SYSTEM_CLOCK, Clock
from baton.state import Store

log = logging.getLogger(__name__)

POLL = 0.5
"""Seconds between looks at a busy application's lock."""

Start = Callable[[str, str], Awaitable[int]]
"""Start a deploy of (application, version); the deploy id, or raise why not."""


@dataclass(frozen=True)
class Pending:
    application: str
    version: str
    queued_at: float
    replaced: str | None = None
    """The version of the pending deploy this one replaced, if any."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Submitted:
    """What became of a request at once: started (its deploy id) or waiting (its place)."""

    deploy_id: int | None
    pending: Pending | None


@dataclass(frozen=True)
class Outcome:
    """What became of the last deploy this queue started (or failed to start)."""

    application: str
    version: str
    deploy_id: int | None
    error: str | None
    at: float


class PendingDeploys:
    def __init__(self, store: Store, start: Start, clock: Clock = SYSTEM_CLOCK) -> None:
        self._store = store
        self._start = start
        self._clock = clock
        self._pending: dict[str, Pending] = {}
        self._starting: set[str] = set()
        """Applications whose deploy this queue is starting (preflight under way). A request
        queued meanwhile arrived after the one starting, so it is the newer of the two."""
        self._waiters: dict[str, asyncio.Task[None]] = {}
        self.last: dict[str, Outcome] = {}

    def pending(self, application: str) -> Pending | None:
        return self._pending.get(application)

    async def submit(self, application: str, version: str) -> Submitted:
        """Start a deploy of ``version`` now if nothing runs, starts or waits; else make it
        the pending deploy (it arrived last, so it is the newest). Raises why a start now
        was refused, other than the lock (taken elsewhere meanwhile: then it waits)."""
        if application in self._pending or not self._idle(application):
            return Submitted(None, self._queue(application, version))
        self._starting.add(application)
        try:
            return Submitted(await self._start(application, version), None)
        except LockError:  # another process took the lock during our preflight
            if application in self._pending:  # a newer request is waiting: it wins
                return Submitted(None, Pending(application, version, self._clock.time()))
            return Submitted(None, self._queue(application, version))
        finally:
            self._starting.discard(application)

    def _idle(self, application: str) -> bool:
        """No deploy of the application runs (here or anywhere sharing the state) or is
        being started here."""
        if application in self._starting:
            return False
        holder = self._store.lock_holder(application)
        return holder is None or not holder.alive()

    def _queue(self, application: str, version: str) -> Pending:
        """Make ``version`` (the newest request) the pending deploy, replacing any older one."""
        older = self._pending.get(application)
        pending = Pending(
            application, version, self._clock.time(), older.version if older else None
        )
        self._pending[application] = pending
        waiter = self._waiters.get(application)
        if waiter is None or waiter.done():
            self._waiters[application] = asyncio.create_task(self._wait(application))
        return pending

    async def stop(self) -> None:
        for waiter in self._waiters.values():
            waiter.cancel()
        for waiter in self._waiters.values():
            with contextlib.suppress(asyncio.CancelledError):
                await waiter

    async def _wait(self, application: str) -> None:
        while application in self._pending:
            if self._idle(application):
                await self._start_pending(self._pending.pop(application))
            await self._clock.sleep(POLL)

    async def _start_pending(self, pending: Pending) -> None:
        application = pending.application
        self._starting.add(application)
        try:
            deploy_id = await self._start(application, pending.version)
        except LockError:  # taken between our look and our try: wait again, unless replaced
            self._pending.setdefault(application, pending)
            return
        except BatonError as exc:
            log.warning("queued deploy of %s not started: %s", application, exc)
            self._record(pending, None, str(exc))
            return
        finally:
            self._starting.discard(application)
        self._record(pending, deploy_id, None)

    def _record(self, pending: Pending, deploy_id: int | None, error: str | None) -> None:
        self.last[pending.application] = Outcome(
            pending.application, pending.version, deploy_id, error, self._clock.time()
        )
