"""Each application's deploy lock: who holds it, its heartbeat, taking over a dead holder's,
and the fencing token that tells a deploy it lost its lock.

A deploy frozen (SIGSTOP, a suspended VM) past STALE_AFTER on a machine the next deploy
cannot look at is taken over; when it resumes it must find out before it writes or touches
anything. So each lock carries a token that grows with each deploy that takes the lock, and
the connection that took it remembers it (a :class:`~baton.state.records.Fence`): every
write of the deploy (events, results, journal, heartbeat, its end) first checks that the lock
still carries that token, and raises LockLost when it does not.
"""

from __future__ import annotations

import time

from baton._exceptions import LockError, LockLost
from baton.state.database import Repository
from baton.state.records import Fence, LockHolder
from baton.state.schema import (
    FENCING_SINCE,
    HEARTBEAT_SINCE,
    HOLDER_IDENTITY_SINCE,
    current_version,
)

NEXT_TOKEN = (
    "INSERT INTO lock_tokens (application, token) VALUES (?, 1) ON CONFLICT (application)"
    " DO UPDATE SET token = lock_tokens.token + 1 RETURNING token"
)


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
        if version >= FENCING_SINCE:
            columns.append("token")
        return columns

    def heartbeat(self, deploy_id: int) -> None:
        """Say the deploy holding a lock is alive: how a holder this machine cannot check (on
        another machine, in another container) is judged. Raises LockLost when the deploy no
        longer holds its lock (the update changed no row)."""
        self.require_lock(deploy_id)
        beaten = self._db.query(
            "UPDATE locks SET heartbeat = ? WHERE deploy_id = ? RETURNING deploy_id",
            (time.time(), deploy_id),
        )
        fence = self._db.fences.get(deploy_id)
        if not beaten and fence is not None:
            raise self._lost(fence, deploy_id)

    def require_lock(self, deploy_id: int) -> None:
        """Raise LockLost unless the lock ``deploy_id`` took over this connection still carries
        its token (a deploy this connection did not start is not checked)."""
        fence = self._db.fences.get(deploy_id)
        if fence is None:
            return
        if fence.lost is None:
            rows = self._db.query(
                "SELECT token FROM locks WHERE application = ? AND deploy_id = ?",
                (fence.application, deploy_id),
            )
            if rows and rows[0]["token"] == fence.token:
                return
        raise self._lost(fence, deploy_id)

    def _lost(self, fence: Fence, deploy_id: int) -> LockLost:
        """The lock is lost for good: say who holds it now."""
        if fence.lost is None:
            who = self._taken_by(fence.application, deploy_id)
            fence.lost = (
                f"the lock of {fence.application} was {who}; this deploy stopped without "
                "touching anything more"
            )
        return LockLost(fence.lost)

    def _taken_by(self, application: str, deploy_id: int) -> str:
        """Who took the lock: its holder, else the next deploy (which took it and ended)."""
        holder = self.lock_holder(application)
        if holder is not None:
            return f"taken over by {holder.describe()}"
        later = self._db.query(
            "SELECT id, status FROM deploys WHERE application = ? AND id > ? ORDER BY id LIMIT 1",
            (application, deploy_id),
        )
        if later:
            return f"taken over by deploy #{later[0]['id']} (which has since {later[0]['status']})"
        return "released by another command (baton lock release)"

    def release_lock(self, application: str) -> LockHolder | None:
        with self._db.transaction():
            holder = self.lock_holder(application)
            self._db.query("DELETE FROM locks WHERE application = ?", (application,))
        return holder

    def release_deploy_lock(self, deploy_id: int) -> None:
        """Release the lock ``deploy_id`` holds (when its record could not be finished)."""

        def release() -> None:
            self.release(deploy_id)

        self._db.write(release)
        self._db.fences.pop(deploy_id, None)

    def take(self, application: str, deploy_id: int, holder: LockHolder, now: float) -> None:
        """Hold the lock for ``deploy_id`` with the application's next token (in the caller's
        transaction, after :meth:`take_over`); this connection remembers it."""
        (row,) = self._db.query(NEXT_TOKEN, (application,))
        token = int(row["token"])
        taken = (application, deploy_id, holder.host, holder.pid, now, now)
        self._db.query(
            "INSERT INTO locks (application, deploy_id, host, pid, since, heartbeat, machine_id,"
            " boot_id, pid_namespace, started, token) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (*taken, *holder.whereabouts(), holder.started, token),
        )
        self._db.fences[deploy_id] = Fence(application, token)

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
