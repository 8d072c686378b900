"""Steady HTTP load through the load balancer, counting every failed request.

Requests start on a fixed schedule (``rate`` per second), each on its own connection and in its
own task, so a slow or refused request never delays the next one: what a user of the site would
see. A request fails when it gets no answer within ``timeout``, a connection error, or a status
other than 200. Use it as a library::

    traffic = Traffic("http://127.0.0.1:8080/", rate=50)
    traffic.start()
    ...  # deploy
    report = await traffic.stop()
    assert report.failed == 0
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from baton.drivers.http import get

MAX_IN_FLIGHT = 500


@dataclass
class TrafficReport:
    """What the traffic saw: requests sent and failed, versions served, failures by kind."""

    url: str
    sent: int = 0
    failed: int = 0
    seconds: float = 0.0
    versions: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    last_version: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "sent": self.sent,
            "failed": self.failed,
            "seconds": round(self.seconds, 2),
            "versions": dict(self.versions),
            "errors": dict(self.errors),
            "last_version": self.last_version,
        }

    def summary(self) -> str:
        versions = ", ".join(f"{v}: {n}" for v, n in sorted(self.versions.items())) or "none"
        errors = ", ".join(f"{e}: {n}" for e, n in self.errors.most_common()) or "none"
        return (
            f"{self.sent} requests in {self.seconds:.1f}s to {self.url}, {self.failed} failed\n"
            f"versions served: {versions}\nfailures: {errors}"
        )


class Traffic:
    """Requests at ``rate`` per second until stopped, ``duration`` passes or ``limit`` are sent."""

    def __init__(
        self,
        url: str,
        *,
        rate: float = 50.0,
        duration: float | None = None,
        limit: int | None = None,
        timeout: float = 5.0,
    ) -> None:
        self.report = TrafficReport(url)
        self.rate, self.duration, self.limit, self.timeout = rate, duration, limit, timeout
        self._stopping = asyncio.Event()
        self._in_flight: set[asyncio.Task[None]] = set()
        self._task: asyncio.Task[TrafficReport] | None = None

    def start(self) -> None:
        """Run in the background of the current event loop; :meth:`stop` ends it."""
        self._task = asyncio.create_task(self.run())

    def stop_soon(self) -> None:
        """Stop sending; :meth:`run` returns once the requests in flight are done."""
        self._stopping.set()

    async def stop(self) -> TrafficReport:
        """Stop sending, wait for the requests in flight, and return the report."""
        self.stop_soon()
        return await self._task if self._task is not None else self.report

    async def run(self) -> TrafficReport:
        """Send until stopped or a bound is reached; return the report."""
        began = time.monotonic()
        for n in range(self.limit if self.limit is not None else 2**62):
            due = began + n / self.rate
            if self.duration is not None and due - began >= self.duration:
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), max(0.0, due - time.monotonic()))
            if self._stopping.is_set():
                break
            self._send()
        if self._in_flight:
            await asyncio.wait(self._in_flight)
        self.report.seconds = time.monotonic() - began
        return self.report

    def _send(self) -> None:
        self.report.sent += 1
        if len(self._in_flight) >= MAX_IN_FLIGHT:
            self._fail("too many requests in flight")
            return
        task = asyncio.create_task(self._one())
        self._in_flight.add(task)
        task.add_done_callback(self._in_flight.discard)

    async def _one(self) -> None:
        try:
            status, body = await get(self.report.url, self.timeout)
        except TimeoutError:
            self._fail("timeout")
        except OSError as exc:
            self._fail(os.strerror(exc.errno) if exc.errno else type(exc).__name__)
        else:
            if status != 200:
                self._fail(f"HTTP {status}")
            else:
                self.report.versions[body] += 1
                self.report.last_version = body

    def _fail(self, kind: str) -> None:
        self.report.failed += 1
        self.report.errors[kind] += 1


async def measure(url: str, *, rate: float, duration: float | None) -> TrafficReport:
    """Run traffic in the foreground until ``duration`` passes or SIGINT (Ctrl-C)."""
    traffic = Traffic(url, rate=rate, duration=duration)
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGINT, traffic.stop_soon)
    try:
        return await traffic.run()
    finally:
        loop.remove_signal_handler(signal.SIGINT)
