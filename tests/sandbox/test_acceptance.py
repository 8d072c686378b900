"""Issue 3's acceptance: deploys through ``baton deploy`` under steady traffic on a real fleet.

What is asserted is what a user of the site and an operator see: requests that failed, the
version each server serves, and whether HAProxy sends it traffic.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass

import pytest

from baton.sandbox import fleet
from baton.sandbox.demo import deploy
from baton.sandbox.manifest import migrations
from baton.sandbox.status import IN_ROTATION, ServerStatus, membership, status
from baton.sandbox.traffic import Traffic, TrafficReport

pytestmark = pytest.mark.integration

RATE = 50.0
OUT_OF_ROTATION = "out of rotation"


@dataclass
class Run:
    version: str
    exit_status: int
    output: str
    traffic: TrafficReport
    servers: list[ServerStatus]
    memberships: list[dict[str, str]]


async def deploy_under_traffic(
    sandbox: fleet.Sandbox, strategy: str, *, lag: float = 0, waits: int = 0, extra: str = ""
) -> Run:
    """Shape the sandbox, deploy a new version under traffic, sample HAProxy meanwhile."""
    sandbox = await asyncio.to_thread(fleet.up, sandbox.directory, lag=lag, waits=waits)
    version = f"{strategy}-{uuid.uuid4().hex[:8]}"
    traffic = Traffic(sandbox.frontend_url, rate=RATE)
    traffic.start()
    samples: list[dict[str, str]] = []
    sampler = asyncio.create_task(sample_membership(sandbox, samples))
    code, output = await deploy(sandbox, version, strategy, *([extra] if extra else []))
    sampler.cancel()
    await asyncio.sleep(lag + 0.5)  # lagged changes land while traffic still flows
    report = await traffic.stop()
    servers = await status(sandbox)
    if strategy == "parallel":
        servers = await _settled(sandbox, servers)
    return Run(version, code, output, report, servers, samples)


async def _settled(sandbox: fleet.Sandbox, servers: list[ServerStatus]) -> list[ServerStatus]:
    """A parallel deploy restarts apps in rotation, so HAProxy's own checks may mark one down
    for a moment; give them (every 500 ms, rise 2) up to 5 s to see it up again."""
    for _ in range(50):
        if all(s.membership == IN_ROTATION for s in servers):
            break
        await asyncio.sleep(0.1)
        servers = await status(sandbox)
    return servers


async def sample_membership(sandbox: fleet.Sandbox, samples: list[dict[str, str]]) -> None:
    """HAProxy's own view (the real socket, not the lag proxy) every 50 ms until cancelled."""
    while True:
        samples.append(await membership(sandbox.haproxy_socket))
        await asyncio.sleep(0.05)


def assert_all_serve(run: Run, version: str) -> None:
    assert run.exit_status == 0, run.output
    assert [(s.name, s.version, s.membership) for s in run.servers] == [
        (s.name, version, IN_ROTATION) for s in run.servers
    ]


async def test_serial_deploy_under_traffic_fails_no_request(
    sandbox_fleet: fleet.Sandbox,
) -> None:
    run = await deploy_under_traffic(sandbox_fleet, "serial")
    assert_all_serve(run, run.version)
    assert run.traffic.sent >= RATE * 3
    assert run.traffic.failed == 0, run.traffic.summary()
    assert run.traffic.versions[run.version] > 0
    assert any(OUT_OF_ROTATION in sample.values() for sample in run.memberships)


async def test_lag_without_waits_fails_requests(sandbox_fleet: fleet.Sandbox) -> None:
    run = await deploy_under_traffic(sandbox_fleet, "serial", lag=2, waits=0)
    assert_all_serve(run, run.version)
    assert run.traffic.failed > 0, run.traffic.summary()


async def test_waits_covering_the_lag_fail_no_request(sandbox_fleet: fleet.Sandbox) -> None:
    run = await deploy_under_traffic(sandbox_fleet, "serial", lag=2, waits=3)
    assert_all_serve(run, run.version)
    assert run.traffic.failed == 0, run.traffic.summary()


async def test_parallel_deploy_never_changes_membership(sandbox_fleet: fleet.Sandbox) -> None:
    run = await deploy_under_traffic(sandbox_fleet, "parallel")
    assert_all_serve(run, run.version)
    assert len(run.memberships) >= 5
    assert all(OUT_OF_ROTATION not in sample.values() for sample in run.memberships)


async def test_the_migration_runs_exactly_once_per_deploy(sandbox_fleet: fleet.Sandbox) -> None:
    serial = await deploy_under_traffic(sandbox_fleet, "serial")
    parallel = await deploy_under_traffic(sandbox_fleet, "parallel")
    skipped = await deploy_under_traffic(sandbox_fleet, "parallel", extra="--skip-migrations")
    runs = migrations(sandbox_fleet.directory)
    first = sandbox_fleet.servers[0].name
    assert [r for r in runs if r[0] == serial.version] == [(serial.version, first)]
    assert [r for r in runs if r[0] == parallel.version] == [(parallel.version, first)]
    assert [r for r in runs if r[0] == skipped.version] == []
    assert_all_serve(skipped, skipped.version)
