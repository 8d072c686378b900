"""The clock everything waits on: fake time that jumps, and poll_until over it."""

from __future__ import annotations

import asyncio
import time

from baton.clock import FakeClock, poll_until


def test_sleepers_wake_in_deadline_order_on_fake_time_without_real_waiting() -> None:
    clock = FakeClock()
    woke: list[tuple[str, float]] = []

    async def sleeper(name: str, seconds: float) -> None:
        await clock.sleep(seconds)
        woke.append((name, clock.monotonic()))

    async def main() -> None:
        await asyncio.gather(sleeper("b", 5.0), sleeper("a", 2.0), sleeper("c", 5.0))

    started = time.monotonic()
    asyncio.run(main())
    assert woke == [("a", 2.0), ("b", 5.0), ("c", 5.0)]
    assert time.monotonic() - started < 1.0


def test_parallel_waits_overlap_and_serial_waits_add_up() -> None:
    clock = FakeClock()

    async def serial() -> None:
        for _ in range(3):
            await clock.sleep(4.0)

    async def parallel() -> None:
        await asyncio.gather(*(clock.sleep(4.0) for _ in range(3)))

    asyncio.run(parallel())
    assert clock.monotonic() == 4.0
    asyncio.run(serial())
    assert clock.monotonic() == 16.0
    assert clock.time() == 1_700_000_000.0 + 16.0


def test_a_cancelled_sleeper_does_not_move_time() -> None:
    clock = FakeClock()

    async def main() -> None:
        long = asyncio.ensure_future(clock.sleep(100.0))
        await asyncio.sleep(0)
        long.cancel()
        await clock.sleep(1.0)

    asyncio.run(main())
    assert clock.monotonic() == 1.0


def test_poll_until_returns_the_first_done_answer_or_the_last_at_the_deadline() -> None:
    clock = FakeClock()
    answers = iter(range(100))

    async def ask() -> int:
        return next(answers)

    assert asyncio.run(poll_until(ask, lambda n: n == 3, timeout=10, interval=1, clock=clock)) == 3
    assert clock.monotonic() == 3.0
    late = asyncio.run(poll_until(ask, lambda n: False, timeout=2.5, interval=1, clock=clock))
    assert late == 7  # asked at 0, 1, 2 and 2.5 s after the start
    assert clock.monotonic() == 5.5


def test_two_fake_clocks_on_one_loop_both_move() -> None:
    first, second = FakeClock(), FakeClock()

    async def main() -> None:
        await asyncio.wait_for(asyncio.gather(first.sleep(3.0), second.sleep(7.0)), timeout=5)

    started = time.monotonic()
    asyncio.run(main())
    assert (first.monotonic(), second.monotonic()) == (3.0, 7.0)
    assert time.monotonic() - started < 1.0
