"""Read models: what the pages show and the API returns, as plain JSON-ready dictionaries.

Each function asks the library or the store and reshapes the answer; none decides anything
about deploys.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from baton.config import LoadBalancer, Manifest
from baton.drivers import Membership
from baton.execution import Drivers
from baton.execution.rollback import rollback_marks
from baton.history.timeline import DeployTimeline, timeline_of
from baton.planning import DeployOptions, Strategy, plan_to_dict
from baton.planning.profiles import describe_profile, with_profile
from baton.settings import describe
from baton.state import DeployRecord, Store
from baton.web import guidance
from baton.web.dashboard import Dashboard
from baton.web.guidance import PREVIEW_VERSION

DEPLOY_STATUSES = ("running", "succeeded", "failed", "cancelled", "abandoned")
HISTORY_PAGE = 25
VERSION_SOURCE = "history: the last deploy that succeeded on the server"

Json = dict[str, Any]


async def memberships(drivers: Drivers, manifest: Manifest) -> dict[str, dict[str, str]]:
    """Per server, per load balancer, what the load balancer reports right now."""
    found: dict[str, dict[str, str]] = {s.name: {} for s in manifest.servers}
    for lb in manifest.load_balancers:
        answer = await _ask(drivers, lb)
        for server in found:
            if isinstance(answer, str):
                found[server][lb.name] = f"unknown ({answer})"
            else:
                known = answer.get(server)
                found[server][lb.name] = known.value if known else "not in the backend"
    return found


async def _ask(drivers: Drivers, lb: LoadBalancer) -> dict[str, Membership] | str:
    try:
        driver = drivers.load_balancer(lb)
        try:
            return await asyncio.wait_for(driver.membership(), lb.timeout)
        finally:
            await driver.close()
    except Exception as exc:  # the page still shows everything else
        return str(exc) or type(exc).__name__


def _rotation(per_lb: dict[str, str]) -> str:
    if not per_lb:
        return "no load balancer"
    states = set(per_lb.values())
    return states.pop() if len(states) == 1 else "mixed"


async def servers(dashboard: Dashboard, manifest: Manifest) -> list[Json]:
    deployed = dashboard.store.last_success_per_server(manifest.application)
    rotation = await memberships(dashboard.drivers, manifest)
    rows = []
    for server in manifest.servers:
        record = deployed.get(server.name)
        rows.append(
            {
                "name": server.name,
                "address": server.address,
                "version": record.version if record else None,
                "version_deploy_id": record.id if record else None,
                "rotation": _rotation(rotation[server.name]),
                "load_balancers": rotation[server.name],
            }
        )
    return rows


async def application(dashboard: Dashboard, manifest: Manifest) -> Json:
    return {
        "application": manifest.application,
        "manifest": str(manifest.source),
        "version_source": VERSION_SOURCE,
        "servers": await servers(dashboard, manifest),
    }


def settings(store: Store, application: str) -> list[Json]:
    return describe(store.settings(application))


async def application_detail(dashboard: Dashboard, manifest: Manifest) -> Json:
    app = manifest.application
    plan = dashboard.plan(app, DeployOptions(PREVIEW_VERSION))
    serial = dashboard.plan(app, DeployOptions(PREVIEW_VERSION, Strategy.SERIAL))
    holder = dashboard.store.lock_holder(app)
    summary = await application(dashboard, manifest)
    return {
        **summary,
        "attention": guidance.attention(dashboard, manifest, summary["servers"]),
        "deploy_confirmation": guidance.confirmation(plan),
        "settings": [
            guidance.with_preview(dashboard, app, s) for s in settings(dashboard.store, app)
        ],
        "load_balancer_values": [v.to_dict() for v in plan.values],
        "next_deploy": plan_to_dict(plan),
        "serial_extra_seconds": serial.estimated_extra_seconds,
        "has_migration_step": manifest.deploy.migration_step is not None,
        "running_deploy": holder.deploy_id if holder and holder.alive() else None,
        "pending_deploy": _pending(dashboard, app),
        "queued_start": _queued_start(dashboard, app),
        "profiles": _profiles(dashboard, app),
        "recent_deploys": deploy_rows(dashboard.store, dashboard.store.deploys(app, 10)),
    }


def _profiles(dashboard: Dashboard, application: str) -> list[Json]:
    """Each saved profile with what deploying with it now would do, for its button."""
    rows = []
    for name, profile in dashboard.store.profiles(application).items():
        options = with_profile(DeployOptions(PREVIEW_VERSION), name, profile)
        rows.append(
            {
                "name": name,
                "choices": profile,
                "description": describe_profile(profile),
                "confirmation": guidance.confirmation(dashboard.plan(application, options)),
            }
        )
    return rows


def _pending(dashboard: Dashboard, application: str) -> Json | None:
    """The deploy the webhook queued behind the running one, if any."""
    pending = dashboard.pending.pending(application)
    return None if pending is None else pending.to_dict()


def _queued_start(dashboard: Dashboard, application: str) -> Json | None:
    """What became of the last deploy the webhook queued: its id, or why it did not start."""
    outcome = dashboard.pending.last.get(application)
    return None if outcome is None else vars(outcome)


def deploy_row(record: DeployRecord) -> Json:
    return record.summary_dict()


def deploy_rows(store: Store, records: list[DeployRecord]) -> list[Json]:
    """History rows, each with the automatic rollback it was or that rolled it back."""
    marks = rollback_marks(store, records)
    return [{**deploy_row(r), **marks[r.id]._asdict()} for r in records]


def deploy_detail(store: Store, record: DeployRecord) -> Json:
    steps = store.step_results(record.id)
    servers = []
    for result in store.server_results(record.id):
        servers.append(
            {
                **vars(result),
                "steps": [vars(s) for s in steps if s.server == result.server],
            }
        )
    return {
        **deploy_rows(store, [record])[0],
        "servers": servers,
        "server_order": record.plan.get("servers", []),
        "plan": record.plan,
        "local_hooks": [vars(s) for s in steps if s.server not in {r["server"] for r in servers}],
        "notifications": [vars(a) for a in store.notifications(record.id)],
    }


def deploy_timeline(store: Store, record: DeployRecord) -> DeployTimeline:
    """The deploy's spans from its recorded events; a running one drawn up to now."""
    return timeline_of(record, store.events(record.id), time.time())


def history_page(store: Store, application: str | None, status: str | None, page: int) -> Json:
    """One page of history, newest first, with the numbers the page's links need."""
    total = store.count_deploys(application, status)
    offset = (page - 1) * HISTORY_PAGE
    records = store.deploys(application, HISTORY_PAGE, status=status, offset=offset)
    return {
        "deploys": deploy_rows(store, records),
        "total": total,
        "page": page,
        "pages": max((total + HISTORY_PAGE - 1) // HISTORY_PAGE, 1),
        "first": offset + 1 if records else 0,
        "last": offset + len(records),
    }
