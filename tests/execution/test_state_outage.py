"""A state that fails in a way baton did not foresee while a deploy runs (issue 21): the
heartbeat's failure is said and stops the deploy as a full disk does, instead of ending the
heartbeat task silently (after which another deploy would take the lock as stale). Fakes on
fake time; the real PostgreSQL outage is in tests/reliability/test_postgres_outage.py."""

from collections.abc import Callable
from pathlib import Path

from baton import StateError
from baton.config import Manifest
from baton.drivers.fake import FakeFleet
from baton.execution import run_deploy
from baton.execution.events import Event, Warned
from baton.execution.runner import HEARTBEAT_EVERY
from baton.planning import DeployOptions, Strategy, build_plan
from baton.settings import Settings
from baton.state import Store
from tests.manifests import manifest

BROKEN = "the PostgreSQL state at postgresql://db/baton failed: SSL SYSCALL error: EOF detected"


class BrokenHeartbeat(Store):
    def heartbeat(self, deploy_id: int) -> None:
        raise StateError(BROKEN)


async def test_a_failing_heartbeat_is_said_and_stops_the_deploy(
    tmp_path: Path, fake_fleet: Callable[[Manifest], FakeFleet]
) -> None:
    m = manifest(2, migration=False)
    fleet, store = fake_fleet(m), BrokenHeartbeat(tmp_path)
    fleet.script.on("restart", seconds=HEARTBEAT_EVERY * 3)
    events: list[Event] = []
    plan = build_plan(m, Settings(), DeployOptions(version="v2", strategy=Strategy.SERIAL))
    report = await run_deploy(plan, store, drivers=fleet.drivers(), sinks=[events.append])
    warnings = [e.message for e in events if isinstance(e, Warned)]
    assert f"stopping: {BROKEN}" in warnings, warnings
    assert report.result.status == "failed"
    assert [o.status for o in report.result.servers] == ["cancelled", "not started"]
    assert f"NOT RECORDED: {BROKEN}" in report.result.summary()
    assert fleet.clock.monotonic() < HEARTBEAT_EVERY * 2, "stopped at the first heartbeat"
