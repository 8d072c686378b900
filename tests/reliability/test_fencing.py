"""Never two deploys at once (issue 21): a deploy frozen (SIGSTOP) past the stale time with a
server out of rotation, a second deploy -- in another pid namespace with per-server lock files
of its own, as on another machine -- takes over its lock and deploys, then the first resumes.
It must stop without another balancer or server action, exit non-zero and leave history and
the fleet as the second deploy made them. On real parts: the reliability fleet (sshd, HAProxy,
apps), both state backends, and the real ``baton`` command line in separate processes."""

from __future__ import annotations

import asyncio
import re
import signal
import sys
import uuid
from collections.abc import Sequence
from pathlib import Path

import pytest

from baton.checking.preflight import LOCAL_LOCKS
from baton.sandbox.manifest import APPLICATION
from baton.sandbox.status import IN_ROTATION, status
from baton.state import Store
from tests.reliability.conftest import Baton, Site, environment

pytestmark = pytest.mark.integration

STALE = 2.0
FAST_LOCKS = {"BATON_TEST_STALE_AFTER": str(STALE), "BATON_TEST_HEARTBEAT_EVERY": "0.5"}


async def _baton(arguments: Sequence[str], within: Sequence[str] = ()) -> Baton:
    """The baton command line (run ``within`` a wrapper) with a lock stale in STALE seconds."""
    process = await asyncio.create_subprocess_exec(
        *within, sys.executable, "-m", "tests.reliability.fast_locks", *arguments,
        env=environment(**FAST_LOCKS), stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    return Baton(process)


def as_on_another_machine(server_locks: Path) -> tuple[str, ...]:
    """Run in a pid namespace of its own (the first deploy's pid is not there to look at, so
    its lock is judged by its heartbeat), over per-server lock files of its own."""
    mount = 'mount -t tmpfs -o mode=0700 tmpfs "$0" && exec "$@"'
    return ("unshare", "--pid", "--fork", "--mount-proc", "sh", "-c", mount, str(server_locks))


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_a_frozen_deploy_taken_over_stops_touching_nothing_and_the_other_wins(
    site: Site, backend: str, request: pytest.FixtureRequest
) -> None:
    sqlite = backend == "sqlite"
    state = str(site.state / "state") if sqlite else request.getfixturevalue("postgres_url")
    server_locks = (Path(state) if sqlite else LOCAL_LOCKS) / "servers"
    manifest = site.manifest()
    deploy = ["deploy", "-s", APPLICATION, "-f", str(manifest), "--state", state, "--version"]
    older, newer = (f"{name}-{uuid.uuid4().hex[:6]}" for name in ("older", "newer"))
    rel1 = site.sandbox.servers[0].name

    first = await _baton([*deploy, older])
    await first.until(rf"{rel1}: waiting 1s")
    first.signal(signal.SIGSTOP)
    try:
        await asyncio.sleep(STALE + 1)
        second = await _baton([*deploy, newer], as_on_another_machine(server_locks))
        assert await second.finish() == 0, second.output
        frozen_at = len(first.lines)
    finally:
        first.signal(signal.SIGCONT)
    code = await first.finish()

    assert code == 1, first.output
    assert re.search(
        r"deploy #1 never finished: its process \(pid \d+ on \S+\) has not beaten its "
        r"heartbeat for \d+s \(frozen or gone\)",
        second.output,
    ), second.output
    resumed = "\n".join(first.lines[frozen_at:])
    assert not re.search(r"\((haproxy)\)|forgot runtime state|\| ", resumed), resumed
    taken = r"the lock of sandbox was taken over by deploy #2 \(which has since succeeded\)"
    assert re.search(
        rf"LOCK LOST: {taken}; this deploy stopped without touching anything more", resumed
    ), resumed
    store = Store(state)
    assert [(d.id, d.version, d.status) for d in store.deploys()] == [
        (2, newer, "succeeded"),
        (1, older, "abandoned"),
    ]
    assert {e.deploy_id for e in store.journal_entries(APPLICATION)} == {2}
    fleet = await status(site.sandbox)
    assert [(s.version, s.membership) for s in fleet] == [(newer, IN_ROTATION)] * len(fleet)
