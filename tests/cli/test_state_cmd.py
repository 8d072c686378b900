"""``baton state copy`` as the operator runs it."""

from __future__ import annotations

from pathlib import Path

import pytest

from baton.cli.main import main
from baton.state import LockHolder, Store


def test_copy_from_a_directory_with_no_state_is_refused_and_creates_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing, target = tmp_path / "typo", tmp_path / "target"
    status = main(["state", "copy", "--from", str(missing), "--to", str(target)])
    err = capsys.readouterr().err
    assert status == 2
    assert err.count("\n") == 1
    assert f"{missing}: no baton state there" in err and "--from" in err
    assert not missing.exists() and not target.exists()


def test_copy_from_a_state_copies_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = Store(tmp_path / "laptop")
    source.finish_deploy(
        source.start_deploy("shop", "v1", "serial", {}, [], LockHolder.this_process()), "ok", ""
    )
    source.close()
    status = main(
        ["state", "copy", "--from", str(tmp_path / "laptop"), "--to", str(tmp_path / "b")]
    )
    assert status == 0 and "1 deploys" in capsys.readouterr().out
