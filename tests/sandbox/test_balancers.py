"""Serial and parallel deploys through ``baton deploy`` behind nginx and a lagging cloud load
balancer (moto's AWS API, a HAProxy data plane following it), under steady traffic.

Membership is sampled from what carries the traffic (nginx's upstream file, the data plane's
HAProxy), never from what baton asked for.
"""

from __future__ import annotations

import asyncio
import signal
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from baton.sandbox import balancers, fleet
from baton.sandbox.manifest import APPLICATION, manifest_data
from baton.sandbox.moto import CREDENTIALS
from baton.sandbox.status import IN_ROTATION, status
from baton.state import Store
from tests.conftest import running_sandbox
from tests.reliability.conftest import run, start, traffic

pytestmark = pytest.mark.integration

OUT = "out of rotation"
NO_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "",
    "AWS_SECRET_ACCESS_KEY": "",
    "AWS_CONFIG_FILE": "/nonexistent",
    "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
    "AWS_EC2_METADATA_DISABLED": "true",
}


@pytest.fixture(scope="module")
def nginx_sandbox() -> Iterator[fleet.Sandbox]:
    with running_sandbox(2, balancer="nginx") as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def cloud_sandbox() -> Iterator[fleet.Sandbox]:
    with running_sandbox(2, balancer="elbv2", lag=0.5, waits=0) as sandbox:
        yield sandbox


def arguments(
    sandbox: fleet.Sandbox, command: str, state: Path, manifest: Path | None = None
) -> list[str]:
    manifest = manifest or sandbox.manifest
    return [command, "-s", APPLICATION, "-f", str(manifest), "--state", str(state)]


def changed_manifest(
    sandbox: fleet.Sandbox, directory: Path, change: Callable[[dict[str, Any]], None]
) -> Path:
    data = manifest_data(sandbox)
    change(data["load_balancers"][0])
    path = directory / f"baton-{uuid.uuid4().hex[:6]}.yml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


async def deploy(
    sandbox: fleet.Sandbox, strategy: str, state: Path, **env: str
) -> tuple[int, str, str, list[dict[str, str]], Any]:
    """Deploy a fresh version under traffic, sampling membership; (exit, output, version,
    samples, traffic report)."""
    version = f"{strategy}-{uuid.uuid4().hex[:6]}"
    samples: list[dict[str, str]] = []

    async def sample() -> None:
        while True:
            samples.append(await balancers.membership(sandbox))
            await asyncio.sleep(0.05)

    async with traffic(sandbox) as report:
        sampler = asyncio.create_task(sample())
        command = [*arguments(sandbox, "deploy", state), f"--{strategy}", "--version", version]
        code, output = await run(*command, **env)
        sampler.cancel()
        await asyncio.sleep(sandbox.lag + 0.3)  # lagged changes land while traffic flows
    return code, output, version, samples, report


async def reshape(sandbox: fleet.Sandbox, waits: int) -> None:
    """The same sandbox with other waits in its manifest (nothing restarts)."""
    count, lag = len(sandbox.servers), sandbox.lag
    shaped = await asyncio.to_thread(fleet.up, sandbox.directory, count, lag=lag, waits=waits)
    assert shaped.pids == sandbox.pids


async def assert_all_serve(sandbox: fleet.Sandbox, version: str) -> None:
    assert [(s.version, s.membership) for s in await status(sandbox)] == [
        (version, IN_ROTATION)
    ] * len(sandbox.servers)


async def test_nginx_serial_drops_nothing_parallel_never_changes_membership(
    nginx_sandbox: fleet.Sandbox, tmp_path: Path
) -> None:
    code, output, version, samples, report = await deploy(nginx_sandbox, "serial", tmp_path)
    assert code == 0, output
    await assert_all_serve(nginx_sandbox, version)
    assert report.sent > 50 and report.failed == 0, report.summary()
    assert any(OUT in sample.values() for sample in samples)

    code, output, version, samples, _ = await deploy(nginx_sandbox, "parallel", tmp_path)
    assert code == 0, output
    await assert_all_serve(nginx_sandbox, version)
    assert len(samples) > 5 and all(OUT not in sample.values() for sample in samples)


async def test_nginx_kill_9_mid_deploy_then_recover(
    nginx_sandbox: fleet.Sandbox, tmp_path: Path
) -> None:
    def wait(lb: dict[str, Any]) -> None:
        lb["configuration"]["wait_after_removing_servers"] = 1

    manifest = changed_manifest(nginx_sandbox, tmp_path, wait)
    victim = nginx_sandbox.servers[0]
    baton = await start(
        *arguments(nginx_sandbox, "deploy", tmp_path, manifest), "--version", "killed"
    )
    await baton.until(rf"{victim.name}: waiting 1s")
    baton.signal(signal.SIGKILL)
    await baton.finish()
    assert (await balancers.membership(nginx_sandbox))[victim.name] == OUT
    code, output = await run(*arguments(nginx_sandbox, "recover", tmp_path, manifest))
    assert (code, output) == (
        0,
        f"{victim.name}: put back into rotation on nginx (GET http://{victim.address}:8000/: "
        "HTTP 200)",
    )
    assert set((await balancers.membership(nginx_sandbox)).values()) == {IN_ROTATION}


