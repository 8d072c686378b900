"""One preflight for ``baton check`` and ``baton deploy``: a load balancer whose driver's own
checks fail (nginx's include and workers, a cloud group's credentials, ...) makes ``check``
exit 1 naming the driver's message, and ``deploy`` refuse with nothing changed, for every kind
of load balancer (each driver's ``preflight`` made to fail) and the fake one."""

from __future__ import annotations

import re
import time
from dataclasses import replace
from pathlib import Path

import pytest

from baton import InputError, LoadBalancerError
from baton.checking.check import check
from baton.checking.findings import Status
from baton.checking.preflight import balancers_ready
from baton.cli.main import main
from baton.config import LoadBalancer, parse_manifest
from baton.drivers import LoadBalancerDriver, Membership
from baton.drivers.bundle import Drivers
from baton.drivers.factory import LOAD_BALANCER_DRIVERS, load_balancer_driver
from baton.drivers.fake import FakeFleet
from baton.execution import run_deploy
from baton.state import JournalEntry, LockHolder, Store
from tests.manifests import manifest

ARN = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/web/0123456789abcdef"
BALANCERS = {
    "haproxy": "    type: haproxy\n    socket: /tmp/haproxy.sock\n    backend: app\n",
    "nginx": "    type: nginx\n    file: /etc/nginx/app.conf\n    upstream: app\n",
    "elbv2": f"    type: elbv2\n    target_group_arn: {ARN}\n"
    "    servers: {web1: 10.0.0.1, web2: 10.0.0.2}\n",
    "command": "    type: command\n    remove: lb out {server}\n    add: lb in {server}\n"
    "    status: lb status\n",
}
REFUSAL = "the driver's own check failed: fix the load balancer"


def test_every_kind_has_a_manifest_here() -> None:
    assert set(BALANCERS) == set(LOAD_BALANCER_DRIVERS)


def manifest_text(kind: str) -> str:
    balancer = BALANCERS["haproxy" if kind == "fake" else kind]
    return (
        "application: shop\nservers:\n"
        "  - {name: web1, address: 127.0.1.1}\n  - {name: web2, address: 127.0.1.2}\n"
        f"load_balancers:\n  - name: main\n{balancer}"
        "deploy:\n  steps:\n    - name: restart\n      run: restart {server}\n"
    )


def failing(kind: str, fleet: FakeFleet) -> Drivers:
    """The fleet's transports, and a load balancer of ``kind`` that knows every server in
    rotation but whose driver's preflight refuses."""

    def load_balancer(lb: LoadBalancer) -> LoadBalancerDriver:
        driver = fleet.load_balancer(lb) if kind == "fake" else load_balancer_driver(lb)

        async def preflight() -> list[str]:
            raise LoadBalancerError(f"load balancer {lb.name}: {REFUSAL}")

        async def membership() -> dict[str, Membership]:
            return dict.fromkeys(("web1", "web2"), Membership.IN_ROTATION)

        driver.preflight = preflight  # type: ignore[method-assign]
        if kind != "fake":
            driver.membership = membership  # type: ignore[method-assign]
        return driver

    return Drivers(fleet.transport, load_balancer)


@pytest.mark.parametrize("kind", [*LOAD_BALANCER_DRIVERS, "fake"])
def test_a_driver_preflight_failure_fails_check_and_refuses_deploy(
    kind: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = tmp_path / "baton.yml"
    path.write_text(manifest_text(kind))
    fleet = FakeFleet(parse_manifest(path.read_text()))
    monkeypatch.setattr(Drivers, "real", classmethod(lambda cls: failing(kind, fleet)))
    state = tmp_path / "state"
    arguments = ["-s", "shop", "-f", str(path), "--state", str(state)]

    assert main(["check", *arguments]) == 1
    out = capsys.readouterr().out
    assert f"main: PROBLEM: load balancer main: {REFUSAL}\n" in out
    assert out.splitlines()[-1].startswith("a deploy would not get through: 1 problem(s) above")
    looked_up = fleet.timeline.commands()

    assert main(["deploy", *arguments, "--version", "v2"]) == 1
    assert f"baton: error: load balancer main: {REFUSAL}" in capsys.readouterr().err
    assert fleet.timeline.commands() == looked_up  # no step ran
    assert fleet.removals() == []
    assert Store(state).deploys() == []


async def test_a_server_baton_took_out_and_the_balancer_forgot_is_no_problem_for_either(
    tmp_path: Path,
) -> None:
    """A cloud target group forgets a deregistered target: neither check nor deploy refuses a
    server the journal says baton took out; check warns, as it does of the killed deploy."""
    m = manifest(2, migration=False)
    fleet, store = FakeFleet(m), Store(tmp_path)
    dead = replace(LockHolder.this_process(), pid=2**22 + 7)
    killed = store.start_deploy("shop", "v1", "serial", {}, [], dead)
    store.journal(JournalEntry("shop", "main", "web2", "remove", "done", killed, time.time()))
    del fleet.load_balancers["main"].state["web2"]
    report = await check(m, store, drivers=fleet.drivers(), environ={})
    web2 = report.of_server("web2")["main"]
    assert (web2.status, web2.detail) == (
        Status.WARNING,
        "not known to it: baton took it out (per its journal)",
    )
    assert report.ok, report.problems
    assert await balancers_ready(m, fleet.load_balancers, store) == []  # a deploy's own
    del fleet.load_balancers["main"].state["web1"]
    with pytest.raises(LoadBalancerError, match=r"does not know server\(s\) web1; it has: none"):
        await balancers_ready(m, fleet.load_balancers, store)


async def test_a_floor_a_serial_deploy_cannot_keep_fails_check_as_it_refuses_deploy(
    tmp_path: Path,
) -> None:
    m = manifest(2, migration=False)
    fleet, store = FakeFleet(m), Store(tmp_path)
    store.set_setting("shop", "deploy.min_in_service", "2")
    report = await check(m, store, drivers=fleet.drivers(), environ={})
    [problem] = report.problems
    assert (problem.check, problem.detail) == (
        "plan",
        "deploy.min_in_service is 2 but shop has 2 server(s): taking one out leaves at most 1 "
        "in rotation, so a serial deploy cannot start (`baton settings set -s shop "
        "deploy.min_in_service 1`, or --parallel)",
    )
    with pytest.raises(InputError, match=re.escape(problem.detail)):
        await run_deploy(report.plan, store, drivers=fleet.drivers())
    assert store.deploys() == []
