"""The state store: the one module that owns baton's SQL.

Settings, the load balancer values deploys applied, deploys with per-server and per-step
results, the event stream of each deploy, the per-application deploy lock, the load balancer
journal and deploy profiles. Where they live is a backend behind one small interface
(:mod:`baton.state.database`): one SQLite file by default, or a PostgreSQL database a team
shares (``--state postgresql://...``). The SQL here is written once, portable to both.
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from baton._exceptions import LockError, StateError
from baton.state.database import Database, is_url
from baton.state.records import (
    AppliedValue,
    DeployRecord,
    JournalEntry,
    LockHolder,
    NotificationAttempt,
    ServerResult,
    StepResult,
    StoredEvent,
)
from baton.state.schema import NOTIFICATIONS_SINCE, current_version, upgrade

EMPTY = "/nonexistent/baton-empty-state"
"""A state directory that is never there (see :meth:`Store.empty`)."""


def default_state_dir() -> Path:
    """``$BATON_STATE``, else ``$XDG_STATE_HOME/baton``, else ``~/.local/state/baton``."""
    if env := os.environ.get("BATON_STATE"):
        return Path(env)
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "baton"


def default_state() -> str:
    """Where the state is when no --state is given: ``$BATON_STATE`` (a directory or a
    PostgreSQL URL), else the default directory."""
    return os.environ.get("BATON_STATE") or str(default_state_dir())


def open_database(location: str | Path, *, read_only: bool = False) -> Database:
    """The backend for ``location``: a PostgreSQL URL, else an SQLite state directory."""
    if is_url(location):
        from baton.state.postgres import PostgresDatabase

        return PostgresDatabase(str(location))
    from baton.state.sqlite import SQLiteDatabase

    return SQLiteDatabase(Path(location), read_only=read_only)


class Store:
    """baton's state at ``location`` (a directory for SQLite, or a PostgreSQL URL).

    ``read_only`` is for commands that only look: an SQLite state is then neither created nor
    upgraded, so they work where baton may not write (a missing one reads as empty).
    """

    def __init__(self, location: str | Path, *, read_only: bool = False) -> None:
        self._db = open_database(location, read_only=read_only)
        self.location = self._db.location
        if self._db.writable:
            upgrade(self._db)

    @classmethod
    def empty(cls) -> Store:
        """A state that holds nothing, in memory: what there is before the first deploy, for
        a command that only looks (an SQLite state read-only where there is none is empty)."""
        return cls(EMPTY, read_only=True)

    def close(self) -> None:
        self._db.close()

    # settings ---------------------------------------------------------------------------

    def settings(self, application: str) -> dict[str, str]:
        rows = self._db.query(
            "SELECT key, value FROM settings WHERE application = ?", (application,)
        )
        return {row["key"]: row["value"] for row in rows}

    def set_setting(self, application: str, key: str, value: str) -> None:
        with self._db.transaction():
            self._db.query(
                "INSERT INTO settings (application, key, value, updated_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (application, key) DO UPDATE"
                " SET value = excluded.value, updated_at = excluded.updated_at",
                (application, key, value, time.time()),
            )

    # load balancer values -----------------------------------------------------------------

    def applied_values(self, application: str) -> list[AppliedValue]:
        rows = self._db.query(
            "SELECT load_balancer, key, value, deploy_id, applied_at FROM lb_values"
            " WHERE application = ? ORDER BY load_balancer, key",
            (application,),
        )
        return [AppliedValue(**row) for row in rows]

    # deploys ----------------------------------------------------------------------------

    def start_deploy(
        self,
        application: str,
        version: str,
        strategy: str,
        plan: dict[str, Any],
        values: Iterable[tuple[str, str, str]],
        holder: LockHolder,
    ) -> int:
        """Create the deploy, take the lock and record the load balancer values it applies.

        All in one transaction: either the deploy exists with its lock and values, or nothing
        changed. ``values`` are (load balancer, key, value); a value of "0" clears the key.
        """
        with self._db.transaction():
            self._check_lock(application)
            now = time.time()
            (row,) = self._db.query(
                "INSERT INTO deploys (application, version, strategy, status, started_at, plan)"
                " VALUES (?, ?, ?, 'running', ?, ?) RETURNING id",
                (application, version, strategy, now, json.dumps(plan)),
            )
            deploy_id = int(row["id"])
            self._db.query(
                "INSERT INTO locks (application, deploy_id, host, pid, since, heartbeat)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (application, deploy_id, holder.host, holder.pid, now, now),
            )
            for load_balancer, key, value in values:
                self._apply_value(application, deploy_id, load_balancer, key, value)
        return deploy_id

    def _apply_value(self, application: str, deploy_id: int, lb: str, key: str, value: str) -> None:
        if value in {"0", ""}:
            self._db.query(
                "DELETE FROM lb_values WHERE application = ? AND load_balancer = ? AND key = ?",
                (application, lb, key),
            )
            return
        self._db.query(
            "INSERT INTO lb_values (application, load_balancer, key, value, deploy_id, applied_at)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (application, load_balancer, key) DO UPDATE"
            " SET value = excluded.value, deploy_id = excluded.deploy_id,"
            " applied_at = excluded.applied_at",
            (application, lb, key, value, deploy_id, time.time()),
        )

    def finish_deploy(self, deploy_id: int, status: str, summary: str) -> None:
        with self._db.transaction():
            self._db.query(
                "UPDATE deploys SET status = ?, summary = ?, finished_at = ? WHERE id = ?",
                (status, summary, time.time(), deploy_id),
            )
            self._db.query("DELETE FROM locks WHERE deploy_id = ?", (deploy_id,))

    def deploys(
        self,
        application: str | None = None,
        limit: int = 20,
        *,
        status: str | None = None,
        offset: int = 0,
    ) -> list[DeployRecord]:
        """Newest first, optionally of one application and one status, skipping ``offset``."""
        where, args = self._deploy_filter(application, status)
        rows = self._db.query(
            f"SELECT * FROM deploys{where} ORDER BY id DESC LIMIT ? OFFSET ?",
            (*args, limit, offset),
        )
        return [DeployRecord.from_row(row) for row in rows]

    def count_deploys(self, application: str | None = None, status: str | None = None) -> int:
        where, args = self._deploy_filter(application, status)
        rows = self._db.query(f"SELECT COUNT(*) AS n FROM deploys{where}", args)
        return int(rows[0]["n"])

    @staticmethod
    def _deploy_filter(application: str | None, status: str | None) -> tuple[str, tuple[str, ...]]:
        clauses = [(c, v) for c, v in (("application", application), ("status", status)) if v]
        if not clauses:
            return "", ()
        return " WHERE " + " AND ".join(f"{c} = ?" for c, _ in clauses), tuple(
            v for _, v in clauses if v
        )

    def release_deploy_lock(self, deploy_id: int) -> None:
        """Release the lock ``deploy_id`` holds (when its record could not be finished)."""
        with self._db.transaction():
            self._db.query("DELETE FROM locks WHERE deploy_id = ?", (deploy_id,))

    def deployed_servers(self) -> dict[str, set[tuple[str, int]]]:
        """Per application, the (address, port) of each server its last deploy went to."""
        rows = self._db.query(
            "SELECT application, plan FROM deploys WHERE id IN"
            " (SELECT MAX(id) FROM deploys GROUP BY application)"
        )
        found: dict[str, set[tuple[str, int]]] = {}
        for row in rows:
            targets = json.loads(row["plan"]).get("targets", [])
            found[row["application"]] = {(str(a), int(p)) for a, p in targets}
        return found

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

    # results and events -----------------------------------------------------------------

    def record(
        self,
        deploy_id: int,
        events: list[StoredEvent],
        steps: list[StepResult],
        servers: list[ServerResult],
    ) -> None:
        """Write a batch of events and finished results in one transaction."""
        with self._db.transaction():
            self._db.execute_many(
                "INSERT INTO events (deploy_id, seq, at, kind, data) VALUES (?, ?, ?, ?, ?)",
                [(deploy_id, e.seq, e.at, e.kind, json.dumps(e.data)) for e in events],
            )
            self._db.execute_many(
                "INSERT INTO step_results (deploy_id, server, step, status,"
                " exit_status, started_at, finished_at, output) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (deploy_id, server, step) DO UPDATE SET status = excluded.status,"
                " exit_status = excluded.exit_status, started_at = excluded.started_at,"
                " finished_at = excluded.finished_at, output = excluded.output",
                [(deploy_id, *s.values()) for s in steps],
            )
            self._db.execute_many(
                "INSERT INTO server_results (deploy_id, server, status, detail,"
                " in_rotation, started_at, finished_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (deploy_id, server) DO UPDATE SET status = excluded.status,"
                " detail = excluded.detail, in_rotation = excluded.in_rotation,"
                " started_at = excluded.started_at, finished_at = excluded.finished_at",
                [(deploy_id, *s.values()) for s in servers],
            )

    def events(
        self, deploy_id: int, after: int = 0, *, kind: str | None = None, limit: int | None = None
    ) -> list[StoredEvent]:
        """Events after sequence number ``after``, of one ``kind`` if given, at most ``limit``
        so a reader can page through a long deploy."""
        sql = "SELECT seq, at, kind, data FROM events WHERE deploy_id = ? AND seq > ?"
        params: list[Any] = [deploy_id, after]
        if kind is not None:
            sql += " AND kind = ?"
            params.append(kind)
        sql += " ORDER BY seq"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        rows = self._db.query(
            sql,
            params,
        )
        return [StoredEvent(r["seq"], r["at"], r["kind"], json.loads(r["data"])) for r in rows]

    def server_results(self, deploy_id: int) -> list[ServerResult]:
        rows = self._db.query(
            "SELECT server, status, detail, in_rotation, started_at, finished_at"
            " FROM server_results WHERE deploy_id = ? ORDER BY started_at, server",
            (deploy_id,),
        )
        return [ServerResult.from_row(row) for row in rows]

    def step_results(self, deploy_id: int) -> list[StepResult]:
        rows = self._db.query(
            "SELECT server, step, status, exit_status, started_at, finished_at, output"
            " FROM step_results WHERE deploy_id = ? ORDER BY started_at",
            (deploy_id,),
        )
        return [StepResult(**row) for row in rows]

    def record_notification(self, deploy_id: int, attempt: NotificationAttempt) -> None:
        """Add one delivery attempt to the deploy's history."""
        with self._db.transaction():
            self._db.query(
                "INSERT INTO notifications (deploy_id, seq, at, target, message, attempt,"
                " outcome, detail) SELECT ?, COALESCE(MAX(seq), 0) + 1, ?, ?, ?, ?, ?, ?"
                " FROM notifications WHERE deploy_id = ?",
                (deploy_id, *dataclasses.astuple(attempt), deploy_id),
            )

    def notifications(self, deploy_id: int) -> list[NotificationAttempt]:
        if current_version(self._db) < NOTIFICATIONS_SINCE:  # read-only, not upgraded
            return []
        rows = self._db.query(
            "SELECT at, target, message, attempt, outcome, detail FROM notifications"
            " WHERE deploy_id = ? ORDER BY seq",
            (deploy_id,),
        )
        return [NotificationAttempt(**row) for row in rows]

    # lock -------------------------------------------------------------------------------

    def lock_holder(self, application: str) -> LockHolder | None:
        rows = self._db.query(
            "SELECT deploy_id, host, pid, since, heartbeat FROM locks WHERE application = ?",
            (application,),
        )
        return LockHolder(**rows[0]) if rows else None

    def heartbeat(self, deploy_id: int) -> None:
        """Say the deploy holding a lock is alive: how a holder on another machine is judged."""
        self._db.query(
            "UPDATE locks SET heartbeat = ? WHERE deploy_id = ?", (time.time(), deploy_id)
        )

    def release_lock(self, application: str) -> LockHolder | None:
        with self._db.transaction():
            holder = self.lock_holder(application)
            self._db.query("DELETE FROM locks WHERE application = ?", (application,))
        return holder

    def _check_lock(self, application: str) -> None:
        """Raise if a live deploy holds the lock; else take over a dead holder's lock, and
        record as abandoned every deploy still 'running' without a live lock (its process is
        gone, or it could not write its end)."""
        holder = self.lock_holder(application)
        if holder is not None and holder.alive():
            raise LockError(f"{application}: a deploy is already running ({holder.describe()})")
        self._db.query("DELETE FROM locks WHERE application = ?", (application,))
        self._db.query(
            "UPDATE deploys SET status = 'abandoned', finished_at = ? "
            "WHERE application = ? AND status = 'running'",
            (time.time(), application),
        )

    def unfinished(self, application: str) -> list[DeployRecord]:
        """Deploys still recorded as running: the lock holder's, and any whose end was never
        written (the next deploy records them as abandoned)."""
        rows = self._db.query(
            "SELECT * FROM deploys WHERE application = ? AND status = 'running' ORDER BY id",
            (application,),
        )
        return [DeployRecord.from_row(row) for row in rows]

    # journal ----------------------------------------------------------------------------

    def journal(self, entry: JournalEntry) -> None:
        """Record a load balancer change before it is made ("intended") and after ("done")."""
        with self._db.transaction():
            self._db.query(
                "INSERT INTO journal (application, load_balancer, server, action,"
                " state, deploy_id, at) VALUES (?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (application, load_balancer, server) DO UPDATE SET"
                " action = excluded.action, state = excluded.state,"
                " deploy_id = excluded.deploy_id, at = excluded.at",
                entry.values(),
            )

    def journal_entries(self, application: str) -> list[JournalEntry]:
        rows = self._db.query(
            "SELECT application, load_balancer, server, action, state, deploy_id, at"
            " FROM journal WHERE application = ? ORDER BY at",
            (application,),
        )
        return [JournalEntry(**row) for row in rows]

    # profiles ---------------------------------------------------------------------------

    def save_profile(self, application: str, name: str, options: dict[str, Any]) -> None:
        """Save (or replace) a named set of one-off deploy options."""
        with self._db.transaction():
            self._db.query(
                "INSERT INTO profiles (application, name, options, updated_at)"
                " VALUES (?, ?, ?, ?) ON CONFLICT (application, name) DO UPDATE"
                " SET options = excluded.options, updated_at = excluded.updated_at",
                (application, name, json.dumps(options, sort_keys=True), time.time()),
            )

    def profiles(self, application: str) -> dict[str, dict[str, Any]]:
        rows = self._db.query(
            "SELECT name, options FROM profiles WHERE application = ? ORDER BY name",
            (application,),
        )
        return {row["name"]: json.loads(row["options"]) for row in rows}

    def delete_profile(self, application: str, name: str) -> bool:
        with self._db.transaction():
            deleted = self._db.query(
                "DELETE FROM profiles WHERE application = ? AND name = ? RETURNING name",
                (application, name),
            )
        return bool(deleted)

    # copying ----------------------------------------------------------------------------

    def copy_into(self, target: Store) -> dict[str, int]:
        """Copy everything but live locks into ``target``, which must hold no deploys yet.

        Deploy ids are kept, so history, journal and applied values still point at the right
        deploys. Returns the number of rows copied per table.
        """
        if target.deploys(limit=1):
            raise StateError(f"{target.location} already holds deploys; copy into an empty state")
        copied: dict[str, int] = {}
        with target._db.transaction():
            for table in COPIED_TABLES:
                rows = self._db.query(f"SELECT * FROM {table}")
                if rows:
                    columns = list(rows[0])
                    target._db.execute_many(
                        f"INSERT INTO {table} ({', '.join(columns)})"
                        f" VALUES ({', '.join('?' for _ in columns)})",
                        [tuple(row[c] for c in columns) for row in rows],
                    )
                copied[table] = len(rows)
            target._db.continue_ids("deploys")
        return copied


COPIED_TABLES = (
    "settings",
    "deploys",
    "lb_values",
    "server_results",
    "step_results",
    "events",
    "journal",
    "profiles",
    "notifications",
)
"""Every table ``baton state copy`` moves; locks are live, so they stay behind."""
