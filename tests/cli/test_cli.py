import re
import time
from pathlib import Path

import pytest

from baton.cli.main import main
from baton.state import LockHolder, ServerResult, Store, StoredEvent
from tests.manifests import manifest_text


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_settings_set_get_list(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    state = ["--state", str(tmp_path)]
    assert run(capsys, "settings", "get", "-s", "shop", "deploy.parallel", *state)[1] == "false\n"
    assert run(capsys, "settings", "set", "-s", "shop", "deploy.parallel", "on", *state)[0] == 0
    assert run(capsys, "settings", "get", "-s", "shop", "deploy.parallel", *state)[1] == "true\n"
    status, out, _ = run(capsys, "settings", "list", "-s", "shop", "--json", *state)
    assert status == 0 and '"key": "run.deploy.command"' in out


def test_bad_setting_value_exits_2_and_changes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, _, err = run(
        capsys,
        "settings",
        "set",
        "-s",
        "shop",
        "deploy.parallel",
        "maybe",
        "--state",
        str(tmp_path),
    )
    assert status == 2
    assert err.count("\n") == 1 and "true/false, 1/0, on/off, enable/disable" in err
    assert Store(tmp_path).settings("shop") == {}


def test_unknown_setting_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(
        capsys, "settings", "set", "-s", "shop", "deploy.fast", "1", "--state", str(tmp_path)
    )
    assert status == 2 and "valid settings: deploy.parallel" in err


def test_plan_json_shows_estimate_and_strategy(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "baton.yml").write_text(manifest_text(3, waits=(2, 1)))
    args = ["plan", "-s", "shop", "-f", str(tmp_path / "baton.yml"), "--state", str(tmp_path)]
    status, out, _ = run(capsys, *args, "--json", "--version", "v9")
    assert status == 0 and '"estimated_extra_seconds": 9' in out and '"strategy": "serial"' in out
    status, out, _ = run(capsys, *args, "--parallel")
    assert "migrate first: web1: step fetch -> step migrate [migration]" in out
    assert "serial is advised" not in out
    assert Store(tmp_path).settings("shop") == {}


def test_plan_with_batches_and_bad_batches_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "baton.yml").write_text(manifest_text(6, waits=(2, 1)))
    args = ["plan", "-s", "shop", "-f", str(tmp_path / "baton.yml"), "--state", str(tmp_path)]
    status, out, _ = run(capsys, *args, "--batch", "1,50%")
    assert status == 0 and "order: 3 batches of 1, 3, 2 servers (--batch 1,50%" in out
    assert "3s per batch x 3 batches (1, 3, 2) = 9s" in out
    for bad, says in [("0", "not a batch size"), ("150%", "at most 100%"), ("4,2", "increase")]:
        status, out, err = run(capsys, *args, "--batch", bad)
        assert status == 2 and not out and err.count("\n") == 1
        assert f"--batch '{bad}'" in err and says in err
    status, _, err = run(capsys, *args, "--batch", "2", "--parallel")
    assert status == 2 and "--batch and --parallel" in err


def test_manifest_for_another_application_is_rejected(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "baton.yml").write_text(manifest_text(1))
    status, _, err = run(
        capsys, "plan", "-s", "blog", "-f", str(tmp_path / "baton.yml"), "--state", str(tmp_path)
    )
    assert status == 2 and "describes 'shop', not 'blog'" in err


def test_bad_manifest_exits_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "baton.yml"
    path.write_text(manifest_text(1, waits=(-1, None)))
    status, _, err = run(capsys, "deploy", "-s", "shop", "-f", str(path), "--state", str(tmp_path))
    assert status == 2 and err.startswith(f"baton: error: {path}:") and err.count("\n") == 1
    assert Store(tmp_path).deploys("shop") == []


def test_bad_version_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "baton.yml").write_text(manifest_text(1))
    status, _, err = run(
        capsys,
        "plan",
        "-s",
        "shop",
        "-f",
        str(tmp_path / "baton.yml"),
        "--version",
        "1; rm -rf /",
        "--state",
        str(tmp_path),
    )
    assert status == 2 and "version '1; rm -rf /'" in err and "letters, digits" in err


