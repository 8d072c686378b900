"""The engine: runs a plan wave by wave, and its deploy-wide hook phases, and emits events.
It knows nothing of strategies.

A wave's servers run at the same time (bounded by the wave's limit); the next wave starts
only when every server of the previous one succeeded. A wave may stop its other servers when
one fails, and may hold a barrier (AwaitBatch) so its servers rejoin together; a wave that is
not final (prepare, migrate) leaves its servers' outcomes to a later wave. A server that fails
in a wave that removed it from the load balancers stays out of rotation, and the servers after
it are not started. Every server ends with an outcome, its rotation as read back from the
balancers; a failure never hides what happened elsewhere.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import assert_never

from baton._exceptions import (
    BatonError,
    HealthCheckError,
    LockLost,
    StateWriteError,
    StepError,
    VerificationError,
)
from baton.clock import SYSTEM_CLOCK, Clock
from baton.config import Server
from baton.config.templates import values_for
from baton.drivers import LoadBalancerDriver, Transport
from baton.execution.environment import StepEnvironment
from baton.execution.events import (
    EventSink,
    HealthChecked,
    ServerFinished,
    ServerStatus,
    Stage,
    StageChanged,
    Verified,
    Warned,
)
from baton.execution.health import wait_until_healthy
from baton.execution.result import DeployResult, ServerOutcome
from baton.execution.rotation import Journal, Rotation, as_read, finishing, no_journal
from baton.execution.steps import StepRunner
from baton.execution.verify import Canary, verify
from baton.execution.waves import Stopped, WaveRun
from baton.planning import Plan, actions
from baton.planning.actions import Action, RunStep, ServerPlan, Verify, Wave
from baton.planning.hooks import LOCAL

TransportFactory = Callable[[Server], Transport]
ServerLock = Callable[[Server], AbstractAsyncContextManager[None]]
"""Held while a server is deployed, so two deploys never run steps on one server at once."""
INTERRUPTED = "the deploy was interrupted"


Fence = Callable[[], None]
"""Raises LockLost once another deploy took over this deploy's lock: checked before every
balancer or server action, so a deploy that was frozen and taken over touches nothing more."""


@contextlib.asynccontextmanager
async def _no_lock(server: Server) -> AsyncIterator[None]:
    yield


def _unfenced() -> None:
    return None


@dataclass
class _ServerRun:
    """What the engine knows about one server while it runs."""

    plan: ServerPlan
    transport: Transport | None = None
    started_at: float | None = None
    changed: bool = False
    """True once a step ran: from then on, only a health check may put the server back."""
    final: bool = True
    """In a final wave (not prepare or migrate): its steps change what it serves."""

    @property
    def name(self) -> str:
        return self.plan.server.name


class Engine:
    """Runs one plan: its deploy-wide hook phases (:meth:`run_phase`) and its waves
    (:meth:`run`). Drivers, clock and sinks are passed in; nothing is global. ``open_hook``
    gives a deploy-wide hook a connection of its own (default: ``open_transport``)."""

    def __init__(
        self,
        plan: Plan,
        *,
        open_transport: TransportFactory,
        open_hook: TransportFactory | None = None,
        load_balancers: Mapping[str, LoadBalancerDriver],
        emit: EventSink,
        journal: Journal = no_journal,
        clock: Clock = SYSTEM_CLOCK,
        environment: StepEnvironment | None = None,
        lock_server: ServerLock = _no_lock,
        fence: Fence = _unfenced,
    ) -> None:
        self.plan = plan
        self._environment = environment or StepEnvironment(plan.manifest.deploy.environment)
        self._open_transport = open_transport
        self.load_balancers = load_balancers
        self.emit = emit
        self.clock = clock
        self._lock_server = lock_server
        self._fence = fence
        self._rotation = Rotation(
            plan, load_balancers, emit, journal=journal, clock=clock, stop=self.stop
        )
        self._steps = StepRunner(plan.application, plan.version, self._environment, emit, clock)
        self._open_hook = open_hook or open_transport
        self._outcomes: dict[str, ServerOutcome] = {}
        self._base: dict[str, ServerOutcome] = {}
        """Each outcome before the load balancers' word on rotation was added to it."""
        self._waves: asyncio.Task[list[str]] | None = None
        self._transports: dict[str, Transport] = {}
        """Kept open across waves: a server can be in a prepare wave and then its batch."""
        self.stopped_by: StateWriteError | None = None
        """The state write that failed and stopped the deploy, if one did."""

    async def run(self) -> DeployResult:
        """Run every wave; when cancelled (Ctrl-C) or stopped, return the outcomes instead of
        raising. Each server's membership in the result is read back from the balancers."""
        self._waves = asyncio.create_task(self._run_waves())
        if self.stopped_by is not None:  # stopped before the first wave (in first_thing)
            self._waves.cancel()
        try:
            failed = await self._waves
        except asyncio.CancelledError:
            self._mark_not_started(f"not deployed: {self._why_stopped()}")
        else:
            self._mark_not_started(f"not deployed: an earlier server failed ({', '.join(failed)})")
        finally:
            transports, self._transports = list(self._transports.values()), {}
            await asyncio.gather(*(t.close() for t in transports), return_exceptions=True)
        if not self.lock_lost:  # the other deploy's balancers now: not even a read-back
            await finishing(self._read_back_all())
        outcomes = tuple(self._outcomes[name] for name in self.plan.server_order())
        return DeployResult(outcomes, observed=tuple(self._rotation.late_traffic.lines))

    async def run_phase(self, point: str) -> str | None:
        """Run the plan's deploy-wide phase ``point`` (first_thing, last_thing, on_failure);
        why the deploy must halt, or None to go on."""
        if self._must_stop() and self.lock_lost:
            return str(self.stopped_by)
        return await self._steps.run_hooks(self.plan.hooks.get(point, ()), self._open_hook)

    def stop(self, error: StateWriteError) -> None:
        """Stop as Ctrl-C does (finish the change under way, put back an unchanged server)
        because the state cannot be written: going on would leave changes unrecorded. When
        the lock was lost (LockLost) nothing is put back: the balancers are another deploy's."""
        if self.stopped_by is not None:
            return
        self.stopped_by = error
        self.emit(Warned(message=f"stopping: {error}"))
        if self._waves is not None and not self._waves.cancelling():  # once, as one Ctrl-C
            self._waves.cancel()

    @property
    def lock_lost(self) -> bool:
        """Another deploy took over this one's lock: it must touch nothing more."""
        return isinstance(self.stopped_by, LockLost)

    def _must_stop(self) -> bool:
        """Check the fence (the lock is still this deploy's); True once the deploy is to stop,
        for that or because the state could not be written."""
        if self.stopped_by is None:
            try:
                self._fence()
            except StateWriteError as error:
                self.stop(error)
        return self.stopped_by is not None

    async def _cancelled(self) -> None:
        """Take the cancellation :meth:`stop` sent (as Ctrl-C's arrives at an await), so the
        server is finished as on Ctrl-C."""
        await self.clock.sleep(0)
        raise asyncio.CancelledError  # only if stop() found the deploy cancelling already

    def _why_stopped(self) -> str:
        if self.stopped_by is None:
            return INTERRUPTED
        if self.lock_lost:
            return str(self.stopped_by)
        return "the deploy stopped: baton could not write its state"

    async def _run_waves(self) -> list[str]:
        """The servers that failed in the wave that stopped the deploy (none: all went)."""
        for wave in self.plan.waves:
            if failed := (await self._run_wave(wave)).failed:
                return failed
        return []

    async def _run_wave(self, wave: Wave) -> WaveRun:
        gate = asyncio.Semaphore(wave.limit or len(wave.servers))
        shared = WaveRun(wave)

        async def bounded(server_plan: ServerPlan) -> None:
            async with gate:
                run = _ServerRun(server_plan, final=wave.final)
                await self._run_server(run, shared)

        await asyncio.gather(*(bounded(sp) for sp in wave.servers))
        return shared

    async def _run_server(self, run: _ServerRun, wave: WaveRun) -> None:
        run.started_at = self.clock.time()
        try:
            async with self._lock_server(run.plan.server):
                await self._connect(run)
                for action in run.plan.actions:
                    if self._must_stop():
                        await self._cancelled()
                    if isinstance(action, RunStep | actions.RemoveFromLoadBalancers):
                        wave.check_going()
                    await self._perform(action, run, wave)
        except BatonError as exc:
            wave.leave(run.name, failed=True)
            self._finish(run, ServerStatus.FAILED, str(exc))
        except Stopped as exc:
            wave.leave(run.name)
            await finishing(self._undo_removal(run))
            if wave.wave.final:
                self._finish(run, ServerStatus.STOPPED, str(exc))
        except asyncio.CancelledError:
            await finishing(self._undo_removal(run))
            self._finish(run, ServerStatus.CANCELLED, self._why_stopped())
            raise
        else:
            wave.leave(run.name)
            if wave.wave.final:
                self._finish(run, ServerStatus.SUCCEEDED, f"now serving {self.plan.version}")
            else:
                self._stage(run, Stage.READY, f"{wave.wave.phase.value} done; still serving")

    async def _connect(self, run: _ServerRun) -> None:
        """The server's transport, reconnected if the connection was lost since its last wave."""
        if (transport := self._transports.get(run.name)) is None:
            transport = self._transports[run.name] = self._open_transport(run.plan.server)
        self._stage(run, Stage.CONNECTING)
        await transport.open()
        run.transport = transport

    async def _perform(self, action: Action, run: _ServerRun, wave: WaveRun) -> None:
        match action:
            case actions.RemoveFromLoadBalancers(load_balancers=names):
                await self._rotation.remove(run.name, names)
            case actions.AddToLoadBalancers(load_balancers=names):
                await self._rotation.add(run.name, names)
            case actions.Wait(seconds=seconds, reason=reason):
                self._stage(run, Stage.WAITING, f"{seconds}s ({reason})")
                await self.clock.sleep(seconds)
            case actions.RunStep(step=step):
                await self._rotation.confirm_out(run.name, f"before step {step.name}")
                await self._run_step(run, action)
            case actions.CheckHealth():
                await self._check_health(run)
            case actions.AwaitBatch():
                self._stage(run, Stage.WAITING, "for the rest of its batch")
                await wave.arrive(run.name)
            case actions.Verify():
                await self._verify(run, action)
            case _:
                assert_never(action)

    async def _run_step(self, run: _ServerRun, action: RunStep) -> None:
        step = action.step
        assert run.transport is not None
        self._stage(run, Stage.STEP, step.name)
        run.changed = True
        server = run.plan.server
        if not action.local:
            result = await self._steps.run(step, server, run.transport, migration=step.migration)
        else:
            transport = self._open_transport(LOCAL)
            try:
                result = await self._steps.run(step, server, transport, opening=True)
            finally:
                await transport.close()
        what = "hook" if action.hook else "step"
        if result.ok:
            return
        if not action.halt_on_error:
            self.emit(Warned(message=f"{run.name}: hook {step.name} {result.status}; going on"))
        elif result.timed_out:
            raise StepError(f"{what} {step.name} timed out after {step.timeout:g}s")
        else:
            raise StepError(f"{what} {step.name} exited {result.exit_status}")

    async def _check_health(self, run: _ServerRun) -> None:
        check = self.plan.manifest.deploy.health_check
        assert check is not None and run.transport is not None
        self._stage(run, Stage.HEALTH_CHECK)
        values = self._template_values(run.plan.server)
        passed, attempts, detail = await wait_until_healthy(
            check, values, run.transport, self._environment.variables, self.clock
        )
        self.emit(HealthChecked(server=run.name, passed=passed, attempts=attempts, detail=detail))
        if not passed:
            raise HealthCheckError(
                f"health check failed after {attempts} attempt(s) in {check.deadline:g}s: {detail}"
            )

    async def _verify(self, run: _ServerRun, action: Verify) -> None:
        assert run.transport is not None
        self._stage(run, Stage.VERIFYING, f"{action.seconds:g}s")
        canary = Canary(
            run.name,
            self.plan.manifest.deploy.verify,
            self._template_values(run.plan.server),
            run.transport,
            self._environment.variables,
        )
        verdict = await verify(
            canary, self.load_balancers, action.seconds, action.max_error_rate, self.clock
        )
        self.emit(Verified(server=run.name, passed=verdict.passed, detail=verdict.detail))
        if not verdict.passed:
            raise VerificationError(verdict.detail)

    async def _undo_removal(self, run: _ServerRun) -> None:
        """On interrupt, put back a server that left rotation but was not changed yet."""
        if not run.changed and not self.lock_lost:
            await self._rotation.put_back(run.name)

    def _template_values(self, server: Server) -> dict[str, object]:
        return values_for(self.plan.application, server, self.plan.version)

    def _stage(self, run: _ServerRun, stage: Stage, detail: str = "") -> None:
        self.emit(StageChanged(server=run.name, stage=stage, detail=detail))

    def _finish(self, run: _ServerRun, status: ServerStatus, detail: str) -> None:
        """Report ``run``'s outcome now, its rotation as baton left it; the read-back before
        the summary corrects it (a second event) only where a balancer says otherwise."""
        out = self._rotation.out_of(run.name)
        in_rotation = None if not self.plan.manifest.load_balancers else not out
        now = self.clock.time()
        self._base[run.name] = ServerOutcome(
            run.name,
            status,
            detail,
            in_rotation,
            run.started_at,
            now,
            changed=run.changed and run.final,
        )
        assumed = self._rotation.assumed(run.name)
        outcome = as_read(self._base[run.name], assumed, self._rotation.notes(run.name))
        self._outcomes[run.name] = outcome
        self._stage(run, Stage(status), outcome.detail)
        self._emit_outcome(outcome)

    def _emit_outcome(self, outcome: ServerOutcome) -> None:
        self.emit(
            ServerFinished(
                server=outcome.server,
                status=outcome.status,
                detail=outcome.detail,
                in_rotation=outcome.in_rotation,
                started_at=outcome.started_at,
            )
        )

    def skip(self, why: str) -> DeployResult:
        """Every server not started (a first_thing hook halted the deploy)."""
        self._mark_not_started(why)
        return DeployResult(tuple(self._outcomes[name] for name in self.plan.server_order()))

    def _mark_not_started(self, why: str) -> None:
        for wave in self.plan.waves:
            for server_plan in wave.servers:
                if server_plan.server.name not in self._outcomes:
                    self._finish(_ServerRun(server_plan), ServerStatus.NOT_STARTED, why)

    async def _read_back_all(self) -> None:
        """Before reporting: every outcome gets its membership as read back."""
        read = await self._rotation.read_everything()
        for name, base in self._base.items():
            corrected = as_read(base, read, self._rotation.notes(name))
            if corrected != self._outcomes[name]:
                self._outcomes[name] = corrected
                self._emit_outcome(corrected)
