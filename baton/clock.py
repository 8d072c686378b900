"""Time as a dependency: the wall clock, a monotonic clock and sleep, passed in.

The engine, health checks, waits and the drivers' polling never read ``time`` or call
``asyncio.sleep`` themselves; they are handed a :class:`Clock`. A deploy gets
:data:`SYSTEM_CLOCK`; tests pass a :class:`FakeClock`, whose ``sleep`` jumps its time forward
as soon as every task is waiting, so "wait 5 s" asserts 5 s of fake time in a millisecond.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections.abc import Awaitable, Callable
from typing import Protocol, TypeVar

T = TypeVar("T")

__all__ = ["SYSTEM_CLOCK", "Clock", "FakeClock", "SystemClock", "poll_until"]


class Clock(Protocol):
    """Where time comes from: ``time`` for what is recorded, ``monotonic`` for deadlines."""

    def time(self) -> float:
        """Seconds since the epoch, as recorded in history."""
        ...

    def monotonic(self) -> float:
        """Seconds from an arbitrary start that never goes back: for deadlines and durations."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds``."""
        ...


class SystemClock:
    """The real clock."""

    def time(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


SYSTEM_CLOCK: Clock = SystemClock()

SETTLE_ROUNDS = 8
"""Turns of the event loop a FakeClock lets pass, with nothing ready to run, before it jumps."""


class FakeClock:
    """Virtual time for tests: sleepers wake in order of their deadlines, and time jumps to
    the next deadline once the event loop has nothing else to run (as trio's autojump clock).

    Only for code whose waits all go through this clock: a task blocked on real I/O does not
    hold time back.
    """

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self._epoch = start
        self._now = 0.0
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()
        self._settling = False

    def time(self) -> float:
        return self._epoch + self._now

    def monotonic(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        """Move time forward by hand (for code that is not awaiting this clock)."""
        self._now += seconds
        self._wake_due()

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        heapq.heappush(self._sleepers, (self._now + seconds, next(self._order), future))
        self._settle_soon(loop)
        await future

    def _settle_soon(self, loop: asyncio.AbstractEventLoop) -> None:
        if not self._settling:
            self._settling = True
            loop.call_soon(self._settle, loop, SETTLE_ROUNDS)

    def _settle(self, loop: asyncio.AbstractEventLoop, rounds: int) -> None:
        """Let ready tasks run first; when the loop is idle, jump to the next deadline."""
        busy = any(not _is_settling(handle) for handle in getattr(loop, "_ready", ()))
        if rounds > 0 or busy:
            loop.call_soon(self._settle, loop, rounds - 1 if not busy else SETTLE_ROUNDS)
            return
        self._settling = False
        self._drop_cancelled()
        if self._sleepers:
            self._now = max(self._now, self._sleepers[0][0])
            self._wake_due()
        if self._sleepers:
            self._settle_soon(loop)

    def _drop_cancelled(self) -> None:
        while self._sleepers and self._sleepers[0][2].done():
            heapq.heappop(self._sleepers)

    def _wake_due(self) -> None:
        while self._sleepers and self._sleepers[0][0] <= self._now:
            _, _, future = heapq.heappop(self._sleepers)
            if not future.done():
                future.set_result(None)


def _is_settling(handle: object) -> bool:
    """A FakeClock's own settling turn: two fake clocks on one loop must not each take the
    other's turn for work still to run, or neither would ever jump."""
    callback = getattr(handle, "_callback", None)
    return isinstance(getattr(callback, "__self__", None), FakeClock)


async def poll_until(
    ask: Callable[[], Awaitable[T]],
    done: Callable[[T], bool],
    *,
    timeout: float,
    interval: float,
    clock: Clock = SYSTEM_CLOCK,
) -> T:
    """Ask until ``done(answer)`` or ``timeout`` seconds have passed; the last answer either
    way (the caller says what a late one means). Asks at least once."""
    deadline = clock.monotonic() + timeout
    while True:
        answer = await ask()
        left = deadline - clock.monotonic()
        if done(answer) or left <= 0:
            return answer
        await clock.sleep(min(interval, left))
