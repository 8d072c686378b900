"""Notification attempts in the deploy's history, on both backends; a read-only state from
before they were recorded reads as having none."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from baton.state import LockHolder, NotificationAttempt, Store


def attempt(n: int, outcome: str) -> NotificationAttempt:
    return NotificationAttempt(float(n), "https://hooks.example/…", "started", n, outcome, "x")


def test_attempts_are_kept_in_order_per_deploy(store: Store) -> None:
    first = store.start_deploy("shop", "v1", "serial", {}, [], LockHolder(0, "h", 1))
    store.finish_deploy(first, "succeeded", "")
    second = store.start_deploy("shop", "v2", "serial", {}, [], LockHolder(0, "h", 1))
    for n, outcome in enumerate(("retrying", "retrying", "delivered"), 1):
        store.record_notification(first, attempt(n, outcome))
    store.record_notification(second, attempt(1, "gave up"))
    assert [a.outcome for a in store.notifications(first)] == ["retrying", "retrying", "delivered"]
    assert store.notifications(second) == [attempt(1, "gave up")]


def test_a_read_only_state_of_an_older_schema_has_no_attempts(tmp_path: Path) -> None:
    Store(tmp_path).close()
    with sqlite3.connect(tmp_path / "baton.sqlite3") as db:  # as baton before version 3 left it
        db.execute("DROP TABLE notifications")
        db.execute("UPDATE schema_version SET version = 2")
    assert Store(tmp_path, read_only=True).notifications(1) == []
