import asyncio
from collections.abc import Callable
from pathlib import Path

from baton.config import Manifest
from baton.drivers import Membership
from baton.drivers.fake import FakeFleet
from baton.execution import Event, run_deploy
from baton.execution.events import StepOutput
from baton.planning import DeployOptions, Strategy, build_plan
from baton.settings import Settings
from baton.state import Store
from tests.manifests import manifest

SERIAL = DeployOptions(version="v2", strategy=Strategy.SERIAL)
PARALLEL = DeployOptions(version="v2", strategy=Strategy.PARALLEL)


async def deploy(
    m: Manifest,
    fleet: FakeFleet,
    store: Store,
    options: DeployOptions,
    settings: Settings | None = None,
) -> tuple[str, list[Event]]:
    events: list[Event] = []
    plan = build_plan(m, settings or Settings(), options, store.applied_values(m.application))
    report = await run_deploy(plan, store, drivers=fleet.drivers(), sinks=[events.append])
    return report.result.status, events


async def test_serial_takes_exactly_one_server_out_while_its_steps_run(
    tmp_path: Path, fake_fleet: Callable[[Manifest], FakeFleet]
) -> None:
    m = manifest(3)
    fleet = fake_fleet(m)
    status, _ = await deploy(m, fleet, Store(tmp_path), SERIAL)
    assert status == "succeeded"
    runs = [e for e in fleet.timeline.entries if e.what == "run"]
    assert len(runs) == 7  # 3 servers x (fetch, restart) + one migration
    for entry in runs:
        assert entry.out_of_rotation == {entry.server}
    order = [e.server for e in fleet.timeline.entries if e.what == "remove"]
    assert order == ["web1", "web2", "web3"]
    assert fleet.timeline.out == set()


async def test_parallel_never_touches_the_load_balancer(
    tmp_path: Path, fake_fleet: Callable[[Manifest], FakeFleet]
) -> None:
    m = manifest(3)
    fleet = fake_fleet(m)
    fleet.script.on("fetch", seconds=0.2)
    status, _ = await deploy(m, fleet, Store(tmp_path), PARALLEL)
    assert status == "succeeded"
    assert fleet.clock.monotonic() == 0.4  # web1's fetch before migrating, then two overlapped
    assert not [e for e in fleet.timeline.entries if e.what in {"remove", "add"}]


async def test_migration_runs_once_with_rendered_quoted_version(
    tmp_path: Path, fake_fleet: Callable[[Manifest], FakeFleet]
) -> None:
    m = manifest(3)
    fleet = fake_fleet(m)
    await deploy(m, fleet, Store(tmp_path), PARALLEL)
    assert fleet.timeline.commands().count("migrate v2") == 1
    assert fleet.timeline.commands("web1").count("migrate v2") == 1


async def test_failed_step_halts_serial_and_leaves_that_server_out(
    tmp_path: Path, fake_fleet: Callable[[Manifest], FakeFleet]
) -> None:
    m = manifest(3)
    fleet = fake_fleet(m)
    fleet.script.on(r"^web2: restart", exit_status=3, output="boom")
    store = Store(tmp_path)
    status, events = await deploy(m, fleet, store, SERIAL)
    assert status == "failed"
    assert fleet.timeline.out == {"web2"}
    assert not fleet.timeline.commands("web3")
    finished = {e.server: e for e in events if e.kind == "server_finished"}  # type: ignore[attr-defined]
    assert finished["web1"].status == "succeeded" and finished["web1"].in_rotation
    assert finished["web2"].status == "failed" and finished["web2"].in_rotation is False
    assert "step restart exited 3" in finished["web2"].detail
    assert finished["web3"].status == "not started" and finished["web3"].in_rotation
    record = store.deploys("shop")[0]
    assert record.status == "failed" and "web2: failed" in (record.summary or "")


async def test_parallel_failure_reports_every_server(
    tmp_path: Path, fake_fleet: Callable[[Manifest], FakeFleet]
) -> None:
    m = manifest(3)
    fleet = fake_fleet(m)
    fleet.script.on(r"^web2: fetch", exit_status=1)
    status, events = await deploy(m, fleet, Store(tmp_path), PARALLEL)
    finished = {e.server: e.status for e in events if e.kind == "server_finished"}  # type: ignore[attr-defined]
    assert status == "failed"
    assert finished == {"web1": "succeeded", "web2": "failed", "web3": "succeeded"}


