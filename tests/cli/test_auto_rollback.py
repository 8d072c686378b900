"""``baton deploy`` rolls a failed canary back by the library's one policy
(:func:`baton.execution.rollback.roll_back_if_needed`, the dashboard's too): the rollback
printed as a deploy of its own, or why there is none, and in --json under ``"rollback"``."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pytest

from baton.cli.main import main
from baton.config import parse_manifest
from baton.drivers.bundle import Drivers
from baton.drivers.fake import FakeFleet
from baton.state import Store
from tests.manifests import manifest_text

VERIFY = "  verify:\n    command: probe {server}\n    duration: 0.3\n    interval: 0.1\n"


@pytest.fixture
def shop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[FakeFleet, list[str]]:
    """A fake fleet of three behind the real command line, with a canary of one."""
    path = tmp_path / "baton.yml"
    path.write_text(manifest_text(3, migration=False) + VERIFY)
    fleet = FakeFleet(parse_manifest(path.read_text()))
    monkeypatch.setattr(Drivers, "real", classmethod(lambda cls: fleet.drivers()))
    arguments = ["-s", "shop", "-f", str(path), "--state", str(tmp_path / "state")]
    assert main(["settings", "set", *arguments[:2], *arguments[4:], "deploy.canary", "1"]) == 0
    return fleet, arguments


def test_a_failed_canary_is_rolled_back_as_a_deploy_of_its_own(
    shop: tuple[FakeFleet, list[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    fleet, arguments = shop
    assert main(["deploy", *arguments, "--version", "v1", "--quiet"]) == 0
    fleet.script.on(r"^web1: probe", exit_status=1)
    capsys.readouterr()
    assert main(["deploy", *arguments, "--version", "v2", "--quiet"]) == 1
    out = capsys.readouterr().out
    assert "\nautomatic rollback of deploy #2:\n" in out
    rollback = out[out.index("automatic rollback of deploy #2:") :]
    assert "\ndeploy #3 " in rollback and "  web1: succeeded - now serving v1" in rollback
    assert fleet.timeline.commands("web1")[-2:] == ["fetch v1", "restart web1"]
    assert main(["deploy", *arguments, "--version", "v3", "--json", "--quiet"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert (report["deploy_id"], report["status"]) == (4, "failed")
    rollback = report["rollback"]
    assert (rollback["deploy_id"], rollback["status"], rollback["rollback_of"]) == (
        5,
        "succeeded",
        4,
    )


def test_without_an_earlier_success_it_says_why_there_is_no_rollback(
    shop: tuple[FakeFleet, list[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    fleet, arguments = shop
    fleet.script.on(r"probe", exit_status=1)
    assert main(["deploy", *arguments, "--version", "v1", "--quiet"]) == 1
    why = "no earlier successful version of shop to go back to; web1 left"
    assert f"automatic rollback: none: {why}\n" in capsys.readouterr().out
    assert main(["deploy", *arguments, "--version", "v2", "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["rollback"] == {"note": why}


def test_history_marks_the_rolled_back_deploy_and_its_rollback(
    shop: tuple[FakeFleet, list[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    fleet, arguments = shop
    assert main(["deploy", *arguments, "--version", "v1", "--quiet"]) == 0
    fleet.script.on(r"^web1: probe", exit_status=1)
    assert main(["deploy", *arguments, "--version", "v2", "--quiet"]) == 1
    state = arguments[4:]
    capsys.readouterr()
    assert main(["history", "-s", "shop", *state]) == 0
    rows = capsys.readouterr().out.splitlines()
    assert [row.split()[0] for row in rows] == ["#3", "#2", "#1"]
    assert rows[0].endswith("  rollback of #2") and " v1 " in rows[0]
    assert rows[1].endswith("  rolled back by #3") and " failed " in rows[1]
    assert "rollback" not in rows[2] and "rolled" not in rows[2]
    assert main(["history", "-s", "shop", *state, "--json"]) == 0
    links = [
        (d["id"], d["rollback_of"], d["rolled_back_by"])
        for d in json.loads(capsys.readouterr().out)
    ]
    assert links == [(3, 2, None), (2, None, 3), (1, None, None)]
    assert main(["history", "-s", "shop", *state, "-n", "1"]) == 0  # #2 not listed
    assert capsys.readouterr().out.rstrip().endswith("  rollback of #2")


SLOW_ROLLBACK = """\
application: shop
servers:
  - {{name: web1, transport: local, address: localhost}}
  - {{name: web2, transport: local, address: localhost}}
deploy:
  steps:
    - name: release
      run: >-
        if [ -e {slow}-{{version}} ]; then echo slow; sleep 60; fi;
        [ {{server}}-{{version}} != web2-v2 ]
"""
"""Two servers on this machine; v2 fails on web2, and v1 is slow once ``{slow}-v1`` exists."""


def test_ctrl_c_during_an_automatic_rollback_exits_130(tmp_path: Path) -> None:
    """A real ``baton deploy`` process, interrupted while its rollback's step runs."""
    manifest = tmp_path / "baton.yml"
    manifest.write_text(SLOW_ROLLBACK.format(slow=tmp_path / "slow"))
    state = ["--state", str(tmp_path / "state")]
    common = ["-s", "shop", "-f", str(manifest), *state]
    assert main(["deploy", *common, "--version", "v1", "--quiet"]) == 0
    assert main(["settings", "set", "-s", "shop", *state, "deploy.auto_rollback", "true"]) == 0
    (tmp_path / "slow-v1").touch()
    command = [sys.executable, "-m", "baton", "deploy", *common, "--version", "v2"]
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as baton:
        assert baton.stdout is not None
        seen = [line for line in _until(baton.stdout, "web1 | slow")]
        assert "automatic rollback of deploy #2:\n" in seen
        baton.send_signal(signal.SIGINT)
        out, err = baton.communicate(timeout=30)
    assert baton.returncode == 130, out + err
    assert "deploy #3 cancelled: 1 cancelled, 1 not started" in out
    assert "baton: interrupted" in err
    deploys = Store(tmp_path / "state").deploys("shop")
    assert [(d.id, d.version, d.status) for d in deploys] == [
        (3, "v1", "cancelled"),
        (2, "v2", "failed"),
        (1, "v1", "succeeded"),
    ]


def _until(lines: IO[str], wanted: str) -> Iterator[str]:
    """The lines up to the one holding ``wanted`` (the test fails at EOF without it)."""
    for line in lines:
        yield line
        if wanted in line:
            return
    raise AssertionError(f"{wanted!r} never came")
