"""``baton check``: what a deploy checks before it changes anything, and more, changing nothing.

The same preflight as :func:`baton.execution.runner.run_deploy` (files, secrets, every load
balancer answering and knowing every server, every server connecting, the lock), plus what a
deploy only finds out half-way: each step's first command exists on each server and each health
check answers now. Every server is checked at once. Nothing is written: no state, no load
balancer change, nothing run on a server but ``command -v`` and a command health check.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Mapping

from baton._exceptions import BatonError, ManifestError
from baton.config import Manifest, Server
from baton.config.checks import check_server_files, resolve_secret
from baton.drivers import LoadBalancerDriver, Transport
from baton.drivers.bundle import Drivers
from baton.execution.check_server import (
    Memberships,
    health_finding,
    membership_finding,
    ssh_finding,
    steps_finding,
)
from baton.execution.connections import Connections
from baton.execution.environment import StepEnvironment
from baton.execution.findings import APPLICATION, CheckReport, Finding, Status
from baton.execution.recovery import stranded
from baton.execution.runner import opened
from baton.planning import DeployOptions, Plan, build_plan, release_version
from baton.settings import Settings
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
    secrets, findings = _secrets(manifest, os.environ if environ is None else environ)
    findings = [_manifest_finding(manifest), *findings, *_lock_findings(manifest, store)]
    environment = StepEnvironment.build(manifest, secrets, complete=False)
    async with opened(manifest, drivers or Drivers.real()) as (load_balancers, connections):
        memberships, ssh = await asyncio.gather(
            _memberships(manifest, load_balancers), _connect(manifest, connections)
        )
        findings += _balancer_findings(manifest, memberships)
        per_server = await asyncio.gather(
            *(
                _server(manifest, s, connections.opened(s), memberships, environment, plan)
                for s in manifest.servers
            )
        )
    for server, server_findings in zip(manifest.servers, per_server, strict=True):
        findings += [ssh[server.name], *server_findings]
    if manifest.deploy.health_check is None:
        findings.append(_no_health_check())
    return CheckReport(manifest, tuple(findings), plan, time.monotonic() - started)


def _plan(manifest: Manifest, store: Store | None) -> Plan:
    """The plan a deploy would follow now: its values in force and wait estimate."""
    options = DeployOptions(version=release_version(None))
    if store is None:
        return build_plan(manifest, Settings(), options)
    settings = Settings.from_stored(store.settings(manifest.application))
    return build_plan(manifest, settings, options, store.applied_values(manifest.application))


def _manifest_finding(manifest: Manifest) -> Finding:
    counts = (
        f"{len(manifest.servers)} server(s), {len(manifest.load_balancers)} load balancer(s), "
        f"{len(manifest.deploy.steps)} step(s)"
    )
    return Finding(APPLICATION, "manifest", Status.OK, f"{manifest.source}: {counts}")


def _secrets(
    manifest: Manifest, environ: Mapping[str, str]
) -> tuple[dict[str, str], list[Finding]]:
    values: dict[str, str] = {}
    findings: list[Finding] = []
    for name in manifest.deploy.secrets:
        try:
            values[name] = resolve_secret(manifest, name, environ)
        except ManifestError as exc:
            advice = "give it a value where the manifest says, or correct the manifest"
            findings.append(Finding(APPLICATION, "secrets", Status.PROBLEM, str(exc), advice))
    if not findings:
        text = f"{len(values)} secret(s), each with a value" if values else "none in the manifest"
        findings.append(Finding(APPLICATION, "secrets", Status.OK, text))
    return values, findings


def _lock_findings(manifest: Manifest, store: Store | None) -> list[Finding]:
    if store is None:
        return [Finding(APPLICATION, "lock", Status.OK, "free (no state yet)")]
    return [_lock(manifest, store), *(_stranded(name) for name in stranded(manifest, store))]


def _lock(manifest: Manifest, store: Store) -> Finding:
    holder = store.lock_holder(manifest.application)
    if holder is None:
        return Finding(APPLICATION, "lock", Status.OK, "free")
    if holder.alive():
        detail = f"a deploy is running: {holder.describe()}"
        advice = "wait for it to finish, or deploy with --lock-wait SECONDS"
        return Finding(APPLICATION, "lock", Status.PROBLEM, detail, advice)
    detail = f"held by {holder.describe()}, which is gone"
    advice = "the next deploy takes the lock over and recovers what it left out"
    return Finding(APPLICATION, "lock", Status.WARNING, detail, advice)


def _stranded(server: str) -> Finding:
    return Finding(
        APPLICATION,
        "recovery",
        Status.WARNING,
        f"{server} was left out of rotation by a deploy that did not finish",
        "the next deploy (or `baton recover`) puts it back once its health check passes",
    )


def _no_health_check() -> Finding:
    detail = "none in the manifest: servers go back into rotation unchecked"
    advice = "add deploy.health_check (a url or a command)"
    return Finding(APPLICATION, "health check", Status.WARNING, detail, advice)


async def _connect(manifest: Manifest, connections: Connections) -> dict[str, Finding]:
    """Each server's SSH finding; servers whose key or known_hosts file is missing are not
    tried (their connection would fail for that reason)."""
    findings: dict[str, Finding] = {}
    ready: list[Server] = []
    for index, server in enumerate(manifest.servers):
        try:
            check_server_files(manifest, index)
        except ManifestError as exc:
            advice = "correct the path in the manifest, or create the file"
            findings[server.name] = Finding(server.name, "ssh", Status.PROBLEM, str(exc), advice)
            continue
        ready.append(server)
    attempts = await connections.open_each(ready)
    for server in ready:
        findings[server.name] = ssh_finding(server, attempts[server.name])
    return findings


async def _memberships(
    manifest: Manifest, drivers: Mapping[str, LoadBalancerDriver]
) -> list[Memberships]:
    """Each load balancer's membership (in manifest order), or why it did not answer."""

    async def ask(driver: LoadBalancerDriver) -> Memberships:
        try:
            return await driver.membership()
        except BatonError as exc:
            return exc

    return list(await asyncio.gather(*(ask(drivers[lb.name]) for lb in manifest.load_balancers)))


def _balancer_findings(manifest: Manifest, memberships: list[Memberships]) -> list[Finding]:
    findings = []
    for lb, membership in zip(manifest.load_balancers, memberships, strict=True):
        if isinstance(membership, BatonError):
            advice = "is it running, and are its connection settings in the manifest right?"
            findings.append(Finding(APPLICATION, lb.name, Status.PROBLEM, str(membership), advice))
        else:
            detail = f"answers; it knows {len(membership)} server(s)"
            findings.append(Finding(APPLICATION, lb.name, Status.OK, detail))
    return findings


async def _server(
    manifest: Manifest,
    server: Server,
    transport: Transport | None,
    memberships: list[Memberships],
    environment: StepEnvironment,
    plan: Plan,
) -> list[Finding]:
    """The steps, load balancer and health findings of one server."""
    steps, health = await asyncio.gather(
        steps_finding(manifest, server, transport, environment, plan.version),
        health_finding(manifest, server, transport, environment, plan.version),
    )
    balancers = [
        membership_finding(manifest, index, server, membership)
        for index, membership in enumerate(memberships)
    ]
    return [steps, *balancers, health]
