"""NginxDriver against a real nginx (Debian's, in the foreground) with three HTTP servers."""

from __future__ import annotations

import asyncio
import re
import time
from collections import Counter
from pathlib import Path

import pytest
import yaml

from baton import LoadBalancerError
from baton.config import parse_manifest
from baton.drivers import Membership
from baton.drivers.bundle import Drivers
from baton.drivers.factory import load_balancer_driver
from baton.drivers.fake import FakeFleet
from baton.drivers.http import get
from baton.drivers.nginx import NginxDriver, parse_upstream
from baton.execution import run_deploy
from baton.execution.events import Event, Warned
from baton.planning import DeployOptions, Strategy, build_plan
from baton.sandbox.nginx import NginxProcess
from baton.settings import Settings
from baton.state import Store
from tests.drivers.conftest import NameServer, nginx_balancer

pytestmark = pytest.mark.integration

IN, OUT = Membership.IN_ROTATION, Membership.OUT_OF_ROTATION
Servers = dict[str, NameServer]


async def served_by(nginx: NginxProcess, requests: int = 9) -> Counter[str]:
    answers = [await get(nginx.frontend_url, 5) for _ in range(requests)]
    assert all(status == 200 for status, _ in answers), answers
    return Counter(body for _, body in answers)


async def test_remove_marks_down_reloads_and_add_puts_back(
    nginx: NginxProcess, name_servers: Servers
) -> None:
    driver = load_balancer_driver(nginx_balancer(nginx, name_servers))
    assert isinstance(driver, NginxDriver)
    assert await driver.preflight() == []
    assert await driver.membership() == {"a": IN, "b": IN, "c": IN}
    assert set(await served_by(nginx)) == {"a", "b", "c"}

    await driver.remove("b")
    text = nginx.upstream_file.read_text()
    assert f"server {name_servers['b'].where} down;" in text
    assert await driver.membership() == {"a": IN, "b": OUT, "c": IN}
    assert set(await served_by(nginx)) == {"a", "c"}

    await driver.add("b")
    assert "down" not in nginx.upstream_file.read_text()
    assert set(await served_by(nginx)) == {"a", "b", "c"}
    await driver.close()


async def test_remove_waits_for_the_old_workers_to_finish_requests(
    nginx: NginxProcess, name_servers: Servers
) -> None:
    driver = NginxDriver(nginx_balancer(nginx, name_servers))
    slow = asyncio.create_task(get(f"{nginx.frontend_url}slow", 5))
    await asyncio.sleep(0.3)  # the request is inside a worker of the current generation
    started = time.monotonic()
    await driver.remove("a")
    assert time.monotonic() - started > 0.4  # the slow request takes a second
    assert slow.done() and (await slow)[0] == 200  # finished, not cut
    await driver.close()


DRAINING = (
    r"load balancer edge \(nginx upstream app in .*upstream\.conf\): stopped waiting for the "
    r"old nginx workers after timeout 0\.3s with 1 still draining: requests they hold may be "
    r"cut; raise `timeout` on this balancer to wait longer"
)


async def test_a_drain_that_outlasts_the_timeout_is_reported(
    nginx: NginxProcess, name_servers: Servers
) -> None:
    driver = NginxDriver(nginx_balancer(nginx, name_servers, timeout=0.3))
    assert driver.take_warnings() == []
    slow = asyncio.create_task(get(f"{nginx.frontend_url}slow", 5))
    await asyncio.sleep(0.3)  # the one-second request is inside a worker of this generation
    await driver.remove("a")
    warnings = driver.take_warnings()
    assert len(warnings) == 1 and re.fullmatch(DRAINING, warnings[0]), warnings
    assert driver.take_warnings() == []  # each said once
    await slow
    await driver.close()


async def test_on_drain_timeout_fail_fails_the_removal(
    nginx: NginxProcess, name_servers: Servers
) -> None:
    lb = nginx_balancer(nginx, name_servers, timeout=0.3, on_drain_timeout="fail")
    driver = NginxDriver(lb)
    slow = asyncio.create_task(get(f"{nginx.frontend_url}slow", 5))
    await asyncio.sleep(0.3)
    with pytest.raises(LoadBalancerError, match=DRAINING + r" \(on_drain_timeout: fail\)$"):
        await driver.remove("a")
    assert driver.take_warnings() == []
    await slow
    await driver.close()


