"""Interrupts, preflight, locks and recovery, with recording fakes."""

import asyncio
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from baton import InputError, LoadBalancerError, LockError, UnreachableError
from baton.config import Manifest
from baton.drivers import Membership
from baton.drivers.fake import FakeFleet
from baton.execution import run_deploy
from baton.execution.rollback import rollback_version
from baton.execution.runner import recover_stranded
from baton.planning import DeployOptions, Strategy, build_plan
from baton.settings import Settings
from baton.state import JournalEntry, LockHolder, Store
from tests.manifests import manifest

SERIAL = DeployOptions(version="v2", strategy=Strategy.SERIAL)


def plan_for(m: Manifest, store: Store, options: DeployOptions = SERIAL):  # type: ignore[no-untyped-def]
    return build_plan(m, Settings(), options, store.applied_values(m.application))


async def test_interrupt_while_waiting_puts_the_server_back(
    tmp_path: Path, fake_fleet: Callable[[Manifest], FakeFleet]
) -> None:
    m = manifest(2, waits=(5, None), migration=False)
    fleet, store = fake_fleet(m), Store(tmp_path)
    task = asyncio.create_task(run_deploy(plan_for(m, store), store, drivers=fleet.drivers()))
    await fleet.clock.sleep(0.3)
    assert fleet.timeline.out == {"web1"}
    task.cancel()
    report = await task
    assert report.result.status == "cancelled"
    assert fleet.timeline.out == set() and not fleet.timeline.commands()
    outcome = {o.server: o for o in report.result.servers}
    assert outcome["web1"].status == "cancelled" and outcome["web1"].in_rotation
    assert outcome["web2"].status == "not started"
    assert store.deploys("shop")[0].status == "cancelled"
    assert store.lock_holder("shop") is None


async def test_interrupt_during_a_step_leaves_the_changed_server_out_and_says_so(
    tmp_path: Path, fake_fleet: Callable[[Manifest], FakeFleet]
) -> None:
    m = manifest(2, migration=False)
    fleet, store = fake_fleet(m), Store(tmp_path)
    fleet.script.on("restart", seconds=5)
    task = asyncio.create_task(run_deploy(plan_for(m, store), store, drivers=fleet.drivers()))
    await fleet.clock.sleep(0.3)
    task.cancel()
    report = await task
    web1 = report.result.servers[0]
    assert web1.status == "cancelled" and web1.in_rotation is False
    assert fleet.timeline.out == {"web1"}
    assert "OUT of rotation" in report.result.summary()


async def test_unreachable_server_stops_everything_before_any_change(
    tmp_path: Path, fake_fleet: Callable[[Manifest], FakeFleet]
) -> None:
    m = manifest(3)
    fleet, store = fake_fleet(m), Store(tmp_path)
    fleet.script.unreachable.add("web3")
    with pytest.raises(UnreachableError, match=r"preflight: 1 of 3 server\(s\) unreachable.*web3"):
        await run_deploy(plan_for(m, store), store, drivers=fleet.drivers())
    assert not [e for e in fleet.timeline.entries if e.what in {"run", "remove"}]
    assert store.deploys("shop") == [] and store.applied_values("shop") == []


async def test_load_balancer_that_does_not_know_a_server_fails_preflight(
    tmp_path: Path, fake_fleet: Callable[[Manifest], FakeFleet]
) -> None:
    m = manifest(2)
    fleet, store = fake_fleet(m), Store(tmp_path)
    del fleet.load_balancers["main"].state["web2"]
    with pytest.raises(LoadBalancerError, match="does not know server"):
        await run_deploy(plan_for(m, store), store, drivers=fleet.drivers())
    assert store.deploys("shop") == []


async def test_second_deploy_reports_the_holder_or_waits(
    tmp_path: Path, fake_fleet: Callable[[Manifest], FakeFleet]
) -> None:
    m = manifest(2, migration=False)
    store = Store(tmp_path)
    slow = fake_fleet(m)
    slow.script.on("restart", seconds=0.5)
    first = asyncio.create_task(run_deploy(plan_for(m, store), store, drivers=slow.drivers()))
    await slow.clock.sleep(0.1)
    other = fake_fleet(m)
    with pytest.raises(LockError, match=r"already running.*deploy #1, pid"):
        await run_deploy(plan_for(m, store), store, drivers=other.drivers())
    second = await run_deploy(plan_for(m, store), store, drivers=other.drivers(), lock_wait=5)
    assert (await first).result.status == "succeeded"
    assert second.result.status == "succeeded" and second.deploy_id == 2


def kill_a_deploy_midway(store: Store, server: str) -> None:
    """What a SIGKILLed deploy leaves: running status, a dead pid, a journalled removal."""
    dead = replace(LockHolder.this_process(), pid=2**22 + 7)
    deploy_id = store.start_deploy("shop", "v1", "serial", {}, [], dead)
    store.journal(JournalEntry("shop", "main", server, "remove", "done", deploy_id, time.time()))


async def test_next_deploy_restores_a_server_a_killed_deploy_left_out(
    tmp_path: Path, fake_fleet: Callable[[Manifest], FakeFleet]
) -> None:
    m = manifest(2, health=True, migration=False)
    fleet, store = fake_fleet(m), Store(tmp_path)
    kill_a_deploy_midway(store, "web2")
    fleet.load_balancers["main"].state["web2"] = Membership.OUT_OF_ROTATION
    events: list[object] = []
    report = await run_deploy(
        plan_for(m, store), store, drivers=fleet.drivers(), sinks=[events.append]
    )
    assert report.result.status == "succeeded"
    assert store.deploys("shop")[1].status == "abandoned"
    adds = [e.server for e in fleet.timeline.entries if e.what == "add"]
    assert adds[0] == "web2"  # put back before the deploy took anything out
    assert any("recovery: web2" in getattr(e, "message", "") for e in events)


async def test_recover_command_reports_an_unhealthy_server_and_leaves_it_out(
    tmp_path: Path, fake_fleet: Callable[[Manifest], FakeFleet]
) -> None:
    m = manifest(2, health=True, migration=False)
    fleet, store = fake_fleet(m), Store(tmp_path)
    kill_a_deploy_midway(store, "web1")
    store.finish_deploy(1, "abandoned", "")
    fleet.script.on(r"^web1: check", exit_status=1)
    outcomes = await recover_stranded(m, store, drivers=fleet.drivers())
    assert [(o.server, o.restored) for o in outcomes] == [("web1", False)]
    assert not [e for e in fleet.timeline.entries if e.what == "add"]


async def test_servers_a_failed_deploy_left_out_are_not_restored(
    tmp_path: Path, fake_fleet: Callable[[Manifest], FakeFleet]
) -> None:
    m = manifest(2, health=True, migration=False)
    fleet, store = fake_fleet(m), Store(tmp_path)
    kill_a_deploy_midway(store, "web1")
    store.finish_deploy(1, "failed", "")
    assert await recover_stranded(m, store, drivers=fleet.drivers()) == []


def test_rollback_picks_the_last_good_version_before_the_newest(tmp_path: Path) -> None:
    store = Store(tmp_path)
    for version, status in (("v1", "succeeded"), ("v2", "succeeded"), ("v3", "failed")):
        deploy_id = store.start_deploy("shop", version, "serial", {}, [], LockHolder.this_process())
        store.finish_deploy(deploy_id, status, "")
    assert rollback_version(store, "shop") == "v2"
    assert rollback_version(store, "shop", to=1) == "v1"
    with pytest.raises(InputError, match="deploy #3 failed"):
        rollback_version(store, "shop", to=3)
