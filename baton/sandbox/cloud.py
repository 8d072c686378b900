"""A cloud load balancer's data plane: HAProxy following moto's target group, ``lag`` late.

In AWS the API (the control plane) answers at once and the load balancer's nodes (the data
plane) act on a change seconds later. This process does that on one machine: it reads the
target group's health from moto every ``POLL`` seconds and, ``lag`` seconds after a target
changed there, sets the matching HAProxy server: registered and healthy -> ready, draining ->
drain, deregistered -> maint. At start the current state is applied at once. Run it with
``python -m baton.sandbox.cloud``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
import time
from collections import deque
from pathlib import Path
from typing import Any

from baton.sandbox.lag import ask
from baton.sandbox.moto import client

log = logging.getLogger("baton.sandbox.cloud")
POLL = 0.1


HAPROXY_STATES = {"healthy": "ready", "draining": "drain"}
"""AWS target state -> HAProxy server state; anything else (deregistered, unhealthy) is maint."""


def wanted_states(health: list[dict[str, Any]], members: dict[str, str]) -> dict[str, str]:
    """HAProxy server name -> the state moto's target health asks for."""
    states = {f"{d['Target']['Id']}:{d['Target']['Port']}": d["TargetHealth"] for d in health}
    return {
        name: HAPROXY_STATES.get(states.get(member, {}).get("State", ""), "maint")
        for name, member in members.items()
    }


class Follower:
    """Applies moto's target group to HAProxy's backend with ``lag`` seconds of delay."""

    def __init__(
        self, endpoint: str, arn: str, socket: Path, backend: str, members: dict[str, str],
        lag: float,
    ) -> None:  # fmt: skip
        self.arn, self.socket, self.backend, self.lag = arn, socket, backend, lag
        self.members = members
        self.elbv2 = client(endpoint)
        self.seen: dict[str, str] = {}
        self.pending: deque[tuple[float, str, str]] = deque()

    async def run(self) -> None:
        await self._apply_all(await self._wanted())
        while True:
            await self.step(time.monotonic())
            await asyncio.sleep(POLL)

    async def step(self, now: float) -> None:
        for name, state in (await self._wanted()).items():
            if self.seen.get(name) != state:
                self.seen[name] = state
                self.pending.append((now + self.lag, name, state))
                log.info("moto: %s -> %s, applying in %.1fs", name, state, self.lag)
        while self.pending and self.pending[0][0] <= now:
            _, name, state = self.pending.popleft()
            await self._set(name, state)

    async def _wanted(self) -> dict[str, str]:
        reply = await asyncio.to_thread(self.elbv2.describe_target_health, TargetGroupArn=self.arn)
        return wanted_states(reply["TargetHealthDescriptions"], self.members)

    async def _apply_all(self, states: dict[str, str]) -> None:
        self.seen = dict(states)
        for name, state in states.items():
            await self._set(name, state)

    async def _set(self, name: str, state: str) -> None:
        reply = await ask(self.socket, f"set server {self.backend}/{name} state {state}")
        log.info("haproxy: %s -> %s %s", name, state, reply.strip())


async def run(follower: Follower) -> None:
    """Follow until SIGTERM or SIGINT."""
    task = asyncio.create_task(follower.run())
    for signum in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(signum, task.cancel)
    with contextlib.suppress(asyncio.CancelledError):
        await task


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="HAProxy following a moto target group, late.")
    parser.add_argument("--endpoint", required=True, help="moto's URL")
    parser.add_argument("--target-group", required=True, help="the target group's ARN")
    parser.add_argument("--socket", type=Path, required=True, help="HAProxy's admin socket")
    parser.add_argument("--backend", required=True, help="HAProxy's backend")
    parser.add_argument("--member", action="append", default=[], help="NAME=IP:PORT")
    parser.add_argument("--lag", type=float, required=True, help="seconds behind moto")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    members = dict(member.split("=", 1) for member in args.member)
    follower = Follower(
        args.endpoint, args.target_group, args.socket, args.backend, members, args.lag
    )
    asyncio.run(run(follower))
    return 0


if __name__ == "__main__":
    sys.exit(main())
