"""The library's front door for deploying: plan from state, preflight, run, record.

Front ends (CLI, dashboard) call :func:`prepare` to show a plan and :func:`run_deploy` to run
it; both pass event sinks to watch it happen.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, replace

from baton._exceptions import BatonError, LockError, LockLost, StateWriteError
from baton.checking.findings import require
from baton.checking.preflight import (
    LOCAL_LOCKS,
    balancers_ready,
    file_findings,
    plan_findings,
    secret_findings,
    state_directory,
    state_space_findings,
    taken_over,
)
from baton.clock import SYSTEM_CLOCK, Clock
from baton.config import Manifest
from baton.drivers import LoadBalancerDriver
from baton.drivers.bundle import Drivers
from baton.execution.connections import Connections
from baton.execution.current import prepare
from baton.execution.engine import Engine
from baton.execution.environment import StepEnvironment
from baton.execution.events import (
    DeployFinished,
    DeployStarted,
    DeployStatus,
    Event,
    EventSink,
    Warned,
)
from baton.execution.observed import observed, snapshot
from baton.execution.recorder import Recorder
from baton.execution.recovery import Recovered, recover, stranded
from baton.execution.result import DeployResult
from baton.execution.rotation import Change, Journal, Progress
from baton.notifications.notifier import Notifier
from baton.planning import Plan, plan_to_dict, values_to_apply
from baton.state import JournalEntry, LockHolder, ServerLocks, Store

__all__ = ["DeployReport", "prepare", "recover_stranded", "run_deploy", "wait_for_lock"]

FLUSH_EVERY = 0.2
HEARTBEAT_EVERY = 5.0
"""Seconds between lock heartbeats: well under baton.state.records.STALE_AFTER."""
LOCK_POLL = 0.5


@dataclass(frozen=True)
class DeployReport:
    deploy_id: int
    plan: Plan
    result: DeployResult


async def run_deploy(
    plan: Plan,
    store: Store,
    *,
    drivers: Drivers | None = None,
    sinks: Sequence[EventSink] = (),
    lock_wait: float = 0.0,
    secrets: Mapping[str, str] | None = None,
) -> DeployReport:
    """Preflight, take the lock, recover stranded servers, run the plan, record everything,
    and tell the manifest's notification webhooks (waiting at most their deadline at the end).

    Nothing changes (no deploy recorded, no server or load balancer touched) until the one
    preflight (:mod:`baton.checking.preflight`, which ``baton check`` prints in full) passes:
    the files the manifest names exist, every secret has a value, the state's filesystem has
    room, every load balancer answered and knows every server, every server accepted a
    connection and the application's lock is free. ``lock_wait`` seconds are spent waiting for
    a running deploy. ``secrets`` are the values of the manifest's secrets; by default they are
    read from this process's environment. Time (waits, deadlines, what is recorded) is the
    drivers' clock.
    """
    notifier = Notifier(plan.manifest.notifications, store.record_notification)
    try:
        drivers = drivers or Drivers.real()
        environment = _ready_here(plan, store, secrets)
        try:
            await wait_for_lock(store, plan.application, lock_wait, drivers.clock)
            async with opened(plan.manifest, drivers) as reach:
                load_balancers, connections = reach
                notes = await balancers_ready(plan.manifest, load_balancers, store)
                await connections.open_all(plan.manifest.servers)
                sinks = [notifier, *sinks]
                return await _run(plan, store, drivers, reach, sinks, environment, notes)
        except BatonError as error:  # a balancer's or a server's error may quote a secret
            raise environment.masked(error) from error.__cause__  # the same error, masked
    finally:
        await notifier.close()


def _ready_here(plan: Plan, store: Store, secrets: Mapping[str, str] | None) -> StepEnvironment:
    """The preflight's part on this machine, first problem raised: the plan can start, the
    files exist, every secret has a value (read from the environment unless given), the state
    has room. The steps' environment, built from the secrets."""
    manifest = plan.manifest
    require(plan_findings(plan))
    require(file_findings(manifest).values())
    if secrets is None:
        secrets, problems = secret_findings(manifest, os.environ)
        require(problems)
    require(state_space_findings(store))
    return StepEnvironment.build(manifest, secrets)


