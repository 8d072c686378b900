"""The embedded default: baton's state in one SQLite file (WAL, so readers never block).

What baton records (plans, step output) is private: the directory it creates is 0700 and the
database 0600 (SQLite gives its -wal and -shm files the database's mode). Opened read-only, for
commands that only look, nothing is created or changed, so they also work on a state directory
they cannot write to. A state directory or file another user owns or can write to is refused,
read-only too: that user's settings and lock would decide what baton does. Every SQLite error
is a one-line StateError naming the file and what to do.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

from baton._exceptions import StateError, StateWriteError
from baton.ownership import not_private, what_to_do
from baton.state.database import Database, Row

STATE_FILE = "baton.sqlite3"
WHAT_TO_DO = "or use --state (or $BATON_STATE)"
WRITE_FAILURES = ("database or disk is full", "disk I/O error")
"""Errors of a state that was fine but could not take a write: a deploy stops on them."""


class SQLiteDatabase(Database):
    dialect = "sqlite"

    def __init__(self, directory: Path, *, read_only: bool = False) -> None:
        self.path = directory / STATE_FILE
        self.location = str(directory)
        if directory.exists() and not directory.is_dir():
            raise StateError(
                f"the state directory {directory} is a file, not a directory: move it aside, "
                f"{WHAT_TO_DO}"
            )
        for path in (directory, *_files(self.path)):
            _require_private(path)
        # Read-only, a missing database is an empty one in memory, which the store may fill.
        self.writable = not read_only or not self.path.exists()
        try:
            self._db = _open_reading(self.path) if read_only else _open_writing(self.path)
        except (sqlite3.Error, OSError) as exc:
            raise self._error(exc) from None

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        with self._reporting():
            return [dict(row) for row in self._db.execute(sql, tuple(params))]

    def execute_many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        with self._reporting():
            self._db.executemany(sql, rows)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Taken IMMEDIATE: the write lock is held from the start, so checks stay true."""
        with self._reporting():
            self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                self._db.execute("ROLLBACK")
            raise
        with self._reporting():
            self._db.execute("COMMIT")

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def _reporting(self) -> Iterator[None]:
        try:
            yield
        except sqlite3.Error as exc:
            raise self._error(exc) from None

    def _error(self, error: BaseException) -> StateError:
        """One line naming the database, what is wrong and what to do."""
        path, text = self.path, str(error)
        if path.is_dir():
            return StateError(
                f"{path} is a directory, not baton's database: move it aside, {WHAT_TO_DO}"
            )
        if any(reason in text for reason in WRITE_FAILURES):
            return StateWriteError(f"cannot write baton's state {path}: {text}")
        if "not a database" in text or "malformed" in text:
            return StateError(
                f"{path} is damaged or not baton's database ({text}): move it aside (baton "
                f"starts a new one, without the history), {WHAT_TO_DO}"
            )
        if "readonly" in text or isinstance(error, PermissionError):
            return StateError(
                f"cannot write {path} ({text}): give this user write access to it, {WHAT_TO_DO}"
            )
        return StateError(f"cannot use the state database {path} ({text}); {WHAT_TO_DO}")


def _open_writing(path: Path) -> sqlite3.Connection:
    """The database, created (with its directory, 0700) when missing."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    _require_private(path.parent)  # made by someone else since it was first looked at
    if not os.access(path.parent, os.W_OK):
        raise StateError(
            f"the state directory {path.parent} is read-only: this command records state; "
            f"give this user write access to it, {WHAT_TO_DO}"
        )
    _private(path)
    db = _connect(str(path), uri=False)
    try:
        _wal(db)
        db.execute("PRAGMA synchronous=NORMAL")
    except sqlite3.Error:
        db.close()  # and with it the -wal and -shm files it made
        raise
    return db


def _wal(db: sqlite3.Connection, patience: float = 30.0) -> None:
    """Switch a new database to WAL. Two processes creating the state at the same moment
    race for the switch, and SQLite answers the loser "database is locked" at once, without
    its busy timeout: wait for the winner instead, as any other write would."""
    deadline = time.monotonic() + patience
    while True:
        try:
            db.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
            time.sleep(0.05)


def _open_reading(path: Path) -> sqlite3.Connection:
    """The database read-only; an empty one in memory when there is none yet."""
    if not path.exists():
        return _connect(":memory:", uri=False)
    db = _connect(f"file:{quote(str(path.absolute()))}?mode=ro", uri=True)
    try:
        db.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.Error as exc:
        db.close()
        if not isinstance(exc, sqlite3.OperationalError) or os.access(path.parent, os.W_OK):
            raise
        # Read-only WAL needs a -shm file it cannot create here; nobody can write here
        # either, so reading the file as it stands is safe.
        db = _connect(f"file:{quote(str(path.absolute()))}?immutable=1", uri=True)
    return db


def _private(path: Path) -> None:
    """Create the database file 0600, and make an existing one (and its WAL files) 0600."""
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    for file in _files(path):
        with contextlib.suppress(OSError):
            if file.stat().st_mode & 0o077:
                file.chmod(0o600)


def _files(path: Path) -> tuple[Path, Path, Path]:
    """The database and the WAL files SQLite keeps next to it."""
    return path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")


def _require_private(path: Path) -> None:
    """Refuse a state directory or file that another user owns or can write to: its settings
    and lock would decide what this deploy does, and that user could read what it records."""
    try:
        status = path.stat()
    except OSError:
        return  # missing (created private) or unusable (reported when opened)
    if reason := not_private(status):
        what = "the state directory" if path.is_dir() else "the state file"
        raise StateError(
            f"{what} {path} is {reason}: another user could change what baton does and read "
            f"what it records; {what_to_do(path, status)}, {WHAT_TO_DO}"
        )


def _connect(target: str, *, uri: bool) -> sqlite3.Connection:
    db = sqlite3.connect(target, timeout=30, isolation_level=None, check_same_thread=False, uri=uri)
    db.row_factory = sqlite3.Row
    return db