async def test_nginx_preflight_failures_change_nothing(
    nginx_sandbox: fleet.Sandbox, tmp_path: Path
) -> None:
    upstream = nginx_sandbox.directory / "nginx" / "upstream.conf"
    before = upstream.read_text()
    first = nginx_sandbox.servers[0].name

    def unknown(lb: dict[str, Any]) -> None:
        lb["servers"][first] = "127.0.0.1:1"

    def not_included(lb: dict[str, Any]) -> None:
        copy = tmp_path / "copy.conf"
        copy.write_text(before)
        lb["file"] = str(copy)

    for change, message in (
        (
            unknown,
            f"load balancer nginx (nginx upstream app in {upstream}) does not know server(s) "
            "127.0.0.1:1",
        ),
        (not_included, "-T` does not show"),
    ):
        manifest = changed_manifest(nginx_sandbox, tmp_path, change)
        code, output = await run(
            *arguments(nginx_sandbox, "deploy", tmp_path, manifest), "--version", "x"
        )
        assert code == 1 and message in output.splitlines()[-1], output
        assert output.splitlines()[-1].startswith("baton: error: load balancer nginx"), output
    assert upstream.read_text() == before
    assert Store(tmp_path).deploys() == []


async def test_cloud_lag_without_waits_drops_requests_waits_covering_it_drop_none(
    cloud_sandbox: fleet.Sandbox, tmp_path: Path
) -> None:
    code, output, version, _, report = await deploy(
        cloud_sandbox, "serial", tmp_path, **CREDENTIALS
    )
    assert code == 0, output
    await assert_all_serve(cloud_sandbox, version)
    assert report.failed > 0, report.summary()

    await reshape(cloud_sandbox, waits=1)
    try:
        code, output, version, samples, report = await deploy(
            cloud_sandbox, "serial", tmp_path, **CREDENTIALS
        )
    finally:
        await reshape(cloud_sandbox, waits=0)
    assert code == 0, output
    await assert_all_serve(cloud_sandbox, version)
    assert report.failed == 0, report.summary()
    assert any(OUT in sample.values() for sample in samples)


async def test_cloud_parallel_never_changes_membership(
    cloud_sandbox: fleet.Sandbox, tmp_path: Path
) -> None:
    code, output, version, samples, _ = await deploy(
        cloud_sandbox, "parallel", tmp_path, **CREDENTIALS
    )
    assert code == 0, output
    await assert_all_serve(cloud_sandbox, version)
    assert len(samples) > 5 and all(OUT not in sample.values() for sample in samples)


async def test_cloud_kill_9_then_deploy_again_puts_the_deregistered_target_back(
    cloud_sandbox: fleet.Sandbox, tmp_path: Path
) -> None:
    def wait(lb: dict[str, Any]) -> None:
        lb["configuration"]["wait_after_removing_servers"] = 1

    manifest = changed_manifest(cloud_sandbox, tmp_path, wait)
    victim = cloud_sandbox.servers[0].name
    baton = await start(
        *arguments(cloud_sandbox, "deploy", tmp_path, manifest),
        "--version",
        "killed",
        **CREDENTIALS,
    )
    await baton.until(rf"{victim}: waiting 1s")
    baton.signal(signal.SIGKILL)
    await baton.finish()
    version = f"after-{uuid.uuid4().hex[:6]}"
    code, output = await run(
        *arguments(cloud_sandbox, "deploy", tmp_path), "--version", version, **CREDENTIALS
    )
    assert code == 0, output
    assert f"WARNING: recovery: {victim} was left out of rotation by an unfinished deploy" in output
    await asyncio.sleep(cloud_sandbox.lag + 0.3)
    await assert_all_serve(cloud_sandbox, version)


async def test_cloud_without_credentials_fails_preflight_in_one_line(
    cloud_sandbox: fleet.Sandbox, tmp_path: Path
) -> None:
    code, output = await run(
        *arguments(cloud_sandbox, "deploy", tmp_path), "--version", "x", **NO_CREDENTIALS
    )
    assert code == 1, output
    assert output.splitlines()[-1].startswith("baton: error: load balancer elbv2 (target group")
    assert "no AWS credentials found" in output.splitlines()[-1]
    assert Store(tmp_path).deploys() == []


LBCTL = """\
import socket, sys
def ask(command):
    with socket.socket(socket.AF_UNIX) as client:
        client.connect(sys.argv[1])
        client.sendall(command.encode() + b"\\n")
        reply = b""
        while chunk := client.recv(4096):
            reply += chunk
    return reply.decode()
action, server = sys.argv[2], sys.argv[3]
if action == "status":
    rows = [r.split() for r in ask("show servers state app").splitlines()[2:]]
    row = next(r for r in rows if r[3:4] == [server])
    print("out" if int(row[6]) & 1 else "in")
else:
    sys.exit(1 if ask(f"set server app/{server} state {action}").strip() else 0)
"""


async def test_command_balancer_serial_drops_nothing(
    sandbox_fleet: fleet.Sandbox, tmp_path: Path
) -> None:
    """A command balancer: the operator's own script driving the sandbox's HAProxy."""
    script = tmp_path / "lbctl.py"
    script.write_text(LBCTL)
    lbctl = f"/usr/bin/python3 {script} {sandbox_fleet.haproxy_socket}"

    def commands(lb: dict[str, Any]) -> None:
        configuration = lb["configuration"]
        lb.clear()
        lb.update(name="cli", type="command", remove=f"{lbctl} maint {{server}}",
                  add=f"{lbctl} ready {{server}}", status=f"{lbctl} status {{server}}",
                  servers={s.name: s.name for s in sandbox_fleet.servers},
                  configuration=configuration)  # fmt: skip

    manifest = changed_manifest(sandbox_fleet, tmp_path, commands)
    version = f"command-{uuid.uuid4().hex[:6]}"
    async with traffic(sandbox_fleet) as report:
        code, output = await run(
            *arguments(sandbox_fleet, "deploy", tmp_path, manifest), "--version", version
        )
    assert code == 0, output
    assert "removed (cli)" in output and "added (cli)" in output
    await assert_all_serve(sandbox_fleet, version)
    assert report.sent > 50 and report.failed == 0, report.summary()
