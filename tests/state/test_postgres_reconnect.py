"""A PostgreSQL state whose connection breaks (a restart, a failover, an administrator
terminating it) is opened again, and the write done whole; an error of the server's own is
reported at once, in one line (issue 21)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import psycopg
import pytest

from baton import StateError
from baton.state import JournalEntry, LockHolder, Store
from baton.state import postgres as backend


@pytest.fixture
def shared(postgres_url: str) -> Iterator[Store]:
    opened = Store(postgres_url)
    yield opened
    opened.close()


def _terminate(url: str, store: Store) -> None:
    """End ``store``'s connection from the server side, as a restart does."""
    (row,) = store._db.query("SELECT pg_backend_pid() AS pid")
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (row["pid"],))


def test_a_terminated_connection_is_opened_again_and_the_write_done(
    shared: Store, postgres_url: str
) -> None:
    deploy = shared.start_deploy("shop", "v1", "serial", {}, [], LockHolder.this_process())
    _terminate(postgres_url, shared)
    entry = JournalEntry("shop", "main", "web1", "remove", "intended", deploy, time.time())
    shared.journal(entry)  # a whole transaction, tried again on a new connection
    _terminate(postgres_url, shared)
    shared.heartbeat(deploy)  # a statement, and the fence's check before it
    _terminate(postgres_url, shared)
    shared.finish_deploy(deploy, "succeeded", "done")
    assert shared.journal_entries("shop") == [entry]
    record = shared.deploy(deploy)
    assert record is not None and record.status == "succeeded"


def test_an_error_of_the_server_is_not_waited_out(
    shared: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    def waited(seconds: float) -> None:
        raise AssertionError("tried again on a connection that works")

    monkeypatch.setattr(backend.time, "sleep", waited)
    shared._db.query("SET statement_timeout = 20")
    with pytest.raises(StateError, match=r"failed: canceling statement due to statement timeout"):
        shared._db.query("SELECT pg_sleep(1)")
