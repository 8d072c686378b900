"""The state store: what front ends open, every kind of record over one connection.

Each kind of record is a repository owning its SQL: settings and applied load balancer values
(:mod:`~baton.state.settings`), deploys (:mod:`~baton.state.deploys`), their events and results
(:mod:`~baton.state.results`), the deploy lock (:mod:`~baton.state.lock`), the load balancer
journal (:mod:`~baton.state.journal`), notifications and profiles. Where they live is a
backend behind one small interface (:mod:`baton.state.database`): one SQLite file by default,
or a PostgreSQL database a team shares (``--state postgresql://...``). The SQL is written
once, portable to both.
"""

from __future__ import annotations

import os
from pathlib import Path

from baton._exceptions import StateError
from baton.state.database import Database, Repository, is_url
from baton.state.deploys import Deploys
from baton.state.journal import BalancerJournal
from baton.state.lock import DeployLock
from baton.state.notifications import Notifications
from baton.state.profiles import Profiles
from baton.state.results import Results
from baton.state.schema import upgrade
from baton.state.settings import AppliedValues, StoredSettings

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


class Store(
    StoredSettings,
    AppliedValues,
    Deploys,
    Results,
    DeployLock,
    BalancerJournal,
    Notifications,
    Profiles,
):
    """baton's state at ``location`` (a directory for SQLite, or a PostgreSQL URL): every
    repository at once, over one connection.

    ``read_only`` is for commands that only look: an SQLite state is then neither created nor
    upgraded, so they work where baton may not write (a missing one reads as empty).
    """

    def __init__(self, location: str | Path, *, read_only: bool = False) -> None:
        db = open_database(location, read_only=read_only)
        Repository.__init__(self, db)
        self.location = db.location
        if db.writable:
            upgrade(db)

    @classmethod
    def empty(cls) -> Store:
        """A state that holds nothing, in memory: what there is before the first deploy, for
        a command that only looks (an SQLite state read-only where there is none is empty)."""
        return cls(EMPTY, read_only=True)

    def close(self) -> None:
        self._db.close()

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