async def _run(
    plan: Plan,
    store: Store,
    drivers: Drivers,
    reach: tuple[dict[str, LoadBalancerDriver], Connections],
    sinks: Sequence[EventSink],
    environment: StepEnvironment,
    notes: list[str],
) -> DeployReport:
    """Take the lock (recording the deploy) and run the plan; the preflight has passed."""
    (load_balancers, connections), clock = reach, drivers.clock
    previous = store.lock_holder(plan.application)
    unfinished = store.unfinished(plan.application)
    holder = LockHolder.this_process()
    deploy_id = store.start_deploy(
        plan.application,
        plan.version,
        plan.strategy.value,
        plan_to_dict(plan),
        values_to_apply(plan.manifest),
        holder,
        targets=[(s.address, s.port) for s in plan.manifest.servers],
    )
    recorder = Recorder(store, deploy_id)
    holds = f"{plan.application} deploy #{deploy_id}, pid {holder.pid} on {holder.host}"
    directory = state_directory(store)
    locks = ServerLocks(directory or LOCAL_LOCKS, holds)
    engine = Engine(
        plan,
        open_transport=connections.transport,
        open_hook=drivers.open_transport,
        load_balancers=load_balancers,
        emit=_fan_out([recorder, *sinks], clock, environment),
        journal=_journal(store, plan.application, deploy_id, clock),
        environment=environment,
        clock=clock,
        lock_server=lambda s: locks.hold(s.name, s.address, s.port),
        fence=lambda: store.require_lock(deploy_id),
    )
    notes += [taken_over(record, previous) for record in unfinished]
    result = await _run_recorded(
        engine, environment, recorder, store, deploy_id, connections, notes
    )
    return DeployReport(deploy_id, plan, result)


@contextlib.asynccontextmanager
async def opened(
    manifest: Manifest, drivers: Drivers
) -> AsyncIterator[tuple[dict[str, LoadBalancerDriver], Connections]]:
    """The application's load balancer drivers and a connection pool, closed on the way out."""
    load_balancers = {lb.name: drivers.load_balancer(lb) for lb in manifest.load_balancers}
    connections = Connections(drivers.open_transport)
    try:
        yield load_balancers, connections
    finally:
        await connections.close_all()
        for driver in load_balancers.values():
            await driver.close()


async def wait_for_lock(
    store: Store, application: str, seconds: float, clock: Clock = SYSTEM_CLOCK
) -> None:
    """Return once no live deploy holds the lock; raise LockError after ``seconds``."""
    deadline = clock.monotonic() + seconds
    while (holder := store.lock_holder(application)) is not None and holder.alive():
        if clock.monotonic() >= deadline:
            waited = f" after waiting {seconds:g}s" if seconds else ""
            raise LockError(
                f"{application}: a deploy is already running{waited} ({holder.describe()}); "
                "wait with --lock-wait SECONDS"
            )
        await clock.sleep(min(LOCK_POLL, max(deadline - clock.monotonic(), 0.01)))


async def _run_recorded(
    engine: Engine,
    environment: StepEnvironment,
    recorder: Recorder,
    store: Store,
    deploy_id: int,
    connections: Connections,
    notes: Sequence[str] = (),
) -> DeployResult:
    plan, emit = engine.plan, engine.emit
    emit(_started(plan, deploy_id))
    for warning in (*plan.warnings, *notes):
        emit(Warned(message=warning))
    flusher = asyncio.create_task(_flush_periodically(recorder, store, engine, deploy_id))
    status, summary = DeployStatus.CANCELLED, "the deploy was interrupted"
    try:
        halted = await engine.run_phase("first_thing")
        if halted:
            result = engine.skip(f"not deployed: {halted}")
            result = dataclasses.replace(result, hook_failure=halted)
            await engine.run_phase("on_failure")
        else:
            await _recover(engine, store, deploy_id, connections)
            before = await snapshot(engine.load_balancers)
            result = await _run_with_hooks(engine)
            after = await snapshot(engine.load_balancers)
            seen = observed(before, after, tuple(plan.server_order()))
            result = dataclasses.replace(result, observed=(*seen, *result.observed))
        result = environment.masked(result)  # the summary, the servers' details: as shown
        status, summary = result.status, result.summary()
    finally:
        flusher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await flusher
        emit(DeployFinished(deploy_id=deploy_id, status=status, summary=summary))
        failed = _finish_record(recorder, store, deploy_id, status, summary)
    return _unrecorded(result, failed) if failed is not None else result


def _unrecorded(result: DeployResult, error: StateWriteError) -> DeployResult:
    """``result`` saying why its record stops short: the state could not be written, or
    another deploy took over the lock (the first reason found is kept)."""
    if result.state_error is not None or result.lock_lost is not None:
        return result
    if isinstance(error, LockLost):
        return replace(result, lock_lost=str(error))
    return replace(result, state_error=str(error))


