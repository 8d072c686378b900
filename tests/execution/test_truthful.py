"""What the engine reports is what is so, with recording fakes: a balancer that forgets its
runtime state mid-step, a state that cannot be written, a step interrupted mid-way, a flood of
output, a server another deploy holds. The same faults on real parts are in tests/reliability.
"""

import asyncio
import re
from collections.abc import Callable
from pathlib import Path

from baton import StateWriteError
from baton.config import HealthCheck, Manifest, Server
from baton.drivers import KEEP_HEAD, KEEP_TAIL, Membership
from baton.drivers.fake import FakeFleet, FakeTransport, Timeline
from baton.execution import prepare, run_deploy
from baton.execution.events import Event, StepOutput, Warned
from baton.execution.health import wait_until_healthy
from baton.planning import DeployOptions, Strategy, build_plan
from baton.settings import Settings
from baton.state import JournalEntry, LockHolder, ServerLocks, Store
from baton.web.views import deploy_detail
from tests.manifests import manifest

SERIAL = DeployOptions(version="v2", strategy=Strategy.SERIAL)
FakeFleetFactory = Callable[[Manifest], FakeFleet]


def plan_for(m: Manifest, store: Store):  # type: ignore[no-untyped-def]
    return build_plan(m, Settings(), SERIAL, store.applied_values(m.application))


async def forget_when_out(fleet: FakeFleet, server: str) -> None:
    """Like HAProxy restarted without its state file: ``server`` is back in rotation."""
    balancer = fleet.load_balancers["main"]
    while balancer.state[server] is not Membership.OUT_OF_ROTATION:
        await fleet.clock.sleep(0.01)
    balancer.state[server] = Membership.IN_ROTATION
    fleet.timeline.out.discard(server)


async def test_a_balancer_that_forgot_is_told_again_before_the_next_step(
    tmp_path: Path, fake_fleet: FakeFleetFactory
) -> None:
    m = manifest(3, migration=False)
    fleet, store = fake_fleet(m), Store(tmp_path)
    fleet.script.on("^web2: fetch", seconds=0.2)
    events: list[Event] = []
    forgetting = asyncio.create_task(forget_when_out(fleet, "web2"))
    report = await run_deploy(
        plan_for(m, store), store, drivers=fleet.drivers(), sinks=[events.append]
    )
    await forgetting
    assert report.result.status == "succeeded"
    for entry in (e for e in fleet.timeline.entries if e.what == "run"):
        assert entry.server in entry.out_of_rotation, entry  # no step ran on a server in rotation
    warning = next(e.message for e in events if isinstance(e, Warned))
    assert warning.startswith("main forgot runtime state at ")
    assert warning.endswith(": server web2 was back in rotation; taken out again")
    web2 = report.result.servers[1]
    assert warning in web2.detail and web2.in_rotation is True
    assert warning in (store.deploys()[0].summary or "")


async def test_a_failed_server_the_balancer_put_back_is_taken_out_and_reported_as_read(
    tmp_path: Path, fake_fleet: FakeFleetFactory
) -> None:
    m = manifest(2, migration=False)
    fleet, store = fake_fleet(m), Store(tmp_path)
    fleet.script.on("^web1: restart", exit_status=1, seconds=0.2)
    balancer = fleet.load_balancers["main"]

    async def forget_during_restart() -> None:
        while "restart web1" not in fleet.timeline.commands("web1"):
            await fleet.clock.sleep(0.01)
        balancer.state["web1"] = Membership.IN_ROTATION

    forgetting = asyncio.create_task(forget_during_restart())
    report = await run_deploy(plan_for(m, store), store, drivers=fleet.drivers())
    await forgetting
    web1 = report.result.servers[0]
    assert balancer.state["web1"] is Membership.OUT_OF_ROTATION
    assert web1.in_rotation is False
    assert "was back in rotation; taken out again; left out of rotation on main" in web1.detail


async def test_a_balancer_reporting_down_is_not_reported_in_rotation(
    tmp_path: Path, fake_fleet: FakeFleetFactory
) -> None:
    m = manifest(1, migration=False)
    fleet, store = fake_fleet(m), Store(tmp_path)
    real_add = fleet.load_balancers["main"].add

    async def add_but_down(server: str) -> None:
        await real_add(server)
        fleet.load_balancers["main"].state[server] = Membership.DOWN

    fleet.load_balancers["main"].add = add_but_down  # type: ignore[method-assign]
    report = await run_deploy(
        build_plan(m, Settings(min_in_service=0), SERIAL),
        store,
        drivers=fleet.drivers(),
    )
    web1 = report.result.servers[0]
    assert web1.status == "succeeded" and web1.in_rotation is False
    assert web1.detail == "now serving v2; out of rotation on main (down)"
    assert store.server_results(1)[0].in_rotation is False


class FullStore(Store):
    """A store whose journal write fails from the ``after``-th entry on, as on a full disk."""

    after = 2

    def journal(self, entry: JournalEntry) -> None:
        self.after -= 1
        if self.after <= 0:
            raise StateWriteError(f"cannot write baton's state {self.location}: disk is full")
        super().journal(entry)


