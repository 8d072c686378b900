"""Shared state for a team: the same tables in PostgreSQL (psycopg 3, imported here only).

Every write transaction first takes one transaction-level advisory lock, which serializes
writers across processes and machines the way SQLite's ``BEGIN IMMEDIATE`` does on one
machine: a lock check and the insert that takes the lock can never interleave.

A server restarts, a failover moves it, a network blips: when the connection is lost, a
statement, or a whole write (:meth:`PostgresDatabase.write`), is tried again on a new
connection for RECONNECT_FOR seconds before it fails with a StateWriteError (a deploy then
stops as on a full disk). Once that happened, later statements try one reconnection each
instead of waiting again, until one gets through.
"""

from __future__ import annotations

import re
import time
import urllib.parse
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from baton._exceptions import StateError, StateWriteError
from baton.state.database import Database, Row
from baton.withheld import withhold

if TYPE_CHECKING:
    import psycopg

WRITE_LOCK = 0x6261746F6E  # "baton": the advisory lock every write transaction holds
CONNECT_TIMEOUT = 10
RECONNECT_FOR = 10.0
"""Seconds a statement or write waits for a lost PostgreSQL connection to come back."""
RECONNECT_PAUSE = 0.5
_T = TypeVar("_T")


class ConnectionLost(StateWriteError):
    """The connection to the PostgreSQL state broke, and could not be opened again."""


URL_FORM = "postgresql://USER@HOST:PORT/DATABASE (an IPv6 address in brackets: [::1])"


class PostgresDatabase(Database):
    dialect = "postgresql"

    def __init__(self, url: str) -> None:
        self.location = redacted(url)
        withhold(*_passwords(url))  # masked in every deploy's text, as the manifest's secrets
        try:
            import psycopg
            from psycopg.conninfo import conninfo_to_dict
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
        self._url, self._depth, self._down = url, 0, False
        try:
            self._db = self._connect()
        except psycopg.Error as exc:
            raise StateError(
                f"cannot reach the PostgreSQL state at {self.location}: {_reason(exc, url)}"
            ) from None

    def _connect(self) -> psycopg.Connection[Row]:
        import psycopg
        from psycopg.rows import dict_row

        return psycopg.connect(
            self._url, autocommit=True, row_factory=dict_row, connect_timeout=CONNECT_TIMEOUT
        )

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        def run() -> list[Row]:
            cursor = self._connection().execute(_placeholders(sql), tuple(params))
            return list(cursor.fetchall()) if cursor.description else []

        return self._patiently(run)

    def execute_many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        rows = [tuple(row) for row in rows]

        def run() -> None:
            with self._connection().cursor() as cursor:
                cursor.executemany(_placeholders(sql), rows)

        if rows:
            self._patiently(run)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """A write transaction; ConnectionLost when the connection breaks in it (its body
        cannot be run again from here: :meth:`write` can)."""
        import psycopg

        connection = self._connection()
        try:
            with connection.transaction():
                self._depth += 1
                try:
                    connection.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK,))
                    yield
                finally:
                    self._depth -= 1
        except psycopg.OperationalError as exc:
            raise self._failure(exc) from None

    def write(self, body: Callable[[], _T]) -> _T:
        """``body`` in a write transaction, run again whole on a new connection when the
        connection broke, for RECONNECT_FOR seconds."""

        def once() -> _T:
            with self.transaction():
                return body()

        return self._patiently(once)

    def _patiently(self, operation: Callable[[], _T]) -> _T:
        """Run ``operation``; when the connection was lost, again on a new one until
        RECONNECT_FOR seconds have passed (one try only once that failed: it is down). In a
        transaction, once: the transaction is what is tried again."""
        import psycopg

        if self._depth:
            try:
                return operation()
            except psycopg.OperationalError as exc:
                raise self._failure(exc) from None
        deadline = time.monotonic() + (0.0 if self._down else RECONNECT_FOR)
        while True:
            try:
                result = operation()
            except psycopg.OperationalError as exc:
                failure = self._failure(exc)
            except ConnectionLost as lost:
                failure = lost
            else:
                self._down = False
                return result
            if not isinstance(failure, ConnectionLost):
                raise failure  # the server answered: trying again changes nothing
            if time.monotonic() >= deadline:
                self._down = True
                raise failure
            time.sleep(RECONNECT_PAUSE)

    def _connection(self) -> psycopg.Connection[Row]:
        """The connection, opened again when it was lost (one try)."""
        import psycopg

        if self._db.closed or self._db.broken:
            try:
                self._db = self._connect()
            except psycopg.OperationalError as exc:
                raise self._failure(exc) from None
        return self._db

    def _failure(self, error: Exception) -> StateError:
        """A lost connection as ConnectionLost; any other error as one line naming the state."""
        reason = _reason(error, self._url)
        if self._db.closed or self._db.broken or isinstance(error, ConnectionLost):
            return ConnectionLost(
                f"lost the connection to the PostgreSQL state at {self.location} (tried again "
                f"for {RECONNECT_FOR:g}s): {reason}"
            )
        return StateError(f"the PostgreSQL state at {self.location} failed: {reason}")

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
