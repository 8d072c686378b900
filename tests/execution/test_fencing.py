"""A deploy whose lock another deploy took over (it was frozen past the stale time) stops at
once and touches nothing more, on fake time and fakes (issue 21). The same with two real
processes, SIGSTOP and a real fleet is in tests/reliability/test_fencing.py."""

import asyncio
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from baton.clock import FakeClock
from baton.config import Manifest
from baton.drivers.fake import FakeFleet
from baton.execution import run_deploy
from baton.execution.runner import HEARTBEAT_EVERY
from baton.planning import DeployOptions, Strategy, build_plan
from baton.settings import Settings
from baton.state import LockHolder, Store
from tests.manifests import manifest

ACTIONS = {"remove", "add", "run"}


def _take_over(location: Path) -> int:
    """What a deploy in another container does once this one's heartbeat is stale."""
    other = Store(location)
    other._db.query("UPDATE locks SET pid_namespace = 1, since = 0, heartbeat = 0")
    elsewhere = replace(LockHolder.this_process(), pid_namespace=2)
    taken = other.start_deploy("shop", "v3", "serial", {}, [], elsewhere)
    other.close()
    return taken


@pytest.mark.parametrize("frozen_in", ["a wait", "a step"])
async def test_a_deploy_whose_lock_was_taken_over_stops_and_touches_nothing_more(
    tmp_path: Path, fake_fleet: Callable[[Manifest], FakeFleet], clock: FakeClock, frozen_in: str
) -> None:
    m = manifest(3, waits=(2, None), migration=False)
    fleet, store = fake_fleet(m), Store(tmp_path)
    if frozen_in == "a step":
        fleet.script.on("restart", seconds=60)
    plan = build_plan(m, Settings(), DeployOptions(version="v2", strategy=Strategy.SERIAL))
    run = asyncio.create_task(run_deploy(plan, store, drivers=fleet.drivers()))
    await clock.sleep(0.3 if frozen_in == "a wait" else 2.5)
    assert fleet.timeline.out == {"web1"}
    taken_at, second = clock.monotonic(), _take_over(tmp_path)
    report = await run
    late = [e for e in fleet.timeline.entries if e.at > taken_at and e.what in ACTIONS]
    assert late == [], "nothing touched after the lock was taken over"
    assert clock.monotonic() - taken_at <= HEARTBEAT_EVERY + 0.5, "stopped at once"
    lost = f"the lock of shop was taken over by deploy #{second}, pid "
    assert report.result.lock_lost is not None and report.result.lock_lost.startswith(lost)
    assert report.result.status == "failed"
    summary = report.result.summary()
    assert "LOCK LOST: " + lost in summary
    assert "this deploy stopped without touching anything more" in summary
    assert [(o.server, o.status) for o in report.result.servers] == [
        ("web1", "cancelled"),
        ("web2", "not started"),
        ("web3", "not started"),
    ]
    assert [(d.id, d.status) for d in store.deploys("shop")] == [
        (second, "running"),
        (report.deploy_id, "abandoned"),
    ]
    holder = store.lock_holder("shop")
    assert holder is not None and holder.deploy_id == second