async def test_a_change_nginx_rejects_restores_the_file(
    nginx: NginxProcess, name_servers: Servers
) -> None:
    driver = NginxDriver(nginx_balancer(nginx, name_servers))
    before = nginx.upstream_file.read_text()
    nginx.config.write_text(nginx.config.read_text() + "bogus_directive on;\n")
    with pytest.raises(LoadBalancerError, match=r"`nginx -t` rejected the change: .*bogus_dir"):
        await driver.remove("c")
    assert nginx.upstream_file.read_text() == before
    assert set(await served_by(nginx)) == {"a", "b", "c"}  # still running the old config
    await driver.close()


async def test_preflight_requires_the_file_included_and_nginx_running(
    nginx: NginxProcess, name_servers: Servers
) -> None:
    elsewhere = nginx.directory / "other.conf"
    elsewhere.write_text(nginx.upstream_file.read_text())
    driver = NginxDriver(nginx_balancer(nginx, name_servers, file=elsewhere))
    with pytest.raises(LoadBalancerError, match=r"-T` does not show .*other.conf: include it"):
        await driver.preflight()
    await driver.close()
    stopped = NginxDriver(nginx_balancer(nginx, name_servers, pid_file=elsewhere))
    with pytest.raises(LoadBalancerError, match=r"no nginx worker runs under the master in"):
        await stopped.preflight()


async def test_unknown_members_and_upstreams_are_refused(
    nginx: NginxProcess, name_servers: Servers
) -> None:
    driver = NginxDriver(nginx_balancer(nginx, name_servers, servers={"a": "127.0.0.1:1"}))
    with pytest.raises(LoadBalancerError, match=r"a \(127.0.0.1:1\) is not a server of the"):
        await driver.remove("a")
    other = NginxDriver(nginx_balancer(nginx, name_servers, upstream="api"))
    with pytest.raises(LoadBalancerError, match=r"upstream\.conf has no upstream api"):
        await other.membership()
    assert "down" not in nginx.upstream_file.read_text()


async def test_a_link_planted_at_the_old_temporary_name_is_not_followed(
    nginx: NginxProcess, name_servers: Servers, tmp_path: Path
) -> None:
    victim = tmp_path / "victim"
    victim.write_text("not nginx's\n")
    victim.chmod(0o600)
    planted = nginx.upstream_file.with_name("upstream.conf.baton-new")
    planted.symlink_to(victim)
    driver = NginxDriver(nginx_balancer(nginx, name_servers))
    await driver.remove("a")
    assert victim.read_text() == "not nginx's\n" and victim.stat().st_mode & 0o777 == 0o600
    assert f"server {name_servers['a'].where} down;" in nginx.upstream_file.read_text()
    assert planted.readlink() == victim  # the link itself is left as it was
    leftovers = sorted(p.name for p in nginx.directory.glob("upstream.conf.baton-*"))
    assert leftovers == ["upstream.conf.baton-new"]  # the link, untouched; no temporary left
    await driver.close()


async def test_a_directory_others_can_write_to_is_refused(
    nginx: NginxProcess, name_servers: Servers
) -> None:
    before = nginx.upstream_file.read_text()
    nginx.directory.chmod(0o777)
    try:
        driver = NginxDriver(nginx_balancer(nginx, name_servers))
        with pytest.raises(LoadBalancerError) as refused:
            await driver.remove("a")
        assert str(refused.value).endswith(
            f"refusing to write in {nginx.directory}: others can write to it (mode 777), so "
            "they could replace the file; make it writable by its owner only"
        )
        assert "\n" not in str(refused.value)
        assert nginx.upstream_file.read_text() == before
        await driver.close()
    finally:
        nginx.directory.chmod(0o755)


async def test_an_upstream_file_of_128_kib_and_more_is_written(
    nginx: NginxProcess, name_servers: Servers
) -> None:
    """The text goes on stdin: as an argument it failed with "Argument list too long"."""
    padding = "".join(f"# {n:06d} {'x' * 90}\n" for n in range(1600))  # about 155 KiB
    text = padding + nginx.upstream_file.read_text()
    assert len(text) > 150 * 1024
    nginx.upstream_file.write_text(text)
    driver = NginxDriver(nginx_balancer(nginx, name_servers))
    where = name_servers["c"].where
    await driver.remove("c")
    assert nginx.upstream_file.read_text() == text.replace(f"{where};", f"{where} down;")
    await driver.add("c")
    assert nginx.upstream_file.read_text() == text
    await driver.close()


