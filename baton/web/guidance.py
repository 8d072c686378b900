"""What the application page tells an operator before acting: what a deploy, a toggled
setting or Recover will do (the confirmation dialogs' words), and, after a deploy that did not
succeed, which servers need attention (from :mod:`baton.history.standing`).
"""

from __future__ import annotations

from typing import Any

from baton.config import Manifest
from baton.execution.recovery import Recovered
from baton.history.standing import standing
from baton.planning import DeployOptions, Plan, Strategy
from baton.state import DeployRecord
from baton.web.dashboard import Dashboard

PREVIEW_VERSION = "next"
Json = dict[str, Any]


def confirmation(plan: Plan) -> str:
    """What a deploy with ``plan`` will do, in the words a confirmation dialog shows."""
    if plan.strategy is Strategy.SERIAL:
        how = "serial: one server at a time, each taken out of rotation while it deploys"
    else:
        limit = f"at most {plan.max_parallel} at once" if plan.max_parallel else "all at once"
        how = f"parallel: {limit}, load balancers untouched"
    version = "a new UTC timestamp" if plan.version == PREVIEW_VERSION else plan.version
    migrations = f"run on {plan.migration_server}" if plan.run_migrations else "skipped"
    lines = [
        f"Deploy {plan.application} version {version}",
        f"Strategy: {how} ({plan.strategy_origin})",
        f"Migrations: {migrations} ({plan.migrations_origin})",
        f"Order: {' → '.join(plan.server_order())}",
        f"Load balancer waits add about {plan.estimated_extra_seconds}s",
    ]
    return "\n".join(lines + [f"Warning: {w}" for w in plan.warnings])


def with_preview(dashboard: Dashboard, app: str, setting: Json) -> Json:
    """A boolean setting with what the next deploy would do were it toggled."""
    if not setting.get("boolean"):
        return setting
    toggled = "false" if setting["value"] == "true" else "true"
    plan = dashboard.plan(app, DeployOptions(PREVIEW_VERSION), {str(setting["key"]): toggled})
    change = f"Set {setting['key']} to {toggled}. The next deploy would then be:"
    return {**setting, "confirmation": change + "\n" + confirmation(plan)}


def attention(dashboard: Dashboard, manifest: Manifest, servers: list[Json]) -> Json | None:
    """What the application page says at the top after a deploy that did not succeed."""
    out = [s["name"] for s in servers if "out of rotation" in s["load_balancers"].values()]
    found = standing(manifest, dashboard.store, out)
    if found is None:
        return None
    good = found.last_good
    recover = ", ".join(found.recoverable)
    return {
        "last": summary_of(found.last),
        "last_good": summary_of(good) if good else None,
        "out_of_rotation": list(found.out_of_rotation),
        "behind": found.behind,
        "recoverable": list(found.recoverable),
        "recover_confirmation": f"Recover {manifest.application}: health-check {recover} and put "
        "each one that passes back into rotation on every load balancer it was taken out of. "
        "Nothing is deployed.",
        "redeploy": confirmation(
            dashboard.plan(manifest.application, DeployOptions(found.last.version))
        ),
        "rollback": confirmation(dashboard.plan(manifest.application, DeployOptions(good.version)))
        if good
        else None,
    }


def recovered(outcomes: list[Recovered]) -> list[Json]:
    return [
        {
            "server": o.server,
            "load_balancers": list(o.load_balancers),
            "restored": o.restored,
            "detail": o.detail,
        }
        for o in outcomes
    ]


def summary_of(record: DeployRecord) -> Json:
    return record.summary_dict()
