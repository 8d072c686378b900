"""After the deploy, baton says the waits looked too short when a balancer that counts requests
(HAProxy's ``show stat``) still sent a server requests once it was out of rotation and the
removal wait had passed: a restart then drops them. On the recording fakes and fake time."""

from collections.abc import Callable
from pathlib import Path

import pytest

from baton.config import Manifest, parse_manifest
from baton.drivers import Membership
from baton.drivers.fake import FakeFleet
from baton.drivers.loadbalancer import ServerTraffic
from baton.execution import run_deploy
from baton.planning import DeployOptions, build_plan
from baton.settings import Settings
from baton.state import Store
from tests.manifests import manifest_text

Fleet = Callable[[Manifest], FakeFleet]


def still_sending(fleet: FakeFleet, late: set[str]) -> None:
    """Balancer ``main`` counts 10 responses per server between two reads, and keeps sending
    the servers in ``late`` requests while they are out of rotation."""
    balancer = fleet.load_balancers["main"]
    answered: dict[str, int] = {}

    async def traffic() -> dict[str, ServerTraffic]:
        for server, membership in balancer.state.items():
            serving = membership is Membership.IN_ROTATION or server in late
            answered[server] = answered.get(server, 0) + (10 if serving else 0)
        return {server: ServerTraffic(n, 0) for server, n in answered.items()}

    balancer.traffic = traffic  # type: ignore[method-assign]


async def deploy(tmp_path: Path, fleet: FakeFleet, manifest: Manifest) -> str:
    plan = build_plan(manifest, Settings(), DeployOptions("v2"))
    report = await run_deploy(plan, Store(tmp_path), drivers=fleet.drivers())
    assert report.result.status == "succeeded"
    return report.result.summary()


@pytest.mark.parametrize(("late", "warned"), [({"web2"}, ["web2"]), (set(), [])])
async def test_requests_to_a_server_out_of_rotation_after_the_wait_are_reported(
    tmp_path: Path, fake_fleet: Fleet, late: set[str], warned: list[str]
) -> None:
    manifest = parse_manifest(manifest_text(3, waits=(2, None), migration=False))
    fleet = fake_fleet(manifest)
    still_sending(fleet, late)
    summary = await deploy(tmp_path, fleet, manifest)
    warnings = [line.strip() for line in summary.splitlines() if "WARNING" in line]
    assert warnings == [
        f"WARNING: {server} answered 10 request(s) through main after it was out of rotation "
        "and wait_after_removing_servers (2s) had passed: the waits look too short; raise "
        "main's wait_after_removing_servers"
        for server in warned
    ]


async def test_without_a_removal_wait_nothing_is_counted(tmp_path: Path, fake_fleet: Fleet) -> None:
    manifest = parse_manifest(manifest_text(3, migration=False))
    fleet = fake_fleet(manifest)
    still_sending(fleet, {"web1", "web2", "web3"})
    assert "WARNING" not in await deploy(tmp_path, fleet, manifest)