async def test_a_state_that_cannot_be_written_stops_the_deploy_and_abandons_no_server(
    tmp_path: Path, fake_fleet: FakeFleetFactory
) -> None:
    m = manifest(3, waits=(1, None), migration=False)
    fleet, store = fake_fleet(m), FullStore(tmp_path)
    report = await run_deploy(plan_for(m, store), store, drivers=fleet.drivers())
    # web1's removal was journalled, then its "done" could not be: it is put back, unchanged
    assert fleet.removals() == ["web1"] and fleet.timeline.out == set()
    assert not fleet.timeline.commands()
    assert report.result.status == "failed"
    assert [(o.server, o.status, o.in_rotation) for o in report.result.servers] == [
        ("web1", "cancelled", True),
        ("web2", "not started", True),
        ("web3", "not started", True),
    ]
    summary = report.result.summary()
    assert "the deploy stopped: baton could not write its state" in summary
    assert f"NOT RECORDED: cannot write baton's state {store.location}: disk is full" in summary


async def test_a_step_interrupted_is_recorded_with_the_output_it_printed(
    tmp_path: Path, fake_fleet: FakeFleetFactory
) -> None:
    m = manifest(1, migration=False)
    fleet, store = fake_fleet(m), Store(tmp_path)
    fleet.script.on("restart", output="stopping old release\n", seconds=5)
    plan = build_plan(m, Settings(min_in_service=0), SERIAL)
    task = asyncio.create_task(run_deploy(plan, store, drivers=fleet.drivers()))
    while "restart web1" not in fleet.timeline.commands():
        await fleet.clock.sleep(0.01)
    task.cancel()
    report = await task
    assert report.result.status == "cancelled"
    steps = {s.step: (s.status, s.output) for s in store.step_results(report.deploy_id)}
    assert steps == {
        "fetch": ("succeeded", ""),
        "restart": ("interrupted", "stopping old release\n"),
    }
    detail = deploy_detail(store, store.deploys()[0])  # what the API and the dashboard show
    assert [s["status"] for s in detail["servers"][0]["steps"]] == ["succeeded", "interrupted"]


async def test_a_flood_of_output_is_kept_bounded_with_a_marker(
    tmp_path: Path, fake_fleet: FakeFleetFactory
) -> None:
    m = manifest(1, migration=False)
    fleet, store = fake_fleet(m), Store(tmp_path)
    flood = "".join(f"line {i:07d}\n" for i in range(400_000))  # 5.2 MB
    fleet.script.on("fetch", output=flood)
    events: list[Event] = []
    plan = build_plan(m, Settings(min_in_service=0), SERIAL)
    await run_deploy(plan, store, drivers=fleet.drivers(), sinks=[events.append])
    streamed = "".join(e.text for e in events if isinstance(e, StepOutput))
    kept = next(s.output for s in store.step_results(1) if s.step == "fetch")
    assert len(kept) < KEEP_HEAD + KEEP_TAIL + 100
    head, _, tail = kept.partition("[... ")
    assert flood.startswith(head.removesuffix("\n")) and flood.endswith(tail.split("\n", 1)[1])
    left_out = len(flood) - len(head) + 1 - len(tail.split("\n", 1)[1])
    assert tail.startswith(f"{left_out:,} bytes of output left out ...]\n")
    assert streamed == kept  # the terminal, the history and the dashboard see the same
    assert len([e for e in store.events(1) if e.kind == "output"]) <= 3


async def test_a_server_another_deploy_holds_is_not_touched(
    tmp_path: Path, fake_fleet: FakeFleetFactory
) -> None:
    m = manifest(2, migration=False)
    fleet, store = fake_fleet(m), Store(tmp_path)
    other = ServerLocks(tmp_path, "billing deploy #7, pid 1 on elsewhere")
    async with other.hold("web1-of-billing", "127.0.1.1", 22):
        report = await run_deploy(plan_for(m, store), store, drivers=fleet.drivers())
    web1 = report.result.servers[0]
    assert web1.status == "failed" and web1.in_rotation is True
    assert web1.detail.startswith(
        "server web1 (127.0.1.1:22) is being deployed by billing deploy #7, pid 1 on elsewhere"
    )
    assert fleet.removals() == [] and not fleet.timeline.commands()


async def test_the_deadline_bounds_each_health_check_attempt_and_says_what_timed_out() -> None:
    async def never_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # a real listener that accepts and then says nothing

    server = await asyncio.start_server(never_answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    check = HealthCheck(url=f"http://127.0.0.1:{port}/", timeout=30, deadline=0.5, interval=0.1)
    async with server:
        passed, attempts, detail = await wait_until_healthy(check, {}, FakeTransport(
            Server(name="web1", address="127.0.0.1"), Timeline()
        ))  # fmt: skip
    assert (passed, attempts) == (False, 1)
    assert re.fullmatch(rf"GET http://127.0.0.1:{port}/: response timed out after 0\.5s", detail)


def test_plan_warns_when_another_application_deploys_to_the_same_servers(
    tmp_path: Path,
) -> None:
    store = Store(tmp_path)
    holder = LockHolder(deploy_id=0, host="here", pid=1)
    billing = store.start_deploy(
        "billing", "b1", "serial", {}, [], holder, targets=[("127.0.1.2", 22)]
    )
    store.finish_deploy(billing, "succeeded", "")
    store.start_deploy("other", "o1", "serial", {}, [], holder, targets=[("127.0.1.2", 2222)])
    warnings = prepare(manifest(3), store, SERIAL).warnings
    assert [w for w in warnings if "also deploys" in w] == [
        "application billing also deploys to web2 (same address and port): each one's history "
        "claims its own version there, and a deploy of either leaves alone a server the other "
        "is deploying at that moment"
    ]
