"""Per-server lock files: a file another user planted under ``servers/`` is refused, never
followed (issue 20: a symbolic link there made root truncate a root-only file)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from baton import LockError
from baton.state import ServerLocks

SERVER = ("web1", "10.0.0.11", 22)


async def hold_once(locks: ServerLocks) -> None:
    async with locks.hold(*SERVER):
        pass


@pytest.fixture
def locks(tmp_path: Path) -> ServerLocks:
    return ServerLocks(tmp_path, "shop deploy #1, pid 1 on here")


async def test_a_lock_file_that_is_a_symbolic_link_is_refused_and_its_target_untouched(
    locks: ServerLocks, tmp_path: Path
) -> None:
    secret = tmp_path / "root-only"
    secret.write_text("keep me\n")
    secret.chmod(0o600)
    locks.directory.mkdir()
    path = locks.path(*SERVER[1:])
    path.symlink_to(secret)
    with pytest.raises(LockError) as refused:
        await hold_once(locks)
    assert str(refused.value) == (
        f"server web1 (10.0.0.11:22): its lock file {path} is a symbolic link; remove it "
        "(another user could hold the lock or turn baton's writes onto another file); "
        "not touched"
    )
    assert secret.read_text() == "keep me\n"


async def test_a_lock_file_another_user_owns_is_refused(locks: ServerLocks) -> None:
    locks.directory.mkdir()
    path = locks.path(*SERVER[1:])
    path.write_text("")
    shutil.chown(path, "nobody")
    with pytest.raises(LockError, match=f"its lock file {path} is owned by nobody, not root"):
        await hold_once(locks)
    assert path.read_text() == ""


async def test_a_lock_directory_others_can_write_is_refused(locks: ServerLocks) -> None:
    locks.directory.mkdir()
    locks.directory.chmod(0o777)
    with pytest.raises(LockError, match=r"directory .* is writable by others \(mode 0777\)"):
        await hold_once(locks)
    assert os.listdir(locks.directory) == []


async def test_a_private_lock_file_is_held_and_names_its_holder(locks: ServerLocks) -> None:
    async with locks.hold(*SERVER):
        assert locks.path(*SERVER[1:]).read_text() == "shop deploy #1, pid 1 on here"
        with pytest.raises(LockError, match="is being deployed by shop deploy #1"):
            await hold_once(ServerLocks(locks.directory.parent, "another"))