def _finish_record(
    recorder: Recorder, store: Store, deploy_id: int, status: str, summary: str
) -> StateWriteError | None:
    """Write the rest of the deploy's record; when the state cannot be written, release the
    lock if that still works and return the error (the summary is then printed from memory)."""
    try:
        recorder.flush()
        store.finish_deploy(deploy_id, status, summary)
    except StateWriteError as error:
        with contextlib.suppress(StateWriteError):
            store.release_deploy_lock(deploy_id)
        return error
    return None


async def _run_with_hooks(engine: Engine) -> DeployResult:
    """The waves, then last_thing when every server succeeded and on_failure when not."""
    result = await engine.run()
    if engine.stopped_by is not None:
        result = _unrecorded(result, engine.stopped_by)
    if result.status is DeployStatus.SUCCEEDED:
        halted = await engine.run_phase("last_thing")
        if halted:
            result = dataclasses.replace(result, hook_failure=halted)
    if result.status is DeployStatus.FAILED:
        await engine.run_phase("on_failure")
    return result


async def _recover(engine: Engine, store: Store, deploy_id: int, connections: Connections) -> None:
    """Put back servers an earlier, killed deploy left out of rotation, and say so."""
    manifest = engine.plan.manifest
    names = stranded(manifest, store)
    if not names:
        return
    transports = {name: connections.peek(manifest.server(name)) for name in names}
    journal = _journal(store, manifest.application, deploy_id, engine.clock)
    recovered = await recover(
        manifest, names, engine.load_balancers, transports, journal, engine.clock
    )
    for outcome in recovered:
        verb = "put back into rotation" if outcome.restored else "LEFT OUT of rotation"
        engine.emit(
            Warned(
                message=f"recovery: {outcome.server} was left out of rotation by an unfinished "
                f"deploy; {verb} ({outcome.detail})"
            )
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


def _fan_out(sinks: Sequence[EventSink], clock: Clock, environment: StepEnvironment) -> EventSink:
    """One sink for all; each event stamped with ``clock``'s time, as everything recorded.
    (An event is made with the system clock's time: on it, nothing needs restamping.) The
    one place every event passes: its texts are masked here, so the terminal, the history,
    the dashboard and the notifications all get them masked."""

    def emit(event: Event) -> None:
        event = environment.masked(event)
        if clock is not SYSTEM_CLOCK:
            event = dataclasses.replace(event, at=clock.time())
        for sink in sinks:
            sink(event)

    return emit


async def _flush_periodically(
    recorder: Recorder, store: Store, engine: Engine, deploy_id: int
) -> None:
    """Write recorded events out, and beat the lock's heartbeat now and then; stop the
    deploy when the state cannot be written (however it fails: a heartbeat that ended
    silently would let another deploy take the lock as stale), or at once when the heartbeat
    finds the lock taken over (LockLost: a deploy that was frozen must touch nothing more)."""
    clock = engine.clock
    beaten = clock.monotonic()
    while True:
        await clock.sleep(FLUSH_EVERY)
        try:
            recorder.flush()
            if clock.monotonic() - beaten >= HEARTBEAT_EVERY:
                store.heartbeat(deploy_id)
                beaten = clock.monotonic()
        except StateWriteError as error:
            engine.stop(error)
        except Exception as error:  # never silently: a lock without heartbeat goes stale
            engine.stop(StateWriteError(str(error) or type(error).__name__))


def _journal(store: Store, application: str, deploy_id: int, clock: Clock) -> Journal:
    def write(load_balancer: str, server: str, change: Change, progress: Progress, /) -> None:
        entry = JournalEntry(
            application, load_balancer, server, change, progress, deploy_id, clock.time()
        )
        store.journal(entry)

    return write


async def recover_stranded(
    manifest: Manifest,
    store: Store,
    *,
    drivers: Drivers | None = None,
) -> list[Recovered]:
    """``baton recover``: restore servers a killed deploy left out, without deploying."""
    drivers = drivers or Drivers.real()
    clock = drivers.clock
    await wait_for_lock(store, manifest.application, 0.0, clock)
    names = stranded(manifest, store)
    if not names:
        return []
    async with opened(manifest, drivers) as (load_balancers, connections):
        await connections.open_all(manifest.server(name) for name in names)
        transports = {name: connections.peek(manifest.server(name)) for name in names}
        journal = _journal(store, manifest.application, 0, clock)
        return await recover(manifest, names, load_balancers, transports, journal, clock)
