"""A plan as text for people and as a dictionary for ``--json``."""

from __future__ import annotations

from typing import Any

from baton.planning.plan import Action, Plan, Strategy


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
        "hooks": {point: [h.describe() for h in runs] for point, runs in plan.hooks.items()},
    }


def render_plan(plan: Plan) -> str:
    lines = [
        f"Deploy {plan.application} version {plan.version}",
        f"  strategy:   {plan.strategy.value} ({plan.strategy_origin})",
        f"  migrations: {_migrations_line(plan)}",
    ]
    lines += _values_lines(plan)
    lines += _hook_lines(plan, "first_thing", "before the first server")
    lines += _order_lines(plan)
    lines += _hook_lines(plan, "last_thing", "after every server succeeded")
    lines += _hook_lines(plan, "on_failure", "if the deploy fails")
    lines.append(_estimate_line(plan))
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


def _order_lines(plan: Plan) -> list[str]:
    if plan.strategy is Strategy.PARALLEL:
        limit = f"at most {plan.max_parallel} at a time" if plan.max_parallel else "all at once"
        wave = plan.waves[0]
        lines = [
            f"  order: {len(wave.servers)} servers in parallel, {limit}; load balancers untouched"
        ]
        lines += [f"    {sp.server.name}: {_steps(sp.actions)}" for sp in wave.servers]
        return lines
    lines = ["  order: one server at a time"]
    for number, wave in enumerate(plan.waves, 1):
        sp = wave.servers[0]
        actions = " -> ".join(a.describe() for a in sp.actions)
        lines.append(f"    {number}. {sp.server.name}: {actions}")
    return lines


def _hook_lines(plan: Plan, point: str, when: str) -> list[str]:
    runs = plan.hooks.get(point, ())
    return [f"  {point} ({when}): {'; '.join(h.describe() for h in runs)}"] if runs else []


def _steps(actions: tuple[Action, ...]) -> str:
    return " -> ".join(a.describe() for a in actions)


def _estimate_line(plan: Plan) -> str:
    extra = plan.estimated_extra_seconds
    if plan.strategy is Strategy.PARALLEL:
        return "  extra time from load balancer waits: none (parallel deploys do not wait)"
    servers = len(plan.waves)
    per_server = extra // servers if servers else 0
    return (
        f"  extra time from load balancer waits: {per_server}s per server x {servers} servers"
        f" = {extra}s"
    )


def render_values(plan: Plan) -> list[str]:
    """The load balancer values in force and the extra time their waits add, as plan shows."""
    return [*_values_lines(plan), _estimate_line(plan)]
