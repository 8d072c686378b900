"""Plain records the store returns. They hold data only; the store owns the SQL."""

from __future__ import annotations

import json
import os
import socket
import time
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class AppliedValue:
    """A load balancer configuration value a deploy applied; it stays until set to 0."""

    load_balancer: str
    key: str
    value: str
    deploy_id: int
    applied_at: float


STALE_AFTER = 60.0
"""Seconds without a heartbeat after which a lock held from another machine is stale. A
running deploy beats every few seconds (baton.execution.runner.HEARTBEAT_EVERY)."""


@dataclass(frozen=True)
class LockHolder:
    """Who holds an application's deploy lock."""

    deploy_id: int
    host: str
    pid: int
    since: float = 0.0
    heartbeat: float | None = None

    @classmethod
    def this_process(cls) -> LockHolder:
        return cls(deploy_id=0, host=socket.gethostname(), pid=os.getpid())

    def alive(self, now: float | None = None) -> bool:
        """On this host: its process still runs. On another host (a shared PostgreSQL state),
        whose process cannot be checked: its last heartbeat is under STALE_AFTER old."""
        if self.host != socket.gethostname():
            last = self.heartbeat if self.heartbeat is not None else self.since
            return (now if now is not None else time.time()) - last < STALE_AFTER
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True

    def describe(self) -> str:
        since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.since))
        return f"deploy #{self.deploy_id}, pid {self.pid} on {self.host}, since {since}"


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
