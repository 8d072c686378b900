"""Recovery from what a killed deploy leaves in the journal, with the fake fleet.

The real-fleet kill tests cannot aim at the instant between journalling an add and HAProxy
confirming it; here the journal is written as such a kill leaves it."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from pathlib import Path

from baton.drivers import Membership
from baton.drivers.fake import FakeFleet, FakeLoadBalancer, Timeline
from baton.execution import Event, run_deploy
from baton.execution.events import Warned
from baton.planning import DeployOptions, Strategy, build_plan
from baton.settings import Settings
from baton.state import JournalEntry, LockHolder, Store
from tests.manifests import manifest


def killed_while_adding(store: Store, server: str) -> None:
    """A deploy killed after journalling "add intended", before the add was confirmed."""
    dead = replace(LockHolder.this_process(), pid=2**22 + 11)
    deploy_id = store.start_deploy("shop", "v1", "serial", {}, [], dead)
    for action, state in (("remove", "intended"), ("remove", "done"), ("add", "intended")):
        store.journal(JournalEntry("shop", "main", server, action, state, deploy_id, time.time()))


async def test_a_server_killed_while_being_added_is_put_back_first(tmp_path: Path) -> None:
    m = manifest(2, health=True, migration=False)
    fleet, store = FakeFleet(m), Store(tmp_path)
    killed_while_adding(store, "web2")
    fleet.load_balancers["main"].state["web2"] = Membership.OUT_OF_ROTATION
    events: list[Event] = []
    plan = build_plan(m, Settings(), DeployOptions("v2", Strategy.SERIAL), [])
    report = await run_deploy(plan, store, drivers=fleet.drivers(), sinks=[events.append])
    assert report.result.status == "succeeded"
    assert next(e.server for e in fleet.timeline.entries if e.what == "add") == "web2"
    warnings = [e.message for e in events if isinstance(e, Warned)]
    assert any(w.startswith("recovery: web2 was left out") for w in warnings), warnings
    assert [d.status for d in store.deploys("shop")] == ["succeeded", "abandoned"]


async def test_a_confirmed_add_is_not_recovered_again(tmp_path: Path) -> None:
    m = manifest(2, health=True, migration=False)
    fleet, store = FakeFleet(m), Store(tmp_path)
    killed_while_adding(store, "web2")
    store.journal(JournalEntry("shop", "main", "web2", "add", "done", 1, time.time()))
    plan = build_plan(m, Settings(), DeployOptions("v2", Strategy.SERIAL), [])
    events: list[Event] = []
    await run_deploy(plan, store, drivers=fleet.drivers(), sinks=[events.append])
    assert not [e for e in events if isinstance(e, Warned) and "recovery" in e.message]


class SlowToAdd(FakeLoadBalancer):
    """Takes 0.3 s to add a server, and says when it starts."""

    def __init__(self, name: str, servers: list[str], timeline: Timeline) -> None:
        super().__init__(name, servers, timeline)
        self.adding = asyncio.Event()

    async def add(self, server: str) -> None:
        self.adding.set()
        await asyncio.sleep(0.3)
        await super().add(server)


async def test_ctrl_c_while_a_server_is_being_added_reports_it_in_rotation(
    tmp_path: Path,
) -> None:
    m = manifest(2, migration=False)
    fleet, store = FakeFleet(m), Store(tmp_path)
    slow = fleet.load_balancers["main"] = SlowToAdd("main", ["web1", "web2"], fleet.timeline)
    plan = build_plan(m, Settings(), DeployOptions("v2", Strategy.SERIAL), [])
    task = asyncio.create_task(run_deploy(plan, store, drivers=fleet.drivers()))
    await slow.adding.wait()
    task.cancel()
    report = await task
    web1 = report.result.servers[0]
    assert slow.state["web1"] is Membership.IN_ROTATION
    assert (web1.status, web1.in_rotation) == ("cancelled", True), report.result.summary()
    last = {e.server: (e.action, e.state) for e in store.journal_entries("shop")}
    assert last["web1"] == ("add", "done")
