"""``baton check`` with fakes (each finding and its advice, nothing changed) and, through the
command line, with real commands on this machine (``transport: local``)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from baton.checking.check import check
from baton.checking.findings import CheckReport, Status
from baton.checking.servers import first_commands
from baton.cli.main import main
from baton.config import parse_manifest
from baton.drivers import Membership
from baton.drivers.fake import FakeFleet, Script
from baton.state import LockHolder, Store
from tests.manifests import manifest, manifest_text


def cells(report: CheckReport, server: str) -> dict[str, str]:
    return {name: f.status.value for name, f in report.of_server(server).items()}


def finding(report: CheckReport, subject: str, name: str) -> tuple[str, str, str]:
    found = next(f for f in report.findings if (f.subject, f.check) == (subject, name))
    return found.status.value, found.detail, found.advice


async def test_every_server_ok_and_only_look_ups_run() -> None:
    fleet = FakeFleet(manifest(3, health=True))
    report = await check(fleet.manifest, None, drivers=fleet.drivers(), environ={})
    assert report.ok and report.columns() == ["ssh", "steps", "main", "health"]
    for server in ("web1", "web2", "web3"):
        assert cells(report, server) == dict.fromkeys(report.columns(), "ok")
    assert {e.what for e in fleet.timeline.entries} == {"open", "run", "close"}
    assert {c.split()[0] for c in fleet.timeline.commands()} == {"for", "check"}


async def test_a_missing_command_a_held_lock_and_an_unset_secret(tmp_path: Path) -> None:
    text = manifest_text(2, health=True) + "  secrets:\n    TOKEN: {from_env: CHECK_TOKEN}\n"
    fleet = FakeFleet(parse_manifest(text), Script().on(r"web2: for c in", 0, "restart\n"))
    store = Store(tmp_path)
    store.start_deploy("shop", "v1", "serial", {}, [], LockHolder.this_process())
    report = await check(fleet.manifest, store, drivers=fleet.drivers(), environ={})
    assert not report.ok
    assert cells(report, "web2") == {"ssh": "ok", "steps": "problem", "main": "ok", "health": "ok"}
    assert finding(report, "web2", "steps") == (
        "problem",
        "not found on web2: restart",
        "install it on the server, or correct the step's command (PATH is the login user's; "
        "deploy.environment can set it)",
    )
    status, detail, advice = finding(report, "application", "lock")
    assert (status, advice) == (
        "problem",
        "wait for it to finish, or deploy with --lock-wait SECONDS",
    )
    assert detail.startswith("a deploy is running: deploy #1, pid ")
    status, detail, _ = finding(report, "application", "secrets")
    assert status == "problem" and detail.endswith(
        "deploy.secrets.TOKEN.from_env: the environment variable CHECK_TOKEN is not set"
    )


async def test_an_unreachable_server_skips_what_needs_its_connection() -> None:
    fleet = FakeFleet(manifest(2, health=True), Script(unreachable={"web2"}))
    report = await check(fleet.manifest, None, drivers=fleet.drivers(), environ={})
    assert cells(report, "web2") == {
        "ssh": "problem", "steps": "not checked", "main": "ok", "health": "not checked"
    }  # fmt: skip
    assert finding(report, "web2", "ssh")[1] == "web2 (127.0.1.2): unreachable"


async def test_out_of_rotation_and_down_are_warnings_a_deploy_can_start_with() -> None:
    fleet = FakeFleet(manifest(3))
    fleet.load_balancers["main"].state.update(web1=Membership.OUT_OF_ROTATION)
    fleet.load_balancers["main"].state.update(web2=Membership.DOWN)
    report = await check(fleet.manifest, None, drivers=fleet.drivers(), environ={})
    assert report.ok
    assert [cells(report, s)["main"] for s in ("web1", "web2", "web3")] == [
        "warning", "warning", "ok"
    ]  # fmt: skip
    assert finding(report, "web1", "main")[2] == (
        "a serial deploy puts it back after its health check; a parallel one does not"
    )
    assert finding(report, "application", "health check")[0] == Status.WARNING.value


def test_first_commands_are_what_the_shell_looks_up() -> None:
    runs = [
        "FOO=1 BAR='x y' /usr/bin/env true",
        "cd /srv/{application} && ./manage migrate",
        "(cd /tmp; make)",
        "'my tool' --version",
        "sudo systemctl restart shop",
    ]
    steps = "".join(f"    - name: s{n}\n      run: {json.dumps(r)}\n" for n, r in enumerate(runs))
    text = "application: shop\nservers:\n  - {name: web1, address: h}\ndeploy:\n  steps:\n"
    found = first_commands(
        parse_manifest(text + steps), parse_manifest(text + steps).servers[0], "v"
    )
    assert found == ["/usr/bin/env", "cd", "my tool", "sudo"]


def test_the_command_line_on_this_machine(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Real ``command -v`` and a real health command, through ``transport: local``."""
    path = tmp_path / "baton.yml"
    path.write_text(
        "application: shop\nservers:\n  - {name: here, address: localhost, transport: local}\n"
        "deploy:\n  steps:\n    - {name: fetch, run: 'true {version}'}\n"
        "    - {name: restart, run: 'no-such-command-for-baton --now'}\n"
        "  health_check: {command: 'test -d /'}\n"
    )
    state = tmp_path / "state"
    arguments = ["check", "-s", "shop", "-f", str(path), "--state", str(state)]
    assert main(arguments) == 1
    out = capsys.readouterr().out
    assert re.fullmatch(r"here +ok \d\.\d\ds +PROBLEM +ok", out.splitlines()[3])
    assert "here steps: PROBLEM: not found on here: no-such-command-for-baton\n" in out
    assert out.splitlines()[-1] == "a deploy would not get through: 1 problem(s) above"
    assert main([*arguments, "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is False and report["estimated_extra_seconds"] == 0
    rows = {(f["subject"], f["check"]): f["status"] for f in report["findings"]}
    assert rows[("here", "health")] == "ok" and rows[("here", "steps")] == "problem"
    assert not state.exists()
