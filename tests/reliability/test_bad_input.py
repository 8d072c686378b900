"""Bad input through the command line: exit status 2, one line naming file, line and key, and
nothing changed in state. Each case breaks one thing in an otherwise good manifest."""

from __future__ import annotations

import resource
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from baton.cli.main import main
from baton.state import Store
from baton.state.sqlite import STATE_FILE
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


def balancer(block: str) -> Callable[[Path], str]:
    """The load balancer's type and its own keys replaced by ``block`` (lines 9 onwards)."""
    return replace("    type: haproxy\n    socket: /tmp/haproxy.sock\n    backend: app\n", block)


ARN = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/web/0123456789abcdef"
TARGETS = "    servers: {web1: 10.0.0.1, web2: 10.0.0.2}\n"


def secret_file(directory: Path) -> str:
    return GOOD + f"  secrets:\n    TOKEN: {{from_file: {directory}/token}}\n"


def short_secret(directory: Path) -> str:
    (directory / "token").write_text("abc\n")
    return secret_file(directory)


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
    "address that is not a host": (
        replace("    address: 127.0.1.2", "    address: 127.0.1.2; reboot"),
        6,
        "servers[1].address",
        "'127.0.1.2; reboot' is not a host name or IP address",
    ),
    "address with a space": (
        replace("    address: 127.0.1.2", "    address: web 2"),
        6,
        "servers[1].address",
        "'web 2' is not a host name or IP address",
    ),
    "secret shorter than 4 characters": (
        short_secret,
        24,
        "deploy.secrets.TOKEN",
        "secret TOKEN is shorter than 4 characters",
    ),
    "unknown load balancer type": (
        replace("type: haproxy", "type: f5"),
        9,
        "load_balancers[0].type",
        "should be one of 'haproxy', 'nginx', 'elbv2', 'command', got 'f5'",
    ),
    "a key of another load balancer type": (
        balancer(
            "    type: nginx\n    file: /etc/nginx/app.conf\n    upstream: app\n    backend: a\n"
        ),
        12,
        "load_balancers[0].backend",
        "'backend' is a key of type haproxy, not nginx (type nginx takes: ",
    ),
    "nginx without upstream": (
        balancer("    type: nginx\n    file: /etc/nginx/app.conf\n"),
        8,
        "load_balancers[0].upstream",
        "is required",
    ),
    "nginx without file": (
        balancer("    type: nginx\n    upstream: app\n"),
        8,
        "load_balancers[0].file",
        "is required",
    ),
    "elbv2 without target group": (
        balancer("    type: elbv2\n" + TARGETS),
        8,
        "load_balancers[0].target_group_arn",
        "is required",
    ),
    "malformed target group ARN": (
        balancer("    type: elbv2\n    target_group_arn: arn:aws:elb:web\n" + TARGETS),
        10,
        "load_balancers[0].target_group_arn",
        "(arn:aws:elasticloadbalancing:REGION:ACCOUNT:targetgroup/NAME/ID)",
    ),
    "server without a target": (
        balancer(f"    type: elbv2\n    target_group_arn: {ARN}\n    servers: {{web1: i-0a1}}\n"),
        11,
        "load_balancers[0].servers",
        "server(s) web2 have no target",
    ),
    "command balancer without status": (
        balancer("    type: command\n    remove: lb out {server}\n    add: lb in {server}\n"),
        8,
        "load_balancers[0].status",
        "is required",
    ),
    "bad variable name": (
        append("  environment: {2FAST: yes}\n"),
        23,
        "deploy.environment['2FAST']",
        "a variable name",
    ),
    "unknown hook point": (
        append("hooks:\n  befor_server: [{run: drain}]\n"),
        24,
        "hooks.befor_server",
        "unknown key 'befor_server'; did you mean 'before_server'?",
    ),
    "bad run_on": (
        append("hooks:\n  first_thing:\n    - {run: announce, run_on: everywhere}\n"),
        25,
        "hooks.first_thing[0].run_on",
        "should be one of 'single_server', 'all_servers' or 'local', got 'everywhere'",
    ),
    "bad webhook URL": (
        append("notifications:\n  webhooks:\n    - url: ftp://example.com/hook\n"),
        25,
        "notifications.webhooks[0].url",
        "should be an http:// or https:// URL with a host",
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


def alias_bomb() -> bytes:
    """Nine levels of nine aliases: 9**9 (387 million) strings once expanded."""
    lines = ['l0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"l{n}: &l{n} [{', '.join([f'*l{n - 1}'] * 9)}]" for n in range(1, 9)]
    return (GOOD + "\n".join(lines) + "\n").encode()


def stacked_aliases() -> bytes:
    """Each 40 deep, each holding the one before: no nesting in the text is deeper than 41."""
    lines = [f"a{n}: &a{n} {'[' * 40}{f'*a{n - 1}' if n else 'x'}{']' * 40}" for n in range(9)]
    return ("application: shop\n" + "\n".join(lines) + "\n").encode()


HOSTILE = {
    "alias bomb": (alias_bomb, ":28: l5: ", "more than 100,000 values once aliases are expanded"),
    "over 1 MiB": (lambda: GOOD.encode() + b"#" * (1 << 20), ": ", "larger than 1 MiB"),
    "not UTF-8": (lambda: GOOD.replace("web2", "web\xe92").encode("latin-1"), ":5: ", "not UTF-8"),
    "10,000 [": (lambda: b"application: shop\nservers: " + b"[" * 10_000, ":2: ", "deeper than 64"),
    "an alias inside itself": (
        lambda: b"application: shop\nservers: &a [*a, 1]\n",
        ":2: servers: ",
        "nested deeper than 64 levels once aliases are expanded",
    ),
    "aliases stacked deep": (stacked_aliases, ":3: a1: ", "nested deeper than 64 levels once"),
    "10,000 -": (lambda: b"servers:\n" + b"- " * 10_000 + b"x\n", ":2: ", "deeper than 64"),
}


@pytest.mark.parametrize("case", HOSTILE)
def test_hostile_manifest_fails_at_once_in_one_line_from_every_command(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    make, where, message = HOSTILE[case]
    manifest = tmp_path / "baton.yml"
    manifest.write_bytes(make())
    state = ["--state", str(tmp_path / "state")]
    monkeypatch.setattr("uvicorn.run", lambda *args, **kwargs: pytest.fail("serve started"))
    for command in (["plan", "-s", "shop"], ["deploy", "-s", "shop"], ["serve"]):
        status = main([*command, "-f", str(manifest), *state])
        err = capsys.readouterr().err
        assert status == 2
        assert err.startswith(f"baton: error: {manifest}{where}") and message in err, err
        assert err.count("\n") == 1, err
    assert Store(tmp_path / "state").deploys() == []


PEAK_MEMORY = """
import sys
from baton.cli.main import main
status = main(sys.argv[1:])
peak = next(line for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(int(peak.split()[1]) // 1024)  # MB
sys.exit(status)
"""


def test_an_alias_bomb_is_refused_before_it_takes_memory(tmp_path: Path) -> None:
    """Expanded, the bomb is gigabytes; refused, the whole `baton plan` stays under 100 MB."""
    manifest = tmp_path / "baton.yml"
    manifest.write_bytes(alias_bomb())
    plan = ["plan", "-s", "shop", "-f", str(manifest), "--state", str(tmp_path)]
    done = subprocess.run(
        [sys.executable, "-c", PEAK_MEMORY, *plan],
        capture_output=True,
        text=True,
        preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_CPU, (20, 20)),  # never hang
    )
    assert done.returncode == 2 and "once aliases are expanded" in done.stderr, done.stderr
    assert int(done.stdout) < 100


def garbage(state: Path) -> None:
    state.mkdir()
    (state / STATE_FILE).write_bytes(b"not a database, just text " * 200)


def truncated(state: Path) -> None:
    store = Store(state)
    for n in range(300):
        store.set_setting(f"app{n}", "deploy.parallel", "x" * 300)
    store.close()
    database = state / STATE_FILE
    database.write_bytes(database.read_bytes()[: database.stat().st_size // 2])


def directory(state: Path) -> None:
    (state / STATE_FILE).mkdir(parents=True)


def a_file(state: Path) -> None:
    state.write_text("state\n")


DAMAGED = {
    "garbage": (garbage, STATE_FILE, "is damaged or not baton's database (file is not a database)"),
    "truncated": (truncated, STATE_FILE, "is damaged or not baton's database (database disk"),
    "a directory": (directory, STATE_FILE, "is a directory, not baton's database"),
    "state path is a file": (a_file, "", "is a file, not a directory"),
}


@pytest.mark.parametrize("case", DAMAGED)
def test_damaged_state_fails_in_one_line_naming_it_and_what_to_do(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    make, name, message = DAMAGED[case]
    manifest = tmp_path / "baton.yml"
    manifest.write_text(GOOD)
    state = tmp_path / "state"
    make(state)
    before = snapshot(state)
    monkeypatch.setattr("uvicorn.run", lambda *args, **kwargs: pytest.fail("serve started"))
    app, file = ["-s", "shop"], ["-f", str(manifest)]
    for command in (
        ["history", *app],
        ["show", "1"],
        ["plan", *app, *file],
        ["deploy", *app, *file],
        ["settings", "set", *app, "deploy.parallel", "true"],
        ["settings", "list", *app],
        ["lock", "status", *app],
        ["serve", *file],
    ):
        status = main([*command, "--state", str(state)])
        err = capsys.readouterr().err
        assert status == 2, command
        assert err.startswith("baton: error: ") and err.count("\n") == 1, err
        assert f"{state / name if name else state} " in err and message in err, err
        assert "or use --state (or $BATON_STATE)" in err, err
    assert snapshot(state) == before


def snapshot(path: Path) -> dict[str, bytes | None]:
    """Every file under ``path`` (or ``path`` itself) and its bytes; None for a directory."""
    paths = [path, *path.rglob("*")] if path.is_dir() else [path]
    return {str(p): None if p.is_dir() else p.read_bytes() for p in paths}


def test_a_capacity_floor_no_serial_deploy_can_keep_is_refused_at_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = tmp_path / "baton.yml"
    manifest.write_text(GOOD)
    state = ["--state", str(tmp_path)]
    assert main(["settings", "set", "-s", "shop", "deploy.min_in_service", "2", *state]) == 0
    floor = (
        "deploy.min_in_service is 2 but shop has 2 server(s): taking one out leaves at most 1 "
        "in rotation, so a serial deploy cannot start"
    )
    capsys.readouterr()
    assert main(["plan", "-s", "shop", "-f", str(manifest), *state]) == 0
    assert f"WARNING: {floor}" in capsys.readouterr().out
    assert main(["deploy", "-s", "shop", "-f", str(manifest), *state]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"baton: error: {floor}") and err.count("\n") == 1, err
    assert Store(tmp_path).deploys() == []
    # --parallel never takes a server out: no warning, and the floor does not apply
    assert main(["plan", "-s", "shop", "-f", str(manifest), "--parallel", *state]) == 0
    assert "min_in_service" not in capsys.readouterr().out


def test_an_unreachable_postgresql_state_exits_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = tmp_path / "baton.yml"
    manifest.write_text(GOOD)
    with socket.socket() as probe:  # a loopback port nothing listens on
        probe.bind(("127.0.0.1", 0))
        url = f"postgresql://baton@127.0.0.1:{probe.getsockname()[1]}/baton"
    for command in (["plan", "-f", str(manifest)], ["deploy", "-f", str(manifest)], ["history"]):
        status = main([*command, "-s", "shop", "--state", url])
        err = capsys.readouterr().err
        assert status == 2 and err.count("\n") == 1, err
        assert err.startswith(f"baton: error: cannot reach the PostgreSQL state at {url}: "), err
