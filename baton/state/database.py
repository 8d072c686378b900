"""The one interface the store talks SQL through, whatever holds the state.

:class:`baton.state.store.Store` writes portable SQL with ``?`` placeholders; each backend
(one module each: :mod:`baton.state.sqlite`, :mod:`baton.state.postgres`) runs it, returns rows
as dictionaries and makes a write transaction exclusive, so two processes never interleave
their writes (the deploy lock relies on it).
"""

from __future__ import annotations

import abc
import functools
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, TypeVar

from baton.state.records import Fence

Row = dict[str, Any]
_T = TypeVar("_T")


class Database(abc.ABC):
    """A connection to baton's state."""

    dialect: str
    """"sqlite" or "postgresql": the schema's few differences are keyed by it."""

    location: str
    """Where the state is, as the operator named it (a path, or a URL without password)."""

    writable: bool = True
    """False for a state opened read-only: the store then does not upgrade its schema."""

    @functools.cached_property
    def fences(self) -> dict[int, Fence]:
        """The fence of each deploy that took its lock over this connection, by deploy id
        (:mod:`baton.state.lock`): the writes of those deploys are checked against it."""
        return {}

    @abc.abstractmethod
    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """Run one statement and return its rows (none for a statement without rows)."""

    @abc.abstractmethod
    def execute_many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """Run one statement once per row of parameters."""

    @abc.abstractmethod
    def transaction(self) -> AbstractContextManager[None]:
        """An exclusive write transaction: committed on success, rolled back on any error."""

    def write(self, body: Callable[[], _T]) -> _T:
        """``body`` in a write transaction, for the writes a deploy makes as it runs: a
        backend whose connection can break (PostgreSQL) runs it again on a new one."""
        with self.transaction():
            return body()

    def continue_ids(self, table: str) -> None:  # noqa: B027 - only PostgreSQL needs it
        """After rows were inserted with their ids, make new ids follow the largest."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release the connection."""


class Repository:
    """One kind of record over a :class:`Database`: the one class that writes its SQL.

    :class:`baton.state.store.Store` is every repository at once, over one connection; a
    repository can also be opened alone over the same database (as one needs another's)."""

    def __init__(self, db: Database) -> None:
        self._db = db


def is_url(location: str | Path) -> bool:
    """True for a PostgreSQL URL; anything else names an SQLite state directory."""
    return str(location).startswith(("postgresql://", "postgres://"))
