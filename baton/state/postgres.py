"""Shared state for a team: the same tables in PostgreSQL (psycopg 3, imported here only).

Every write transaction first takes one transaction-level advisory lock, which serializes
writers across processes and machines the way SQLite's ``BEGIN IMMEDIATE`` does on one
machine: a lock check and the insert that takes the lock can never interleave.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from baton._exceptions import StateError
from baton.state.database import Database, Row

WRITE_LOCK = 0x6261746F6E  # "baton": the advisory lock every write transaction holds
CONNECT_TIMEOUT = 10


class PostgresDatabase(Database):
    dialect = "postgresql"

    def __init__(self, url: str) -> None:
        self.location = _without_password(url)
        try:
            import psycopg
            from psycopg.rows import dict_row
        except ImportError:
            raise StateError(
                f"{self.location}: a PostgreSQL state needs psycopg: "
                "pip install 'baton[postgresql]'"
            ) from None
        try:
            self._db = psycopg.connect(
                url, autocommit=True, row_factory=dict_row, connect_timeout=CONNECT_TIMEOUT
            )
        except psycopg.Error as exc:
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise StateError(
                f"cannot reach the PostgreSQL state at {self.location}: {reason}"
            ) from None

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        cursor = self._db.execute(_placeholders(sql), tuple(params))
        return list(cursor.fetchall()) if cursor.description else []

    def execute_many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        rows = [tuple(row) for row in rows]
        if rows:
            with self._db.cursor() as cursor:
                cursor.executemany(_placeholders(sql), rows)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with self._db.transaction():
            self._db.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK,))
            yield

    def continue_ids(self, table: str) -> None:
        self._db.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
            f" (SELECT COALESCE(MAX(id), 0) + 1 FROM {table}), false)"
        )

    def close(self) -> None:
        self._db.close()


def _placeholders(sql: str) -> str:
    """The store's ``?`` placeholders as psycopg's ``%s`` (and a literal % doubled)."""
    return sql.replace("%", "%%").replace("?", "%s")


def _without_password(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    if parts.password is None:
        return url
    netloc = re.sub(r":[^@]*@", ":***@", parts.netloc, count=1)
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc))
