"""Faults on real parts: a failing health check, a hidden HAProxy admin socket, a backend
without the server, a second deploy (and two at once), secrets in step output, an sshd that
stops mid-deploy, the capacity floor. Each runs the real ``baton`` command line against the
package's own fleet, most of them under steady traffic through HAProxy.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import uuid
from typing import Any

import pytest

from baton.sandbox.manifest import APP_PORT, APPLICATION
from baton.sandbox.sshd import SandboxServer
from baton.sandbox.status import IN_ROTATION, status
from baton.state import Store
from tests.reliability.conftest import Site, run, sessions_of, start, traffic

pytestmark = pytest.mark.integration

OUT = "out of rotation"


async def served(site: Site) -> list[tuple[str, str | None, str]]:
    return [(s.name, s.version, s.membership) for s in await status(site.sandbox)]


async def test_failing_health_check_halts_with_the_server_out_and_says_why(site: Site) -> None:
    def wrong_port(data: dict[str, Any]) -> None:
        data["deploy"]["health_check"].update(
            url=f"http://{{address}}:{APP_PORT + 1}/", deadline=1, interval=0.2
        )

    version = f"unhealthy-{uuid.uuid4().hex[:6]}"
    before = await served(site)
    async with traffic(site.sandbox) as report:
        code, output = await run(*site.deploy_arguments(site.manifest(wrong_port), version))
    first, *others = site.sandbox.servers
    assert code == 1, output
    assert re.search(
        rf"{first.name}: failed - health check failed after \d+ attempt\(s\) in 1s: "
        rf"GET http://{first.address}:{APP_PORT + 1}/: .*Connect.*; left out of rotation "
        r"on haproxy \[OUT of rotation\]",
        output,
    ), output
    assert f"{others[0].name}: not started - not deployed: an earlier server failed" in output
    assert await served(site) == [(first.name, version, OUT), *before[1:]]
    assert report.failed == 0, report.summary()
    assert Store(site.state).deploys()[0].status == "failed"


async def test_haproxy_socket_gone_fails_preflight_and_changes_nothing(site: Site) -> None:
    socket = site.sandbox.haproxy_socket
    hidden = socket.with_name("hidden.sock")
    before = await served(site)
    socket.rename(hidden)  # HAProxy keeps serving; its admin socket is just not there
    try:
        code, output = await run(*site.deploy_arguments(site.manifest(), "never"))
    finally:
        hidden.rename(socket)
    assert code == 1
    assert output.splitlines()[-1] == (
        f"baton: error: load balancer haproxy (HAProxy {socket}): cannot reach the admin socket "
        f"at {socket}: No such file or directory"
    )
    assert Store(site.state).deploys() == []
    assert await served(site) == before


async def test_a_load_balancer_without_the_server_fails_preflight(site: Site) -> None:
    def unknown_member(data: dict[str, Any]) -> None:
        data["load_balancers"][0]["servers"][site.sandbox.servers[1].name] = "nosuch"

    before = await served(site)
    code, output = await run(*site.deploy_arguments(site.manifest(unknown_member), "never"))
    assert code == 1
    assert "load balancer haproxy (backend app) does not know server(s) nosuch" in output
    assert Store(site.state).deploys() == [] and await served(site) == before


async def test_a_second_deploy_of_the_app_is_refused_and_names_the_holder(site: Site) -> None:
    manifest = site.manifest(lambda data: data["load_balancers"][0]["configuration"].clear())
    first = await start(*site.deploy_arguments(manifest, f"first-{uuid.uuid4().hex[:6]}"))
    await first.until(OUT)
    code, output = await run(*site.deploy_arguments(manifest, "second"))
    release = await run("lock", "release", "-s", APPLICATION, "--state", str(site.state))
    assert await first.finish() == 0, first.output
    assert release[0] == 1 and "not released: deploy #1, pid" in release[1], release
    assert code == 1
    assert re.search(
        rf"baton: error: sandbox: a deploy is already running \(deploy #1, pid "
        rf"{first.process.pid} on \S+, since [\d: -]+\); wait with --lock-wait SECONDS$",
        output,
    ), output
    assert [(d.id, d.version[:5], d.status) for d in Store(site.state).deploys()] == [
        (1, "first", "succeeded")
    ]


async def test_two_deploys_started_together_one_runs_the_other_names_it(site: Site) -> None:
    manifest = site.manifest(lambda data: data["load_balancers"][0]["configuration"].clear())
    both = [await start(*site.deploy_arguments(manifest, f"race-{n}")) for n in (1, 2)]
    codes = await asyncio.gather(*(b.finish() for b in both))
    assert sorted(codes) == [0, 1], [b.output for b in both]
    winner, loser = both if codes[0] == 0 else both[::-1]
    assert re.search(
        rf"a deploy is already running \(deploy #1, pid {winner.process.pid} on ", loser.output
    ), loser.output
    assert [d.status for d in Store(site.state).deploys()] == ["succeeded"]


async def test_secrets_reach_the_step_and_are_masked_everywhere(site: Site) -> None:
    secret = f"s3cr3t-{uuid.uuid4().hex}"

    def with_secret(data: dict[str, Any]) -> None:
        deploy = data["deploy"]
        deploy["environment"] = {"GREETING": 'it\'s $HOME "q"'}
        deploy["secrets"] = {"API_TOKEN": {"from_env": "RELIABILITY_TOKEN"}}
        echo = 'echo "token=$API_TOKEN greeting=$GREETING"; echo "$API_TOKEN" | wc -c'
        deploy["steps"].insert(0, {"name": "show", "run": echo})

    arguments = site.deploy_arguments(site.manifest(with_secret), "secret", "--parallel")
    code, output = await run(*arguments, RELIABILITY_TOKEN=secret)
    assert code == 0, output
    first = site.sandbox.servers[0].name
    assert f'{first} | token=*** greeting=it\'s $HOME "q"' in output
    assert f"{first} | {len(secret) + 1}" in output  # the real value reached the step
    shown = (await run("show", "1", "--output", "--state", str(site.state)))[1]
    assert 'token=*** greeting=it\'s $HOME "q"' in shown
    store = Store(site.state)
    outputs = [s.output for s in store.step_results(1) if s.step == "show"]
    assert len(outputs) == 3 and all("token=***" in o for o in outputs)
    for text in (output, shown, *outputs, str([e.data for e in store.events(1)])):
        assert secret not in text
    assert secret.encode() not in b"".join(p.read_bytes() for p in site.state.glob("baton.*"))


async def test_a_missing_secret_is_bad_input_before_anything_changes(site: Site) -> None:
    def with_secret(data: dict[str, Any]) -> None:
        data["deploy"]["secrets"] = {"API_TOKEN": {"from_env": "RELIABILITY_UNSET"}}

    manifest = site.manifest(with_secret)
    code, output = await run(*site.deploy_arguments(manifest, "never"))
    assert code == 2
    line = manifest.read_text().splitlines().index("      from_env: RELIABILITY_UNSET") + 1
    assert output == (
        f"baton: error: {manifest}:{line}: deploy.secrets.API_TOKEN.from_env: "
        "the environment variable RELIABILITY_UNSET is not set"
    )
    assert Store(site.state).deploys() == []


def stop_sshd_of(site: Site, server: SandboxServer) -> None:
    """What ``systemctl stop ssh`` on ``server`` does: no new connections, its sessions end.

    The sandbox's one sshd listens for every server, so this fleet stops taking connections
    altogether; the other servers' open sessions stay up, as on their own machines."""
    os.kill(site.sandbox.pids["sshd"], signal.SIGKILL)
    for pid in sessions_of(server.user):
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)