def commented_upstream(servers: Servers) -> str:
    """The upstream file with comments before, inside and after the block, on every member,
    the two of issue 21 among them (one names the member below it)."""
    a, b, c = (servers[name].where for name in "abc")
    return (
        f"# server {a} used to be here; upstream app {{ server {a}; }}\n"
        f"upstream app {{  # server {c} down;\n"
        "    # this server is flaky\n"
        f"    server {a};  # server {b} down;\n"
        "    # server 10.0.0.3:8000 is on the old rack\n"
        f"    # server {b} is on the old rack\n"
        f"    server {b} max_fails=1; # weight=2\n"
        f"    server {c} # ends below;\n"
        "    ;\n"
        "}\n"
        f"# after the block: server {c} down;\n"
    )


@pytest.mark.parametrize("member", ["a", "b", "c"])
async def test_comments_in_the_upstream_file_are_kept_and_the_right_member_changes(
    nginx: NginxProcess, name_servers: Servers, member: str
) -> None:
    text = commented_upstream(name_servers)
    nginx.upstream_file.write_text(text)
    driver = NginxDriver(nginx_balancer(nginx, name_servers))
    where = name_servers[member].where
    marked = {
        "a": (f"server {where};  #", f"server {where} down;  #"),
        "b": (f"server {where} max_fails=1;", f"server {where} max_fails=1 down;"),
        "c": (f"server {where} # ends", f"server {where} down # ends"),
    }[member]

    await driver.remove(member)
    assert nginx.upstream_file.read_text() == text.replace(*marked)
    assert await driver.membership() == {n: OUT if n == member else IN for n in "abc"}
    assert set(await served_by(nginx)) == set("abc") - {member}

    await driver.add(member)
    assert nginx.upstream_file.read_text() == text
    assert set(await served_by(nginx)) == set("abc")
    await driver.close()


def test_parsing_keeps_parameters_and_comments() -> None:
    text = "# managed\nupstream app {\n  server 10.0.0.1:80 weight=2; # one\n  server x down;\n}\n"
    upstream = parse_upstream(text, "app")
    assert upstream is not None and upstream.down == {"10.0.0.1:80": False, "x": True}
    changed = upstream.with_mark("10.0.0.1:80", down=True).replace(
        "server 10.0.0.1:80 weight=2 down;", "X"
    )
    assert changed == "# managed\nupstream app {\n  X # one\n  server x down;\n}\n"
    assert parse_upstream(text, "api") is None


@pytest.mark.parametrize("on_drain_timeout", ["warn", "fail"])
async def test_a_deploy_says_when_nginx_stopped_waiting_for_a_drain(
    nginx: NginxProcess, name_servers: Servers, tmp_path: Path, on_drain_timeout: str
) -> None:
    """A slow request in flight when the first server leaves: the deploy warns (and succeeds)
    by default or, with on_drain_timeout: fail, fails that server with the same line."""
    balancer = {
        "name": "edge", "type": "nginx", "file": str(nginx.upstream_file), "upstream": "app",
        "command": nginx.command, "pid_file": str(nginx.pid_file), "timeout": 0.3,
        "servers": {name: server.where for name, server in name_servers.items()},
    } | ({"on_drain_timeout": "fail"} if on_drain_timeout == "fail" else {})  # fmt: skip
    m = parse_manifest(
        yaml.safe_dump(
            {
                "application": "shop",
                "servers": [{"name": name, "address": "127.0.0.1"} for name in name_servers],
                "load_balancers": [balancer],
                "deploy": {"steps": [{"name": "restart", "run": "restart {server}"}]},
            }
        )
    )
    fleet, store = FakeFleet(m), Store(tmp_path / "state")
    options = DeployOptions(version="v2", strategy=Strategy.SERIAL)
    plan = build_plan(m, Settings(), options, store.applied_values("shop"))
    slow = asyncio.create_task(get(f"{nginx.frontend_url}slow", 5))
    await asyncio.sleep(0.3)  # the one-second request is inside a worker of this generation
    events: list[Event] = []
    drivers = Drivers(fleet.transport, load_balancer_driver)
    report = await run_deploy(plan, store, drivers=drivers, sinks=[events.append])
    await slow

    warnings = [e.message for e in events if isinstance(e, Warned)]
    if on_drain_timeout == "warn":
        assert report.result.status == "succeeded"
        assert len(warnings) == 1 and re.fullmatch(DRAINING, warnings[0]), warnings
    else:
        assert report.result.status == "failed"
        assert warnings == []
        assert re.search(DRAINING + r" \(on_drain_timeout: fail\)", report.result.servers[0].detail)
