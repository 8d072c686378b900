"""The one preflight: what a deploy checks before it changes anything, as findings.

The manifest's files, the secrets, the state's room, the lock, and every load balancer: it
answers, its driver's own checks pass (:meth:`LoadBalancerDriver.preflight`: nginx's include and
workers, a cloud group's credentials) and it knows every server but those baton itself took out
(per the journal). Each problem found carries the error a deploy raises for it: ``baton deploy``
stops at the first (:func:`~baton.checking.findings.require`, as :func:`balancers_ready` does),
``baton check`` reports every finding. Both ask here, so one cannot pass what the other refuses.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from baton._exceptions import (
    BatonError,
    InputError,
    LoadBalancerError,
    LockError,
    ManifestError,
    StateWriteError,
)
from baton.checking.findings import APPLICATION, Finding, Status, require
from baton.config import LoadBalancer, Manifest, Server
from baton.config.references import check_server_files, resolve_secret
from baton.drivers import LoadBalancerDriver, Membership
from baton.execution.recovery import stranded
from baton.planning import Plan
from baton.state import DeployRecord, LockHolder, Store
from baton.state.database import is_url
from baton.state.journal import BalancerJournal

LOCAL_LOCKS = Path.home() / ".cache" / "baton"
"""Where per-server locks live when the state is in PostgreSQL: they then keep apart the
deploys of this machine only."""
MIN_STATE_FREE = 16 * 2**20
"""Bytes a deploy needs free on the state's filesystem to start (its record is bounded:
at most ~0.5 MiB of output per step, usually a few KiB)."""


def state_directory(store: Store) -> Path | None:
    """The directory of an SQLite state; None for a PostgreSQL one."""
    return None if is_url(store.location) else Path(store.location)


def check_state_space(directory: Path) -> None:
    """Refuse to start a deploy that could not be recorded: too little room for the state."""
    free = shutil.disk_usage(directory).free
    if free < MIN_STATE_FREE:
        raise StateWriteError(
            f"preflight: the filesystem of baton's state {directory} has {free / 2**20:.1f} MiB "
            f"free, below the {MIN_STATE_FREE // 2**20} MiB a deploy needs to be recorded "
            "(MIN_STATE_FREE); free some space or use --state elsewhere; nothing changed"
        )


def state_space_findings(store: Store | None) -> list[Finding]:
    """A problem when an existing SQLite state has too little room for a deploy's record."""
    directory = None if store is None else state_directory(store)
    if directory is None or not directory.is_dir():
        return []
    try:
        check_state_space(directory)
    except StateWriteError as exc:
        advice = "free some space, or use --state elsewhere"
        return [Finding(APPLICATION, "state space", Status.PROBLEM, str(exc), advice, error=exc)]
    return []


def taken_over(unfinished: DeployRecord, holder: LockHolder | None) -> str:
    """What the next deploy says about a deploy that never finished, which it takes over."""
    why = (
        holder.why_taken_over()
        if holder is not None and holder.deploy_id == unfinished.id
        else "it could not record its end (its state could not be written), or was killed"
    )
    return (
        f"deploy #{unfinished.id} never finished: {why}; it is now recorded as abandoned, and "
        "servers it left out of rotation are recovered first"
    )


def plan_findings(plan: Plan) -> list[Finding]:
    """A problem when the plan cannot start: deploy.min_in_service out of a serial deploy's
    reach (the detail says what to do)."""
    why = plan.floor_out_of_reach
    if why is None:
        return []
    return [Finding(APPLICATION, "plan", Status.PROBLEM, why, error=InputError(why))]


def file_findings(manifest: Manifest) -> dict[str, Finding]:
    """Per server whose SSH key or known_hosts file is missing or unreadable, that problem."""
    findings: dict[str, Finding] = {}
    for index, server in enumerate(manifest.servers):
        try:
            check_server_files(manifest, index)
        except ManifestError as exc:
            advice = "correct the path in the manifest, or create the file"
            findings[server.name] = Finding(
                server.name, "ssh", Status.PROBLEM, str(exc), advice, error=exc
            )
    return findings


def secret_findings(
    manifest: Manifest, environ: Mapping[str, str]
) -> tuple[dict[str, str], list[Finding]]:
    """Each secret's value, and a problem per secret without one (else one ok finding)."""
    values: dict[str, str] = {}
    findings: list[Finding] = []
    for name in manifest.deploy.secrets:
        try:
            values[name] = resolve_secret(manifest, name, environ)
        except ManifestError as exc:
            advice = "give it a value where the manifest says, or correct the manifest"
            problem = Finding(APPLICATION, "secrets", Status.PROBLEM, str(exc), advice, error=exc)
            findings.append(problem)
    if not findings:
        text = f"{len(values)} secret(s), each with a value" if values else "none in the manifest"
        findings.append(Finding(APPLICATION, "secrets", Status.OK, text))
    return values, findings


def lock_findings(manifest: Manifest, store: Store | None) -> list[Finding]:
    """The application's lock, and each server an unfinished deploy left out of rotation."""
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
        error = LockError(
            f"{manifest.application}: a deploy is already running ({holder.describe()}); "
            "wait with --lock-wait SECONDS"
        )
        return Finding(APPLICATION, "lock", Status.PROBLEM, detail, advice, error=error)
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


