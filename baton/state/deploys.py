"""Deploys: one row each (version, strategy, status, plan, the servers it went to), started with
the application's lock taken and the load balancer values it applies, in one transaction."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from typing import Any

from baton.state.database import Repository
from baton.state.lock import DeployLock
from baton.state.records import DeployRecord, LockHolder
from baton.state.schema import TARGETS_SINCE, current_version
from baton.state.settings import AppliedValues

Target = tuple[str, int]
"""A server as another application's deploy may share it: (address, port)."""


class Deploys(Repository):
    def start_deploy(
        self,
        application: str,
        version: str,
        strategy: str,
        plan: dict[str, Any],
        values: Iterable[tuple[str, str, str]],
        holder: LockHolder,
        *,
        targets: Iterable[Target] = (),
    ) -> int:
        """Create the deploy, take the lock and record the load balancer values it applies.

        All in one transaction: either the deploy exists with its lock and values, or nothing
        changed. ``values`` are (load balancer, key, value); a value of "0" clears the key.
        ``targets`` are the servers it deploys to (what :meth:`deployed_servers` answers).
        """
        lock, applied = DeployLock(self._db), AppliedValues(self._db)
        with self._db.transaction():
            lock.take_over(application)
            now = time.time()
            self._abandon_running(application, now)
            (row,) = self._db.query(
                "INSERT INTO deploys (application, version, strategy, status, started_at, plan,"
                " targets) VALUES (?, ?, ?, 'running', ?, ?, ?) RETURNING id",
                (application, version, strategy, now, json.dumps(plan), _targets_text(targets)),
            )
            deploy_id = int(row["id"])
            lock.take(application, deploy_id, holder, now)
            for load_balancer, key, value in values:
                applied.apply_value(application, deploy_id, load_balancer, key, value)
        return deploy_id

    def finish_deploy(self, deploy_id: int, status: str, summary: str) -> None:
        """Record the deploy's end and release its lock. A deploy that lost its lock (LockLost)
        or is no longer running changes nothing: the deploy that took over recorded it as
        abandoned, and that record is never overwritten."""
        lock = DeployLock(self._db)

        def finish() -> None:
            lock.require_lock(deploy_id)
            self._db.query(
                "UPDATE deploys SET status = ?, summary = ?, finished_at = ?"
                " WHERE id = ? AND status = 'running'",
                (status, summary, time.time(), deploy_id),
            )
            lock.release(deploy_id)

        self._db.write(finish)
        self._db.fences.pop(deploy_id, None)  # released: what it writes now is its own

    def _abandon_running(self, application: str, now: float) -> None:
        """Record as abandoned every deploy still 'running' once its lock is taken over (its
        process is gone, or it could not write its end)."""
        self._db.query(
            "UPDATE deploys SET status = 'abandoned', finished_at = ? "
            "WHERE application = ? AND status = 'running'",
            (now, application),
        )

    def deploys(
        self,
        application: str | None = None,
        limit: int = 20,
        *,
        status: str | None = None,
        offset: int = 0,
    ) -> list[DeployRecord]:
        """Newest first, optionally of one application and one status, skipping ``offset``."""
        where, args = _deploy_filter(application, status)
        rows = self._db.query(
            f"SELECT * FROM deploys{where} ORDER BY id DESC LIMIT ? OFFSET ?",
            (*args, limit, offset),
        )
        return [DeployRecord.from_row(row) for row in rows]

    def count_deploys(self, application: str | None = None, status: str | None = None) -> int:
        where, args = _deploy_filter(application, status)
        rows = self._db.query(f"SELECT COUNT(*) AS n FROM deploys{where}", args)
        return int(rows[0]["n"])

    def deployed_servers(self) -> dict[str, set[Target]]:
        """Per application, the (address, port) of each server its last deploy went to."""
        targets = "targets" if current_version(self._db) >= TARGETS_SINCE else "NULL AS targets"
        rows = self._db.query(
            f"SELECT application, plan, {targets} FROM deploys WHERE id IN"
            " (SELECT MAX(id) FROM deploys GROUP BY application)"
        )
        return {row["application"]: _targets(row) for row in rows}

    def deploy(self, deploy_id: int) -> DeployRecord | None:
        rows = self._db.query("SELECT * FROM deploys WHERE id = ?", (deploy_id,))
        return DeployRecord.from_row(rows[0]) if rows else None

    def last_successful(self, application: str, before: int | None = None) -> DeployRecord | None:
        rows = self._db.query(
            "SELECT * FROM deploys WHERE application = ? AND status = 'succeeded'"
            " AND id < ? ORDER BY id DESC LIMIT 1",
            (application, before if before is not None else 2**62),
        )
        return DeployRecord.from_row(rows[0]) if rows else None

    def last_success_per_server(self, application: str) -> dict[str, DeployRecord]:
        """Each server's last deploy that succeeded on it: the version it should be running."""
        rows = self._db.query(
            "SELECT r.server AS on_server, d.* FROM deploys d"
            " JOIN server_results r ON r.deploy_id = d.id"
            " WHERE d.application = ? AND r.status = 'succeeded' ORDER BY d.id",
            (application,),
        )
        found: dict[str, DeployRecord] = {}
        for row in rows:
            record = dict(row)
            server = record.pop("on_server")
            found[server] = DeployRecord.from_row(record)
        return found

    def unfinished(self, application: str) -> list[DeployRecord]:
        """Deploys still recorded as running: the lock holder's, and any whose end was never
        written (the next deploy records them as abandoned)."""
        rows = self._db.query(
            "SELECT * FROM deploys WHERE application = ? AND status = 'running' ORDER BY id",
            (application,),
        )
        return [DeployRecord.from_row(row) for row in rows]


def _deploy_filter(application: str | None, status: str | None) -> tuple[str, tuple[str, ...]]:
    clauses = [(c, v) for c, v in (("application", application), ("status", status)) if v]
    if not clauses:
        return "", ()
    return " WHERE " + " AND ".join(f"{c} = ?" for c, _ in clauses), tuple(
        v for _, v in clauses if v
    )


def _targets_text(targets: Iterable[Target]) -> str:
    return json.dumps([[address, port] for address, port in targets])


def _targets(row: dict[str, Any]) -> set[Target]:
    """The row's targets column; a deploy recorded before it (schema version 3 and older)
    kept them in its plan, under "targets"."""
    text = row["targets"]
    pairs = json.loads(text) if text is not None else json.loads(row["plan"]).get("targets", [])
    return {(str(address), int(port)) for address, port in pairs}
