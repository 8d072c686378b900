"""Running one step: the one way a deploy runs a command, for its steps and for every hook.

The step is announced (StepStarted), its command rendered with the server's values and run
with the step environment and its timeout, its output masked and streamed
(:class:`~baton.execution.output.StepOutputStream`), and how it ended reported (StepFinished):
the terminal, the history and the dashboard show a hook as they show a step.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from baton._exceptions import BatonError
from baton.clock import Clock
from baton.config import Server, Step
from baton.config.templates import render, values_for
from baton.drivers import CommandResult, ShellCommand, Transport
from baton.execution.environment import StepEnvironment
from baton.execution.events import EventSink, StepFinished, StepStarted, StepStatus, Warned
from baton.execution.output import StepOutputStream
from baton.planning.hooks import HookRun


@dataclass(frozen=True)
class StepRunner:
    """Runs steps of one deploy (its application and version) with its environment."""

    application: str
    version: str
    environment: StepEnvironment
    emit: EventSink
    clock: Clock

    async def run(
        self,
        step: Step,
        server: Server,
        transport: Transport,
        *,
        opening: bool = False,
        migration: bool = False,
        phase: str = "",
    ) -> CommandResult:
        """Run ``step`` on ``server`` through ``transport`` (connected first when ``opening``).

        What the transport raises (it could not connect, the connection was lost) or an
        interrupt is reported as the step failing or being interrupted, then raised; the
        output recorded is what it printed, or the error when it printed nothing."""
        self.emit(StepStarted(server=server.name, step=step.name, migration=migration, phase=phase))
        finished = functools.partial(self._finished, server, step, phase)
        started = self.clock.time()
        output = StepOutputStream(server.name, step.name, self.environment.mask, self.emit)
        line = render(step.run, values_for(self.application, server, self.version))
        command = ShellCommand(line, step.timeout, self.environment.variables)
        try:
            if opening:
                await transport.open()
            result = await transport.run(command, on_output=output)
        except asyncio.CancelledError:
            finished(StepStatus.INTERRUPTED, None, started, output.close())
            raise
        except BatonError as error:
            printed = output.close() or str(error)
            finished(StepStatus.FAILED, None, started, printed)
            raise
        status = StepStatus(result.status)
        finished(status, result.exit_status, started, output.close())
        return result

    def _finished(
        self,
        server: Server,
        step: Step,
        phase: str,
        status: StepStatus,
        exit_status: int | None,
        started: float,
        output: str,
    ) -> None:
        self.emit(
            StepFinished(
                server=server.name,
                step=step.name,
                status=status,
                exit_status=exit_status,
                started_at=started,
                output=output,
                phase=phase,
            )
        )

    async def run_hooks(
        self, hooks: Sequence[HookRun], open_transport: Callable[[Server], Transport]
    ) -> str | None:
        """A deploy-wide phase (first_thing, last_thing, on_failure): each hook in order, on
        all its targets at once, each over a connection of its own. Why the deploy must halt
        (a hook with halt_on_error failed), or None to go on."""
        for hook in hooks:
            ran = await asyncio.gather(
                *(self._hook(hook, server, open_transport(server)) for server in hook.targets)
            )
            failures = [failure for failure in ran if failure]
            if failures and hook.halt_on_error:
                return "; ".join(failures)
            for failure in failures:
                self.emit(Warned(message=f"{failure}; halt_on_error is false, going on"))
        return None

    async def _hook(self, hook: HookRun, server: Server, transport: Transport) -> str | None:
        """Why the hook failed on ``server``, or None."""
        step = hook.step
        try:
            result = await self.run(step, server, transport, opening=True, phase=hook.point)
        except BatonError as exc:
            return f"hook {step.name} on {server.name}: {exc}"
        finally:
            await transport.close()
        if result.ok:
            return None
        if result.timed_out:
            return f"hook {step.name} on {server.name} timed out after {step.timeout:g}s"
        return f"hook {step.name} on {server.name} exited {result.exit_status}"
