"""The state store: the one module that owns baton's SQL.

One SQLite file (WAL mode, so a dashboard can read while a deploy writes) holds settings, the
load balancer values deploys applied, deploys with per-server and per-step results, the event
stream of each deploy, the per-application deploy lock and the load balancer journal.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from baton._exceptions import LockError
from baton.state.records import (
    AppliedValue,
    DeployRecord,
    JournalEntry,
    LockHolder,
    ServerResult,
    StepResult,
    StoredEvent,
)
from baton.state.schema import SCHEMA

STATE_FILE = "baton.sqlite3"


def default_state_dir() -> Path:
    """``$BATON_STATE``, else ``$XDG_STATE_HOME/baton``, else ``~/.local/state/baton``."""
    if env := os.environ.get("BATON_STATE"):
        return Path(env)
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "baton"


class Store:
    """Baton's state in one SQLite file under ``directory``."""

    def __init__(self, directory: Path | str) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.path = self.directory / STATE_FILE
        self._db = sqlite3.connect(
            self.path, timeout=30, isolation_level=None, check_same_thread=False
        )
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(SCHEMA)

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; taken IMMEDIATE so two processes never interleave."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    # settings ---------------------------------------------------------------------------

    def settings(self, application: str) -> dict[str, str]:
        rows = self._db.execute(
            "SELECT key, value FROM settings WHERE application = ?", (application,)
        )
        return {row["key"]: row["value"] for row in rows}

    def set_setting(self, application: str, key: str, value: str) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT INTO settings (application, key, value, updated_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (application, key) DO UPDATE"
                " SET value = excluded.value, updated_at = excluded.updated_at",
                (application, key, value, time.time()),
            )

    # load balancer values -----------------------------------------------------------------

    def applied_values(self, application: str) -> list[AppliedValue]:
        rows = self._db.execute(
            "SELECT load_balancer, key, value, deploy_id, applied_at FROM lb_values"
            " WHERE application = ? ORDER BY load_balancer, key",
            (application,),
        )
        return [AppliedValue(**dict(row)) for row in rows]

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
        with self.transaction() as db:
            self._check_lock(db, application)
            cursor = db.execute(
                "INSERT INTO deploys (application, version, strategy, status, started_at, plan)"
                " VALUES (?, ?, ?, 'running', ?, ?)",
                (application, version, strategy, time.time(), json.dumps(plan)),
            )
            deploy_id = int(cursor.lastrowid or 0)
            db.execute(
                "INSERT INTO locks (application, deploy_id, host, pid, since)"
                " VALUES (?, ?, ?, ?, ?)",
                (application, deploy_id, holder.host, holder.pid, time.time()),
            )
            for load_balancer, key, value in values:
                self._apply_value(db, application, deploy_id, load_balancer, key, value)
        return deploy_id

    @staticmethod
    def _apply_value(
        db: sqlite3.Connection, application: str, deploy_id: int, lb: str, key: str, value: str
    ) -> None:
        if value in {"0", ""}:
            db.execute(
                "DELETE FROM lb_values WHERE application = ? AND load_balancer = ? AND key = ?",
                (application, lb, key),
            )
            return
        db.execute(
            "INSERT INTO lb_values (application, load_balancer, key, value, deploy_id, applied_at)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (application, load_balancer, key) DO UPDATE"
            " SET value = excluded.value, deploy_id = excluded.deploy_id,"
            " applied_at = excluded.applied_at",
            (application, lb, key, value, deploy_id, time.time()),
        )

    def finish_deploy(self, deploy_id: int, status: str, summary: str) -> None:
        with self.transaction() as db:
            db.execute(
                "UPDATE deploys SET status = ?, summary = ?, finished_at = ? WHERE id = ?",
                (status, summary, time.time(), deploy_id),
            )
            db.execute("DELETE FROM locks WHERE deploy_id = ?", (deploy_id,))

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
        rows = self._db.execute(
            f"SELECT * FROM deploys{where} ORDER BY id DESC LIMIT ? OFFSET ?",
            (*args, limit, offset),
        )
        return [DeployRecord.from_row(dict(row)) for row in rows]

    def count_deploys(self, application: str | None = None, status: str | None = None) -> int:
        where, args = self._deploy_filter(application, status)
        return int(self._db.execute(f"SELECT COUNT(*) FROM deploys{where}", args).fetchone()[0])

    @staticmethod
    def _deploy_filter(application: str | None, status: str | None) -> tuple[str, tuple[str, ...]]:
        clauses = [(c, v) for c, v in (("application", application), ("status", status)) if v]
        if not clauses:
            return "", ()
        return " WHERE " + " AND ".join(f"{c} = ?" for c, _ in clauses), tuple(
            v for _, v in clauses if v
        )

    def deploy(self, deploy_id: int) -> DeployRecord | None:
        row = self._db.execute("SELECT * FROM deploys WHERE id = ?", (deploy_id,)).fetchone()
        return DeployRecord.from_row(dict(row)) if row else None

    def last_successful(self, application: str, before: int | None = None) -> DeployRecord | None:
        row = self._db.execute(
            "SELECT * FROM deploys WHERE application = ? AND status = 'succeeded'"
            " AND id < ? ORDER BY id DESC LIMIT 1",
            (application, before if before is not None else 2**62),
        ).fetchone()
        return DeployRecord.from_row(dict(row)) if row else None

    def last_success_per_server(self, application: str) -> dict[str, DeployRecord]:
        """Each server's last deploy that succeeded on it: the version it should be running."""
        rows = self._db.execute(
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
        with self.transaction() as db:
            db.executemany(
                "INSERT INTO events (deploy_id, seq, at, kind, data) VALUES (?, ?, ?, ?, ?)",
                [(deploy_id, e.seq, e.at, e.kind, json.dumps(e.data)) for e in events],
            )
            db.executemany(
                "INSERT OR REPLACE INTO step_results (deploy_id, server, step, status,"
                " exit_status, started_at, finished_at, output) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [(deploy_id, *s.values()) for s in steps],
            )
            db.executemany(
                "INSERT OR REPLACE INTO server_results (deploy_id, server, status, detail,"
                " in_rotation, started_at, finished_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(deploy_id, *s.values()) for s in servers],
            )

    def events(self, deploy_id: int, after: int = 0) -> list[StoredEvent]:
        rows = self._db.execute(
            "SELECT seq, at, kind, data FROM events WHERE deploy_id = ? AND seq > ? ORDER BY seq",
            (deploy_id, after),
        )
        return [StoredEvent(r["seq"], r["at"], r["kind"], json.loads(r["data"])) for r in rows]

    def server_results(self, deploy_id: int) -> list[ServerResult]:
        rows = self._db.execute(
            "SELECT server, status, detail, in_rotation, started_at, finished_at"
            " FROM server_results WHERE deploy_id = ? ORDER BY started_at, server",
            (deploy_id,),
        )
        return [ServerResult.from_row(dict(row)) for row in rows]

    def step_results(self, deploy_id: int) -> list[StepResult]:
        rows = self._db.execute(
            "SELECT server, step, status, exit_status, started_at, finished_at, output"
            " FROM step_results WHERE deploy_id = ? ORDER BY started_at",
            (deploy_id,),
        )
        return [StepResult(**dict(row)) for row in rows]

    # lock -------------------------------------------------------------------------------

    def lock_holder(self, application: str) -> LockHolder | None:
        row = self._db.execute(
            "SELECT deploy_id, host, pid, since FROM locks WHERE application = ?", (application,)
        ).fetchone()
        return LockHolder(**dict(row)) if row else None

    def release_lock(self, application: str) -> LockHolder | None:
        with self.transaction() as db:
            holder = self.lock_holder(application)
            db.execute("DELETE FROM locks WHERE application = ?", (application,))
        return holder

    def _check_lock(self, db: sqlite3.Connection, application: str) -> None:
        holder = self.lock_holder(application)
        if holder is None:
            return
        if holder.alive():
            raise LockError(f"{application}: a deploy is already running ({holder.describe()})")
        db.execute("DELETE FROM locks WHERE application = ?", (application,))
        db.execute(
            "UPDATE deploys SET status = 'abandoned', finished_at = ? "
            "WHERE id = ? AND status = 'running'",
            (time.time(), holder.deploy_id),
        )

    # journal ----------------------------------------------------------------------------

    def journal(self, entry: JournalEntry) -> None:
        """Record a load balancer change before it is made ("intended") and after ("done")."""
        with self.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO journal (application, load_balancer, server, action,"
                " state, deploy_id, at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                entry.values(),
            )

    def journal_entries(self, application: str) -> list[JournalEntry]:
        rows = self._db.execute(
            "SELECT application, load_balancer, server, action, state, deploy_id, at"
            " FROM journal WHERE application = ? ORDER BY at",
            (application,),
        )
        return [JournalEntry(**dict(row)) for row in rows]
