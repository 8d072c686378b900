"""Rolling back: the version ``baton rollback`` goes back to, and the automatic rollback.

Automatic rollback: after a failed deploy (a canary failing verification, a later batch
failing), redeploy the previous successful version on exactly the servers it changed, with the
same rollout shape, as a deploy of its own that names the one it rolls back.

Migrations are not run: the schema stays migrated, which is why migrations must be backward
compatible (the old release keeps serving against the new schema during any rollout).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from baton._exceptions import InputError
from baton.drivers.bundle import Drivers
from baton.execution.events import EventSink
from baton.execution.runner import DeployReport, run_deploy
from baton.planning import DeployOptions, Plan, Strategy, build_plan
from baton.planning.restrict import restrict
from baton.settings import Settings
from baton.state import DeployRecord, Store
from baton.state.deploys import Deploys

LINK_SEARCH = 50
"""How many later deploys are searched for the automatic rollback of a deploy."""


@dataclass(frozen=True)
class AutoRollback:
    """What automatic rollback did: the rollback deploy's report, or why there was none."""

    report: DeployReport | None
    note: str


def rollback_plan(report: DeployReport, store: Store) -> Plan | str:
    """The plan of the automatic rollback of ``report``, or why there is none."""
    plan, app = report.plan, report.plan.application
    changed = [o.server for o in report.result.servers if o.changed]
    if not changed:
        return "no server was changed; nothing to roll back"
    previous = store.last_successful(app, before=report.deploy_id)
    if previous is None or previous.version == plan.version:
        return f"no earlier successful version of {app} to go back to; {', '.join(changed)} left"
    settings = dataclasses.replace(
        Settings.from_stored(store.settings(app)), canary=None, auto_rollback=False
    )
    serial = plan.strategy is Strategy.SERIAL
    options = DeployOptions(
        previous.version, plan.strategy, run_migrations=False, batch=plan.ramp if serial else None
    )
    full = build_plan(plan.manifest, settings, options, store.applied_values(app))
    origin = f"automatic rollback of deploy #{report.deploy_id} to deploy #{previous.id}'s version"
    return dataclasses.replace(
        restrict(full, changed), rollback_of=report.deploy_id, strategy_origin=origin
    )


class RollbackLinks(NamedTuple):
    rollback_of: int | None
    """The deploy this one rolled back automatically."""
    rolled_back_by: int | None
    """The deploy that rolled this one back automatically."""


def rollback_links(store: Store, record: DeployRecord) -> RollbackLinks:
    return rollback_marks(store, [record])[record.id]


def rollback_marks(store: Store, records: Sequence[DeployRecord]) -> dict[int, RollbackLinks]:
    """The rollback links of each of ``records`` (a page of history), found among the records
    and, for an application with a failed one (only a failed deploy is rolled back), its
    latest deploys."""
    failed = {r.application for r in records if r.status == "failed"}
    later = [*records, *(d for app in failed for d in store.deploys(app, limit=LINK_SEARCH))]
    by = {d.plan["rollback_of"]: d.id for d in later if isinstance(d.plan.get("rollback_of"), int)}
    return {r.id: RollbackLinks(_rollback_of(r), by.get(r.id)) for r in records}


def _rollback_of(record: DeployRecord) -> int | None:
    of = record.plan.get("rollback_of")
    return of if isinstance(of, int) else None


async def roll_back_if_needed(
    report: DeployReport,
    store: Store,
    *,
    drivers: Drivers | None = None,
    sinks: Sequence[EventSink] = (),
    secrets: Mapping[str, str] | None = None,
    run: Callable[[Plan], Awaitable[DeployReport]] | None = None,
) -> AutoRollback | None:
    """None unless ``report`` failed and its plan rolls back automatically: the one policy of
    the command line and the dashboard. ``run`` runs the rollback's plan the caller's way (the
    command line's: its plan shown, live progress, Ctrl-C); by default :func:`run_deploy` with
    ``drivers``, ``sinks`` and ``secrets``."""
    if report.result.status != "failed" or not report.plan.auto_rollback:
        return None
    if report.result.lock_lost is not None:
        return AutoRollback(None, "not rolled back: another deploy holds the lock now")
    plan = rollback_plan(report, store)
    if isinstance(plan, str):
        return AutoRollback(None, plan)
    if run is None:
        rollback = await run_deploy(plan, store, drivers=drivers, sinks=sinks, secrets=secrets)
    else:
        rollback = await run(plan)
    servers = ", ".join(o.server for o in rollback.result.servers)
    return AutoRollback(
        rollback,
        f"deploy #{rollback.deploy_id} rolled {servers} back to {plan.version}: "
        f"{rollback.result.status}",
    )


def rollback_version(store: Deploys, application: str, to: int | None = None) -> str:
    """The version of deploy ``to``, or the last successful one that is not the newest deploy's."""
    if to is not None:
        record = store.deploy(to)
        if record is None or record.application != application:
            raise InputError(f"--to {to}: no deploy #{to} of {application}")
        if record.status != "succeeded":
            raise InputError(f"--to {to}: deploy #{to} {record.status}; pick one that succeeded")
        return record.version
    history = store.deploys(application, limit=200)
    if not history:
        raise InputError(f"{application}: nothing to roll back to, no deploys yet")
    newest = history[0].version
    for record in history:
        if record.status == "succeeded" and record.version != newest:
            return record.version
    raise InputError(f"{application}: no earlier successful version than {newest} to roll back to")
