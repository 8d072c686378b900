"""The library's front door for deploying: plan from state, preflight, run, record.

Front ends (CLI, dashboard) call :func:`prepare` to show a plan and :func:`run_deploy` to run
it; both pass event sinks to watch it happen.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from baton._exceptions import LoadBalancerError
from baton.config import LoadBalancer, Manifest
from baton.drivers import LoadBalancerDriver
from baton.execution.engine import Engine, Journal, TransportFactory
from baton.execution.events import DeployFinished, DeployStarted, Event, EventSink, Warning_
from baton.execution.recorder import Recorder
from baton.execution.result import DeployResult
from baton.planning import DeployOptions, Plan, build_plan, plan_to_dict, values_to_apply
from baton.settings import Settings
from baton.state import JournalEntry, LockHolder, Store

LoadBalancerFactory = Callable[[LoadBalancer], LoadBalancerDriver]
FLUSH_EVERY = 0.2


@dataclass(frozen=True)
class Drivers:
    """How to reach servers and load balancers; tests and dry runs pass fakes."""

    open_transport: TransportFactory
    load_balancer: LoadBalancerFactory

    @classmethod
    def real(cls) -> Drivers:
        from baton.drivers.factory import load_balancer_driver, open_transport

        return cls(open_transport, load_balancer_driver)


@dataclass(frozen=True)
class DeployReport:
    deploy_id: int
    plan: Plan
    result: DeployResult


def prepare(manifest: Manifest, store: Store, options: DeployOptions) -> Plan:
    """The plan a deploy would follow now, from the manifest and the state."""
    settings = Settings.from_stored(store.settings(manifest.application))
    return build_plan(manifest, settings, options, store.applied_values(manifest.application))


async def run_deploy(
    plan: Plan,
    store: Store,
    *,
    drivers: Drivers | None = None,
    sinks: Sequence[EventSink] = (),
) -> DeployReport:
    """Preflight, record the deploy (lock, applied values), run it and record its outcome."""
    drivers = drivers or Drivers.real()
    load_balancers = {lb.name: drivers.load_balancer(lb) for lb in plan.manifest.load_balancers}
    try:
        await _preflight(plan.manifest, load_balancers)
        deploy_id = store.start_deploy(
            plan.application,
            plan.version,
            plan.strategy.value,
            plan_to_dict(plan),
            values_to_apply(plan.manifest),
            LockHolder.this_process(),
        )
        result = await _run_recorded(plan, store, deploy_id, drivers, load_balancers, sinks)
    finally:
        for driver in load_balancers.values():
            await driver.close()
    return DeployReport(deploy_id, plan, result)


async def _run_recorded(
    plan: Plan,
    store: Store,
    deploy_id: int,
    drivers: Drivers,
    load_balancers: Mapping[str, LoadBalancerDriver],
    sinks: Sequence[EventSink],
) -> DeployResult:
    recorder = Recorder(store, deploy_id)
    emit = _fan_out([recorder, *sinks])
    emit(_started(plan, deploy_id))
    for warning in plan.warnings:
        emit(Warning_(message=warning))
    engine = Engine(
        plan,
        open_transport=drivers.open_transport,
        load_balancers=load_balancers,
        emit=emit,
        journal=_journal(store, plan.application, deploy_id),
    )
    flusher = asyncio.create_task(_flush_periodically(recorder))
    status, summary = "cancelled", "the deploy was interrupted"
    try:
        result = await engine.run()
        status, summary = result.status, result.summary()
    finally:
        flusher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await flusher
        emit(DeployFinished(deploy_id=deploy_id, status=status, summary=summary))
        recorder.flush()
        store.finish_deploy(deploy_id, status, summary)
    return result


async def _preflight(manifest: Manifest, load_balancers: Mapping[str, LoadBalancerDriver]) -> None:
    """Every load balancer answers and knows every server, before anything changes."""
    for lb in manifest.load_balancers:
        membership = await load_balancers[lb.name].membership()
        missing = [s.name for s in manifest.servers if s.name not in membership]
        if missing:
            raise LoadBalancerError(
                f"load balancer {lb.name} (backend {lb.backend}) does not know server(s) "
                f"{', '.join(lb.member_name(s) for s in missing)}; it has: "
                f"{', '.join(sorted(membership)) or 'none'}"
            )


def _started(plan: Plan, deploy_id: int) -> DeployStarted:
    return DeployStarted(
        deploy_id=deploy_id,
        application=plan.application,
        version=plan.version,
        strategy=plan.strategy.value,
        servers=tuple(plan.server_order()),
        run_migrations=plan.run_migrations,
        estimated_extra_seconds=plan.estimated_extra_seconds,
    )


def _fan_out(sinks: Sequence[EventSink]) -> EventSink:
    def emit(event: Event) -> None:
        for sink in sinks:
            sink(event)

    return emit


async def _flush_periodically(recorder: Recorder) -> None:
    while True:
        await asyncio.sleep(FLUSH_EVERY)
        recorder.flush()


def _journal(store: Store, application: str, deploy_id: int) -> Journal:
    def write(load_balancer: str, server: str, action: str, state: str) -> None:
        store.journal(
            JournalEntry(application, load_balancer, server, action, state, deploy_id, time.time())
        )

    return write
