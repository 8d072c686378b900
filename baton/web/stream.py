"""A deploy's events as server-sent events, read from the store's events table.

Reading the table (not an in-process queue) lets the dashboard follow a deploy started from
the CLI just as well as one it started itself. Each message's id is the event's sequence
number, so a reconnecting browser resumes where it stopped (``Last-Event-ID``).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from baton.state import Store, StoredEvent

POLL_SECONDS = 0.15
PAGE = 500
"""Events read from the store at a time."""
HEARTBEAT_SECONDS = 10.0


def event_json(event: StoredEvent) -> dict[str, Any]:
    return {"seq": event.seq, "at": event.at, "kind": event.kind, **event.data}


def sse_message(data: dict[str, Any], *, event: str | None = None, id: int | None = None) -> str:
    lines = [f"id: {id}"] if id is not None else []
    if event is not None:
        lines.append(f"event: {event}")
    lines.append(f"data: {json.dumps(data)}")
    return "\n".join(lines) + "\n\n"


def _finished(store: Store, deploy_id: int) -> bool:
    record = store.deploy(deploy_id)
    return record is None or record.status != "running"


async def follow(
    store: Store,
    deploy_id: int,
    after: int = 0,
    disconnected: Callable[[], Any] | None = None,
) -> AsyncIterator[str]:
    """Every event after ``after``, as they are recorded, then one ``end`` message."""
    quiet_since = time.monotonic()
    while True:
        done = _finished(store, deploy_id)  # read before the events, so none is missed
        events = store.events(deploy_id, after, limit=PAGE)
        for event in events:
            after = event.seq
            yield sse_message(event_json(event), id=event.seq)
        if len(events) == PAGE:
            continue  # more to send: memory stays bounded by one page, however long the deploy
        if done:
            break
        if events:
            quiet_since = time.monotonic()
        elif time.monotonic() - quiet_since > HEARTBEAT_SECONDS:
            quiet_since = time.monotonic()
            yield ": still running\n\n"
        if disconnected is not None and await disconnected():
            return
        await asyncio.sleep(POLL_SECONDS)
    yield sse_message(_end(store, deploy_id), event="end")


def _end(store: Store, deploy_id: int) -> dict[str, Any]:
    record = store.deploy(deploy_id)
    if record is None:
        return {"status": "unknown", "summary": f"no deploy #{deploy_id}"}
    return {"status": record.status, "summary": record.summary or ""}
