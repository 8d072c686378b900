"""The benchmark harness end to end on a tiny fleet: baton and the asyncssh floor, N=3.

Real sshd on 127.0.10.x (the benchmark itself uses 127.0.3.x onward), real subprocesses under
the measuring wrapper. Peers (Ansible, pyinfra, Fabric) need their own virtualenv and are left
to ``python -m bench``.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.__main__ import main
from bench.harness import load

pytestmark = pytest.mark.integration


@pytest.fixture
def root(tmp_path: Path) -> Iterator[Path]:
    """Under /tmp itself: the sandbox users must be able to enter their home directories."""
    directory = Path("/tmp") / f"baton-bench-smoke-{tmp_path.name}"
    directory.mkdir(mode=0o755)
    yield directory
    shutil.rmtree(directory, ignore_errors=True)


def test_harness_produces_sane_rows(
    root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    status = main(
        ["--parallel", "3", "--serial", "0", "--scale", "0", "--repetitions", "1",
         "--tools", "baton,asyncssh-fanout", "--timeout", "60", "--out", str(out),
         "--root", str(root), "--first-address", "127.0.10.1", "--prefix", "bsmoke"]
    )  # fmt: skip
    assert status == 0, capsys.readouterr().err
    runs = {r.tool: r for r in load(out / "runs.json")}
    assert set(runs) == {"baton", "asyncssh-fanout"}
    baton = runs["baton"]
    assert baton.ok and baton.problem == ""
    assert 0.2 < baton.wall < 20  # at least the 0.2 s build
    assert 0 < baton.cpu < 10
    assert 10 < baton.max_rss_kb / 1024 < 300
    assert baton.details["succeeded"] == 3
    assert 0.2 <= baton.details["steps_slowest_server"] <= baton.details["deploy_seconds"]
    table = (out / "results.md").read_text()
    assert "| baton | 1 |" in table and "parallel-3" in table
    json.loads((out / "runs.json").read_text())
