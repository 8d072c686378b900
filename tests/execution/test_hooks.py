"""Hooks around the deploy, with the fake fleet: when each runs (who was out of rotation at
that moment), where it runs, what halts the deploy, and that plan lists them."""

from __future__ import annotations

from pathlib import Path

from baton.config import parse_manifest
from baton.drivers.fake import FakeFleet
from baton.execution import Event, run_deploy
from baton.execution.events import Warned
from baton.planning import DeployOptions, Strategy, build_plan, render_plan
from baton.settings import Settings
from baton.state import Store
from tests.manifests import manifest_text

HOOKS = """\
hooks:
  first_thing:
    - run: announce {version}
  before_server:
    - run: drain {server}
  after_server:
    - {run: "warm {server}", run_on: local}
  last_thing:
    - {run: "tag {version}", run_on: single_server}
  on_failure:
    - {name: page, run: "page {server}", run_on: all_servers}
"""


def fleet_and_plan(text: str, strategy: Strategy = Strategy.SERIAL) -> tuple[FakeFleet, object]:
    manifest = parse_manifest(text)
    return FakeFleet(manifest), build_plan(manifest, Settings(), DeployOptions("v2", strategy), [])


def runs(fleet: FakeFleet) -> list[tuple[str, str, list[str]]]:
    """(server, command, who was out of rotation) for each command, in order."""
    return [
        (e.server, e.detail, sorted(e.out_of_rotation))
        for e in fleet.timeline.entries
        if e.what == "run"
    ]


async def test_each_hook_runs_at_its_point_and_where_it_says(tmp_path: Path) -> None:
    manifest = parse_manifest(manifest_text(2, migration=False) + HOOKS)
    fleet, store = FakeFleet(manifest), Store(tmp_path)
    fleet.script.on("announce", output="announced v2")
    plan = build_plan(manifest, Settings(), DeployOptions("v2", Strategy.SERIAL), [])
    report = await run_deploy(plan, store, drivers=fleet.drivers())
    assert report.result.status == "succeeded"
    assert runs(fleet) == [
        ("local", "announce v2", []),
        ("web1", "drain web1", ["web1"]),
        ("web1", "fetch v2", ["web1"]),
        ("web1", "restart web1", ["web1"]),
        ("local", "warm web1", ["web1"]),
        ("web2", "drain web2", ["web2"]),
        ("web2", "fetch v2", ["web2"]),
        ("web2", "restart web2", ["web2"]),
        ("local", "warm web2", ["web2"]),
        ("web1", "tag v2", []),
    ]
    recorded = {(s.server, s.step): s for s in store.step_results(report.deploy_id)}
    assert recorded[("local", "first_thing")].output == "announced v2\n"  # whole lines, as streamed
    assert recorded[("web1", "before_server")].status == "succeeded"
    assert recorded[("web1", "last_thing")].status == "succeeded"


async def test_a_failing_first_thing_halts_before_anything_changes(tmp_path: Path) -> None:
    manifest = parse_manifest(manifest_text(2, migration=False) + HOOKS)
    fleet, store = FakeFleet(manifest), Store(tmp_path)
    fleet.script.on("announce", exit_status=4)
    plan = build_plan(manifest, Settings(), DeployOptions("v2", Strategy.SERIAL), [])
    report = await run_deploy(plan, store, drivers=fleet.drivers())
    assert report.result.status == "failed"
    assert "hook first_thing on local exited 4" in report.result.summary()
    assert {s.status for s in report.result.servers} == {"not started"}
    assert fleet.removals() == []
    assert runs(fleet) == [
        ("local", "announce v2", []),
        ("web1", "page web1", []),
        ("web2", "page web2", []),
    ]
    record = store.deploy(report.deploy_id)
    assert record is not None and record.status == "failed"


async def test_a_failed_step_runs_on_failure_and_skips_last_thing(tmp_path: Path) -> None:
    manifest = parse_manifest(manifest_text(2, migration=False) + HOOKS)
    fleet, store = FakeFleet(manifest), Store(tmp_path)
    fleet.script.on("web2: restart", exit_status=1)
    plan = build_plan(manifest, Settings(), DeployOptions("v2", Strategy.SERIAL), [])
    report = await run_deploy(plan, store, drivers=fleet.drivers())
    assert report.result.status == "failed"
    commands = [command for _, command, _ in runs(fleet)]
    assert commands[-2:] == ["page web1", "page web2"]
    assert "tag v2" not in commands and "warm web2" not in commands
    assert ("web2", "page web2", ["web2"]) in runs(fleet)  # web2 is still out, as it failed


async def test_halt_on_error_false_warns_and_goes_on(tmp_path: Path) -> None:
    hooks = 'hooks:\n  before_server:\n    - {run: "drain {server}", halt_on_error: false}\n'
    manifest = parse_manifest(manifest_text(2, migration=False) + hooks)
    fleet, store = FakeFleet(manifest), Store(tmp_path)
    fleet.script.on("drain", exit_status=2)
    plan = build_plan(manifest, Settings(), DeployOptions("v2", Strategy.PARALLEL), [])
    events: list[Event] = []
    report = await run_deploy(plan, store, drivers=fleet.drivers(), sinks=[events.append])
    assert report.result.status == "succeeded"
    warnings = sorted(e.message for e in events if isinstance(e, Warned))
    assert warnings == [
        "web1: hook before_server failed; going on",
        "web2: hook before_server failed; going on",
    ]


def test_plan_lists_the_hooks_that_will_run() -> None:
    manifest = parse_manifest(manifest_text(2, migration=False) + HOOKS)
    text = render_plan(build_plan(manifest, Settings(), DeployOptions("v2", Strategy.SERIAL)))
    assert "  first_thing (before the first server): hook first_thing on local" in text
    assert (
        "1. web1: remove from main -> hook before_server -> step fetch -> step restart"
        " -> hook after_server (local) -> add back to main"
    ) in text
    assert "  last_thing (after every server succeeded): hook last_thing on web1" in text
    assert "  on_failure (if the deploy fails): hook on_failure.page on web1, web2" in text


async def test_hook_values_are_shell_quoted(tmp_path: Path) -> None:
    text = manifest_text(2, migration=False).replace(
        "    address: 127.0.1.1\n", '    address: 127.0.1.1\n    user: "ops; rm -rf /"\n'
    )
    hooks = 'hooks:\n  first_thing:\n    - {run: "sudo -u {user} true", run_on: single_server}\n'
    manifest = parse_manifest(text + hooks)
    fleet = FakeFleet(manifest)
    plan = build_plan(manifest, Settings(), DeployOptions("v2", Strategy.SERIAL), [])
    await run_deploy(plan, Store(tmp_path), drivers=fleet.drivers())
    assert fleet.timeline.commands()[0] == "sudo -u 'ops; rm -rf /' true"
