"""Follow a deploy that another process, or another machine sharing the state, is running.

The deploying process records its events in the state as it goes; following is reading them
back in order and handing them to the same sinks a deploy of our own would use. A deploy
whose process died (its lock is gone or stale) ends the follow as "abandoned".
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from baton.execution.events import EventSink, event_from_dict
from baton.state import DeployRecord, Store

POLL = 0.25
FINISHED = ("succeeded", "failed", "cancelled", "abandoned")


async def follow(
    store: Store, deploy_id: int, emit: EventSink, *, poll: float = POLL
) -> DeployRecord:
    """Emit every event of ``deploy_id`` from its start, until the deploy has finished."""
    seen = 0
    while True:
        record = store.deploy(deploy_id)
        if record is None:
            raise LookupError(deploy_id)
        for stored in store.events(deploy_id, after=seen):
            seen = stored.seq
            event = event_from_dict({"kind": stored.kind, **stored.data})
            if event is not None:
                emit(event)
        if record.status in FINISHED:
            return record
        if _holder_gone(store, record):
            return store.deploy(deploy_id) or record
        await asyncio.sleep(poll)


def _holder_gone(store: Store, record: DeployRecord) -> bool:
    """A running deploy whose process no longer holds a live lock will never finish."""
    holder = store.lock_holder(record.application)
    return holder is None or holder.deploy_id != record.id or not holder.alive()


async def next_deploy(
    store: Store,
    application: str,
    *,
    poll: float = POLL,
    waiting: Callable[[], None] = lambda: None,
) -> int:
    """The running deploy of ``application``, or the next one to start (``waiting`` is called
    once if there is none yet)."""
    newest = store.deploys(application, limit=1)
    if newest and newest[0].status == "running" and not _holder_gone(store, newest[0]):
        return newest[0].id
    after = newest[0].id if newest else 0
    waiting()
    while True:
        await asyncio.sleep(poll)
        newer = [r.id for r in store.deploys(application, limit=5) if r.id > after]
        if newer:
            return min(newer)
