"""The waves of a plan: prepare while serving, the migration first, then the rollout.

- Prepare steps (``stage: prepare``) run on every server at once (bounded by
  ``deploy.max_parallel``) while each still serves; nothing has left rotation yet, so a
  failure there leaves every server on the old release.
- With ``deploy.migrations_first``, when the migration server would share its rollout wave
  with other servers (parallel, batches), it first runs the migration, and the steps before
  it, alone and still in rotation; the others wait for it.
- The rollout: one wave per batch (serial) or one wave for every server (parallel). With a
  canary, the first wave is the canary and each of its servers ends with a Verify.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from baton.config import Manifest, Server, Step
from baton.planning.actions import (
    Action,
    AddToLoadBalancers,
    AwaitBatch,
    CheckHealth,
    Phase,
    RemoveFromLoadBalancers,
    RunStep,
    ServerPlan,
    Verify,
    Wait,
    Wave,
)
from baton.planning.hooks import server_hooks
from baton.planning.values import ValueInForce, wait_seconds


@dataclass(frozen=True)
class Shape:
    manifest: Manifest
    servers: Sequence[Server]
    migration_server: str | None
    values: tuple[ValueInForce, ...]
    max_parallel: int
    migrations_first: bool
    verify: Verify | None = None
    """Ends the first wave's servers' actions: it is the canary."""

    def waves(self, sizes: tuple[int, ...], serial: bool) -> tuple[Wave, ...]:
        """One rollout wave per size; through the load balancers in serial, else in parallel."""
        groups = _split(self.servers, sizes)
        early = self._early_steps(groups)
        waves = [*self._prepare(), *self._migrate(early)]
        for number, group in enumerate(groups):
            if serial:
                together = len(group) > 1
                plans = [ServerPlan(s, self._through_rotation(s, early, together)) for s in group]
                wave = Wave(tuple(plans), stop_on_failure=True)
            else:
                plans = [ServerPlan(s, self._steps(s, early)) for s in group]
                wave = Wave(tuple(plans), limit=self.max_parallel)
            waves.append(self._verified(wave) if number == 0 and self.verify else wave)
        return tuple(waves)

    def _verified(self, wave: Wave) -> Wave:
        assert self.verify is not None
        plans = tuple(ServerPlan(sp.server, (*sp.actions, self.verify)) for sp in wave.servers)
        return Wave(plans, wave.phase, wave.limit, wave.stop_on_failure)

    def _prepare(self) -> list[Wave]:
        steps = tuple(RunStep(s) for s in self.manifest.deploy.steps if s.prepare)
        if not steps:
            return []
        plans = tuple(ServerPlan(s, steps) for s in self.servers)
        return [Wave(plans, Phase.PREPARE, self.max_parallel, stop_on_failure=True)]

    def _early_steps(self, groups: list[list[Server]]) -> tuple[Step, ...]:
        """What the migration server runs alone first: nothing unless it has company."""
        name = self.migration_server
        if not self.migrations_first or name is None:
            return ()
        group = next(g for g in groups if any(s.name == name for s in g))
        if len(group) == 1:
            return ()
        early: list[Step] = []
        for step in self.manifest.deploy.steps:
            if not step.prepare:
                early.append(step)
            if step.migration:
                return tuple(early)
        return ()

    def _migrate(self, early: tuple[Step, ...]) -> list[Wave]:
        if not early:
            return []
        server = self.manifest.server(self.migration_server or "")
        plan = ServerPlan(server, tuple(RunStep(s) for s in early))
        return [Wave((plan,), Phase.MIGRATE, stop_on_failure=True)]

    def _steps(self, server: Server, early: tuple[Step, ...]) -> tuple[Action, ...]:
        """The rest of its steps and its health check, between its before_server and
        after_server hooks."""
        mine = server.name == self.migration_server
        actions: list[Action] = self._hooks("before_server", server)
        actions += [
            RunStep(step)
            for step in self.manifest.deploy.steps
            if not step.prepare and (mine or not step.migration) and not (mine and step in early)
        ]
        if self.manifest.deploy.health_check is not None:
            actions.append(CheckHealth())
        return (*actions, *self._hooks("after_server", server))

    def _hooks(self, point: str, server: Server) -> list[Action]:
        return [
            RunStep(step, hook=True, local=hook.run_on == "local", halt_on_error=hook.halt_on_error)
            for hook, step in server_hooks(self.manifest, point, server)
        ]

    def _through_rotation(
        self, server: Server, early: tuple[Step, ...], together: bool
    ) -> tuple[Action, ...]:
        names = tuple(lb.name for lb in self.manifest.load_balancers)
        if not names:
            return self._steps(server, early)
        removing = wait_seconds(self.values, "wait_after_removing_servers")
        adding = wait_seconds(self.values, "wait_after_adding_servers")
        actions: list[Action] = [RemoveFromLoadBalancers(names)]
        if removing:
            actions.append(Wait(removing, "wait_after_removing_servers"))
        actions += self._steps(server, early)
        if together:
            actions.append(AwaitBatch())
        actions.append(AddToLoadBalancers(tuple(reversed(names))))
        if adding:
            actions.append(Wait(adding, "wait_after_adding_servers"))
        return tuple(actions)


def _split(servers: Sequence[Server], sizes: tuple[int, ...]) -> list[list[Server]]:
    groups, start = [], 0
    for size in sizes:
        groups.append(list(servers[start : start + size]))
        start += size
    return groups