@dataclass(frozen=True)
class BalancerAnswer:
    """What one load balancer said before a deploy: its membership and its driver's warnings,
    or the error that refuses a deploy (it did not answer, or its driver's checks failed)."""

    load_balancer: LoadBalancer
    membership: Mapping[str, Membership] | BatonError
    notes: tuple[str, ...] = ()
    left_out: frozenset[str] = frozenset()
    """Servers baton took out of this balancer (per the journal): they may be missing from it
    (a cloud target group forgets a deregistered target)."""

    def unknown(self, manifest: Manifest) -> list[str]:
        """The manifest's servers it does not know and baton did not take out."""
        if isinstance(self.membership, BatonError):
            return []
        known, ours = self.membership, self.left_out
        return [s.name for s in manifest.servers if s.name not in known and s.name not in ours]

    def refusal(self, manifest: Manifest) -> BatonError | None:
        """Why a deploy must not start here: the driver's error, or every server it does
        not know, in one error."""
        if isinstance(self.membership, BatonError):
            return self.membership
        missing = self.unknown(manifest)
        if not missing:
            return None
        lb = self.load_balancer
        return LoadBalancerError(
            f"load balancer {lb.name} ({lb.describe()}) does not know server(s) "
            f"{', '.join(lb.member_name(s) for s in missing)}; it has: "
            f"{', '.join(sorted(self.membership)) or 'none'}"
        )

    def finding(self) -> Finding:
        """The balancer's own finding: it answers (with its driver's warnings), or why not."""
        name = self.load_balancer.name
        if isinstance(self.membership, BatonError):
            advice = "is it running, and are its connection settings in the manifest right?"
            error = self.membership
            return Finding(APPLICATION, name, Status.PROBLEM, str(error), advice, error=error)
        detail = f"answers; it knows {len(self.membership)} server(s)"
        if self.notes:
            return Finding(APPLICATION, name, Status.WARNING, "; ".join([detail, *self.notes]))
        return Finding(APPLICATION, name, Status.OK, detail)


async def ask_balancers(
    manifest: Manifest, drivers: Mapping[str, LoadBalancerDriver], store: Store | None
) -> list[BalancerAnswer]:
    """Every load balancer's answer (in manifest order), asked at once."""
    taken_out = left_out(store, manifest.application) if store is not None else set()

    async def ask(lb: LoadBalancer) -> BalancerAnswer:
        ours = frozenset(server for balancer, server in taken_out if balancer == lb.name)
        driver = drivers[lb.name]
        try:
            notes = await driver.preflight()
            membership = await driver.membership()
        except BatonError as exc:
            return BalancerAnswer(lb, exc, left_out=ours)
        return BalancerAnswer(lb, membership, tuple(notes), ours)

    return list(await asyncio.gather(*(ask(lb) for lb in manifest.load_balancers)))


async def balancers_ready(
    manifest: Manifest, drivers: Mapping[str, LoadBalancerDriver], store: Store
) -> list[str]:
    """A deploy's balancer preflight: raise the first refusal (in manifest order); return the
    drivers' warnings for the deploy to show."""
    answers = await ask_balancers(manifest, drivers, store)
    for index, answer in enumerate(answers):
        require([answer.finding(), *(membership_finding(manifest, index, s, answer)
                                     for s in manifest.servers)])  # fmt: skip
    return [note for answer in answers for note in answer.notes]


def membership_finding(
    manifest: Manifest, index: int, server: Server, answer: BalancerAnswer
) -> Finding:
    """What the load balancer at ``index`` says of ``server``."""
    lb, membership = manifest.load_balancers[index], answer.membership
    if isinstance(membership, BatonError):
        return Finding(server.name, lb.name, Status.SKIPPED, "the load balancer did not answer")
    if server.name in answer.unknown(manifest):
        return _unknown(lb, index, server, membership, answer.refusal(manifest))
    if server.name not in membership:
        detail = "not known to it: baton took it out (per its journal)"
        advice = "the next deploy (or `baton recover`) puts it back once its health check passes"
        return Finding(server.name, lb.name, Status.WARNING, detail, advice)
    state = membership[server.name]
    if state is Membership.IN_ROTATION:
        return Finding(server.name, lb.name, Status.OK, state.value)
    if state is Membership.OUT_OF_ROTATION:
        advice = "a serial deploy puts it back after its health check; a parallel one does not"
        detail = "out of rotation (maintenance or drain)"
    else:
        advice = "look at the application on it: the load balancer's own health check fails"
        detail = "down: enabled, but failing the load balancer's health checks"
    return Finding(server.name, lb.name, Status.WARNING, detail, advice)


def _unknown(
    lb: LoadBalancer,
    index: int,
    server: Server,
    membership: Mapping[str, Membership],
    refusal: BatonError | None,
) -> Finding:
    member = lb.member_name(server.name)
    known = ", ".join(sorted(membership)) or "none"
    return Finding(
        server.name,
        lb.name,
        Status.PROBLEM,
        f"load balancer {lb.name} does not know server {member} (it knows: {known})",
        f"add {member} to the load balancer, or map {server.name} to its name there under "
        f"load_balancers[{index}].servers",
        error=refusal,
    )


def left_out(journal: BalancerJournal, application: str) -> set[tuple[str, str]]:
    """(load balancer, server) pairs whose last journalled change is not a finished add."""
    return {
        (entry.load_balancer, entry.server)
        for entry in journal.journal_entries(application)
        if (entry.action, entry.state) != ("add", "done")
    }
