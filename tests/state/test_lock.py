"""The deploy lock names its holder by more than hostname and pid: containers and CI runners
share hostnames, and a deploy in one must never take over the lock of a deploy running in
another (issue 20)."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
import time
from dataclasses import replace
from pathlib import Path

import pytest

from baton import LockError
from baton.state import LockHolder, Store
from baton.state.records import STALE_AFTER
from baton.state.schema import MIGRATIONS

GONE = 2**22 + 99
"""A pid above the kernel's largest: no process here has it."""


def _start(store: Store, holder: LockHolder, version: str = "v1") -> int:
    return store.start_deploy("shop", version, "serial", {}, [], holder)


def _age(store: Store, seconds: float) -> None:
    """Make the lock's last heartbeat ``seconds`` old."""
    then = time.time() - seconds
    store._db.query("UPDATE locks SET since = ?, heartbeat = ?", (then, then))


def elsewhere(**where: object) -> LockHolder:
    """A holder with this hostname and a pid this machine does not have, somewhere else."""
    return replace(LockHolder.this_process(), pid=GONE, **where)  # type: ignore[arg-type]


SAME_HOSTNAME_ELSEWHERE = {
    "another machine": {"machine_id": "0" * 32, "boot_id": "another-boot"},
    "another container": {"pid_namespace": 4026530000},
    "an older baton": {"machine_id": None, "boot_id": None, "pid_namespace": None, "started": None},
}


@pytest.mark.parametrize("where", SAME_HOSTNAME_ELSEWHERE.values(), ids=SAME_HOSTNAME_ELSEWHERE)
def test_a_fresh_heartbeat_from_elsewhere_is_never_taken_over(
    store: Store, where: dict[str, object]
) -> None:
    first = _start(store, elsewhere(**where))
    holder = store.lock_holder("shop")
    assert holder is not None and holder.alive()
    with pytest.raises(LockError, match=f"deploy #{first}"):
        _start(store, LockHolder.this_process(), "v2")
    record = store.deploy(first)
    assert record is not None and record.status == "running"


@pytest.mark.parametrize("where", SAME_HOSTNAME_ELSEWHERE.values(), ids=SAME_HOSTNAME_ELSEWHERE)
def test_a_stale_heartbeat_from_elsewhere_is_taken_over(
    store: Store, where: dict[str, object]
) -> None:
    first = _start(store, elsewhere(**where))
    _age(store, STALE_AFTER + 1)
    _start(store, LockHolder.this_process(), "v2")
    record = store.deploy(first)
    assert record is not None and record.status == "abandoned"


def test_a_holder_here_is_judged_by_its_process_not_its_heartbeat(store: Store) -> None:
    """Here, a deploy that died is taken over at once, and one that runs is never, however
    old its heartbeat (a pid given to a later process is a process that died)."""
    me = LockHolder.this_process()
    first = _start(store, me)
    _age(store, STALE_AFTER + 1)
    holder = store.lock_holder("shop")
    assert holder is not None and holder.whereabouts() == me.whereabouts()
    assert holder.alive(), "its process runs"
    assert me.started is not None
    assert not replace(holder, started=me.started - 1).alive(), "the pid is another process's"
    assert not replace(holder, pid=GONE).alive()
    store.release_deploy_lock(first)
    later = _start(store, replace(me, started=me.started - 1))  # the pid reused since
    _start(store, me, "v2")
    record = store.deploy(later)
    assert record is not None and record.status == "abandoned"


def test_a_lock_an_older_baton_recorded_is_read_and_judged_by_its_heartbeat(
    tmp_path: Path,
) -> None:
    """A lock in a state of schema version 4 (hostname and pid only), even read-only."""
    directory = tmp_path / "old"
    directory.mkdir(mode=0o700)
    old = sqlite3.connect(directory / "baton.sqlite3")
    for migration in MIGRATIONS[:4]:
        old.executescript(migration.replace("{id}", "INTEGER PRIMARY KEY AUTOINCREMENT"))
    old.execute("CREATE TABLE schema_version (one INTEGER PRIMARY KEY, version INTEGER)")
    old.execute("INSERT INTO schema_version VALUES (1, 4)")
    holder = LockHolder.this_process()
    old.execute(
        "INSERT INTO locks (application, deploy_id, host, pid, since, heartbeat)"
        " VALUES ('shop', 1, ?, ?, ?, ?)",
        (holder.host, GONE, time.time(), time.time()),
    )
    old.commit()
    old.close()
    looking = Store(directory, read_only=True)
    held = looking.lock_holder("shop")
    assert held is not None and (held.pid, held.machine_id, held.started) == (GONE, None, None)
    assert held.alive(), "a fresh heartbeat from a holder baton cannot identify"
    assert not held.alive(now=time.time() + STALE_AFTER + 1)
    looking.close()
    store = Store(directory)
    with pytest.raises(LockError, match=f"pid {GONE}"):
        _start(store, holder)


TRY_TO_DEPLOY = """
import sys
from baton import LockError
from baton.state import LockHolder, Store
try:
    Store(sys.argv[1]).start_deploy("shop", "v2", "serial", {}, [], LockHolder.this_process())
except LockError as exc:
    print(exc)
    sys.exit(3)
"""


def test_a_deploy_in_another_pid_namespace_does_not_take_over_a_running_one(
    tmp_path: Path,
) -> None:
    """A real second process, with this hostname, in a pid namespace of its own (where this
    process's pid does not exist) finds the lock held and leaves it."""
    store = Store(tmp_path / "state")
    first = _start(store, LockHolder.this_process())
    command = [sys.executable, "-c", textwrap.dedent(TRY_TO_DEPLOY), str(tmp_path / "state")]
    other = subprocess.run(
        ["unshare", "--pid", "--fork", "--mount-proc", *command],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert other.returncode == 3, other.stderr
    assert f"deploy #{first}" in other.stdout
    record = store.deploy(first)
    assert record is not None and record.status == "running"


def test_without_a_machine_id_a_dead_holder_here_is_still_taken_over_at_once(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Many containers have no /etc/machine-id: the boot id and the pid namespace still say
    the holder ran here, so a deploy killed there is not waited for."""
    from baton.state import identity, records

    container = identity.here()._replace(machine_id=None)
    monkeypatch.setattr(records, "here", lambda: container)
    killed = _start(store, elsewhere(machine_id=None))
    _start(store, replace(LockHolder.this_process(), machine_id=None), "v2")
    record = store.deploy(killed)
    assert record is not None and record.status == "abandoned"
