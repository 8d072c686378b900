"""Lock fencing (issue 21): a deploy frozen long enough for another to take over its lock must
find out at its next write, and never overwrite what the other recorded; and a lock holder
is judged by what its process really is (a zombie has ended, a stopped one is only frozen)."""

from __future__ import annotations

import contextlib
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import replace

import pytest

from baton import LockError
from baton._exceptions import LockLost
from baton.state import JournalEntry, LockHolder, ServerResult, Store
from baton.state.identity import process_start
from baton.state.records import STALE_AFTER

ELSEWHERE = {"pid_namespace": 4026530000, "pid": 2**22 + 99}
"""A holder in another container: judged by its heartbeat only."""


def _start(store: Store, version: str) -> int:
    holder = replace(LockHolder.this_process(), **ELSEWHERE)  # type: ignore[arg-type]
    return store.start_deploy("shop", version, "serial", {}, [], holder)


def _freeze(store: Store) -> None:
    """The holder's heartbeat stops: as seen from elsewhere, its deploy froze long ago."""
    then = time.time() - STALE_AFTER - 1
    store._db.query("UPDATE locks SET since = ?, heartbeat = ?", (then, then))


@pytest.fixture
def other(location: str) -> Iterator[Store]:
    """A second process's connection to the same state."""
    opened = Store(location)
    yield opened
    opened.close()


def test_each_deploy_that_takes_the_lock_gets_a_larger_token(store: Store, other: Store) -> None:
    tokens = []
    for version in ("v1", "v2", "v3"):
        deploy = _start(store, version)
        holder = store.lock_holder("shop")
        assert holder is not None and holder.deploy_id == deploy
        tokens.append(holder.token)
        if version == "v2":
            store.finish_deploy(deploy, "succeeded", "")  # released, not taken over
        else:
            _freeze(store)
    assert tokens == [1, 2, 3]
    _start(other, "v4")  # another connection (process) continues the same count
    holder = other.lock_holder("shop")
    assert holder is not None and holder.token == 4


def test_a_deploy_whose_lock_was_taken_over_writes_nothing_more(store: Store, other: Store) -> None:
    first = _start(store, "v1")
    _freeze(store)
    second = _start(other, "v2")
    lost = f"the lock of shop was taken over by deploy #{second}, pid "
    entry = JournalEntry("shop", "main", "web1", "remove", "intended", first, time.time())
    server = ServerResult("web1", "succeeded", "now serving v1", True, 1.0, 2.0)
    writes = {
        "heartbeat": lambda: store.heartbeat(first),
        "journal": lambda: store.journal(entry),
        "results": lambda: store.record(first, [], [], [server]),
        "end": lambda: store.finish_deploy(first, "succeeded", "all servers serve v1"),
    }
    for name, write in writes.items():
        with pytest.raises(LockLost, match=lost) as raised:
            write()
        assert "this deploy stopped without touching anything more" in str(raised.value), name
    assert [(d.id, d.status) for d in other.deploys("shop")] == [
        (second, "running"),
        (first, "abandoned"),
    ]
    assert store.server_results(first) == [] and store.journal_entries("shop") == []
    holder = other.lock_holder("shop")
    assert holder is not None and holder.deploy_id == second
    other.heartbeat(second)  # the holder's own writes go on
    other.finish_deploy(second, "succeeded", "")


def test_a_heartbeat_that_changes_no_row_means_the_lock_is_lost(store: Store, other: Store) -> None:
    first = _start(store, "v1")
    store.heartbeat(first)
    other.release_lock("shop")
    with pytest.raises(LockLost, match="released by another command"):
        store.heartbeat(first)


def test_a_finished_record_is_never_overwritten(store: Store, other: Store) -> None:
    """Even by a connection that never held the deploy's lock (an older baton's way)."""
    first = _start(store, "v1")
    _freeze(store)
    _start(other, "v2")
    other.finish_deploy(first, "succeeded", "late")
    record = other.deploy(first)
    assert record is not None and (record.status, record.summary) == ("abandoned", None)


@contextlib.contextmanager
def _child() -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen(["sleep", "60"])
    try:
        yield process
    finally:
        with contextlib.suppress(OSError):
            process.kill()
            process.send_signal(signal.SIGCONT)
        process.wait()


def _wait_for_state(pid: int, state: str) -> None:
    with open(f"/proc/{pid}/stat") as stat:
        while stat.read().rsplit(")", 1)[1].split()[0] != state:
            time.sleep(0.01)
            stat.seek(0)


def _holding(pid: int) -> LockHolder:
    started = process_start(pid)
    assert started is not None
    return replace(LockHolder.this_process(), deploy_id=7, pid=pid, started=started)


def test_a_zombie_holder_is_gone_and_its_lock_taken_over(store: Store) -> None:
    with _child() as child:
        holder = _holding(child.pid)
        assert holder.alive()
        deploy = store.start_deploy("shop", "v1", "serial", {}, [], holder)
        held = store.lock_holder("shop")
        assert held is not None and held.alive()
        child.kill()
        _wait_for_state(child.pid, "Z")  # not waited for: a zombie until then
        assert not held.alive(), "a zombie has ended, whatever its heartbeat says"
        _start(store, "v2")
        record = store.deploy(deploy)
        assert record is not None and record.status == "abandoned"


def test_a_stopped_holder_is_frozen_not_gone(store: Store) -> None:
    with _child() as child:
        holder = _holding(child.pid)
        store.start_deploy("shop", "v1", "serial", {}, [], holder)
        child.send_signal(signal.SIGSTOP)
        _wait_for_state(child.pid, "T")
        _freeze(store)
        held = store.lock_holder("shop")
        assert held is not None and held.alive()
        with pytest.raises(LockError, match=rf"pid {child.pid} on .*, frozen \(stopped\)\)$"):
            _start(store, "v2")
