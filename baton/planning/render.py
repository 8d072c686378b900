"""A plan as text for people and as a dictionary for ``--json``."""

from __future__ import annotations

from typing import Any

from baton.planning.actions import Action, Phase, Wave
from baton.planning.plan import Plan, Strategy
from baton.withheld import redacted


def plan_to_dict(plan: Plan) -> dict[str, Any]:
    return {
        "application": plan.application,
        "version": plan.version,
        "strategy": plan.strategy.value,
        "strategy_origin": plan.strategy_origin,
        "run_migrations": plan.run_migrations,
        "migrations_origin": plan.migrations_origin,
        "migration_server": plan.migration_server,
        "max_parallel": plan.max_parallel,
        "servers": plan.server_order(),
        "hooks": {point: [h.describe() for h in runs] for point, runs in plan.hooks.items()},
        "phases": list(plan.phases),
        "batches": list(plan.batches),
        "batch_origin": plan.batch_origin,
        "migrations_first": plan.migrations_first,
        "wave_phases": [wave.phase.value for wave in plan.waves],
        "waves": [
            [
                {"server": sp.server.name, "actions": [a.describe() for a in sp.actions]}
                for sp in wave.servers
            ]
            for wave in plan.waves
        ],
        "load_balancer_values": [v.to_dict() for v in plan.values],
        "estimated_extra_seconds": plan.estimated_extra_seconds,
        "warnings": list(plan.warnings),
        "notes": list(plan.notes),
        "canary": plan.canary,
        "auto_rollback": plan.auto_rollback,
        "rollback_of": plan.rollback_of,
    }


def render_plan(plan: Plan) -> str:
    lines = [
        f"Deploy {plan.application} version {plan.version}",
        f"  strategy:   {plan.strategy.value} ({plan.strategy_origin})",
        f"  migrations: {_migrations_line(plan)}",
    ]
    lines += _values_lines(plan)
    lines += _canary_lines(plan)
    lines += _hook_lines(plan, "first_thing", "before the first server")
    lines += _order_lines(plan)
    lines += _hook_lines(plan, "last_thing", "after every server succeeded")
    lines += _hook_lines(plan, "on_failure", "if the deploy fails")
    lines.append(_estimate_line(plan))
    lines += [f"NOTE: {n}" for n in plan.notes]
    lines += [f"WARNING: {w}" for w in plan.warnings]
    return "\n".join(lines)


def _migrations_line(plan: Plan) -> str:
    if not plan.run_migrations:
        return f"skipped ({plan.migrations_origin})"
    step = plan.manifest.deploy.migration_step
    name = step.name if step else "?"
    return f"step {name} on {plan.migration_server} only ({plan.migrations_origin})"


def _values_lines(plan: Plan) -> list[str]:
    if not plan.values:
        return ["  load balancers: none"]
    lines = ["  load balancer values in force:"]
    for v in plan.values:
        note = "  <- no longer in the manifest" if v.lingering else ""
        lines.append(f"    {v.load_balancer}.{v.key} = {v.value}  ({v.origin}){note}")
    return lines


def _hook_lines(plan: Plan, point: str, when: str) -> list[str]:
    runs = plan.hooks.get(point, ())
    return [f"  {point} ({when}): {'; '.join(h.describe() for h in runs)}"] if runs else []


def _canary_lines(plan: Plan) -> list[str]:
    rollback = "on" if plan.auto_rollback else "off"
    if not plan.canary:
        return [f"  automatic rollback: {rollback}"] if plan.auto_rollback else []
    verify = plan.manifest.deploy.verify
    probe = redacted(verify.url, path=True) if verify.url else verify.command
    wave = next(w for w in plan.waves if w.final)
    names = ", ".join(sp.server.name for sp in wave.servers)
    return [
        f"  canary: {names}, verified before the rest start"
        + (f" (probe: {probe})" if probe else " (the load balancer's error rate)"),
        f"  automatic rollback: {rollback} (to the last successful version, on the servers "
        "this deploy changed)",
    ]


def _order_lines(plan: Plan) -> list[str]:
    lines: list[str] = []
    for wave in plan.waves:
        if wave.phase is Phase.PREPARE:
            limit = f"at most {wave.limit} at a time" if wave.limit else "all at once"
            steps = _steps(wave.servers[0].actions)
            lines.append(f"  prepare: {steps} on every server while it serves, {limit}")
        elif wave.phase is Phase.MIGRATE:
            sp = wave.servers[0]
            lines.append(
                f"  migrate first: {sp.server.name}: {_steps(sp.actions)} (still serving; "
                "every other server waits for it)"
            )
    rollout = [wave for wave in plan.waves if wave.final]
    if plan.strategy is Strategy.PARALLEL:
        return lines + _parallel_lines(plan, rollout)
    return lines + _serial_lines(plan, rollout)


def _parallel_lines(plan: Plan, waves: list[Wave]) -> list[str]:
    limit = f"at most {plan.max_parallel} at a time" if plan.max_parallel else "all at once"
    lines = []
    for number, wave in enumerate(waves):
        then = "then " if number else ""
        canary = "canary: " if plan.canary and not number else ""
        lines.append(
            f"  {then}order: {canary}{len(wave.servers)} servers in parallel, {limit}; "
            "load balancers untouched"
        )
        lines += [f"    {sp.server.name}: {_steps(sp.actions)}" for sp in wave.servers]
    return lines


def _serial_lines(plan: Plan, waves: list[Wave]) -> list[str]:
    if max(plan.batches, default=1) == 1:
        lines = ["  order: one server at a time"]
        for number, wave in enumerate(waves, 1):
            sp = wave.servers[0]
            lines.append(f"    {number}. {sp.server.name}: {_steps(sp.actions)}")
        return lines
    sizes = ", ".join(map(str, plan.batches))
    lines = [f"  order: {len(waves)} batches of {sizes} servers ({plan.batch_origin})"]
    for number, wave in enumerate(waves, 1):
        canary = " (canary)" if plan.canary and number == 1 else ""
        together = ": leave together, rejoin together" if len(wave.servers) > 1 else ""
        lines.append(f"    batch {number}{canary}{together}")
        lines += [f"      {names}: {steps}" for steps, names in _grouped(wave)]
    return lines


def _grouped(wave: Wave) -> list[tuple[str, str]]:
    """(steps, servers) with servers that do the same thing on one line."""
    groups: dict[str, list[str]] = {}
    for sp in wave.servers:
        groups.setdefault(_steps(sp.actions), []).append(sp.server.name)
    return [(steps, ", ".join(names)) for steps, names in groups.items()]


def _steps(actions: tuple[Action, ...]) -> str:
    return " -> ".join(a.describe() for a in actions)


def _estimate_line(plan: Plan) -> str:
    extra = plan.estimated_extra_seconds
    if plan.strategy is Strategy.PARALLEL:
        return "  extra time from load balancer waits: none (parallel deploys do not wait)"
    count = len(plan.batches)
    each = extra // count if count else 0
    if max(plan.batches, default=1) == 1:
        return (
            f"  extra time from load balancer waits: {each}s per server x {count} servers"
            f" = {extra}s"
        )
    return (
        f"  extra time from load balancer waits: {each}s per batch x {count} batches"
        f" ({', '.join(map(str, plan.batches))}) = {extra}s"
    )


def render_values(plan: Plan) -> list[str]:
    """The load balancer values in force and the extra time their waits add, as plan shows."""
    return [*_values_lines(plan), _estimate_line(plan)]
