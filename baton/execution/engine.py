"""The engine: runs a plan wave by wave and emits events. It knows nothing of strategies.

A wave's servers run at the same time (bounded by ``max_parallel``); the next wave starts
only when every server of the previous one succeeded. A server that fails in a wave that
removed it from the load balancers stays out of rotation, and the servers after it are not
started. Every server ends with an outcome; a failure never hides what happened elsewhere.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

from baton._exceptions import BatonError, HealthCheckError, LoadBalancerError, StepError
from baton.config import Server
from baton.config.templates import render, values_for
from baton.drivers import LoadBalancerDriver, Membership, Transport
from baton.execution.environment import StepEnvironment
from baton.execution.events import (
    EventSink,
    HealthChecked,
    LoadBalancerChanged,
    ServerFinished,
    Stage,
    StageChanged,
    StepFinished,
    StepOutput,
    StepStarted,
    Warning_,
)
from baton.execution.health import wait_until_healthy
from baton.execution.result import DeployResult, ServerOutcome
from baton.planning import (
    Action,
    AddToLoadBalancers,
    CheckHealth,
    Plan,
    RemoveFromLoadBalancers,
    RunStep,
    ServerPlan,
    Wait,
)
from baton.planning.hooks import LOCAL

TransportFactory = Callable[[Server], Transport]
Journal = Callable[[str, str, str, str], None]
"""Called with (load balancer, server, action, "intended" | "done")."""


CAPACITY_POLL = 0.25
CAPACITY_DEADLINE = 30.0
"""Seconds to wait for capacity when the manifest has no health check (else its deadline)."""


def _no_journal(load_balancer: str, server: str, action: str, state: str) -> None:
    return None


@dataclass
class _ServerRun:
    """What the engine knows about one server while it runs."""

    plan: ServerPlan
    transport: Transport | None = None
    out_of: set[str] = field(default_factory=set)
    started_at: float | None = None
    changed: bool = False
    """True once a step ran: from then on, only a health check may put the server back."""

    @property
    def name(self) -> str:
        return self.plan.server.name


class Engine:
    """Runs one plan. Drivers, clock and sinks are passed in; nothing is global."""

    def __init__(
        self,
        plan: Plan,
        *,
        open_transport: TransportFactory,
        load_balancers: Mapping[str, LoadBalancerDriver],
        emit: EventSink,
        journal: Journal = _no_journal,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        environment: StepEnvironment | None = None,
    ) -> None:
        self.plan = plan
        self._environment = environment or StepEnvironment(plan.manifest.deploy.environment)
        self._open_transport = open_transport
        self.load_balancers = load_balancers
        self.emit = emit
        self._journal = journal
        self._sleep = sleep
        self._outcomes: dict[str, ServerOutcome] = {}

    async def run(self) -> DeployResult:
        """Run every wave; when cancelled (Ctrl-C), return the outcomes instead of raising."""
        try:
            for wave in self.plan.waves:
                await self._run_wave(wave.servers)
                if any(self._outcomes[sp.server.name].status != "succeeded" for sp in wave.servers):
                    break
        except asyncio.CancelledError:
            self._mark_not_started("not deployed: the deploy was interrupted")
        else:
            self._mark_not_started("not deployed: an earlier server failed")
        return DeployResult(tuple(self._outcomes[name] for name in self.plan.server_order()))

    async def _run_wave(self, servers: tuple[ServerPlan, ...]) -> None:
        limit = self.plan.max_parallel or len(servers)
        gate = asyncio.Semaphore(limit)

        async def bounded(server_plan: ServerPlan) -> None:
            async with gate:
                await self._run_server(_ServerRun(server_plan))

        await asyncio.gather(*(bounded(sp) for sp in servers))

    async def _run_server(self, run: _ServerRun) -> None:
        run.started_at = time.time()
        try:
            await self._connect(run)
            for action in run.plan.actions:
                await self._perform(action, run)
        except BatonError as exc:
            self._finish(run, "failed", str(exc))
        except asyncio.CancelledError:
            await _finishing(self._undo_removal(run))
            self._finish(run, "cancelled", "the deploy was interrupted")
            raise
        else:
            self._finish(run, "succeeded", f"now serving {self.plan.version}")
        finally:
            if run.transport is not None:
                await run.transport.close()

    async def _connect(self, run: _ServerRun) -> None:
        self._stage(run, Stage.CONNECTING)
        transport = self._open_transport(run.plan.server)
        await transport.open()
        run.transport = transport

    async def _perform(self, action: Action, run: _ServerRun) -> None:
        if isinstance(action, RemoveFromLoadBalancers):
            await self._remove(run, action.load_balancers)
        elif isinstance(action, AddToLoadBalancers):
            await self._add(run, action.load_balancers)
        elif isinstance(action, Wait):
            self._stage(run, Stage.WAITING, f"{action.seconds}s ({action.reason})")
            await self._sleep(action.seconds)
        elif isinstance(action, RunStep):
            await self._run_step(run, action)
        elif isinstance(action, CheckHealth):
            await self._check_health(run)

    async def _remove(self, run: _ServerRun, names: tuple[str, ...]) -> None:
        self._stage(run, Stage.LEAVING_ROTATION)
        for name in names:
            await self._check_capacity(run, name)
        for name in names:
            await _finishing(self._change(run, name, "remove"))
        self._stage(run, Stage.OUT_OF_ROTATION)

    async def _change(self, run: _ServerRun, name: str, action: str) -> None:
        """A change, its journal and its event, finished whole even when interrupted."""
        self._journal(name, run.name, action, "intended")
        if action == "remove":
            run.out_of.add(name)
            await self.load_balancers[name].remove(run.name)
        else:
            await self.load_balancers[name].add(run.name)
            run.out_of.discard(name)
        self._journal(name, run.name, action, "done")
        verb = "removed" if action == "remove" else "added"
        self.emit(LoadBalancerChanged(server=run.name, load_balancer=name, action=verb))

    async def _check_capacity(self, run: _ServerRun, name: str) -> None:
        """Wait until removing ``run`` leaves min_in_service servers in rotation, or refuse.

        A server put back a moment ago may still be failing the load balancer's own health
        checks; waiting for it (up to the health check deadline) is what keeps capacity.
        """
        deadline = time.monotonic() + self._capacity_deadline()
        while (others := await self._others_in_rotation(run, name)) < self.plan.min_in_service:
            if time.monotonic() >= deadline:
                raise LoadBalancerError(
                    f"{run.name}: not removed from {name}: only {others} other server(s) in "
                    f"rotation, deploy.min_in_service is {self.plan.min_in_service}"
                )
            self._stage(run, Stage.QUEUED, f"waiting for {name} to have capacity")
            await self._sleep(CAPACITY_POLL)

    def _capacity_deadline(self) -> float:
        check = self.plan.manifest.deploy.health_check
        return check.deadline if check is not None else CAPACITY_DEADLINE

    async def _others_in_rotation(self, run: _ServerRun, name: str) -> int:
        membership = await self.load_balancers[name].membership()
        servers = {s.name for s in self.plan.manifest.servers}
        others = (m for s, m in membership.items() if s in servers and s != run.name)
        return sum(m is Membership.IN_ROTATION for m in others)

    async def _add(self, run: _ServerRun, names: tuple[str, ...]) -> None:
        self._stage(run, Stage.REJOINING_ROTATION)
        for name in names:
            await _finishing(self._change(run, name, "add"))

    async def _run_step(self, run: _ServerRun, action: RunStep) -> None:
        step, server = action.step, run.name
        assert run.transport is not None
        self._stage(run, Stage.STEP, step.name)
        self.emit(StepStarted(server=server, step=step.name, migration=step.migration))
        started = time.time()

        mask = self._environment.mask

        def on_output(stream: str, line: str) -> None:
            self.emit(StepOutput(server=server, step=step.name, stream=stream, line=mask(line)))

        command = render(step.run, self._template_values(run.plan.server))
        run.changed = True
        transport = self._open_transport(LOCAL) if action.local else run.transport
        try:
            if action.local:
                await transport.open()
            result = await transport.run(
                command,
                timeout=step.timeout,
                on_output=on_output,
                environment=self._environment.variables,
            )
        finally:
            if action.local:
                await transport.close()
        status = "succeeded" if result.ok else ("timed out" if result.timed_out else "failed")
        self.emit(
            StepFinished(
                server=server,
                step=step.name,
                status=status,
                exit_status=result.exit_status,
                started_at=started,
                output=mask(result.output),
            )
        )
        what = "hook" if action.hook else "step"
        if result.ok:
            return
        if not action.halt_on_error:
            self.emit(Warning_(message=f"{server}: hook {step.name} {status}; going on"))
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
            check, values, run.transport, self._environment.variables
        )
        self.emit(HealthChecked(server=run.name, passed=passed, attempts=attempts, detail=detail))
        if not passed:
            raise HealthCheckError(
                f"health check failed after {attempts} attempt(s) in {check.deadline:g}s: {detail}"
            )

    async def _undo_removal(self, run: _ServerRun) -> None:
        """On interrupt, put back a server that left rotation but was not changed yet."""
        if run.out_of and not run.changed:
            await self._add(run, tuple(sorted(run.out_of)))

    def _template_values(self, server: Server) -> dict[str, object]:
        return values_for(self.plan.application, server, self.plan.version)

    def _stage(self, run: _ServerRun, stage: Stage, detail: str = "") -> None:
        self.emit(StageChanged(server=run.name, stage=stage, detail=detail))

    def _finish(self, run: _ServerRun, status: str, detail: str) -> None:
        in_rotation = None if not self.plan.manifest.load_balancers else not run.out_of
        if status == "failed" and run.out_of:
            detail += f"; left out of rotation on {', '.join(sorted(run.out_of))}"
        outcome = ServerOutcome(run.name, status, detail, in_rotation, run.started_at, time.time())
        self._outcomes[run.name] = outcome
        self._stage(run, Stage(status), detail)
        self.emit(
            ServerFinished(
                server=run.name,
                status=status,
                detail=detail,
                in_rotation=in_rotation,
                started_at=run.started_at,
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
                    self._finish(_ServerRun(server_plan), "not started", why)


async def _finishing(change: Awaitable[None]) -> None:
    """Await a load balancer change to its end even if the deploy is interrupted meanwhile."""
    task = asyncio.ensure_future(change)
    try:
        await asyncio.shield(task)
    except asyncio.CancelledError:
        await task
        raise
