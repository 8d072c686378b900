"""A burst of signed webhook requests: one deploy starts, the rest queue in the order they
arrived (one per application, the newest wins), and the newest is what the fleet ends on.

Connecting to a server takes a different while each time, as over SSH, so preflights end in
another order than they began: the queue must be decided when a request arrives, not when a
preflight fails on the lock.
"""

from __future__ import annotations

import asyncio
import random
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from baton.clock import SYSTEM_CLOCK, Clock, FakeClock
from baton.config import Server, load_manifest
from baton.drivers.fake import FakeFleet, FakeTransport, Script, Timeline
from baton.state import LockHolder, Store
from baton.web import Credentials, create_app
from tests.web.conftest import API_TOKEN, HOOK_SECRET
from tests.web.fakes import slow_script, write_manifest
from tests.web.live_server import LiveServer
from tests.web.test_webhook import call, until

BURST = [f"b{n:02}" for n in range(1, 21)]
APART = 0.02
"""Seconds between two requests of the burst."""


class SlowConnect(FakeTransport):
    """A fake server that takes ``seconds`` to accept the preflight's connection (the deploy's
    later checks of it are quick)."""

    def __init__(self, server: Server, timeline: Timeline, script: Script, seconds: float):
        super().__init__(server, timeline, script)
        self.seconds = seconds

    async def open(self) -> None:
        await self.timeline.clock.sleep(self.seconds)
        self.seconds = 0.0
        await super().open()


class SlowConnects(FakeFleet):
    """Each connection takes 0.5-1.5 s (seeded), longer than the whole burst takes to arrive."""

    waits = random.Random(21)
    """Seeded: the same order of preflights every run."""
    between = (0.5, 1.5)

    def transport(self, server: Server) -> FakeTransport:
        return SlowConnect(server, self.timeline, self.script, self.waits.uniform(*self.between))


@pytest.fixture
def fleet(manifest_path: Path) -> FakeFleet:
    fleet = SlowConnects(load_manifest(manifest_path), slow_script(), FakeClock())
    fleet.waits = random.Random(21)  # each test from the start of the same sequence
    return fleet


async def burst(api: httpx.AsyncClient, clock: Clock = SYSTEM_CLOCK) -> list[dict[str, Any]]:
    """Send BURST, APART seconds from one another; each request's answer, in order."""

    async def send(index: int, version: str) -> httpx.Response:
        await clock.sleep(index * APART)
        return await call(api, f'{{"version": "{version}"}}'.encode(), clock)

    answers = await asyncio.gather(*(send(i, v) for i, v in enumerate(BURST)))
    return [answer.json() for answer in answers]


async def settled(app: FastAPI) -> None:
    """Wait until nothing waits and nothing runs."""
    dashboard = app.state.dashboard
    await until(
        lambda: dashboard.pending.pending("shop") is None and not dashboard.launcher.running
    )


async def test_a_burst_deploys_the_first_then_the_newest_and_every_answer_says_so(
    hooked: FastAPI, api: httpx.AsyncClient, fleet: FakeFleet
) -> None:
    answers = await burst(api, fleet.clock)
    await settled(hooked)

    history = (await api.get("/api/deploys")).json()
    assert [(d["version"], d["status"]) for d in history] == [
        ("b20", "succeeded"),
        ("b01", "succeeded"),
    ]
    assert [(a["queued"], a["deploy_id"]) for a in answers] == [(False, history[1]["id"])] + [
        (True, None)
    ] * 19
    assert [a["replaced"] for a in answers] == [None, None, *BURST[1:-1]]
    for server in ("web1", "web2", "web3"):
        fetched = [c for c in fleet.timeline.commands(server) if c.startswith("fetch")]
        assert fetched == ["fetch b01", "fetch b20"]
    app = (await api.get("/api/apps/shop")).json()
    assert {s["version"] for s in app["servers"]} == {"b20"}
    assert (app["queued_start"]["version"], app["queued_start"]["deploy_id"]) == (
        "b20",
        history[0]["id"],
    )


