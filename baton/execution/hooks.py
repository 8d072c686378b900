"""Run deploy-level hooks (first_thing, last_thing, on_failure) and emit them as steps.

Each hook runs on its targets at once (this machine, the migration server, or every server),
with the step environment, its output masked and emitted as step output, so the terminal,
the history and the dashboard show it as they show a step's.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from baton._exceptions import BatonError
from baton.clock import SYSTEM_CLOCK, Clock
from baton.config import Server
from baton.config.templates import render, values_for
from baton.drivers import Transport
from baton.execution.environment import StepEnvironment
from baton.execution.events import EventSink, StepFinished, StepStarted, StepStatus, Warned
from baton.execution.output import StepOutputStream
from baton.planning import Plan
from baton.planning.hooks import HookRun


class DeployHooks:
    def __init__(
        self,
        plan: Plan,
        open_transport: Callable[[Server], Transport],
        environment: StepEnvironment,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self._plan = plan
        self._clock = clock
        self._open_transport = open_transport
        self._environment = environment

    async def run(self, point: str, emit: EventSink) -> str | None:
        """Run the point's hooks in order; why the deploy must halt, or None to go on."""
        for hook in self._plan.hooks.get(point, ()):
            failures = [
                f
                for f in await asyncio.gather(*(self._one(hook, s, emit) for s in hook.targets))
                if f
            ]
            if failures and hook.halt_on_error:
                return "; ".join(failures)
            for failure in failures:
                emit(Warned(message=f"{failure}; halt_on_error is false, going on"))
        return None

    async def _one(self, hook: HookRun, server: Server, emit: EventSink) -> str | None:
        step, mask = hook.step, self._environment.mask
        emit(StepStarted(server=server.name, step=step.name, migration=False))
        started = self._clock.time()

        on_output = StepOutputStream(server.name, step.name, mask, emit)
        command = render(step.run, values_for(self._plan.application, server, self._plan.version))
        transport = self._open_transport(server)
        try:
            await transport.open()
            result = await transport.run(
                command,
                timeout=step.timeout,
                on_output=on_output,
                environment=self._environment.variables,
            )
        except BatonError as exc:
            emit(_finished(server, step.name, StepStatus.FAILED, None, started, str(exc)))
            return f"hook {step.name} on {server.name}: {exc}"
        finally:
            await transport.close()
        emit(
            _finished(
                server,
                step.name,
                StepStatus(result.status),
                result.exit_status,
                started,
                on_output.close(),
            )
        )
        if result.ok:
            return None
        if result.timed_out:
            return f"hook {step.name} on {server.name} timed out after {step.timeout:g}s"
        return f"hook {step.name} on {server.name} exited {result.exit_status}"


def _finished(
    server: Server,
    step: str,
    status: StepStatus,
    exit_status: int | None,
    started: float,
    output: str,
) -> StepFinished:
    return StepFinished(
        server=server.name,
        step=step,
        status=status,
        exit_status=exit_status,
        started_at=started,
        output=output,
    )
