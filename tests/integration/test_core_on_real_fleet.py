"""Issue 2 on real parts: sshd servers, a real HAProxy, a real SQLite state file.

HAProxy's own view is sampled through its admin socket while each deploy runs, so "one server
out at a time" and "none out in parallel" are what HAProxy did, not what baton believes.
"""

from __future__ import annotations

import asyncio
import copy
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml

from baton.config import Manifest, parse_manifest
from baton.drivers import Membership
from baton.execution import Event, prepare, run_deploy
from baton.execution.events import LoadBalancerChanged, StepStarted
from baton.planning import DeployOptions, Strategy
from baton.sandbox import fleet
from baton.sandbox.manifest import migrations
from baton.sandbox.status import IN_ROTATION, membership, status
from baton.state import Store

pytestmark = pytest.mark.integration

OUT_OF_ROTATION = Membership.OUT_OF_ROTATION.value


def sandbox_manifest(sandbox: fleet.Sandbox, change: Callable[[dict[str, Any]], None]) -> Manifest:
    """The sandbox's manifest with the load balancer section changed by ``change``."""
    data = yaml.safe_load(fleet.up(sandbox.directory, lag=0, waits=0).manifest.read_text())
    data = copy.deepcopy(data)
    change(data["load_balancers"][0]["configuration"])
    return parse_manifest(yaml.safe_dump(data), str(sandbox.manifest))


@asynccontextmanager
async def sampled(sandbox: fleet.Sandbox) -> AsyncIterator[list[set[str]]]:
    """The set of servers HAProxy has out of rotation, every 20 ms, while the block runs."""
    samples: list[set[str]] = []

    async def sample() -> None:
        while True:
            members = await membership(sandbox.haproxy_socket)
            samples.append({name for name, m in members.items() if m == OUT_OF_ROTATION})
            await asyncio.sleep(0.02)

    task = asyncio.create_task(sample())
    try:
        yield samples
    finally:
        task.cancel()


async def deploy(
    manifest: Manifest, store: Store, strategy: Strategy | None, events: list[Event] | None = None
) -> tuple[str, str]:
    version = f"core-{uuid.uuid4().hex[:8]}"
    plan = prepare(manifest, store, DeployOptions(version=version, strategy=strategy))
    report = await run_deploy(plan, store, sinks=[events.append] if events is not None else [])
    status = report.result.status
    return version, status if status == "succeeded" else report.result.summary()


def no_waits(configuration: dict[str, Any]) -> None:
    configuration.update(wait_after_removing_servers=0, wait_after_adding_servers=0)


async def test_serial_takes_exactly_one_server_out_at_a_time_in_order(
    sandbox_fleet: fleet.Sandbox, tmp_path: Path
) -> None:
    manifest = sandbox_manifest(sandbox_fleet, no_waits)
    async with sampled(sandbox_fleet) as samples:
        version, result = await deploy(manifest, Store(tmp_path), Strategy.SERIAL)
    assert result == "succeeded"
    assert max(len(s) for s in samples) == 1
    outs = [next(iter(s)) for s in samples if s]
    order = [name for i, name in enumerate(outs) if i == 0 or outs[i - 1] != name]
    assert order == [s.name for s in sandbox_fleet.servers]
    served = await status(sandbox_fleet)
    assert {(s.version, s.membership) for s in served} == {(version, IN_ROTATION)}
    assert [r for r in migrations(sandbox_fleet.directory) if r[0] == version] == [
        (version, sandbox_fleet.servers[0].name)
    ]


async def test_parallel_never_takes_a_server_out(
    sandbox_fleet: fleet.Sandbox, tmp_path: Path
) -> None:
    manifest = sandbox_manifest(sandbox_fleet, no_waits)
    async with sampled(sandbox_fleet) as samples:
        version, result = await deploy(manifest, Store(tmp_path), Strategy.PARALLEL)
    assert result == "succeeded"
    assert len(samples) > 5 and all(not s for s in samples)
    assert {s.version for s in await status(sandbox_fleet)} == {version}
    assert len([r for r in migrations(sandbox_fleet.directory) if r[0] == version]) == 1


def gaps(events: list[Event]) -> tuple[list[float], list[float]]:
    """Per server: removal → first step, and added → next server's removal (seconds)."""
    removed = {
        e.server: e.at
        for e in events
        if isinstance(e, LoadBalancerChanged) and e.action == "removed"
    }
    first_step: dict[str, float] = {}
    for e in events:
        if isinstance(e, StepStarted):
            first_step.setdefault(e.server, e.at)
    after_removal = [first_step[s] - at for s, at in removed.items()]
    added = [e.at for e in events if isinstance(e, LoadBalancerChanged) and e.action == "added"]
    removals = sorted(removed.values())
    after_adding = [nxt - add for add, nxt in zip(added, removals[1:], strict=False)]
    return after_removal, after_adding


async def test_sticky_waits_over_three_deploys_are_honoured(
    sandbox_fleet: fleet.Sandbox, tmp_path: Path
) -> None:
    store = Store(tmp_path)

    def set_one(configuration: dict[str, Any]) -> None:
        configuration.update(wait_after_removing_servers=1, wait_after_adding_servers=1)

    def delete(configuration: dict[str, Any]) -> None:
        del configuration["wait_after_removing_servers"]
        del configuration["wait_after_adding_servers"]

    measured = []
    for change in (set_one, delete, no_waits):
        events: list[Event] = []
        started = time.monotonic()
        _, result = await deploy(sandbox_manifest(sandbox_fleet, change), store, None, events)
        assert result == "succeeded"
        measured.append((time.monotonic() - started, *gaps(events)))
    (_, removal1, adding1), (second, removal2, adding2), (third, removal3, _adding3) = measured
    for gap in [*removal1, *adding1, *removal2, *adding2]:
        assert 1.0 <= gap < 2.0  # the wait, plus a little work; more means it waited twice
    assert all(gap < 0.9 for gap in removal3)
    assert second - third >= 5.5  # 3 servers x (1 s + 1 s) of waits gone
    assert [v.key for v in store.applied_values(sandbox_fleet_app(sandbox_fleet))] == ["httpchk"]


def sandbox_fleet_app(sandbox: fleet.Sandbox) -> str:
    return parse_manifest(sandbox.manifest.read_text()).application
