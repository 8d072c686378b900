"""The load balancer journal: each server's last change per load balancer, before and after."""

from __future__ import annotations

from baton.state.database import Repository
from baton.state.lock import DeployLock
from baton.state.records import JournalEntry


class BalancerJournal(Repository):
    """What baton did to each server on each load balancer, last change first to be read by
    recovery: a change "intended" and never "done" means a deploy died in the middle of it."""

    def journal(self, entry: JournalEntry) -> None:
        """Record a load balancer change before it is made ("intended") and after ("done");
        LockLost when the deploy lost its lock (nothing is written: the change is not made)."""

        def write() -> None:
            DeployLock(self._db).require_lock(entry.deploy_id)
            self._db.query(
                "INSERT INTO journal (application, load_balancer, server, action,"
                " state, deploy_id, at) VALUES (?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (application, load_balancer, server) DO UPDATE SET"
                " action = excluded.action, state = excluded.state,"
                " deploy_id = excluded.deploy_id, at = excluded.at",
                entry.values(),
            )

        self._db.write(write)

    def journal_entries(self, application: str) -> list[JournalEntry]:
        rows = self._db.query(
            "SELECT application, load_balancer, server, action, state, deploy_id, at"
            " FROM journal WHERE application = ? ORDER BY at",
            (application,),
        )
        return [JournalEntry(**row) for row in rows]