async def test_a_deploy_started_elsewhere_during_the_first_preflight_runs_then_the_newest(
    hooked: FastAPI, api: httpx.AsyncClient, fleet: FakeFleet
) -> None:
    """The command line takes the lock while b01's preflight connects: b01 fails on it, and
    as b02-b20 arrived meanwhile, b20 (not b01) waits, then runs once the lock frees."""
    store: Store = hooked.state.dashboard.store

    async def from_the_command_line() -> None:
        await fleet.clock.sleep(APART * 2.5)
        elsewhere = store.start_deploy("shop", "cli", "serial", {}, [], LockHolder.this_process())
        await fleet.clock.sleep(10)
        store.finish_deploy(elsewhere, "succeeded", "deployed from the command line")

    answers, _ = await asyncio.gather(burst(api, fleet.clock), from_the_command_line())
    await settled(hooked)

    history = (await api.get("/api/deploys")).json()
    assert [(d["version"], d["status"]) for d in history] == [
        ("b20", "succeeded"),
        ("cli", "succeeded"),
    ]
    assert [(a["queued"], a["deploy_id"]) for a in answers] == [(True, None)] * 20
    assert [a["replaced"] for a in answers] == [None, None, *BURST[1:-1]]
    assert fleet.timeline.commands("web1") == ["fetch b20", "migrate b20", "restart web1"]


def test_a_burst_against_a_live_server_deploys_the_newest_last(tmp_path: Path) -> None:
    """The same burst over real HTTP to uvicorn, as CI sends it to ``baton serve``, on real
    time: connections take 1-1.5 s (a margin on a busy machine), the burst arrives in 0.4 s."""
    manifest = write_manifest(tmp_path)
    fleet = SlowConnects(load_manifest(manifest), Script(), SYSTEM_CLOCK)
    fleet.waits, fleet.between = random.Random(21), (1.0, 1.5)
    credentials = Credentials(api_token=API_TOKEN)
    app = create_app(tmp_path / "state", [manifest], fleet.drivers(), credentials=credentials)
    app.state.hook_secret = HOOK_SECRET
    with LiveServer(app) as live:
        answers = asyncio.run(burst_over_http(live.url))
        headers = {"Authorization": f"Bearer {API_TOKEN}"}
        shop = poll_until_settled(f"{live.url}/api/apps/shop", headers)
        history = httpx.get(f"{live.url}/api/deploys", headers=headers).json()
    started, newest = arrival(answers)
    assert [d["version"] for d in history] == [newest, started]
    assert {s["version"] for s in shop["servers"]} == {newest}


def arrival(answers: list[dict[str, Any]]) -> tuple[str, str]:
    """(the version started at once, the newest by arrival) as the answers tell it: over real
    HTTP on a busy machine, requests sent 20 ms apart may arrive in another order, so the
    order is read from the answers, each queued one naming the one it replaced: one chain
    through every queued version, whose last link is the newest."""
    versions = dict(zip(BURST, answers, strict=True))
    started = [v for v, a in versions.items() if not a["queued"]]
    queued = {v: a["replaced"] for v, a in versions.items() if a["queued"]}
    assert len(started) == 1 and len(queued) == len(BURST) - 1
    replaced = set(queued.values())
    assert len(replaced - {None}) == len(queued) - 1  # each replaced exactly once
    (newest,) = set(queued) - replaced
    chain, link = [], newest
    while link is not None:
        chain.append(link)
        link = queued[link]
    assert sorted(chain) == sorted(queued)  # one chain through every queued version
    return started[0], newest


async def burst_over_http(url: str) -> list[dict[str, Any]]:
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        return await burst(client)


def poll_until_settled(url: str, headers: dict[str, str]) -> dict[str, Any]:
    """The application once nothing waits or runs (a real server: real time)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        shop: dict[str, Any] = httpx.get(url, headers=headers).json()
        started = shop["queued_start"] is not None  # else the newest is still in preflight
        if started and shop["pending_deploy"] is None and shop["running_deploy"] is None:
            return shop
        time.sleep(0.1)
    raise AssertionError(f"still busy after 30 s: {shop}")
