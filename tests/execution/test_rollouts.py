"""The engine running batches, prepare waves and migrations first, on the recording fakes."""

from collections.abc import Callable
from pathlib import Path

from baton.config import Manifest, parse_manifest
from baton.drivers.fake import FakeFleet
from baton.drivers.loadbalancer import ServerTraffic
from baton.execution import run_deploy
from baton.execution.result import ServerOutcome
from baton.execution.rollback import roll_back_if_needed, rollback_links
from baton.planning import DeployOptions, Strategy, build_plan
from baton.settings import Settings, parse_canary, parse_ramp
from baton.state import Store
from tests.manifests import manifest, manifest_text

Fleet = Callable[[Manifest], FakeFleet]


async def deploy(
    m: Manifest, fleet: FakeFleet, tmp_path: Path, options: DeployOptions
) -> dict[str, ServerOutcome]:
    plan = build_plan(m, Settings(), options)
    report = await run_deploy(plan, Store(tmp_path), drivers=fleet.drivers())
    return {o.server: o for o in report.result.servers}


def batch(text: str) -> DeployOptions:
    return DeployOptions("v2", batch=parse_ramp(text))


async def test_batches_leave_together_and_never_more_than_the_batch_is_out(
    tmp_path: Path, fake_fleet: Fleet
) -> None:
    m = manifest(6, migration=False)
    fleet = fake_fleet(m)
    fleet.script.on(r"^web[135]: restart", seconds=0.05)
    outcomes = await deploy(m, fleet, tmp_path, batch("2"))
    assert {o.status for o in outcomes.values()} == {"succeeded"}
    moves = [(e.what, e.server) for e in fleet.timeline.entries if e.what in ("remove", "add")]
    assert moves == [
        (what, server)
        for pair in (("web1", "web2"), ("web3", "web4"), ("web5", "web6"))
        for what in ("remove", "add")
        for server in pair
    ]
    assert max(len(e.out_of_rotation) for e in fleet.timeline.entries) == 2


async def test_a_failure_stops_at_its_batch(tmp_path: Path, fake_fleet: Fleet) -> None:
    m = manifest(6, migration=False)
    fleet = fake_fleet(m)
    fleet.script.on(r"^web3: fetch", exit_status=1).on(r"^web4: fetch", seconds=0.2)
    outcomes = await deploy(m, fleet, tmp_path, batch("2"))
    assert outcomes["web3"].status == "failed" and outcomes["web3"].in_rotation is False
    stopped = outcomes["web4"]
    assert stopped.status == "stopped" and stopped.in_rotation is False
    assert "web3 failed" in stopped.detail and "left out of rotation on main" in stopped.detail
    assert "restart" not in " ".join(fleet.timeline.commands("web4"))
    for name in ("web5", "web6"):
        assert outcomes[name].status == "not started" and outcomes[name].in_rotation
        assert not fleet.timeline.commands(name)


async def test_prepare_failure_stops_before_anything_leaves_rotation(
    tmp_path: Path, fake_fleet: Fleet
) -> None:
    m = manifest(4, prepare=True)
    fleet = fake_fleet(m)
    fleet.script.on(r"^web2: fetch", exit_status=1)
    outcomes = await deploy(m, fleet, tmp_path, DeployOptions("v2"))
    assert not [e for e in fleet.timeline.entries if e.what == "remove"]
    assert outcomes["web2"].status == "failed" and outcomes["web2"].in_rotation
    assert "step fetch exited 1" in outcomes["web2"].detail
    for name in ("web1", "web3", "web4"):
        assert outcomes[name].status == "not started" and outcomes[name].in_rotation
        assert "web2" in outcomes[name].detail
    assert not any("restart" in c or "migrate" in c for c in fleet.timeline.commands())


async def test_prepare_runs_in_rotation_and_only_the_rest_out_of_it(
    tmp_path: Path, fake_fleet: Fleet
) -> None:
    m = manifest(3, prepare=True)
    fleet = fake_fleet(m)
    outcomes = await deploy(m, fleet, tmp_path, DeployOptions("v2"))
    assert {o.status for o in outcomes.values()} == {"succeeded"}
    runs = [e for e in fleet.timeline.entries if e.what == "run"]
    fetches = [e for e in runs if e.detail.startswith("fetch")]
    assert len(fetches) == 3 and all(not e.out_of_rotation for e in fetches)
    first_removal = next(i for i, e in enumerate(fleet.timeline.entries) if e.what == "remove")
    assert all(fleet.timeline.entries.index(e) < first_removal for e in fetches)
    assert all(e.out_of_rotation == {e.server} for e in runs if e.detail.startswith("restart"))
    closes = [i for i, e in enumerate(fleet.timeline.entries) if e.what == "close"]
    assert len(closes) == 3  # one transport per server, kept across both of its waves
    assert min(closes) > max(fleet.timeline.entries.index(e) for e in runs)


