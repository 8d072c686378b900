"""Deploys waiting for their application's lock: at most one per application, the newest wins.

The deploy webhook queues here instead of refusing while a deploy of the application runs
(started here, from the command line, or from another machine sharing the state). A waiter
per application polls the lock and starts the pending deploy once it is free.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from typing import Any

from baton._exceptions import BatonError, LockError
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
class Outcome:
    """What became of the last deploy this queue started (or failed to start)."""

    application: str
    version: str
    deploy_id: int | None
    error: str | None
    at: float


class PendingDeploys:
    def __init__(self, store: Store, start: Start) -> None:
        self._store = store
        self._start = start
        self._pending: dict[str, Pending] = {}
        self._waiters: dict[str, asyncio.Task[None]] = {}
        self.last: dict[str, Outcome] = {}

    def pending(self, application: str) -> Pending | None:
        return self._pending.get(application)

    def busy(self, application: str) -> bool:
        """A deploy of the application runs, or one is already waiting."""
        holder = self._store.lock_holder(application)
        return application in self._pending or (holder is not None and holder.alive())

    def queue(self, application: str, version: str) -> Pending:
        """Make ``version`` the application's pending deploy, replacing any older one."""
        older = self._pending.get(application)
        pending = Pending(application, version, time.time(), older.version if older else None)
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
            holder = self._store.lock_holder(application)
            if holder is None or not holder.alive():
                await self._start_pending(self._pending.pop(application))
            await asyncio.sleep(POLL)

    async def _start_pending(self, pending: Pending) -> None:
        try:
            deploy_id = await self._start(pending.application, pending.version)
        except LockError:  # taken between our look and our try: wait again, unless replaced
            self._pending.setdefault(pending.application, pending)
            return
        except BatonError as exc:
            log.warning("queued deploy of %s not started: %s", pending.application, exc)
            self.last[pending.application] = Outcome(
                pending.application, pending.version, None, str(exc), time.time()
            )
            return
        self.last[pending.application] = Outcome(
            pending.application, pending.version, deploy_id, None, time.time()
        )
