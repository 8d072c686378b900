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
from baton.withheld import withhold

WRITE_LOCK = 0x6261746F6E  # "baton": the advisory lock every write transaction holds
CONNECT_TIMEOUT = 10
URL_FORM = "postgresql://USER@HOST:PORT/DATABASE (an IPv6 address in brackets: [::1])"


class PostgresDatabase(Database):
    dialect = "postgresql"

    def __init__(self, url: str) -> None:
        self.location = redacted(url)
        withhold(*_passwords(url))  # masked in every deploy's text, as the manifest's secrets
        try:
            import psycopg
            from psycopg.conninfo import conninfo_to_dict
            from psycopg.rows import dict_row
        except ImportError:
            raise StateError(
                f"{self.location}: a PostgreSQL state needs psycopg: "
                "pip install 'baton[postgresql]'"
            ) from None
        try:
            conninfo_to_dict(url)
        except psycopg.Error as exc:
            raise StateError(
                f"{self.location} is not a valid PostgreSQL URL ({_reason(exc, url)}); "
                f"write it as {URL_FORM}"
            ) from None
        try:
            self._db = psycopg.connect(
                url, autocommit=True, row_factory=dict_row, connect_timeout=CONNECT_TIMEOUT
            )
        except psycopg.Error as exc:
            raise StateError(
                f"cannot reach the PostgreSQL state at {self.location}: {_reason(exc, url)}"
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


def redacted(url: str) -> str:
    """The URL as baton shows it: a password, in the user part or the query string, as ***.
    Never raises, whatever the URL: a malformed one is reported with it."""
    scheme, user, address, query = _parts(url)
    if ":" in user:
        user = user.split(":", 1)[0] + ":***@"
    if query:
        query = "&".join(_redact_parameter(pair) for pair in query.split("&"))
    return f"{scheme}{user}{address}{query}"


def _parts(url: str) -> tuple[str, str, str, str]:
    """Scheme, user part, address (host, port, database) and query. The user part is the
    longer of what libpq takes (to the first @ before any /) and what a reader would (to the
    last @ before the query), so a password is masked however it is mistyped."""
    scheme = _SCHEME.match(url)
    if scheme is None:
        return "", "", url, ""
    rest = url[scheme.end() :]
    libpq = re.match(r"[^@/]*@", rest)
    reader = rest.partition("?")[0].rpartition("@")
    user = max(libpq.group() if libpq else "", reader[0] + reader[1], key=len)
    address, mark, query = rest[len(user) :].partition("?")
    return scheme.group(), user, address, mark + query


def _redact_parameter(pair: str) -> str:
    key, equals, _ = pair.partition("=")
    return f"{key}=***" if equals and _is_password(key) else pair


def _is_password(key: str) -> bool:
    """libpq percent-decodes a query key too: ``pass%77ord`` is the password."""
    return urllib.parse.unquote(key.lstrip("?")) == "password"


def _passwords(url: str) -> set[str]:
    """Each password in the URL, as written and percent-decoded: what libpq may echo (when
    libpq's user part is shorter than :func:`_parts`', its password is a part of this one)."""
    _, user, _, query = _parts(url)
    found = [user[:-1].split(":", 1)[1]] if ":" in user else []
    if libpq := re.match(r"[^@/]*:([^@/]*)@", url.partition("://")[2]):
        found.append(libpq.group(1))
    for pair in query.split("&"):
        key, equals, value = pair.partition("=")
        if equals and _is_password(key):
            found.append(value)
    return {text for raw in found for text in (raw, urllib.parse.unquote(raw)) if text}


def _reason(error: Exception, url: str) -> str:
    """libpq's first line of ``error``, with any password it echoes (it quotes a malformed
    one, and a URL it cannot split) masked."""
    text = str(error).strip()
    reason = text.splitlines()[0] if text else type(error).__name__
    for password in sorted(_passwords(url), key=len, reverse=True):
        reason = reason.replace(password, "***")
    return reason


_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")