async def test_a_server_whose_sshd_stops_mid_deploy_halts_it_and_stays_in_rotation(
    site: Site,
) -> None:
    first, second, third = site.sandbox.servers
    version = f"nossh-{uuid.uuid4().hex[:6]}"
    before = await served(site)
    async with traffic(site.sandbox) as report:
        baton = await start(*site.deploy_arguments(site.manifest(), version))
        await baton.until(rf"{first.name}: waiting 1s")
        stop_sshd_of(site, second)
        code = await baton.finish()
    assert code == 1, baton.output
    assert re.search(
        rf"{second.name}: failed - cannot reach server {second.name} "
        rf"\({second.user}@{second.address}:22\): connection refused: nothing listens on port 22 "
        r"\(is sshd running\?\) \[in rotation\]",
        baton.output,
    ), baton.output
    assert f"{third.name}: not started" in baton.output
    assert await served(site) == [(first.name, version, IN_ROTATION), *before[1:]]
    assert {membership for _, _, membership in before} == {IN_ROTATION}
    assert report.failed == 0, report.summary()


async def test_a_capacity_floor_no_serial_deploy_can_keep_is_refused_at_once(site: Site) -> None:
    settings = ["settings", "set", "-s", APPLICATION, "--state", str(site.state)]
    assert (await run(*settings, "deploy.min_in_service", "3"))[0] == 0
    before = await served(site)
    code, output = await run(*site.deploy_arguments(site.manifest(), "floor"))
    assert code == 2, output
    assert (
        f"baton: error: deploy.min_in_service is 3 but {APPLICATION} has 3 server(s): taking one "
        "out leaves at most 2 in rotation, so a serial deploy cannot start"
    ) in output
    assert await served(site) == before
