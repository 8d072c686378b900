"""Planning: manifest + settings + one-off options → a plan you can print, test and diff.

Strategy is data here, not a branch in the engine. A serial plan is one wave per batch of
servers (one server by default), each wrapped in leaving and rejoining the load balancers; a
parallel plan is a single wave holding every server, with no load balancer actions at all.
Prepare steps and migrations first add waves in front: they do part of each server's work
while it still serves (see :mod:`baton.planning.shape`).
"""

from __future__ import annotations

import enum
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from baton._exceptions import InputError
from baton.config import Manifest, Server
from baton.config.model import VERSION_PATTERN
from baton.planning.actions import RunStep, Verify, Wait, Wave
from baton.planning.batches import Batches, batch_sizes
from baton.planning.hooks import DEPLOY_POINTS, HookRun, deploy_hooks
from baton.planning.shape import Shape
from baton.planning.values import AppliedValue, ValueInForce, values_in_force
from baton.settings import Ramp, Settings, format_ramp

__all__ = ["DeployOptions", "Plan", "Strategy", "build_plan", "release_version"]

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
    batch: Ramp | None = None


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
    batches: tuple[int, ...] = ()
    """Servers per rollout wave in a serial deploy; empty in parallel."""
    batch_origin: str = ""
    migrations_first: bool = True
    notes: tuple[str, ...] = field(default=())
    ramp: Ramp = ()
    """The batch sizes asked for (a rollback repeats them)."""
    canary: int = 0
    """Servers in the first wave, verified before the rest start; 0: no canary."""
    auto_rollback: bool = False
    rollback_of: int | None = None
    """The deploy this one rolls back automatically."""
    hooks: Mapping[str, tuple[HookRun, ...]] = field(default_factory=dict)
    """first_thing, last_thing and on_failure: the engine runs them as phases around the
    waves (:attr:`phases`)."""

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
        """Time the load balancer waits add: (removing + adding) x batches in serial.

        A batch's servers wait at the same time, so a wave costs its longest waits once.
        """
        return sum(
            max(sum(a.seconds for a in sp.actions if isinstance(a, Wait)) for sp in wave.servers)
            for wave in self.waves
        )

    @property
    def phases(self) -> tuple[str, ...]:
        """What the deploy runs, in order: first_thing's hooks, the waves' phases (prepare,
        migrate, rollout), then last_thing (every server succeeded) or on_failure."""
        waves = dict.fromkeys(wave.phase.value for wave in self.waves)
        before = [point for point in DEPLOY_POINTS[:1] if point in self.hooks]
        after = [point for point in DEPLOY_POINTS[1:] if point in self.hooks]
        return (*before, *waves, *after)

    def server_order(self) -> list[str]:
        return [sp.server.name for wave in self.waves if wave.final for sp in wave.servers]

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
    """The pure planning function; raises InputError for a shape the application cannot take.
    ``notices`` are warnings about the operator's machine (see
    :func:`baton.config.references.file_warnings`) for the plan to show with its own."""
    strategy, strategy_origin = _strategy(settings, options)
    run_migrations, migrations_origin = _migrations(manifest, settings, options)
    values = tuple(values_in_force(manifest, applied))
    servers = _ordered_servers(manifest, strategy, run_migrations)
    canary = _canary(manifest, settings)
    serial = strategy is Strategy.SERIAL
    batches = _batches(manifest, settings, options, canary) if serial else Batches(())
    shape = Shape(
        manifest,
        servers,
        manifest.migration_server.name if run_migrations else None,
        values,
        settings.max_parallel,
        settings.migrations_first,
        _verify(manifest) if canary else None,
    )
    sizes = batches.sizes if serial else _parallel_sizes(len(servers), canary)
    waves = shape.waves(sizes, serial)
    mixed = run_migrations and not settings.migrations_first
    warnings = _warnings(manifest, strategy, mixed, values)
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
        batches=batches.sizes,
        batch_origin=_batch_origin(settings, options),
        migrations_first=settings.migrations_first,
        notes=batches.notes,
        ramp=options.batch or settings.batch,
        canary=len(waves[-len(sizes)].servers) if canary else 0,
        auto_rollback=settings.auto_rollback if settings.auto_rollback is not None else canary > 0,
        hooks=deploy_hooks(manifest),
    )


def _canary(manifest: Manifest, settings: Settings) -> int:
    if settings.canary is None:
        return 0
    if not manifest.load_balancers:
        raise InputError(
            f"setting deploy.canary = {settings.canary}: a canary serves real traffic through "
            f"a load balancer and {manifest.application} has none; set deploy.canary 0 (`baton "
            f"settings set -s {manifest.application} deploy.canary 0`)"
        )
    return min(settings.canary.of(len(manifest.servers)), len(manifest.servers))


def _verify(manifest: Manifest) -> Verify:
    verify = manifest.deploy.verify
    return Verify(verify.duration, verify.max_error_rate)


def _parallel_sizes(servers: int, canary: int) -> tuple[int, ...]:
    return (canary, servers - canary) if 0 < canary < servers else (servers,)


def _strategy(settings: Settings, options: DeployOptions) -> tuple[Strategy, str]:
    if options.batch is not None:
        if options.strategy is Strategy.PARALLEL:
            raise InputError(
                "--batch and --parallel: batches go through the load balancers (serial); pick one"
            )
        return Strategy.SERIAL, f"--batch {format_ramp(options.batch)} (this deploy only)"
    if options.strategy is not None:
        return options.strategy, f"--{options.strategy.value} (this deploy only)"
    if settings.parallel:
        return Strategy.PARALLEL, "setting deploy.parallel = true"
    return Strategy.SERIAL, "setting deploy.parallel = false"


def _batch_origin(settings: Settings, options: DeployOptions) -> str:
    if options.batch is not None:
        return f"--batch {format_ramp(options.batch)} (this deploy only)"
    return f"setting deploy.batch_size = {format_ramp(settings.batch)}"


def _batches(
    manifest: Manifest, settings: Settings, options: DeployOptions, canary: int
) -> Batches:
    ramp = options.batch or settings.batch
    origin = _batch_origin(settings, options)
    servers, floor = len(manifest.servers), settings.min_in_service
    batches = batch_sizes(ramp, servers, floor, origin, canary)
    if max(batches.sizes) > 1 and not manifest.load_balancers:
        raise InputError(
            f"{origin}: batches take servers out of a load balancer and {manifest.application} "
            "has none; deploy in parallel instead (--parallel; deploy.max_parallel bounds it)"
        )
    return batches


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
