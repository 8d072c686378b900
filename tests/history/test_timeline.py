"""The timeline's spans, computed from recorded events (written through the real recorder)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from baton.config import Manifest, parse_manifest
from baton.drivers.fake import FakeFleet
from baton.execution.events import (
    DeployFinished,
    DeployStarted,
    Event,
    HealthChecked,
    LoadBalancerChanged,
    ServerFinished,
    Stage,
    StageChanged,
    StepFinished,
    StepStarted,
)
from baton.execution.recorder import Recorder
from baton.history.timeline import DeployTimeline, Span, timeline_of
from baton.planning import DeployOptions, Strategy, build_plan, plan_to_dict
from baton.settings import Settings
from baton.state import LockHolder, Store
from tests.execution.test_engine import deploy
from tests.manifests import manifest, manifest_text

T0 = 1000.0


def record(store: Store, events: list[Event], status: str | None, servers: int = 2) -> int:
    """Record ``events`` as a deploy of a ``servers``-server serial plan would be."""
    m = manifest(servers, waits=(1, 1))
    plan = build_plan(m, Settings(), DeployOptions("v2", Strategy.SERIAL), [])
    holder = LockHolder.this_process()
    deploy_id = store.start_deploy("shop", "v2", "serial", plan_to_dict(plan), [], holder)
    recorder = Recorder(store, deploy_id)
    for event in events:
        recorder(event)
    recorder.flush()
    if status is not None:
        store.finish_deploy(deploy_id, status, "")
    return deploy_id


def timeline(store: Store, deploy_id: int, now: float = T0 + 100) -> DeployTimeline:
    record_ = store.deploy(deploy_id)
    assert record_ is not None
    return timeline_of(record_, store.events(deploy_id), now)


def served(server: str, at: float, steps: tuple[str, ...] = ("fetch", "restart")) -> list[Event]:
    """One server deployed serially from ``at``: 1 s wait, 1 s per step, 0.5 s health check."""
    events: list[Event] = [
        StageChanged(server=server, stage=Stage.CONNECTING, at=at),
        StageChanged(server=server, stage=Stage.LEAVING_ROTATION, at=at),
        LoadBalancerChanged(server=server, load_balancer="main", action="removed", at=at + 0.1),
        StageChanged(server=server, stage=Stage.WAITING, detail="1s (after removing)", at=at + 0.1),
    ]
    t = at + 1.1
    for step in steps:
        events += [
            StageChanged(server=server, stage=Stage.STEP, detail=step, at=t),
            StepStarted(server=server, step=step, migration=False, at=t),
            StepFinished(
                server=server, step=step, status="succeeded", exit_status=0, started_at=t, at=t + 1
            ),
        ]
        t += 1
    events += [
        StageChanged(server=server, stage=Stage.HEALTH_CHECK, at=t),
        HealthChecked(server=server, passed=True, attempts=1, detail="200", at=t + 0.5),
        StageChanged(server=server, stage=Stage.REJOINING_ROTATION, at=t + 0.5),
        LoadBalancerChanged(server=server, load_balancer="main", action="added", at=t + 0.6),
        StageChanged(server=server, stage=Stage.WAITING, detail="1s (after adding)", at=t + 0.6),
        StageChanged(server=server, stage=Stage.SUCCEEDED, at=t + 1.6),
        ServerFinished(
            server=server,
            status="succeeded",
            detail="",
            in_rotation=True,
            started_at=at,
            at=t + 1.6,
        ),
    ]
    return events


def started(servers: tuple[str, ...] = ("web1", "web2")) -> DeployStarted:
    return DeployStarted(
        deploy_id=1,
        application="shop",
        version="v2",
        strategy="serial",
        servers=servers,
        run_migrations=False,
        estimated_extra_seconds=4,
        at=T0,
    )


def kinds(spans: tuple[Span, ...]) -> list[tuple[str, str, float, float, str]]:
    return [
        (s.kind, s.label, round(s.start - T0, 2), round(s.end - T0, 2), s.status) for s in spans
    ]


def test_a_serial_deploy_has_each_step_wait_check_and_time_out_of_rotation(
    tmp_path: Path,
) -> None:
    store = Store(tmp_path)
    web1, web2 = served("web1", T0), served("web2", T0 + 4.7)
    finished = DeployFinished(deploy_id=1, status="succeeded", summary="", at=T0 + 9.4)
    deploy_id = record(store, [started(), *web1, *web2, finished], "succeeded")
    tl = timeline(store, deploy_id)
    first = tl.rows[0]
    assert first.server == "web1" and first.group == 1 and first.status == "succeeded"
    assert kinds(first.spans) == [
        ("out_of_rotation", "out of rotation", 0.1, 3.7, "succeeded"),
        ("wait", "wait 1s (after removing)", 0.1, 1.1, "succeeded"),
        ("step", "fetch", 1.1, 2.1, "succeeded"),
        ("step", "restart", 2.1, 3.1, "succeeded"),
        ("health_check", "health check (1 attempt(s)): 200", 3.1, 3.6, "succeeded"),
        ("wait", "wait 1s (after adding)", 3.7, 4.7, "succeeded"),
    ]
    assert tl.rows[1].group == 2 and tl.rows[1].spans[0].start == pytest.approx(T0 + 4.8)
    assert round(tl.wall_time, 2) == 9.4
    assert round(tl.waits, 2) == 4.0 and tl.estimated_waits == 4
    assert round(first.total, 2) == 4.7 and round(first.out_of_rotation, 2) == 3.6
    figures = tl.to_dict()
    assert figures["longest_out_of_rotation"]["seconds"] == pytest.approx(3.6)
    assert len(figures["servers"][1]["spans"]) == 6


def test_a_cancelled_deploy_shows_the_interrupted_step_and_who_was_left_out(
    tmp_path: Path,
) -> None:
    store = Store(tmp_path)
    web1 = served("web1", T0)[:6]  # out of rotation, waited, fetch started
    cancelled = [
        StageChanged(server="web1", stage=Stage.CANCELLED, at=T0 + 1.5),
        ServerFinished(
            server="web1", status="cancelled", detail="interrupted", in_rotation=False,
            started_at=T0, at=T0 + 1.5,
        ),
        StageChanged(server="web2", stage=Stage.NOT_STARTED, at=T0 + 1.5),
        ServerFinished(
            server="web2", status="not started", detail="", in_rotation=True, started_at=None,
            at=T0 + 1.5,
        ),
        DeployFinished(deploy_id=1, status="cancelled", summary="", at=T0 + 1.6),
    ]  # fmt: skip
    deploy_id = record(store, [started(), *web1, *cancelled], "cancelled")
    web1_row, web2_row = timeline(store, deploy_id).rows
    assert kinds(web1_row.spans) == [
        ("out_of_rotation", "out of rotation", 0.1, 1.6, "left out"),
        ("wait", "wait 1s (after removing)", 0.1, 1.1, "succeeded"),
        ("step", "fetch", 1.1, 1.5, "interrupted"),
        ("outcome", "cancelled: interrupted", 1.5, 1.5, "cancelled"),
    ]
    assert web2_row.status == "not started" and web2_row.spans == ()


def test_a_running_deploy_is_drawn_up_to_now_and_a_killed_one_up_to_its_last_event(
    tmp_path: Path,
) -> None:
    store = Store(tmp_path)
    deploy_id = record(store, [started(), *served("web1", T0)[:6]], None)
    row = timeline(store, deploy_id, now=T0 + 1.4).rows[0]
    assert kinds(row.spans)[0] == ("out_of_rotation", "out of rotation", 0.1, 1.4, "running")
    assert kinds(row.spans)[-1] == ("step", "fetch", 1.1, 1.4, "running")
    assert row.status == "running"
    store.finish_deploy(deploy_id, "abandoned", "")
    row = timeline(store, deploy_id, now=T0 + 50).rows[0]
    assert kinds(row.spans)[-1] == ("step", "fetch", 1.1, 1.1, "interrupted")
    assert row.status == "interrupted"


def test_a_failed_health_check_is_a_failure_and_the_server_stays_out(tmp_path: Path) -> None:
    store = Store(tmp_path)
    web1 = served("web1", T0)[:11]  # up to the health check starting at T0 + 3.1
    failed = [
        HealthChecked(server="web1", passed=False, attempts=3, detail="503", at=T0 + 4),
        StageChanged(server="web1", stage=Stage.FAILED, at=T0 + 4),
        ServerFinished(
            server="web1", status="failed", detail="health check failed", in_rotation=False,
            started_at=T0, at=T0 + 4,
        ),
        DeployFinished(deploy_id=1, status="failed", summary="", at=T0 + 4.2),
    ]  # fmt: skip
    deploy_id = record(store, [started(("web1",)), *web1, *failed], "failed", servers=1)
    spans = kinds(timeline(store, deploy_id).rows[0].spans)
    assert ("health_check", "health check (3 attempt(s)): 503", 3.1, 4.0, "failed") in spans
    assert spans[0] == ("out_of_rotation", "out of rotation", 0.1, 4.2, "left out")
    assert spans[-1] == ("outcome", "failed: health check failed", 4.0, 4.0, "failed")


async def test_spans_of_a_real_deploy_match_its_load_balancer_events(
    tmp_path: Path, fake_fleet: Callable[[Manifest], FakeFleet]
) -> None:
    m = manifest(3)
    fleet = fake_fleet(m)
    fleet.script.on("restart", seconds=0.05)
    store = Store(tmp_path)
    status, events = await deploy(m, fleet, store, DeployOptions("v2", Strategy.SERIAL))
    assert status == "succeeded"
    tl = timeline(store, 1)
    changes = [e for e in events if isinstance(e, LoadBalancerChanged)]
    for row in tl.rows:
        (out,) = [s for s in row.spans if s.kind == "out_of_rotation"]
        removed, added = (e.at for e in changes if e.server == row.server)
        assert (out.start, out.end) == (removed, added)
        assert [s.label for s in row.spans if s.kind == "step"][-1] == "restart"
    assert [r.group for r in tl.rows] == [1, 2, 3]


async def test_deploy_wide_hooks_are_drawn_as_phases_around_the_servers(
    tmp_path: Path, fake_fleet: Callable[[Manifest], FakeFleet]
) -> None:
    hooks = (
        "hooks:\n  first_thing:\n    - run: announce\n"
        "  last_thing:\n    - {run: tag, run_on: all_servers}\n"
    )
    m = parse_manifest(manifest_text(2, migration=False) + hooks)
    fleet = fake_fleet(m)
    fleet.script.on("announce", seconds=1).on("tag", seconds=2)
    store = Store(tmp_path)
    status, _ = await deploy(m, fleet, store, DeployOptions("v2", Strategy.SERIAL))
    assert status == "succeeded"
    tl = timeline(store, 1, now=fleet.clock.time())
    assert [(r.server, r.group, r.status) for r in tl.rows] == [
        ("first_thing", 0, "succeeded"),
        ("web1", 1, "succeeded"),
        ("web2", 2, "succeeded"),
        ("last_thing", 0, "succeeded"),
    ]
    first, *_, last = tl.rows
    assert [(s.kind, s.label, s.duration) for s in first.spans] == [
        ("step", "first_thing on local", 1.0)
    ]
    assert [(s.label, s.duration) for s in last.spans] == [
        ("last_thing on web1", 2.0),
        ("last_thing on web2", 2.0),
    ]
    assert first.end is not None and first.end <= tl.rows[1].spans[0].start
