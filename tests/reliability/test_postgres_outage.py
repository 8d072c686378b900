"""The PostgreSQL state goes away mid-deploy (issue 21): ``pg_ctl stop -m immediate`` while a
server is out of rotation running a step. A short outage is ridden out (baton reconnects
and writes again); a long one stops the deploy as a full disk does: what is half-done on the
balancers is finished, the summary is printed from memory with a NOT RECORDED line, exit 1,
and the next deploy, once PostgreSQL is back, recovers the server. On real parts: the
reliability fleet, the throw-away PostgreSQL cluster (stopped and started again here) and
the ``baton`` command line."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from baton.sandbox.manifest import APPLICATION
from baton.sandbox.status import IN_ROTATION, status
from baton.state import Store
from tests.postgres import Cluster
from tests.reliability.conftest import Site, run, start
from tests.reliability.test_truthful import on, with_step

pytestmark = pytest.mark.integration

OUT = "out of rotation"


@asynccontextmanager
async def stopped(cluster: Cluster) -> AsyncIterator[None]:
    """PostgreSQL down while the block runs (and started again however it ends: the cluster
    is every PostgreSQL test's)."""
    await asyncio.to_thread(cluster.stop)
    try:
        yield
    finally:
        await asyncio.to_thread(cluster.start)


def _deploy(site: Site, state: str, seconds: int, version: str) -> list[str]:
    second = site.sandbox.servers[1].name
    manifest = site.manifest(with_step("restart", "slow", on(second, f"sleep {seconds}")))
    return ["deploy", "-s", APPLICATION, "-f", str(manifest), "--state", state,
            "--version", version]  # fmt: skip


async def served(site: Site) -> list[tuple[str | None, str]]:
    return [(s.version, s.membership) for s in await status(site.sandbox)]


async def test_a_short_outage_mid_step_is_ridden_out(
    site: Site, postgres_cluster: Cluster, postgres_url: str
) -> None:
    second = site.sandbox.servers[1].name
    version = f"blip-{uuid.uuid4().hex[:6]}"
    baton = await start(*_deploy(site, postgres_url, 4, version))
    await baton.until(rf"{second}: step slow")
    async with stopped(postgres_cluster):
        await asyncio.sleep(1)
    assert await baton.finish() == 0, baton.output
    assert "Traceback" not in baton.output and "NOT RECORDED" not in baton.output
    assert [(d.version, d.status) for d in Store(postgres_url).deploys()] == [
        (version, "succeeded")
    ]
    assert await served(site) == [(version, IN_ROTATION)] * 3


async def test_a_long_outage_stops_like_a_full_disk_and_the_next_deploy_heals(
    site: Site, postgres_cluster: Cluster, postgres_url: str
) -> None:
    second = site.sandbox.servers[1].name
    lost, healed = (f"{name}-{uuid.uuid4().hex[:6]}" for name in ("lost", "healed"))
    baton = await start(*_deploy(site, postgres_url, 30, lost))
    await baton.until(rf"{second}: step slow")
    async with stopped(postgres_cluster):
        code = await baton.finish()
    output = baton.output
    assert code == 1, output
    assert "Traceback" not in output, output
    assert re.search(
        r"WARNING: stopping: lost the connection to the PostgreSQL state at "
        rf"{re.escape(postgres_url)} \(tried again for 10s\): ",
        output,
    ), output
    assert re.search(
        rf"{second}: cancelled - the deploy stopped: baton could not write its state; "
        r"left out of rotation on haproxy \[OUT of rotation\]",
        output,
    ), output
    assert "NOT RECORDED: lost the connection to the PostgreSQL state" in output, output
    assert (await served(site))[1][1] == OUT
    code, again = await run(*_deploy(site, postgres_url, 0, healed))
    assert code == 0, again
    assert "WARNING: deploy #1 never finished: " in again, again
    assert f"WARNING: recovery: {second} was left out of rotation" in again, again
    assert [(d.version, d.status) for d in Store(postgres_url).deploys()] == [
        (healed, "succeeded"),
        (lost, "abandoned"),
    ]
    assert await served(site) == [(healed, IN_ROTATION)] * 3
