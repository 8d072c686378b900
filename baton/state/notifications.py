"""Each deploy's notification deliveries: every attempt at every webhook."""

from __future__ import annotations

import dataclasses

from baton.state.database import Repository
from baton.state.records import NotificationAttempt
from baton.state.schema import NOTIFICATIONS_SINCE, current_version


class Notifications(Repository):
    def record_notification(self, deploy_id: int, attempt: NotificationAttempt) -> None:
        """Add one delivery attempt to the deploy's history."""

        def write() -> None:
            self._db.query(
                "INSERT INTO notifications (deploy_id, seq, at, target, message, attempt,"
                " outcome, detail) SELECT ?, COALESCE(MAX(seq), 0) + 1, ?, ?, ?, ?, ?, ?"
                " FROM notifications WHERE deploy_id = ?",
                (deploy_id, *dataclasses.astuple(attempt), deploy_id),
            )

        self._db.write(write)

    def notifications(self, deploy_id: int) -> list[NotificationAttempt]:
        if current_version(self._db) < NOTIFICATIONS_SINCE:  # read-only, not upgraded
            return []
        rows = self._db.query(
            "SELECT at, target, message, attempt, outcome, detail FROM notifications"
            " WHERE deploy_id = ? ORDER BY seq",
            (deploy_id,),
        )
        return [NotificationAttempt(**row) for row in rows]
