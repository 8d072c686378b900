"""Deploy profiles: named sets of one-off deploy options (``baton profile``)."""

from __future__ import annotations

import json
import time
from typing import Any

from baton.state.database import Repository


class Profiles(Repository):
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
