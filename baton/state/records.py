"""Plain records the store returns. They hold data only; the store owns the SQL."""

from __future__ import annotations

import json
import os
import socket
import time
from dataclasses import dataclass
from typing import Any

from baton.state.identity import (
    ENDED,
    STOPPED,
    Whereabouts,
    here,
    process_runs,
    process_start,
    process_state,
)


@dataclass(frozen=True)
class AppliedValue:
    """A load balancer configuration value a deploy applied; it stays until set to 0."""

    load_balancer: str
    key: str
    value: str
    deploy_id: int
    applied_at: float


STALE_AFTER = 60.0
"""Seconds without a heartbeat after which a lock is stale, when its holder is a process this
machine cannot check (another machine, container or pid namespace). A running deploy beats
every few seconds (baton.execution.runner.HEARTBEAT_EVERY)."""


@dataclass(frozen=True)
class LockHolder:
    """Who holds an application's deploy lock: a process, named by its pid, where it runs
    (:mod:`baton.state.identity`; None in a lock an older baton recorded) and when it started.
    """

    deploy_id: int
    host: str
    pid: int
    since: float = 0.0
    heartbeat: float | None = None
    machine_id: str | None = None
    boot_id: str | None = None
    pid_namespace: int | None = None
    started: int | None = None
    """The process's start time in clock ticks after boot: a later process given the same
    pid has another."""
    token: int | None = None
    """The lock's fencing token: it grows with each deploy that takes the application's lock,
    so a deploy that lost its lock (frozen, then taken over) finds another token there and
    writes nothing more (None in a lock an older baton recorded)."""

    @classmethod
    def this_process(cls) -> LockHolder:
        pid, (machine_id, boot_id, pid_namespace) = os.getpid(), here()
        return cls(
            deploy_id=0,
            host=socket.gethostname(),
            pid=pid,
            machine_id=machine_id,
            boot_id=boot_id,
            pid_namespace=pid_namespace,
            started=process_start(pid),
        )

    def alive(self, now: float | None = None) -> bool:
        """A holder this machine can check (same machine, boot and pid namespace) is alive
        while its process runs: that pid, started at that time, and not a zombie (a frozen
        one is alive: it may resume). Any other, whatever its hostname, is alive while its
        last heartbeat is under STALE_AFTER old: a lock with a fresh heartbeat is never taken
        over on a guess about a process baton cannot see."""
        if self.checkable():
            if not process_runs(self.pid) or process_state(self.pid) in ENDED:
                return False
            started = process_start(self.pid)
            if started is not None:
                return started == self.started
        last = self.heartbeat if self.heartbeat is not None else self.since
        return (now if now is not None else time.time()) - last < STALE_AFTER

    def checkable(self) -> bool:
        """This machine can look at the holder's process: same machine, boot, pid namespace."""
        return self.started is not None and here().known and self.whereabouts() == here()

    def frozen(self) -> bool:
        """The holder's process is here and stopped (SIGSTOP): frozen, not gone."""
        return self.checkable() and process_state(self.pid) in STOPPED

    def why_taken_over(self, now: float | None = None) -> str:
        """Why a deploy may take this holder's lock, as far as this machine can tell: a
        process it cannot see is only known to be silent, frozen or gone."""
        process = f"its process (pid {self.pid} on {self.host})"
        if self.checkable():
            return f"{process} is gone"
        last = self.heartbeat if self.heartbeat is not None else self.since
        silent = (now if now is not None else time.time()) - last
        return f"{process} has not beaten its heartbeat for {silent:.0f}s (frozen or gone)"

    def whereabouts(self) -> Whereabouts:
        return Whereabouts(self.machine_id, self.boot_id, self.pid_namespace)

    def describe(self) -> str:
        since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.since))
        frozen = ", frozen (stopped)" if self.frozen() else ""
        return f"deploy #{self.deploy_id}, pid {self.pid} on {self.host}, since {since}{frozen}"


@dataclass
class Fence:
    """The lock a deploy took over one connection: its application and fencing token; once
    lost, why (a lock never comes back: a later holder's token is larger)."""

    application: str
    token: int
    lost: str | None = None


@dataclass(frozen=True)
class DeployRecord:
    id: int
    application: str
    version: str
    strategy: str
    status: str
    started_at: float
    finished_at: float | None
    plan: dict[str, Any]
    summary: str | None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> DeployRecord:
        """The record of a deploys row (its servers, the targets column, are not part of it:
        :meth:`baton.state.deploys.Deploys.deployed_servers` reads them)."""
        fields = {key: value for key, value in row.items() if key != "targets"}
        return cls(**{**fields, "plan": json.loads(row["plan"])})

    @property
    def duration(self) -> float | None:
        return None if self.finished_at is None else self.finished_at - self.started_at

    def summary_dict(self) -> dict[str, Any]:
        """The deploy as a history row: everything but the plan."""
        return {
            "id": self.id,
            "application": self.application,
            "version": self.version,
            "strategy": self.strategy,
            "status": self.status,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "duration": self.duration,
            "summary": self.summary,
        }


@dataclass(frozen=True)
class StepResult:
    server: str
    step: str
    status: str
    exit_status: int | None
    started_at: float | None
    finished_at: float | None
    output: str

    def values(self) -> tuple[Any, ...]:
        return (
            self.server,
            self.step,
            self.status,
            self.exit_status,
            self.started_at,
            self.finished_at,
            self.output,
        )


@dataclass(frozen=True)
class ServerResult:
    server: str
    status: str
    detail: str
    in_rotation: bool | None
    started_at: float | None
    finished_at: float | None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> ServerResult:
        rotation = row["in_rotation"]
        return cls(**{**row, "in_rotation": None if rotation is None else bool(rotation)})

    def values(self) -> tuple[Any, ...]:
        return (
            self.server,
            self.status,
            self.detail,
            None if self.in_rotation is None else int(self.in_rotation),
            self.started_at,
            self.finished_at,
        )


@dataclass(frozen=True)
class StoredEvent:
    seq: int
    at: float
    kind: str
    data: dict[str, Any]


@dataclass(frozen=True)
class NotificationAttempt:
    """One try at delivering a deploy's notification to one webhook."""

    at: float
    target: str
    """The webhook without its path and query, which often hold its secret token."""
    message: str
    """"started" or "finished"."""
    attempt: int
    outcome: str
    """"delivered", "retrying" or "gave up"."""
    detail: str


@dataclass(frozen=True)
class JournalEntry:
    application: str
    load_balancer: str
    server: str
    action: str
    state: str
    deploy_id: int
    at: float

    def values(self) -> tuple[Any, ...]:
        return (
            self.application,
            self.load_balancer,
            self.server,
            self.action,
            self.state,
            self.deploy_id,
            self.at,
        )
