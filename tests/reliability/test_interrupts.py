"""``kill -9`` of ``baton deploy`` at each phase of a serial deploy, then ``baton deploy`` again;
Ctrl-C (SIGINT) during a wait. Under steady traffic through the real HAProxy.

The phase is found from the CLI's plain progress lines. The killed deploy leaves its server
out of rotation (and, past the step, changed); the next deploy records the killed one as
abandoned, puts the server back once its health check passes, and deploys everything. A
server is only ever restarted while out of rotation, so no request fails at any phase.
"""

from __future__ import annotations

import signal
import uuid
from typing import Any

import pytest

from baton.sandbox.manifest import APPLICATION
from baton.sandbox.status import IN_ROTATION, status
from baton.state import Store
from tests.reliability.conftest import Site, run, start, traffic

pytestmark = pytest.mark.integration

PHASES = {
    "removal": "out of rotation",
    "wait": "waiting 1s",
    "step": "step restart",
    "health": "health check$",
}


def no_waits(data: dict[str, Any]) -> None:
    data["load_balancers"][0]["configuration"]["wait_after_removing_servers"] = 0


@pytest.mark.parametrize("phase", PHASES)
async def test_kill_9_at_each_phase_then_deploy_again(site: Site, phase: str) -> None:
    manifest, again = site.manifest(), site.manifest(no_waits)  # the wait only to strike in
    killed, version = f"killed-{uuid.uuid4().hex[:6]}", f"after-{uuid.uuid4().hex[:6]}"
    victim = site.sandbox.servers[0].name
    async with traffic(site.sandbox) as report:
        baton = await start(*site.deploy_arguments(manifest, killed))
        await baton.until(rf"{victim}: {PHASES[phase]}")
        baton.signal(signal.SIGKILL)
        assert await baton.finish() == -signal.SIGKILL
        lock = (await run("lock", "status", "-s", APPLICATION, "--state", str(site.state)))[1]
        code, output = await run(*site.deploy_arguments(again, version))
    assert f"pid {baton.process.pid} on" in lock and "holder is gone" in lock, lock
    assert code == 0, output
    assert f"WARNING: recovery: {victim} was left out of rotation by an unfinished deploy" in output
    assert [(s.version, s.membership) for s in await status(site.sandbox)] == [
        (version, IN_ROTATION)
    ] * len(site.sandbox.servers)
    assert [(d.version, d.status) for d in Store(site.state).deploys()] == [
        (version, "succeeded"),
        (killed, "abandoned"),
    ]
    assert report.sent > 0 and report.failed == 0, report.summary()


@pytest.mark.parametrize("number", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
async def test_ctrl_c_during_the_wait_puts_the_server_back(
    site: Site, number: signal.Signals
) -> None:
    before = await status(site.sandbox)
    victim = before[0].name
    async with traffic(site.sandbox) as report:
        baton = await start(*site.deploy_arguments(site.manifest(), "interrupted"))
        await baton.until(rf"{victim}: waiting 1s")
        baton.signal(number)
        code = await baton.finish()
    assert code == 130, baton.output
    assert f"{victim}: cancelled - the deploy was interrupted [in rotation]" in baton.output
    assert await status(site.sandbox) == before  # same versions, all in rotation
    assert [d.status for d in Store(site.state).deploys()] == ["cancelled"]
    assert Store(site.state).lock_holder("sandbox") is None
    assert report.sent > 0 and report.failed == 0, report.summary()


async def test_baton_recover_puts_back_what_a_killed_deploy_left_out(site: Site) -> None:
    before = await status(site.sandbox)
    victim = before[0].name
    manifest = site.manifest()
    baton = await start(*site.deploy_arguments(manifest, "killed"))
    await baton.until(rf"{victim}: waiting 1s")
    baton.signal(signal.SIGKILL)
    await baton.finish()
    assert (await status(site.sandbox))[0].membership == "out of rotation"
    code, output = await run(*site.arguments("recover", manifest))
    assert (code, output) == (
        0,
        f"{victim}: put back into rotation on haproxy (GET "
        f"http://{before[0].address}:8000/: HTTP 200)",
    )
    assert await status(site.sandbox) == before
