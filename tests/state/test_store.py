"""The store's behaviour, the same on SQLite and PostgreSQL (see conftest.py)."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import pytest

from baton import LockError, StateError
from baton.state import JournalEntry, LockHolder, ServerResult, StepResult, Store, StoredEvent
from baton.state.records import STALE_AFTER
from baton.state.schema import MIGRATIONS, current_version


def _start(store: Store, app: str = "shop", version: str = "v1", **kwargs: object) -> int:
    holder = kwargs.pop("holder", LockHolder.this_process())
    values = kwargs.pop("values", ())
    return store.start_deploy(app, version, "serial", {"waves": []}, values, holder)  # type: ignore[arg-type]


def test_settings_round_trip_and_overwrite(store: Store) -> None:
    store.set_setting("shop", "deploy.parallel", "true")
    store.set_setting("shop", "deploy.parallel", "false")
    store.set_setting("other", "deploy.parallel", "true")
    assert store.settings("shop") == {"deploy.parallel": "false"}


def test_a_deploy_takes_the_lock_and_finishing_releases_it(store: Store) -> None:
    first = _start(store)
    assert store.lock_holder("shop") is not None
    with pytest.raises(LockError, match=f"deploy #{first}"):
        _start(store)
    store.finish_deploy(first, "succeeded", "all good")
    second = _start(store, version="v2")
    assert second > first
    record = store.deploy(first)
    assert record is not None and (record.status, record.summary) == ("succeeded", "all good")
    assert [d.version for d in store.deploys("shop")] == ["v2", "v1"]


def test_applied_values_stick_until_set_to_zero(store: Store) -> None:
    deploy = _start(store, values=[("main", "wait_after_adding_servers", "5")])
    store.finish_deploy(deploy, "succeeded", "")
    deploy = _start(store, values=[])
    store.finish_deploy(deploy, "succeeded", "")
    assert [(v.key, v.value) for v in store.applied_values("shop")] == [
        ("wait_after_adding_servers", "5")
    ]
    deploy = _start(store, values=[("main", "wait_after_adding_servers", "0")])
    assert store.applied_values("shop") == []


def test_results_events_and_the_version_each_server_runs(store: Store) -> None:
    deploy = _start(store)
    events = [StoredEvent(1, time.time(), "StepOutput", {"line": "100% done ?"})]
    running = StepResult("web1", "fetch", "running", None, 1.0, None, "")
    done = StepResult("web1", "fetch", "succeeded", 0, 1.0, 2.0, "ok")
    store.record(deploy, events, [running], [])
    store.record(deploy, [], [done], [ServerResult("web1", "succeeded", "", True, 1.0, 3.0)])
    store.finish_deploy(deploy, "succeeded", "")
    assert store.events(deploy) == events
    assert store.events(deploy, after=1) == []
    assert store.step_results(deploy) == [done]
    assert store.server_results(deploy)[0].in_rotation is True
    assert store.last_success_per_server("shop")["web1"].version == "v1"
    assert store.last_successful("shop") is not None


def test_the_journal_keeps_the_last_change_per_server(store: Store) -> None:
    store.journal(JournalEntry("shop", "main", "web1", "remove", "intended", 1, 1.0))
    store.journal(JournalEntry("shop", "main", "web1", "remove", "done", 1, 2.0))
    assert [(e.action, e.state) for e in store.journal_entries("shop")] == [("remove", "done")]


def test_a_dead_holder_on_this_host_is_taken_over_and_its_deploy_abandoned(store: Store) -> None:
    dead = replace(LockHolder.this_process(), pid=2**22 + 12345)
    stale = _start(store, holder=dead)
    _start(store, version="v2")
    record = store.deploy(stale)
    assert record is not None and record.status == "abandoned"


def test_a_holder_on_another_host_is_judged_by_its_heartbeat(store: Store) -> None:
    remote = LockHolder(deploy_id=0, host="ci-runner-7", pid=1)
    deploy = _start(store, holder=remote)
    holder = store.lock_holder("shop")
    assert holder is not None and holder.alive()
    with pytest.raises(LockError, match="on ci-runner-7"):
        _start(store)
    assert not holder.alive(now=time.time() + STALE_AFTER + 1)
    store.heartbeat(deploy)
    beaten = store.lock_holder("shop")
    assert beaten is not None and beaten.heartbeat is not None
    assert beaten.heartbeat >= holder.since


def test_profiles_are_saved_replaced_listed_and_deleted(store: Store) -> None:
    store.save_profile("shop", "hotfix", {"strategy": "parallel"})
    store.save_profile("shop", "hotfix", {"strategy": "parallel", "run_migrations": False})
    store.save_profile("shop", "calm", {"strategy": "serial"})
    assert store.profiles("shop") == {
        "calm": {"strategy": "serial"},
        "hotfix": {"run_migrations": False, "strategy": "parallel"},
    }
    assert store.delete_profile("shop", "calm")
    assert not store.delete_profile("shop", "calm")
    assert list(store.profiles("shop")) == ["hotfix"]


def test_the_schema_is_versioned_and_reopening_changes_nothing(location: str) -> None:
    first = Store(location)
    deploy = _start(first)
    first.close()
    again = Store(location)
    assert current_version(again._db) == len(MIGRATIONS)
    assert again.deploy(deploy) is not None
    again.close()


def test_a_state_newer_than_this_baton_is_refused(location: str) -> None:
    store = Store(location)
    store._db.query("UPDATE schema_version SET version = ?", (len(MIGRATIONS) + 1,))
    store.close()
    with pytest.raises(StateError, match="newer than this baton knows"):
        Store(location)


def test_copy_moves_history_settings_values_journal_and_profiles(
    tmp_path: Path, postgres_url: str
) -> None:
    source = Store(tmp_path / "laptop")
    source.set_setting("shop", "deploy.parallel", "true")
    first = _start(source, values=[("main", "wait_after_removing_servers", "3")])
    source.record(first, [StoredEvent(1, 1.0, "DeployStarted", {})], [], [])
    source.finish_deploy(first, "succeeded", "ok")
    source.journal(JournalEntry("shop", "main", "web1", "add", "done", first, 2.0))
    source.save_profile("shop", "hotfix", {"strategy": "parallel"})
    running = _start(source, version="v2")
    shared = Store(postgres_url)

    copied = source.copy_into(shared)

    assert copied["deploys"] == 2 and copied["events"] == 1
    assert [d.version for d in shared.deploys("shop")] == ["v2", "v1"]
    assert shared.settings("shop") == {"deploy.parallel": "true"}
    assert [v.deploy_id for v in shared.applied_values("shop")] == [first]
    assert shared.profiles("shop") == {"hotfix": {"strategy": "parallel"}}
    assert shared.lock_holder("shop") is None, "a live lock is not copied"
    shared.finish_deploy(running, "failed", "")
    assert _start(shared, version="v3") == running + 1, "new ids follow the copied ones"
    with pytest.raises(StateError, match="already holds deploys"):
        source.copy_into(shared)


def test_an_old_sqlite_state_is_upgraded_in_place(tmp_path: Path) -> None:
    import sqlite3

    directory = tmp_path / "old"
    directory.mkdir()
    old = sqlite3.connect(directory / "baton.sqlite3")
    old.executescript(MIGRATIONS[0].replace("{id}", "INTEGER PRIMARY KEY AUTOINCREMENT"))
    old.execute(
        "INSERT INTO deploys (application, version, strategy, status, started_at, plan)"
        " VALUES ('shop', 'v0', 'serial', 'succeeded', 1.0, '{}')"
    )
    old.commit()
    old.close()
    store = Store(directory)
    assert [d.version for d in store.deploys("shop")] == ["v0"]
    _start(store, version="v1")
    holder = store.lock_holder("shop")
    assert holder is not None and holder.heartbeat is not None


def test_the_servers_of_deploys_recorded_before_their_column_are_still_known(
    tmp_path: Path,
) -> None:
    """A deploy recorded by a baton of schema version 3 kept its servers in its plan."""
    import sqlite3

    directory = tmp_path / "old"
    directory.mkdir()
    old = sqlite3.connect(directory / "baton.sqlite3")
    for migration in MIGRATIONS[:3]:
        old.executescript(migration.replace("{id}", "INTEGER PRIMARY KEY AUTOINCREMENT"))
    old.execute("CREATE TABLE schema_version (one INTEGER PRIMARY KEY, version INTEGER)")
    old.execute("INSERT INTO schema_version VALUES (1, 3)")
    old.execute(
        "INSERT INTO deploys (application, version, strategy, status, started_at, plan)"
        " VALUES ('billing', 'b0', 'serial', 'succeeded', 1.0, ?)",
        ('{"targets": [["10.0.0.1", 22]]}',),
    )
    old.commit()
    old.close()
    looking = Store(directory, read_only=True)
    assert looking.deployed_servers() == {"billing": {("10.0.0.1", 22)}}
    looking.close()
    store = Store(directory)
    assert current_version(store._db) == len(MIGRATIONS)
    assert store.deployed_servers() == {"billing": {("10.0.0.1", 22)}}
    _start(store, app="shop")
    assert store.deployed_servers() == {"billing": {("10.0.0.1", 22)}, "shop": set()}


def test_events_page_by_kind_and_limit_and_other_apps_targets_are_known(store: Store) -> None:
    holder = LockHolder.this_process()
    deploy = store.start_deploy(
        "billing", "b1", "serial", {}, (), holder, targets=[("10.0.0.1", 22)]
    )
    kinds = ["stage", "load_balancer", "output", "load_balancer", "output"]
    store.record(deploy, [StoredEvent(n, 1.0, k, {}) for n, k in enumerate(kinds, 1)], [], [])
    assert [e.seq for e in store.events(deploy, kind="load_balancer")] == [2, 4]
    assert [e.seq for e in store.events(deploy, 1, limit=2)] == [2, 3]
    assert store.deployed_servers() == {"billing": {("10.0.0.1", 22)}}
    store.release_deploy_lock(deploy)
    assert store.lock_holder("billing") is None


def test_a_deploy_whose_end_was_never_written_is_abandoned_by_the_next(store: Store) -> None:
    stranded = _start(store)
    store.release_deploy_lock(stranded)  # its lock went, its end could not be written
    assert [d.id for d in store.unfinished("shop")] == [stranded]
    _start(store, version="v2")
    assert [d.status for d in store.deploys("shop")] == ["running", "abandoned"]


def test_processes_opening_a_new_state_at_once_all_get_it(location: str) -> None:
    """Every baton started at the same moment on an empty state (CI runners sharing a new
    PostgreSQL database) gets a usable store; none fails on another's CREATE TABLE."""
    import threading

    start, failures = threading.Barrier(4), []

    def open_it() -> None:
        start.wait()
        try:
            Store(location).close()
        except Exception as exc:  # any failure is the finding
            failures.append(repr(exc))

    threads = [threading.Thread(target=open_it) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert current_version(Store(location)._db) == len(MIGRATIONS)