async def test_parallel_runs_the_migration_before_any_restart(
    tmp_path: Path, fake_fleet: Fleet
) -> None:
    m = manifest(4, prepare=True)
    fleet = fake_fleet(m)
    fleet.script.on(r"migrate", seconds=0.1)
    outcomes = await deploy(m, fleet, tmp_path, DeployOptions("v2", Strategy.PARALLEL))
    assert {o.status for o in outcomes.values()} == {"succeeded"}
    commands = fleet.timeline.commands()
    migrate = commands.index("migrate v2")
    assert commands[:migrate] == ["fetch v2"] * 4
    assert all(c.startswith("restart") for c in commands[migrate + 1 :])


async def test_failed_migration_leaves_every_server_on_the_old_release(
    tmp_path: Path, fake_fleet: Fleet
) -> None:
    m = manifest(3)
    fleet = fake_fleet(m)
    fleet.script.on(r"migrate", exit_status=1)
    outcomes = await deploy(m, fleet, tmp_path, DeployOptions("v2", Strategy.PARALLEL))
    assert outcomes["web1"].status == "failed"
    assert [o.status for o in outcomes.values()].count("not started") == 2
    assert not any(c.startswith("restart") for c in fleet.timeline.commands())


VERIFY = "  verify:\n    command: probe {server}\n    duration: 0.3\n    interval: 0.1\n"


def canary_manifest(servers: int) -> Manifest:
    return parse_manifest(manifest_text(servers, migration=False) + VERIFY)


async def test_a_canary_failing_its_probe_stops_the_deploy_and_is_rolled_back(
    tmp_path: Path, fake_fleet: Fleet
) -> None:
    m = canary_manifest(4)
    fleet = fake_fleet(m)
    store = Store(tmp_path)
    settings = Settings(batch=parse_ramp("2"), canary=parse_canary("1"))
    good = await run_deploy(build_plan(m, settings, DeployOptions("v1")), store,
                            drivers=fleet.drivers())  # fmt: skip
    assert good.result.status == "succeeded"
    fleet.script.on(r"^web1: probe", exit_status=1)
    failed = await run_deploy(build_plan(m, settings, DeployOptions("v2")), store,
                              drivers=fleet.drivers())  # fmt: skip
    outcomes = {o.server: o for o in failed.result.servers}
    assert outcomes["web1"].status == "failed" and outcomes["web1"].changed
    assert "verification failed after 0.3s: 3 of 3 probes failed" in outcomes["web1"].detail
    assert [outcomes[n].status for n in ("web2", "web3", "web4")] == ["not started"] * 3
    rollback = await roll_back_if_needed(failed, store, drivers=fleet.drivers())
    assert rollback is not None and rollback.report is not None, rollback
    assert rollback.report.plan.rollback_of == failed.deploy_id
    assert [(o.server, o.status) for o in rollback.report.result.servers] == [("web1", "succeeded")]
    assert fleet.timeline.commands("web1")[-2:] == ["fetch v1", "restart web1"]
    assert "fetch v2" not in fleet.timeline.commands("web2")
    history = store.deploys("shop")
    assert [(d.version, d.status) for d in history] == [
        ("v1", "succeeded"),
        ("v2", "failed"),
        ("v1", "succeeded"),
    ]
    assert f"automatic rollback of deploy #{failed.deploy_id}" in history[0].plan["strategy_origin"]
    assert rollback_links(store, history[1]) == (None, rollback.report.deploy_id)
    assert rollback_links(store, history[0]) == (failed.deploy_id, None)


async def test_the_balancers_error_rate_fails_a_canary(tmp_path: Path, fake_fleet: Fleet) -> None:
    m = canary_manifest(3)
    fleet = fake_fleet(m)
    calls: list[int] = []

    async def traffic() -> dict[str, ServerTraffic]:
        """Before the deploy and the verification: 100 responses; after: 40 more, 10 errors."""
        calls.append(1)
        return {"web1": ServerTraffic(100, 0) if len(calls) <= 2 else ServerTraffic(140, 10)}

    fleet.load_balancers["main"].traffic = traffic  # type: ignore[method-assign]
    plan = build_plan(m, Settings(canary=parse_canary("1")), DeployOptions("v2"))
    report = await run_deploy(plan, Store(tmp_path), drivers=fleet.drivers())
    web1 = report.result.servers[0]
    assert web1.status == "failed"
    assert "the load balancers saw 10 errors in 40 responses" in web1.detail
    assert "main saw 10 error(s) in 40 response(s) during the deploy (web1: 10)" in (
        report.result.summary()
    )


async def test_no_rollback_without_an_earlier_success(tmp_path: Path, fake_fleet: Fleet) -> None:
    m = canary_manifest(3)
    fleet = fake_fleet(m)
    fleet.script.on(r"probe", exit_status=1)
    store = Store(tmp_path)
    plan = build_plan(m, Settings(canary=parse_canary("1")), DeployOptions("v2"))
    report = await run_deploy(plan, store, drivers=fleet.drivers())
    rollback = await roll_back_if_needed(report, store, drivers=fleet.drivers())
    assert rollback is not None and rollback.report is None
    assert "no earlier successful version of shop to go back to; web1 left" in rollback.note
