"""Whatever fails, the summary, the history and HAProxy agree (issue 15), on real parts under
steady traffic: HAProxy restarted mid-step without its saved state, the state's filesystem
filling up mid-step (a tmpfs mounted here), a step flooding 67 MB of output, a deploy
cancelled mid-step. Each test then deploys again (or recovers) and checks that it heals.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from baton.config import HAProxyBalancer
from baton.drivers import KEEP_HEAD, KEEP_TAIL, Membership
from baton.drivers.haproxy import HAProxyDriver
from baton.sandbox import fleet
from baton.sandbox.manifest import BACKEND
from baton.sandbox.status import IN_ROTATION, status
from baton.state import Store
from tests.reliability.conftest import Site, run, start, traffic

pytestmark = pytest.mark.integration

OUT = "out of rotation"


def with_step(before: str, name: str, command: str) -> Callable[[dict[str, Any]], None]:
    """Insert step ``name`` running ``command`` before the step named ``before``; no waits
    after removing (these tests strike in a step, not in a wait)."""

    def change(data: dict[str, Any]) -> None:
        data["load_balancers"][0]["configuration"]["wait_after_removing_servers"] = 0
        steps = data["deploy"]["steps"]
        index = next(i for i, s in enumerate(steps) if s["name"] == before)
        steps.insert(index, {"name": name, "run": command, "timeout": 60})

    return change


def on(server: str, command: str) -> str:
    """``command`` on ``server`` only; a no-op elsewhere."""
    return f"if [ {{server}} = {server} ]; then {command}; fi"


async def served(site: Site) -> list[tuple[str | None, str]]:
    return [(s.version, s.membership) for s in await status(site.sandbox)]


def no_server_errors(errors: dict[str, int]) -> list[str]:
    """Failures an app restarted in rotation would cause (HAProxy answering 5xx); connection
    errors while HAProxy itself restarts are HAProxy's, not a server's."""
    return [kind for kind in errors if kind.startswith("HTTP")]


async def test_haproxy_restarted_mid_step_without_its_state_is_told_again(site: Site) -> None:
    second = site.sandbox.servers[1].name
    manifest = site.manifest(with_step("restart", "pause", on(second, "sleep 3")))
    version = f"forgot-{uuid.uuid4().hex[:6]}"
    async with traffic(site.sandbox) as report:
        baton = await start(*site.deploy_arguments(manifest, version))
        await baton.until(rf"{second}: step pause")
        await asyncio.to_thread(fleet.restart_balancer, site.sandbox, keep_state=False)
        code = await baton.finish()
    output = baton.output
    assert code == 0, output
    forgot = re.search(
        rf"haproxy forgot runtime state at \d\d:\d\d:\d\d: server {second} was back in "
        "rotation; taken out again",
        output,
    )
    assert forgot is not None, output
    assert f"WARNING: {forgot[0]}" in output
    assert f"{second}: succeeded - now serving {version}; {forgot[0]} [in rotation]" in output
    assert await served(site) == [(version, IN_ROTATION)] * 3
    assert forgot[0] in (Store(site.state).deploys()[0].summary or "")
    assert report.sent > 0 and no_server_errors(report.errors) == [], report.summary()


async def test_haproxy_restarted_with_its_saved_state_keeps_servers_out(site: Site) -> None:
    balancer = HAProxyBalancer(type="haproxy", socket=site.sandbox.haproxy_socket, backend=BACKEND)
    third = site.sandbox.servers[2].name
    await HAProxyDriver(balancer).remove(third)
    await asyncio.to_thread(fleet.restart_balancer, site.sandbox, keep_state=True)
    assert (await HAProxyDriver(balancer).membership())[third] is Membership.OUT_OF_ROTATION


@contextlib.contextmanager
def small_filesystem(directory: Path, size: str) -> Iterator[Path]:
    """A tmpfs of ``size`` mounted at ``directory`` for the state; unmounted afterwards."""
    directory.mkdir()
    options = f"size={size},mode=0700"  # a state directory others can write to is refused
    subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", directory], check=True)
    try:
        yield directory
    finally:
        subprocess.run(["umount", "-l", directory], check=False)


def fill(directory: Path, leave: int) -> Path:
    """Fill the filesystem of ``directory`` until ``leave`` bytes are free."""
    stats = os.statvfs(directory)
    filler = directory / "filler"
    remaining = stats.f_bavail * stats.f_frsize - leave
    block = b"\0" * 2**20
    with contextlib.suppress(OSError), filler.open("wb") as out:  # baton may fill it first
        while remaining > 0:
            remaining -= out.write(block[: min(remaining, len(block))])
    return filler


async def test_too_little_room_for_the_state_refuses_to_start(site: Site) -> None:
    before = await served(site)
    with small_filesystem(site.state / "small", "8m") as state:
        arguments = [*site.deploy_arguments(site.manifest(), "never"), "--state", str(state)]
        code, output = await run(*arguments)
        assert code == 1, output
        assert re.fullmatch(
            rf"baton: error: preflight: the filesystem of baton's state {state} has [78]\.\d MiB "
            "free, below the 16 MiB a deploy needs to be recorded \\(MIN_STATE_FREE\\); free "
            "some space or use --state elsewhere; nothing changed",
            output.splitlines()[-1],
        ), output
        assert Store(state).deploys() == []
    assert await served(site) == before


async def test_a_full_disk_mid_step_stops_and_the_next_deploy_heals(site: Site) -> None:
    second = site.sandbox.servers[1].name
    noisy = on(second, "sleep 0.5; head -c 450000 /dev/urandom | base64; sleep 3")
    manifest = site.manifest(with_step("restart", "noisy", noisy))
    stopped, version = f"full-{uuid.uuid4().hex[:6]}", f"roomy-{uuid.uuid4().hex[:6]}"
    with small_filesystem(site.state / "small", "20m") as state:
        async with traffic(site.sandbox) as report:
            baton = await start(*site.deploy_arguments(manifest, stopped), "--state", str(state))
            await baton.until(rf"{second}: step noisy")
            filler = fill(state, leave=16 * 1024)
            code = await baton.finish()
            output = baton.output
            assert code == 1, output
            assert "Traceback" not in output, output
            assert f"NOT RECORDED: cannot write baton's state {state}/baton.sqlite3: database " \
                "or disk is full" in output, output  # fmt: skip
            assert re.search(
                rf"{second}: cancelled - the deploy stopped: baton could not write its state; "
                r"left out of rotation on haproxy \[OUT of rotation\]",
                output,
            ), output
            assert (await served(site))[1][1] == OUT
            filler.unlink()
            code, again = await run(
                *site.deploy_arguments(manifest, version), "--state", str(state)
            )
        assert code == 0, again
        assert "WARNING: deploy #1 never finished: " in again, again
        assert f"WARNING: recovery: {second} was left out of rotation" in again, again
        assert [(d.version, d.status) for d in Store(state).deploys()] == [
            (version, "succeeded"),
            (stopped, "abandoned"),
        ]
    assert await served(site) == [(version, IN_ROTATION)] * 3
    assert report.sent > 0 and report.failed == 0, report.summary()


async def test_a_step_flooding_67_mb_is_stored_bounded_with_a_marker(site: Site) -> None:
    first = site.sandbox.servers[0].name
    flood = on(first, "head -c 50000000 /dev/urandom | base64")
    manifest = site.manifest(with_step("restart", "flood", flood))
    version = f"flood-{uuid.uuid4().hex[:6]}"
    async with traffic(site.sandbox) as report:
        code, output = await run(*site.deploy_arguments(manifest, version, "--quiet"))
    assert code == 0, output + (await run("show", "1", "--output", "--state", str(site.state)))[1]
    show = await run("show", "1", "--output", "--state", str(site.state))
    marker = re.search(r"\[\.\.\. ([\d,]+) bytes of output left out \.\.\.\]", show[1])
    assert marker is not None, show[1][:2000]
    total = 66_666_668 + 877_193  # base64 of 50 MB, and a newline after each 76 characters
    kept = KEEP_HEAD + KEEP_TAIL  # less up to one line, as the tail starts on a line
    assert total - kept <= int(marker[1].replace(",", "")) <= total - kept + 77
    stored = sum(f.stat().st_size for f in site.state.glob("baton.sqlite3*"))
    assert stored < 4_000_000
    assert await served(site) == [(version, IN_ROTATION)] * 3
    assert report.sent > 0 and report.failed == 0, report.summary()


async def test_a_deploy_cancelled_mid_step_records_the_step_and_its_output(site: Site) -> None:
    first = site.sandbox.servers[0].name
    manifest = site.manifest(with_step("restart", "slow", "echo halfway there; sleep 30"))
    baton = await start(*site.deploy_arguments(manifest, "cancelled"))
    await baton.until(rf"{first} \| halfway there")
    baton.signal(signal.SIGINT)
    assert await baton.finish() == 130, baton.output
    code, show = await run("show", "1", "--output", "--state", str(site.state))
    assert re.search(r"slow +interrupted +exit None .*\n +halfway there", show), show
    quick = site.manifest(with_step("restart", "quick", "true"))
    code, again = await run(*site.deploy_arguments(quick, "healed"))
    assert code == 0, again
    assert await served(site) == [("healed", IN_ROTATION)] * 3
