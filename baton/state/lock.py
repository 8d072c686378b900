"""Each application's deploy lock: who holds it, its heartbeat, taking over a dead holder's."""

from __future__ import annotations

import time

from baton._exceptions import LockError
from baton.state.database import Repository
from baton.state.records import LockHolder
from baton.state.schema import HEARTBEAT_SINCE, HOLDER_IDENTITY_SINCE, current_version


class DeployLock(Repository):
    """One row per application whose deploy is running (or whose process died holding it)."""

    def lock_holder(self, application: str) -> LockHolder | None:
        rows = self._db.query(
            f"SELECT {', '.join(self._holder_columns())} FROM locks WHERE application = ?",
            (application,),
        )
        return LockHolder(**rows[0]) if rows else None

    def _holder_columns(self) -> list[str]:
        """What the lock table says about a holder: a state opened read-only may be older."""
        version = current_version(self._db)
        columns = ["deploy_id", "host", "pid", "since"]
        if version >= HEARTBEAT_SINCE:
            columns.append("heartbeat")
        if version >= HOLDER_IDENTITY_SINCE:
            columns += ["machine_id", "boot_id", "pid_namespace", "started"]
        return columns

    def heartbeat(self, deploy_id: int) -> None:
        """Say the deploy holding a lock is alive: how a holder this machine cannot check (on
        another machine, in another container) is judged."""
        self._db.query(
            "UPDATE locks SET heartbeat = ? WHERE deploy_id = ?", (time.time(), deploy_id)
        )

    def release_lock(self, application: str) -> LockHolder | None:
        with self._db.transaction():
            holder = self.lock_holder(application)
            self._db.query("DELETE FROM locks WHERE application = ?", (application,))
        return holder

    def release_deploy_lock(self, deploy_id: int) -> None:
        """Release the lock ``deploy_id`` holds (when its record could not be finished)."""
        with self._db.transaction():
            self.release(deploy_id)

    def take(self, application: str, deploy_id: int, holder: LockHolder, now: float) -> None:
        """Hold the lock for ``deploy_id`` (in the caller's transaction, after
        :meth:`take_over`)."""
        taken = (application, deploy_id, holder.host, holder.pid, now, now)
        self._db.query(
            "INSERT INTO locks (application, deploy_id, host, pid, since, heartbeat, machine_id,"
            " boot_id, pid_namespace, started) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (*taken, *holder.whereabouts(), holder.started),
        )

    def take_over(self, application: str) -> None:
        """Raise if a live deploy holds the lock; else drop a dead holder's lock. In the
        caller's transaction."""
        holder = self.lock_holder(application)
        if holder is not None and holder.alive():
            raise LockError(f"{application}: a deploy is already running ({holder.describe()})")
        self._db.query("DELETE FROM locks WHERE application = ?", (application,))

    def release(self, deploy_id: int) -> None:
        """Release the lock ``deploy_id`` holds, in the caller's transaction."""
        self._db.query("DELETE FROM locks WHERE deploy_id = ?", (deploy_id,))
