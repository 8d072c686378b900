"""``baton check``: what a deploy checks before it changes anything, and more, changing nothing.

The preflight of :func:`baton.execution.runner.run_deploy`, from the same functions
(:mod:`baton.checking.preflight`: files, secrets, the state's room, the lock, every load
balancer answering, passing its driver's checks and knowing every server, every server
connecting) and on the plan a deploy would follow now, plus what a deploy only finds out
half-way: each step's first command exists on each server and each health
check answers now. Every server is checked at once. Nothing is written: no state, no load
balancer change, nothing run on a server but ``command -v`` and a command health check.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import Mapping

from baton.checking.findings import APPLICATION, CheckReport, Finding, Status
from baton.checking.preflight import (
    BalancerAnswer,
    ask_balancers,
    file_findings,
    lock_findings,
    membership_finding,
    plan_findings,
    secret_findings,
    state_space_findings,
)
from baton.checking.servers import CheckedServer, health_finding, ssh_finding, steps_finding
from baton.config import Manifest, Server
from baton.drivers import Transport
from baton.drivers.bundle import Drivers
from baton.execution import prepare
from baton.execution.connections import Connections
from baton.execution.environment import StepEnvironment
from baton.execution.runner import opened
from baton.planning import DeployOptions, Plan, release_version
from baton.state import Store


async def check(
    manifest: Manifest,
    store: Store | None,
    *,
    drivers: Drivers | None = None,
    environ: Mapping[str, str] | None = None,
) -> CheckReport:
    """Check everything a deploy of ``manifest`` needs, changing nothing. ``store`` is None
    when there is no state yet (no settings, no lock, nothing deployed); ``environ`` holds
    the secrets' variables (default: this process's environment)."""
    started = time.monotonic()
    plan = _plan(manifest, store)
    secrets, findings = secret_findings(manifest, os.environ if environ is None else environ)
    findings = [
        _manifest_finding(manifest),
        *plan_findings(plan),
        *findings,
        *state_space_findings(store),
        *lock_findings(manifest, store),
    ]
    environment = StepEnvironment.build(manifest, secrets, complete=False)
    async with opened(manifest, drivers or Drivers.real()) as (load_balancers, connections):
        answers, ssh = await asyncio.gather(
            ask_balancers(manifest, load_balancers, store), _connect(manifest, connections)
        )
        findings += [answer.finding() for answer in answers]
        per_server = await asyncio.gather(
            *(
                _server(manifest, s, connections.opened(s), answers, environment, plan)
                for s in manifest.servers
            )
        )
    for server, server_findings in zip(manifest.servers, per_server, strict=True):
        findings += [ssh[server.name], *server_findings]
    if manifest.deploy.health_check is None:
        findings.append(_no_health_check())
    masked = tuple(environment.masked(finding) for finding in findings)  # a balancer's words
    return CheckReport(manifest, masked, plan, time.monotonic() - started)


def _plan(manifest: Manifest, store: Store | None) -> Plan:
    """The plan a deploy would follow now, as ``baton deploy`` makes it (no state yet: as an
    empty state gives it)."""
    options = DeployOptions(release_version(None))
    if store is not None:
        return prepare(manifest, store, options)
    with contextlib.closing(Store.empty()) as empty:
        return prepare(manifest, empty, options)


def _manifest_finding(manifest: Manifest) -> Finding:
    counts = (
        f"{len(manifest.servers)} server(s), {len(manifest.load_balancers)} load balancer(s), "
        f"{len(manifest.deploy.steps)} step(s)"
    )
    return Finding(APPLICATION, "manifest", Status.OK, f"{manifest.source}: {counts}")


def _no_health_check() -> Finding:
    detail = "none in the manifest: servers go back into rotation unchecked"
    advice = "add deploy.health_check (a url or a command)"
    return Finding(APPLICATION, "health check", Status.WARNING, detail, advice)


async def _connect(manifest: Manifest, connections: Connections) -> dict[str, Finding]:
    """Each server's SSH finding; servers whose key or known_hosts file is missing are not
    tried (their connection would fail for that reason)."""
    findings = file_findings(manifest)
    ready = [server for server in manifest.servers if server.name not in findings]
    attempts = await connections.open_each(ready)
    for server in ready:
        findings[server.name] = ssh_finding(server, attempts[server.name])
    return findings


async def _server(
    manifest: Manifest,
    server: Server,
    transport: Transport | None,
    answers: list[BalancerAnswer],
    environment: StepEnvironment,
    plan: Plan,
) -> list[Finding]:
    """The steps, load balancer and health findings of one server."""
    checked = CheckedServer(manifest, server, transport, environment, plan.version)
    steps, health = await asyncio.gather(steps_finding(checked), health_finding(checked))
    balancers = [
        membership_finding(manifest, index, server, answer) for index, answer in enumerate(answers)
    ]
    return [steps, *balancers, health]
