"""What each deploy did: its event stream, and each server's and each step's result."""

from __future__ import annotations

import json
from typing import Any

from baton.state.database import Repository
from baton.state.lock import DeployLock
from baton.state.records import ServerResult, StepResult, StoredEvent


class Results(Repository):
    def record(
        self,
        deploy_id: int,
        events: list[StoredEvent],
        steps: list[StepResult],
        servers: list[ServerResult],
    ) -> None:
        """Write a batch of events and finished results in one transaction; LockLost when
        the deploy lost its lock (nothing is written)."""

        def write() -> None:
            DeployLock(self._db).require_lock(deploy_id)
            self._db.execute_many(
                "INSERT INTO events (deploy_id, seq, at, kind, data) VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT (deploy_id, seq) DO NOTHING",
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

        self._db.write(write)

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
        rows = self._db.query(sql, params)
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
