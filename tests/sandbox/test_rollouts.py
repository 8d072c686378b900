"""Batches, prepare-while-serving and migrations first on a real 6-server sandbox.

One sandbox (real sshd, apps and HAProxy) serves every test of the module; each deploys a
unique version through the real ``baton deploy`` under steady traffic and asserts what a user
and an operator see: failed requests, who HAProxy had out of rotation when, versions served.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from baton.sandbox import fleet
from baton.sandbox.demo import baton
from baton.sandbox.manifest import APP_PORT, APPLICATION, manifest_data
from baton.sandbox.status import IN_ROTATION, membership, status
from baton.sandbox.traffic import Traffic, TrafficReport
from baton.state import Store
from tests.conftest import running_sandbox, sandbox_directory

pytestmark = pytest.mark.integration

SERVERS = 6
RATE = 50.0
OUT = "out of rotation"


@pytest.fixture(scope="module")
def six() -> Iterator[fleet.Sandbox]:
    with running_sandbox(SERVERS) as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def state() -> Iterator[Path]:
    directory = sandbox_directory("baton-rollouts-state-")
    yield directory
    shutil.rmtree(directory, ignore_errors=True)


def write_manifest(
    sandbox: fleet.Sandbox, state: Path, change: Callable[[dict[str, Any]], None]
) -> Path:
    data = manifest_data(sandbox)
    change(data)
    path = state / f"baton-{uuid.uuid4().hex[:6]}.yml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def prepare_fetch(data: dict[str, Any]) -> None:
    data["deploy"]["steps"][0]["stage"] = "prepare"


async def deploy(
    sandbox: fleet.Sandbox, state: Path, manifest: Path, *options: str
) -> tuple[str, int, str, TrafficReport, list[dict[str, str]]]:
    """Deploy a new version under traffic, sampling HAProxy's membership meanwhile."""
    version = f"r-{uuid.uuid4().hex[:8]}"
    traffic = Traffic(sandbox.frontend_url, rate=RATE)
    traffic.start()
    samples: list[dict[str, str]] = []
    sampler = asyncio.create_task(sample(sandbox, samples))
    code, output = await baton(
        "deploy", "-s", APPLICATION, "-f", str(manifest), "--state", str(state),
        "--version", version, *options,
    )  # fmt: skip
    sampler.cancel()
    await asyncio.sleep(0.3)
    return version, code, output, await traffic.stop(), samples


async def sample(sandbox: fleet.Sandbox, samples: list[dict[str, str]]) -> None:
    while True:
        samples.append(await membership(sandbox.haproxy_socket))
        await asyncio.sleep(0.05)


async def served(sandbox: fleet.Sandbox) -> list[tuple[str | None, str]]:
    return [(s.version, s.membership) for s in await status(sandbox)]


async def test_rolling_batches_of_two_drop_no_request_and_keep_four_serving(
    six: fleet.Sandbox, state: Path
) -> None:
    manifest = write_manifest(six, state, prepare_fetch)
    version, code, output, traffic, samples = await deploy(six, state, manifest, "--batch", "2")
    assert code == 0, output
    assert "order: 3 batches of 2, 2, 2 servers" in output
    assert await served(six) == [(version, IN_ROTATION)] * SERVERS
    assert traffic.failed == 0, traffic.summary()
    assert re.search(
        r"haproxy saw 0 error\(s\) in [1-9]\d* response\(s\) during the deploy", output
    )
    out_counts = [list(s.values()).count(OUT) for s in samples]
    assert max(out_counts) == 2, out_counts
    assert len(samples) >= 10


async def test_a_prepare_failure_leaves_every_server_serving_and_in_rotation(
    six: fleet.Sandbox, state: Path
) -> None:
    broken = six.servers[3].name

    def fail_on_one(data: dict[str, Any]) -> None:
        prepare_fetch(data)
        fetch = data["deploy"]["steps"][0]
        fetch["run"] = f"test {{server}} != {broken} && {fetch['run']}"

    before = await served(six)
    manifest = write_manifest(six, state, fail_on_one)
    _, code, output, traffic, samples = await deploy(six, state, manifest, "--batch", "2")
    assert code == 1, output
    assert f"{broken}: failed - step fetch exited 1 [in rotation]" in output
    assert await served(six) == before
    assert all(OUT not in s.values() for s in samples)
    assert traffic.failed == 0, traffic.summary()


async def test_parallel_migrates_before_any_server_restarts(
    six: fleet.Sandbox, state: Path
) -> None:
    manifest = write_manifest(six, state, prepare_fetch)
    version, code, output, _, _ = await deploy(six, state, manifest, "--parallel")
    assert code == 0, output
    assert "serial is advised" not in output
    assert await served(six) == [(version, IN_ROTATION)] * SERVERS
    store = Store(state)
    steps = store.step_results(store.deploys()[0].id)
    migrated = [s for s in steps if s.step == "migrate"]
    restarts = [s for s in steps if s.step == "restart"]
    fetches = [s for s in steps if s.step == "fetch"]
    assert len(migrated) == 1 and len(restarts) == len(fetches) == SERVERS
    migration = migrated[0]
    assert migration.finished_at is not None
    assert max(f.finished_at or 0 for f in fetches) <= (migration.started_at or 0)
    assert all((r.started_at or 0) >= migration.finished_at for r in restarts)


async def test_a_canary_answering_500_is_rolled_back_automatically(
    six: fleet.Sandbox, state: Path
) -> None:
    fine = write_manifest(six, state, prepare_fetch)
    assert (await deploy(six, state, fine, "--parallel"))[1] == 0  # the version to go back to
    good = await served(six)

    def broken_release(data: dict[str, Any]) -> None:
        """Every release but the good one is broken: answers 500 except on /health."""
        prepare_fetch(data)
        fetch = data["deploy"]["steps"][0]
        fetch["run"] += (
            f" && (test {{version}} = {good[0][0]} || touch releases/{{version}}/BROKEN)"
        )
        data["deploy"]["health_check"]["url"] = f"http://{{address}}:{APP_PORT}/health"
        data["deploy"]["verify"] = {"duration": 3}

    settings = ["settings", "set", "-s", APPLICATION, "--state", str(state)]
    assert (await baton(*settings, "deploy.canary", "1"))[0] == 0
    try:
        manifest = write_manifest(six, state, broken_release)
        _, code, output, _, _ = await deploy(six, state, manifest, "--batch", "2")
    finally:
        await baton(*settings, "deploy.canary", "0")
    canary = six.servers[0].name
    assert code == 1, output
    assert (
        f"{canary}: failed - verification failed after 3s: haproxy reports it down (failing "
        "the load balancer's own health checks)"
    ) in output
    assert "automatic rollback of deploy #" in output
    assert f"{canary}: succeeded - now serving {good[0][0]} [in rotation]" in output
    assert await served(six) == good, output
    deploys = Store(state).deploys()
    assert [d.status for d in deploys[:2]] == ["succeeded", "failed"]
    assert deploys[0].plan["rollback_of"] == deploys[1].id
    shown = (await baton("show", str(deploys[1].id), "--state", str(state)))[1]
    assert f"rolled back automatically by deploy #{deploys[0].id}" in shown
