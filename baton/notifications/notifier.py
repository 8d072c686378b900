"""Notifications: an event sink that tells webhooks when a deploy starts and how it ended.

Delivery never delays or fails the deploy: messages queue per webhook and a background task
sends them, retrying with backoff for at most ``notifications.deadline`` seconds per message.
The deploy's end waits for what is still queued no longer than that, then gives up. Every
attempt is recorded in the deploy's history (what it was, and what the receiver answered).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from baton.config.model import Notifications, Webhook
from baton.drivers import http
from baton.execution.events import DeployFinished, DeployStarted, Event, ServerFinished
from baton.state import NotificationAttempt

log = logging.getLogger(__name__)

FIRST_RETRY = 0.5
LONGEST_RETRY = 8.0
"""Seconds between attempts: doubling from FIRST_RETRY, never more than LONGEST_RETRY."""

Record = Callable[[int, NotificationAttempt], None]
Post = Callable[[str, bytes, dict[str, str], float], Awaitable[int]]


@dataclass(frozen=True)
class Message:
    name: str
    """"started" or "finished"."""
    payload: dict[str, Any]
    give_up_at: float
    """time.monotonic() after which no attempt starts."""


class Notifier:
    """Call it with each event of one deploy; ``await close()`` once the deploy ended."""

    def __init__(self, settings: Notifications, record: Record, post: Post = http.post) -> None:
        self._settings = settings
        self._record = record
        self._post = post
        self._deploy: dict[str, Any] = {}
        self._servers: dict[str, dict[str, Any]] = {}
        self._queues = [asyncio.Queue[Message | None]() for _ in settings.webhooks]
        self._workers: list[asyncio.Task[None]] = []

    def __call__(self, event: Event) -> None:
        if isinstance(event, DeployStarted):
            self._deploy = {
                "deploy_id": event.deploy_id,
                "application": event.application,
                "version": event.version,
                "strategy": event.strategy,
            }
            self._servers = {name: {"server": name, "status": "queued"} for name in event.servers}
            self._send("started", {"status": "running", "summary": "deploy started"})
        elif isinstance(event, ServerFinished):
            self._servers[event.server] = {
                "server": event.server,
                "status": event.status,
                "detail": event.detail,
                "in_rotation": event.in_rotation,
            }
        elif isinstance(event, DeployFinished) and self._deploy:
            self._send("finished", {"status": event.status, "summary": event.summary})

    async def close(self) -> None:
        """Wait for queued messages, at most ``deadline`` seconds; give up on the rest."""
        if not self._workers:
            return
        for queue in self._queues:
            queue.put_nowait(None)
        _, late = await asyncio.wait(self._workers, timeout=self._settings.deadline)
        for worker in late:
            worker.cancel()
        await asyncio.gather(*self._workers, return_exceptions=True)

    def _send(self, name: str, outcome: dict[str, str]) -> None:
        payload = {
            "event": f"deploy_{name}",
            **self._deploy,
            **outcome,
            "servers": list(self._servers.values()),
            "url": self._link(),
        }
        message = Message(name, payload, time.monotonic() + self._settings.deadline)
        if not self._workers:
            self._workers = [
                asyncio.create_task(self._work(hook, queue))
                for hook, queue in zip(self._settings.webhooks, self._queues, strict=True)
            ]
        for queue in self._queues:
            queue.put_nowait(message)

    def _link(self) -> str | None:
        base = self._settings.dashboard_url
        return f"{base.rstrip('/')}/deploys/{self._deploy['deploy_id']}" if base else None

    async def _work(self, webhook: Webhook, queue: asyncio.Queue[Message | None]) -> None:
        while (message := await queue.get()) is not None:
            try:
                await self._deliver(webhook, message)
            except asyncio.CancelledError:
                self._note(webhook, message, 0, "gave up", "the deploy's end waited long enough")
                raise

    async def _deliver(self, webhook: Webhook, message: Message) -> None:
        body = json.dumps(render(webhook.format, message.payload)).encode()
        headers = {"Content-Type": "application/json"}
        delay, attempt = FIRST_RETRY, 0
        while True:
            attempt += 1
            remaining = max(message.give_up_at - time.monotonic(), 0.1)
            timeout = min(self._settings.timeout, remaining)
            delivered, retryable, detail = await self._attempt(webhook, body, headers, timeout)
            if delivered:
                self._note(webhook, message, attempt, "delivered", detail)
                return
            retry = retryable and time.monotonic() + delay < message.give_up_at
            self._note(webhook, message, attempt, "retrying" if retry else "gave up", detail)
            if not retry:
                return
            await asyncio.sleep(delay)
            delay = min(delay * 2, LONGEST_RETRY)

    async def _attempt(
        self, webhook: Webhook, body: bytes, headers: dict[str, str], timeout: float
    ) -> tuple[bool, bool, str]:
        """(delivered, worth retrying, what happened)."""
        try:
            status = await self._post(webhook.url, body, headers, timeout)
        except TimeoutError:
            return False, True, f"no answer within {timeout:g}s"
        except OSError as exc:
            return False, True, str(exc) or type(exc).__name__
        if 200 <= status < 300:
            return True, False, f"HTTP {status}"
        return False, status >= 500 or status in {408, 429}, f"HTTP {status}"

    def _note(
        self, webhook: Webhook, message: Message, attempt: int, outcome: str, detail: str
    ) -> None:
        entry = NotificationAttempt(
            time.time(), http.redacted(webhook.url), message.name, attempt, outcome, detail
        )
        try:
            self._record(int(self._deploy["deploy_id"]), entry)
        except Exception as exc:  # a notification never fails the deploy
            log.warning("could not record a notification attempt: %s", exc)


def render(format_: str, payload: dict[str, Any]) -> dict[str, Any]:
    """The body a webhook gets: the payload itself, or Slack's ``{"text": ...}``."""
    if format_ != "slack":
        return payload
    started = payload["event"] == "deploy_started"
    head = (
        f"baton: {payload['application']} deploy #{payload['deploy_id']} "
        f"({payload['version']}, {payload['strategy']}) "
        f"{'started' if started else payload['status']}"
    )
    lines = [head if started else f"{head}: {payload['summary']}"]
    if not started:
        lines += [
            f"• {s['server']}: {s['status']} {s.get('detail', '')}".rstrip()
            for s in payload["servers"]
        ]
    if payload["url"]:
        lines.append(payload["url"])
    return {"text": "\n".join(lines)}