def test_history_and_show_of_nothing_name_the_state_they_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("BATON_STATE", raising=False)
    monkeypatch.delenv("XDG_STATE_HOME", raising=False)
    status, out, _ = run(capsys, "history", "-s", "shop")
    assert status == 0
    assert out == "no deploys of shop in ~/.local/state/baton; use --state or $BATON_STATE\n"
    status, _, err = run(capsys, "show", "42", "--state", str(tmp_path / "elsewhere"))
    assert status == 2
    assert err == ("baton: error: no deploy #42 in ~/elsewhere; use --state or $BATON_STATE\n")
    assert not (tmp_path / ".local").exists() and not (tmp_path / "elsewhere").exists()


@pytest.mark.parametrize("command", ["plan", "deploy"])
def test_plan_and_deploy_without_a_manifest_say_to_use_f(
    command: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    status, _, err = run(capsys, command, "-s", "shop", "--state", str(tmp_path))
    assert status == 2
    assert err == "baton: error: baton.yml: no such manifest; name the manifest with -f MANIFEST\n"


def test_show_tells_when_each_server_left_and_rejoined_rotation(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = Store(tmp_path)
    deploy_id = store.start_deploy("shop", "v1", "serial", {}, [], LockHolder.this_process())
    events = [
        StoredEvent(
            1, 1.0, "load_balancer", {"server": "web1", "load_balancer": "lb", "action": "removed"}
        ),
        StoredEvent(
            2, 2.0, "load_balancer", {"server": "web1", "load_balancer": "lb", "action": "added"}
        ),
    ]
    results = [ServerResult("web1", "succeeded", "now serving v1", True, 1.0, 2.0)]
    store.record(deploy_id, events, [], results)
    store.finish_deploy(deploy_id, "succeeded", "")
    status, out, _ = run(capsys, "show", str(deploy_id), "--state", str(tmp_path))
    assert status == 0
    assert out.splitlines()[2:4] == [
        f"    {time.strftime('%H:%M:%S', time.localtime(1.0))}.0 removed (lb)",
        f"    {time.strftime('%H:%M:%S', time.localtime(2.0))}.0 added (lb)",
    ]


def test_plan_warns_of_unchecked_host_keys_and_secret_files_others_can_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    token = tmp_path / "token"
    token.write_text("s3cret-value\n")
    token.chmod(0o644)
    text = manifest_text(2).replace(
        "    address: 127.0.1.2\n", "    address: 127.0.1.2\n    host_key_checking: false\n"
    )
    manifest = tmp_path / "baton.yml"
    manifest.write_text(text + f"  secrets:\n    TOKEN: {{from_file: {token}}}\n")
    args = ["plan", "-s", "shop", "-f", str(manifest), "--state", str(tmp_path)]
    status, out, _ = run(capsys, *args)
    assert status == 0
    assert (
        "WARNING: host keys of web2 are not checked (host_key_checking: false): anyone on the "
        "way can pose as them and receive the deploy and its secrets\n"
    ) in out
    assert (
        f"WARNING: secret TOKEN: {token} can be read by other users (mode 644); chmod 600 {token}"
    ) in out
    deploy = ["deploy", *args[1:]]  # fails at preflight (no load balancer), warned before
    status, out, _ = run(capsys, *deploy)
    assert status == 1 and "WARNING: host keys of web2 are not checked" in out
    token.chmod(0o600)
    status, out, _ = run(capsys, *args)
    assert status == 0 and "secret TOKEN" not in out and "host keys of web2" in out


def _helps() -> dict[str, str]:
    """Every command's and subcommand's ``--help`` text, by command line."""
    import argparse

    from baton.cli.main import build_parser

    texts: dict[str, str] = {}

    def walk(parser: argparse.ArgumentParser, name: str) -> None:
        texts[name] = parser.format_help()
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for sub, subparser in action.choices.items():
                    walk(subparser, f"{name} {sub}")

    walk(build_parser(), "baton")
    return texts


def test_help_examples_keep_their_line_breaks_and_the_settings_line_up() -> None:
    """A ``\\`` left single in a help string joins two lines of an example into one with a run
    of spaces before the next flag; the settings table's columns follow the longest key."""
    from baton.settings import SPECS

    helps = _helps()
    assert "baton init" in helps and "baton sandbox up" in helps
    swallowed = [
        line
        for text in helps.values()
        for line in text.splitlines()
        if line.lstrip().startswith("baton ") and re.search(r"\S {3,}--", line)
    ]
    assert swallowed == []
    rows = helps["baton settings"].split("\nsettings:\n")[1].split("\n\n")[0].splitlines()
    assert [row.split()[0] for row in rows] == list(SPECS)
    assert len({row.index(" default ") for row in rows}) == 1, rows
