"""What baton writes is private, and a state directory it may only read still answers.

The read-only cases run the real command line as the user ``nobody`` (root would write
anyway): the state belongs to nobody but its directory and files are read-only.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from baton import StateError
from baton.state import LockHolder, Store
from baton.state.sqlite import STATE_FILE
from tests.manifests import manifest_text


def mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def test_the_state_directory_is_0700_and_the_database_files_0600(tmp_path: Path) -> None:
    state = tmp_path / "new" / "state"
    store = Store(state)
    store.set_setting("shop", "deploy.parallel", "true")  # open: -wal and -shm exist
    database = state / STATE_FILE
    files = [
        database,
        database.with_name(f"{STATE_FILE}-wal"),
        database.with_name(f"{STATE_FILE}-shm"),
    ]
    assert mode(state) == 0o700
    assert [mode(f) for f in files] == [0o600, 0o600, 0o600]
    store.close()


def test_a_world_readable_database_from_before_is_made_private(tmp_path: Path) -> None:
    sqlite3.connect(tmp_path / STATE_FILE).close()
    (tmp_path / STATE_FILE).chmod(0o644)
    Store(tmp_path).close()
    assert mode(tmp_path / STATE_FILE) == 0o600


@pytest.fixture
def read_only_state() -> Iterator[Path]:
    """A state with a deploy and a setting, owned by nobody and read-only, and a manifest."""
    base = Path(tempfile.mkdtemp(prefix="baton-readonly-", dir="/tmp"))
    base.chmod(0o755)
    (base / "baton.yml").write_text(manifest_text(2))
    store = Store(base / "state")
    store.set_setting("shop", "deploy.parallel", "true")
    deploy_id = store.start_deploy("shop", "v7", "parallel", {}, [], LockHolder.this_process())
    store.finish_deploy(deploy_id, "succeeded", "all 2 servers serve v7")
    store.close()
    shutil.chown(base / "state", "nobody")
    for path in (base / "state").iterdir():
        shutil.chown(path, "nobody")
        path.chmod(0o400)
    (base / "state").chmod(0o500)
    yield base
    shutil.rmtree(base)


def as_nobody(base: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "baton.cli.main", *argv, "--state", str(base / "state")]
    return subprocess.run(
        ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", *command],
        capture_output=True,
        text=True,
        cwd=base,
        timeout=60,
    )


READS = {
    ("history", "-s", "shop"): "v7",
    ("show", "1"): "deploy #1 of shop: version v7, parallel, succeeded",
    ("config", "show", "-s", "shop"): "main.httpchk = /  (manifest)",
    ("settings", "get", "-s", "shop", "deploy.parallel"): "true",
    ("settings", "list", "-s", "shop"): "deploy.parallel        true\n",
    ("lock", "status", "-s", "shop"): "shop: not locked",
    ("plan", "-s", "shop"): "strategy:   parallel (setting deploy.parallel = true)",
}
WRITES = [
    ("settings", "set", "-s", "shop", "deploy.parallel", "false"),
    ("deploy", "-s", "shop"),
    ("lock", "release", "-s", "shop"),
]


def test_read_commands_work_on_a_read_only_state_and_writes_say_why_not(
    read_only_state: Path,
) -> None:
    before = {p.name: p.read_bytes() for p in (read_only_state / "state").iterdir()}
    for argv, expected in READS.items():
        done = as_nobody(read_only_state, *argv)
        assert done.returncode == 0 and expected in done.stdout, (argv, done.stdout, done.stderr)
    for argv in WRITES:
        done = as_nobody(read_only_state, *argv)
        assert done.returncode == 2, (argv, done.stdout, done.stderr)
        assert done.stderr == (
            f"baton: error: the state directory {read_only_state}/state is read-only: this "
            "command records state; give this user write access to it, or use --state "
            "(or $BATON_STATE)\n"
        )
    assert {p.name: p.read_bytes() for p in (read_only_state / "state").iterdir()} == before


def baton(*argv: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "baton.cli.main", *argv]
    return subprocess.run(command, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize(
    ("made_by", "reason", "what_to_do"),
    [
        ("nobody", "is owned by nobody, not root", "if it is meant to be yours, chown root"),
        ("root, 0777", "is writable by others (mode 0777)", "chmod go-w"),
    ],
)
def test_a_state_directory_not_this_users_alone_is_refused(
    tmp_path: Path, made_by: str, reason: str, what_to_do: str
) -> None:
    """Root's deploy must not use a state another user made (their settings, their lock, a
    history they read): every command, reading ones too, exits 2 in one line and writes
    nothing there."""
    state = tmp_path / "state"
    state.mkdir()
    if made_by == "nobody":
        shutil.chown(state, "nobody")
    else:
        state.chmod(0o777)
    for argv in (
        ("settings", "set", "-s", "shop", "deploy.parallel", "on"),
        ("history", "-s", "shop"),
    ):
        done = baton(*argv, "--state", str(state))
        assert (done.returncode, done.stdout) == (2, ""), done.stderr
        assert done.stderr == (
            f"baton: error: the state directory {state} {reason}: another user could change "
            f"what baton does and read what it records; {what_to_do} {state}, or use --state "
            "(or $BATON_STATE)\n"
        )
    assert list(state.iterdir()) == []


def test_a_state_database_another_user_owns_is_refused(tmp_path: Path) -> None:
    Store(tmp_path).close()
    shutil.chown(tmp_path / STATE_FILE, "nobody")
    with pytest.raises(StateError, match=f"the state file {tmp_path / STATE_FILE} is owned by"):
        Store(tmp_path, read_only=True)
