"""Planning: manifest + settings + one-off options → a plan you can print, test and diff.

Strategy is data here, not a branch in the engine. A serial plan is one wave per server, each
wrapped in leaving and rejoining the load balancers; a parallel plan is a single wave holding
every server, with no load balancer actions at all.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from baton._exceptions import InputError
from baton.config import Manifest, Server, Step
from baton.config.model import VERSION_PATTERN
from baton.planning.hooks import HookRun, deploy_hooks, server_hooks
from baton.planning.values import ValueInForce, values_in_force, wait_seconds
from baton.settings import Settings
from baton.state.records import AppliedValue

MIGRATION_WARNING = (
    "this parallel deploy runs migrations: a migration can break the deploy on the other "
    "servers while it runs; serial is advised (--serial, or `baton settings set -s {app} "
    "deploy.parallel false`)"
)


class Strategy(enum.Enum):
    SERIAL = "serial"
    PARALLEL = "parallel"


@dataclass(frozen=True)
class DeployOptions:
    """One-off choices for a single deploy; None means "use the setting"."""

    version: str
    strategy: Strategy | None = None
    run_migrations: bool | None = None


# actions ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RemoveFromLoadBalancers:
    load_balancers: tuple[str, ...]

    def describe(self) -> str:
        return f"remove from {', '.join(self.load_balancers)}"


@dataclass(frozen=True)
class AddToLoadBalancers:
    load_balancers: tuple[str, ...]

    def describe(self) -> str:
        return f"add back to {', '.join(self.load_balancers)}"


@dataclass(frozen=True)
class Wait:
    seconds: int
    reason: str

    def describe(self) -> str:
        return f"wait {self.seconds}s ({self.reason})"


@dataclass(frozen=True)
class RunStep:
    step: Step
    hook: bool = False
    """A before_server/after_server hook (baton.planning.hooks), not one of the deploy steps."""
    local: bool = False
    """Run on this machine rather than on the server."""
    halt_on_error: bool = True

    def describe(self) -> str:
        if self.hook:
            return f"hook {self.step.name}{' (local)' if self.local else ''}"
        marker = " [migration]" if self.step.migration else ""
        return f"step {self.step.name}{marker}"


@dataclass(frozen=True)
class CheckHealth:
    def describe(self) -> str:
        return "health check"


Action = RemoveFromLoadBalancers | AddToLoadBalancers | Wait | RunStep | CheckHealth


@dataclass(frozen=True)
class ServerPlan:
    server: Server
    actions: tuple[Action, ...]


@dataclass(frozen=True)
class Wave:
    """Servers deployed at the same time; the next wave starts when this one succeeded."""

    servers: tuple[ServerPlan, ...]


@dataclass(frozen=True)
class Plan:
    manifest: Manifest
    version: str
    strategy: Strategy
    strategy_origin: str
    run_migrations: bool
    migrations_origin: str
    waves: tuple[Wave, ...]
    max_parallel: int
    min_in_service: int
    values: tuple[ValueInForce, ...]
    warnings: tuple[str, ...] = field(default=())
    hooks: Mapping[str, tuple[HookRun, ...]] = field(default_factory=dict)
    """first_thing, last_thing and on_failure (the runner runs them around the waves)."""

    @property
    def application(self) -> str:
        return self.manifest.application

    @property
    def migration_server(self) -> str | None:
        for wave in self.waves:
            for server_plan in wave.servers:
                if any(isinstance(a, RunStep) and a.step.migration for a in server_plan.actions):
                    return server_plan.server.name
        return None

    @property
    def estimated_extra_seconds(self) -> int:
        """Time the load balancer waits add: (removing + adding) x servers in serial."""
        return sum(
            a.seconds
            for wave in self.waves
            for sp in wave.servers
            for a in sp.actions
            if isinstance(a, Wait)
        )

    def server_order(self) -> list[str]:
        return [sp.server.name for wave in self.waves for sp in wave.servers]

    @property
    def floor_out_of_reach(self) -> str | None:
        """Why this serial deploy could never take a server out, or None."""
        return _floor_out_of_reach(self.manifest, self.strategy, self.min_in_service)


def build_plan(
    manifest: Manifest,
    settings: Settings,
    options: DeployOptions,
    applied: Iterable[AppliedValue] = (),
    notices: Iterable[str] = (),
) -> Plan:
    """The pure planning function. ``notices`` are warnings about the operator's machine
    (see :func:`baton.config.checks.file_warnings`) for the plan to show with its own."""
    strategy, strategy_origin = _strategy(settings, options)
    run_migrations, migrations_origin = _migrations(manifest, settings, options)
    values = tuple(values_in_force(manifest, applied))
    servers = _ordered_servers(manifest, strategy, run_migrations)
    migration_server = manifest.migration_server.name if run_migrations else None
    waves = _waves(manifest, strategy, servers, migration_server, values)
    warnings = _warnings(manifest, strategy, run_migrations, values)
    floor = _floor_out_of_reach(manifest, strategy, settings.min_in_service)
    warnings += (*notices, *([floor] if floor else []))
    return Plan(
        manifest=manifest,
        version=options.version,
        strategy=strategy,
        strategy_origin=strategy_origin,
        run_migrations=run_migrations,
        migrations_origin=migrations_origin,
        waves=waves,
        max_parallel=settings.max_parallel,
        min_in_service=settings.min_in_service,
        values=values,
        warnings=warnings,
        hooks=deploy_hooks(manifest),
    )


def _strategy(settings: Settings, options: DeployOptions) -> tuple[Strategy, str]:
    if options.strategy is not None:
        return options.strategy, f"--{options.strategy.value} (this deploy only)"
    if settings.parallel:
        return Strategy.PARALLEL, "setting deploy.parallel = true"
    return Strategy.SERIAL, "setting deploy.parallel = false"


def _migrations(manifest: Manifest, settings: Settings, options: DeployOptions) -> tuple[bool, str]:
    if manifest.deploy.migration_step is None:
        return False, "the manifest has no migration step"
    if options.run_migrations is not None:
        flag = "--run-migrations" if options.run_migrations else "--skip-migrations"
        return options.run_migrations, f"{flag} (this deploy only)"
    value = "true" if settings.run_migrations else "false"
    return settings.run_migrations, f"setting run.deploy.command = {value}"


def _ordered_servers(manifest: Manifest, strategy: Strategy, migrations: bool) -> list[Server]:
    """Manifest order; in serial the migration server goes first so it migrates out of rotation."""
    servers = list(manifest.servers)
    if strategy is Strategy.SERIAL and migrations:
        first = manifest.migration_server
        servers.remove(first)
        servers.insert(0, first)
    return servers


def _waves(
    manifest: Manifest,
    strategy: Strategy,
    servers: list[Server],
    migration_server: str | None,
    values: tuple[ValueInForce, ...],
) -> tuple[Wave, ...]:
    if strategy is Strategy.PARALLEL:
        plans = [ServerPlan(s, _deploy_actions(manifest, s, migration_server)) for s in servers]
        return (Wave(tuple(plans)),)
    return tuple(
        Wave((ServerPlan(s, _serial_actions(manifest, s, migration_server, values)),))
        for s in servers
    )


def _deploy_actions(
    manifest: Manifest, server: Server, migration_server: str | None
) -> tuple[Action, ...]:
    steps: list[Action] = _hooks(manifest, "before_server", server)
    steps += [
        RunStep(step)
        for step in manifest.deploy.steps
        if not step.migration or server.name == migration_server
    ]
    if manifest.deploy.health_check is not None:
        steps.append(CheckHealth())
    return (*steps, *_hooks(manifest, "after_server", server))


def _hooks(manifest: Manifest, point: str, server: Server) -> list[Action]:
    return [
        RunStep(step, hook=True, local=hook.run_on == "local", halt_on_error=hook.halt_on_error)
        for hook, step in server_hooks(manifest, point, server)
    ]


def _serial_actions(
    manifest: Manifest,
    server: Server,
    migration_server: str | None,
    values: tuple[ValueInForce, ...],
) -> tuple[Action, ...]:
    names = tuple(lb.name for lb in manifest.load_balancers)
    if not names:
        return _deploy_actions(manifest, server, migration_server)
    removing = wait_seconds(values, "wait_after_removing_servers")
    adding = wait_seconds(values, "wait_after_adding_servers")
    actions: list[Action] = [RemoveFromLoadBalancers(names)]
    if removing:
        actions.append(Wait(removing, "wait_after_removing_servers"))
    actions += _deploy_actions(manifest, server, migration_server)
    actions.append(AddToLoadBalancers(tuple(reversed(names))))
    if adding:
        actions.append(Wait(adding, "wait_after_adding_servers"))
    return tuple(actions)


def _warnings(
    manifest: Manifest, strategy: Strategy, migrations: bool, values: tuple[ValueInForce, ...]
) -> tuple[str, ...]:
    warnings = []
    if strategy is Strategy.PARALLEL and migrations:
        warnings.append(MIGRATION_WARNING.format(app=manifest.application))
    unchecked = [
        s.name for s in manifest.servers if s.transport == "ssh" and not s.host_key_checking
    ]
    if unchecked:
        warnings.append(
            f"host keys of {', '.join(unchecked)} are not checked (host_key_checking: false): "
            "anyone on the way can pose as them and receive the deploy and its secrets"
        )
    check = manifest.deploy.health_check
    if check is not None and check.timeout > check.deadline:
        warnings.append(
            f"deploy.health_check.timeout ({check.timeout:g}s) is longer than its deadline "
            f"({check.deadline:g}s): each attempt is cut to the time left before the deadline"
        )
    for value in values:
        if value.lingering:
            warnings.append(
                f"load balancer {value.load_balancer}: {value.key} = {value.value} is still in "
                f"force from {value.origin} although the manifest no longer names it; set it to "
                "0 and deploy to clear it"
            )
    return tuple(warnings)


def _floor_out_of_reach(manifest: Manifest, strategy: Strategy, floor: int) -> str | None:
    """A serial deploy takes one server out at a time, so at most all but one stay in."""
    most = len(manifest.servers) - 1
    if strategy is Strategy.PARALLEL or not manifest.load_balancers or floor <= most:
        return None
    return (
        f"deploy.min_in_service is {floor} but {manifest.application} has "
        f"{len(manifest.servers)} server(s): taking one out leaves at most {most} in rotation, "
        f"so a serial deploy cannot start (`baton settings set -s {manifest.application} "
        f"deploy.min_in_service {most}`, or --parallel)"
    )


def release_version(text: str | None, now: float | None = None) -> str:
    """The version to deploy: ``text`` if it is a valid version, a UTC timestamp if blank."""
    version = text.strip() if text else time.strftime("%Y%m%d%H%M%S", time.gmtime(now))
    if not VERSION_PATTERN.match(version):
        raise InputError(
            f"version {version!r}: use letters, digits and . _ + : - (at most 128 characters)"
        )
    return version
