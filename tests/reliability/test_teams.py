"""A team sharing one PostgreSQL state, on real parts: the reliability fleet (sshd, HAProxy,
apps), a throw-away PostgreSQL cluster and the real ``baton`` command line in separate
processes, as two laptops or CI runners would run it."""

from __future__ import annotations

import asyncio
import json
import re
import socket
from typing import Any

import pytest

from baton.sandbox.manifest import APPLICATION
from baton.state import Store
from tests.receiver import receiving
from tests.reliability.conftest import Site, run, start

pytestmark = pytest.mark.integration  # real sshd, HAProxy and PostgreSQL


def _deploy(site: Site, state: str, version: str, *extra: str) -> list[str]:
    manifest = site.manifest(lambda data: data["load_balancers"][0]["configuration"].clear())
    return ["deploy", "-s", APPLICATION, "-f", str(manifest), "--state", state,
            "--version", version, *extra]  # fmt: skip


async def test_two_deploys_sharing_postgresql_one_runs_the_other_names_it(
    site: Site, postgres_url: str
) -> None:
    both = [await start(*_deploy(site, postgres_url, f"pg-race-{n}")) for n in (1, 2)]
    codes = await asyncio.gather(*(b.finish() for b in both))
    assert sorted(codes) == [0, 1], [b.output for b in both]
    winner, loser = both if codes[0] == 0 else both[::-1]
    holder = rf"deploy #1, pid {winner.process.pid} on {re.escape(socket.gethostname())}, since"
    assert re.search(rf"a deploy is already running \({holder}", loser.output), loser.output
    assert [d.status for d in Store(postgres_url).deploys()] == ["succeeded"]


async def test_listen_follows_a_deploy_another_process_runs(site: Site, postgres_url: str) -> None:
    listener = await start("listen", "-s", APPLICATION, "--state", postgres_url)
    await listener.until("waiting for the next one")
    code, output = await run(*_deploy(site, postgres_url, "followed"))
    assert code == 0, output
    assert await listener.finish() == 0, listener.output
    assert "following deploy #1 of sandbox: version followed, serial" in listener.output
    first = site.sandbox.servers[0].name
    for line in (f"{first}: removed (haproxy)", f"{first}: added (haproxy)"):
        assert line in listener.output and line in output
    assert output.endswith(listener.output[listener.output.index("deploy #1 succeeded: ") :])
    shown = await start("show", "1", "--follow", "--state", postgres_url)
    assert await shown.finish() == 0 and f"{first}: added (haproxy)" in shown.output


async def test_profiles_are_shared_and_flags_win(site: Site, postgres_url: str) -> None:
    saved = await run("profile", "save", "-s", APPLICATION, "hotfix", "--parallel",
                      "--skip-migrations", "--state", postgres_url)  # fmt: skip
    assert saved == (0, "sandbox: profile hotfix = parallel, skip migrations")
    plan = [*_deploy(site, postgres_url, "p1")]
    plan[0] = "plan"
    code, output = await run(*plan, "--profile", "hotfix", "--json")
    assert code == 0, output
    assert (json.loads(output)["strategy"], json.loads(output)["run_migrations"]) == (
        "parallel",
        False,
    )
    code, output = await run(*plan, "--profile", "hotfix", "--serial", "--json")
    assert json.loads(output)["strategy"] == "serial"
    code, output = await run(*plan, "--profile", "nosuch")
    assert code == 2 and "no such profile (saved: hotfix)" in output


async def test_state_copy_moves_a_laptop_history_into_postgresql(
    site: Site, postgres_url: str
) -> None:
    laptop = str(site.state / "laptop")
    assert (await run(*_deploy(site, laptop, "from-laptop")))[0] == 0
    code, output = await run("state", "copy", "--from", laptop, "--to", postgres_url)
    assert code == 0 and "1 deploys" in output, output
    code, history = await run("history", "-s", APPLICATION, "--state", postgres_url)
    assert code == 0 and "from-laptop" in history
    code, output = await run(*_deploy(site, postgres_url, "after-copy"))
    assert code == 0 and "deploy #2 " in output, output


async def test_hooks_and_notifications_around_a_deploy_of_the_fleet(site: Site) -> None:
    """before/after_server run over SSH while HAProxy has the server out; first_thing runs
    here; a receiver that fails once still gets the start and the end."""
    async with receiving([500]) as receiver:

        def with_hooks(data: dict[str, Any]) -> None:
            data["hooks"] = {
                "first_thing": [{"run": "echo first {version}"}],
                "before_server": [{"run": "echo before {server}"}],
                "after_server": [{"run": "echo after {server}"}],
            }
            data["notifications"] = {"webhooks": [{"url": receiver.url}], "deadline": 5}

        code, output = await run(*site.deploy_arguments(site.manifest(with_hooks), "hooked"))
    assert code == 0, output
    lines = output.splitlines()
    assert lines.index("local | first hooked") < min(
        i for i, line in enumerate(lines) if "removed (haproxy)" in line
    )
    for server in (s.name for s in site.sandbox.servers):
        order = [
            next(i for i, line in enumerate(lines) if line.endswith(text))
            for text in (
                f"{server}: removed (haproxy)",
                f"{server} | before {server}",
                f"{server} | after {server}",
                f"{server}: added (haproxy)",
            )
        ]
        assert order == sorted(order), (server, output)
    assert [body["event"] for body in receiver.received] == [
        "deploy_started",
        "deploy_started",
        "deploy_finished",
    ]
    assert receiver.received[-1]["status"] == "succeeded"
    (attempts,) = [Store(str(site.state)).notifications(1)]
    assert [(a.message, a.outcome) for a in attempts] == [
        ("started", "retrying"),
        ("started", "delivered"),
        ("finished", "delivered"),
    ]