async def test_waits_are_honoured_per_server(
    tmp_path: Path, fake_fleet: Callable[[Manifest], FakeFleet]
) -> None:
    m = manifest(2, waits=(1, 1), migration=False)
    fleet = fake_fleet(m)
    await deploy(m, fleet, Store(tmp_path), SERIAL)
    assert fleet.clock.monotonic() == 4.0  # 1 s after removing and after adding, per server


async def test_output_is_streamed_and_stored(
    tmp_path: Path, fake_fleet: Callable[[Manifest], FakeFleet]
) -> None:
    m = manifest(1)
    fleet = fake_fleet(m)
    fleet.script.on("fetch", output="downloading\ndone")
    store = Store(tmp_path)
    await deploy(m, fleet, store, SERIAL, Settings(min_in_service=0))
    deploy_id = store.deploys("shop")[0].id
    chunks = [e.data["text"] for e in store.events(deploy_id) if e.kind == StepOutput.kind]
    assert chunks == ["downloading\ndone\n"]  # one chunk of whole lines, not a row per line
    fetch = next(s for s in store.step_results(deploy_id) if s.step == "fetch")
    assert fetch.output == "downloading\ndone\n" and fetch.status == "succeeded"


async def test_capacity_floor_refuses_to_empty_the_load_balancer(
    tmp_path: Path, fake_fleet: Callable[[Manifest], FakeFleet]
) -> None:
    m = manifest(2, health=True)  # its 1 s deadline bounds the wait for capacity
    fleet = fake_fleet(m)
    fleet.load_balancers["main"].state["web2"] = Membership.OUT_OF_ROTATION  # drained by hand
    status, events = await deploy(m, fleet, Store(tmp_path), SERIAL)
    assert status == "failed"
    assert fleet.timeline.out == set() and not fleet.timeline.commands()
    assert any("min_in_service" in getattr(e, "detail", "") for e in events)


async def test_failed_health_check_keeps_the_server_out(
    tmp_path: Path, fake_fleet: Callable[[Manifest], FakeFleet]
) -> None:
    m = manifest(2, health=True)
    fleet = fake_fleet(m)
    fleet.script.on(r"^web1: check", exit_status=1)
    status, events = await deploy(m, fleet, Store(tmp_path), SERIAL)
    assert status == "failed" and fleet.timeline.out == {"web1"}
    health = [e for e in events if e.kind == "health"]
    assert health and not health[0].passed and health[0].attempts > 1  # type: ignore[attr-defined]


async def test_sticky_values_lifecycle_over_three_deploys(
    tmp_path: Path, fake_fleet: Callable[[Manifest], FakeFleet]
) -> None:
    store = Store(tmp_path)
    first = manifest(2, waits=(1, None), migration=False)
    await deploy(first, fake_fleet(first), store, SERIAL)
    assert [(v.key, v.value) for v in store.applied_values("shop") if v.key.startswith("wait")] == [
        ("wait_after_removing_servers", "1")
    ]
    deleted = manifest(2, migration=False)
    plan = build_plan(deleted, Settings(), SERIAL, store.applied_values("shop"))
    assert plan.estimated_extra_seconds == 2
    fleet = fake_fleet(deleted)
    started = fleet.clock.monotonic()
    await deploy(deleted, fleet, store, SERIAL)
    assert fleet.clock.monotonic() - started == 2.0
    cleared = manifest(2, waits=(0, None), migration=False)
    await deploy(cleared, fake_fleet(cleared), store, SERIAL)
    assert not [v for v in store.applied_values("shop") if v.key.startswith("wait")]
    after = build_plan(deleted, Settings(), SERIAL, store.applied_values("shop"))
    assert after.estimated_extra_seconds == 0


async def test_serial_waits_for_a_server_still_coming_back_before_removing_the_next(
    tmp_path: Path, fake_fleet: Callable[[Manifest], FakeFleet]
) -> None:
    m = manifest(2, health=True, migration=False)
    fleet = fake_fleet(m)
    fleet.load_balancers["main"].state["web2"] = Membership.DOWN

    async def web2_comes_up() -> None:
        await fleet.clock.sleep(0.5)
        fleet.load_balancers["main"].state["web2"] = Membership.IN_ROTATION

    helper = asyncio.create_task(web2_comes_up())
    status, _ = await deploy(m, fleet, Store(tmp_path), SERIAL)
    await helper
    assert status == "succeeded"
    first_removal = next(e for e in fleet.timeline.entries if e.what == "remove")
    assert first_removal.at - fleet.timeline.entries[0].at == 0.5  # two capacity polls
