"""Bad input through the command line: exit status 2, one line naming file, line and key, and
nothing changed in state. Each case breaks one thing in an otherwise good manifest."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from baton.cli.main import main
from baton.state import Store
from tests.manifests import manifest_text

GOOD = manifest_text(2)


def replace(old: str, new: str) -> Callable[[Path], str]:
    def change(directory: Path) -> str:
        assert old in GOOD
        return GOOD.replace(old, new, 1)

    return change


def append(text: str) -> Callable[[Path], str]:
    return lambda directory: GOOD + text


def key_file(directory: Path) -> str:
    return GOOD.replace(
        "    address: 127.0.1.1\n",
        f"    address: 127.0.1.1\n    key_file: {directory}/missing_key\n",
    )


def secret_file(directory: Path) -> str:
    return GOOD + f"  secrets:\n    TOKEN: {{from_file: {directory}/token}}\n"


CASES = {
    "malformed YAML": (replace("servers:\n", "servers: [\n"), 3, "", "not valid YAML"),
    "misspelt key": (
        replace("    address: 127.0.1.2", "    adress: 127.0.1.2"),
        6,
        "servers[1].adress",
        "unknown key 'adress'; did you mean 'address'?",
    ),
    "wrong type": (
        replace("    address: 127.0.1.2", "    address: 127.0.1.2\n    port: ssh"),
        7,
        "servers[1].port",
        "should be a whole number, got 'ssh'",
    ),
    "negative wait": (
        replace("      httpchk", "      wait_after_removing_servers: -1\n      httpchk"),
        13,
        "load_balancers[0].configuration.wait_after_removing_servers",
        "should be greater than or equal to 0, got -1",
    ),
    "duplicate server": (
        replace("name: web2", "name: web1"),
        5,
        "servers[1].name",
        "duplicate server name 'web1'",
    ),
    "unknown server on the load balancer": (
        replace("    backend: app\n", "    backend: app\n    servers: {web9: app9}\n"),
        12,
        "load_balancers[0].servers.web9",
        "maps unknown server(s) web9",
    ),
    "missing key file": (key_file, 5, "servers[0].key_file", "missing_key does not exist"),
    "secret variable not set": (
        append("  secrets:\n    TOKEN: {from_env: BATON_TEST_UNSET_VARIABLE}\n"),
        24,
        "deploy.secrets.TOKEN.from_env",
        "the environment variable BATON_TEST_UNSET_VARIABLE is not set",
    ),
    "secret file missing": (secret_file, 24, "deploy.secrets.TOKEN.from_file", "does not exist"),
    "bad variable name": (
        append("  environment: {2FAST: yes}\n"),
        23,
        "deploy.environment['2FAST']",
        "a variable name",
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_bad_manifest_exits_2_with_one_line_and_changes_nothing(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    change, line, key, message = CASES[case]
    manifest = tmp_path / "baton.yml"
    manifest.write_text(change(tmp_path))
    Store(tmp_path).set_setting("shop", "deploy.parallel", "true")
    for command in ("plan", "deploy"):
        status = main([command, "-s", "shop", "-f", str(manifest), "--state", str(tmp_path)])
        err = capsys.readouterr().err
        assert status == 2
        assert err.startswith(f"baton: error: {manifest}:{line}: {key}{': ' if key else ''}")
        assert message in err and err.count("\n") == 1, err
    assert Store(tmp_path).deploys() == []
    assert Store(tmp_path).settings("shop") == {"deploy.parallel": "true"}


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("deploy.fast", "1", "unknown setting 'deploy.fast'; valid settings: deploy.parallel"),
        ("deploy.parallel", "maybe", "deploy.parallel: invalid value 'maybe': expected a boolean"),
        ("deploy.min_in_service", "-1", "invalid value '-1': expected a whole number >= 0"),
    ],
)
def test_bad_setting_exits_2_with_one_line_and_changes_nothing(
    key: str, value: str, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    Store(tmp_path).set_setting("shop", "deploy.parallel", "true")
    status = main(["settings", "set", "-s", "shop", key, value, "--state", str(tmp_path)])
    err = capsys.readouterr().err
    assert status == 2 and err.startswith("baton: error: ") and err.count("\n") == 1
    assert message in err, err
    assert Store(tmp_path).settings("shop") == {"deploy.parallel": "true"}
