"""The settings of each application, and the load balancer values its deploys applied."""

from __future__ import annotations

import time

from baton.state.database import Repository
from baton.state.records import AppliedValue


class StoredSettings(Repository):
    """``baton settings``: each application's settings, as text by key."""

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


class AppliedValues(Repository):
    """The load balancer configuration values deploys applied: each stays until set to 0."""

    def applied_values(self, application: str) -> list[AppliedValue]:
        rows = self._db.query(
            "SELECT load_balancer, key, value, deploy_id, applied_at FROM lb_values"
            " WHERE application = ? ORDER BY load_balancer, key",
            (application,),
        )
        return [AppliedValue(**row) for row in rows]

    def apply_value(self, application: str, deploy_id: int, lb: str, key: str, value: str) -> None:
        """Record that deploy ``deploy_id`` applied ``value`` (in the caller's transaction);
        "0" or "" clears the key."""
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
