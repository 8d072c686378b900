"""What ``baton --help``, ``plan`` and ``deploy`` load: start-up time is mostly imports.

Each command runs in a fresh interpreter, which then reports the modules it loaded and the
garbage collector's state. Timings live in BENCHMARKS.md ("Start-up"); this guards the causes:
a heavy import creeping back into the command line's top level, a command importing or building
other commands' parsers, and the collector walking start-up's objects again and again (start-up
runs with it off, then freezes them), while making sure no command leaves it off.
"""

from __future__ import annotations

import argparse
import json
import pkgutil
import subprocess
import sys
from importlib import import_module
from pathlib import Path
from typing import Any

import pytest

import baton.cli
from baton.cli.main import COMMANDS, build_parser, main
from tests.manifests import manifest_text

REPORT = """\
import gc, json, sys
from baton.cli.main import main
try:
    status = main(sys.argv[1:])
except SystemExit as exit:
    status = exit.code
report = {"status": status, "modules": sorted(sys.modules), "gc": gc.isenabled(),
          "frozen": gc.get_freeze_count()}
print(json.dumps(report), file=sys.stderr)
"""
WEB = {"fastapi", "starlette", "uvicorn", "jinja2"}


def run(*argv: str) -> dict[str, Any]:
    """What ``baton ARGV`` reports in a fresh interpreter: status, modules, gc, frozen."""
    done = subprocess.run(
        [sys.executable, "-c", REPORT, *argv], capture_output=True, text=True, timeout=60
    )
    report: dict[str, Any] = json.loads(done.stderr.splitlines()[-1])
    return report


def loaded(*argv: str) -> tuple[int, set[str]]:
    """(exit status, top-level packages loaded) of ``baton ARGV`` in a fresh interpreter."""
    report = run(*argv)
    return report["status"], {name.split(".")[0] for name in report["modules"]}


def test_help_loads_neither_ssh_web_validation_nor_asyncio() -> None:
    status, modules = loaded("--help")
    assert status == 0
    assert not modules & {"asyncssh", "cryptography", "pydantic", "yaml", "asyncio", *WEB}


def test_plan_loads_no_ssh_web_or_engine_and_again_no_validation(tmp_path: Path) -> None:
    manifest = tmp_path / "baton.yml"
    manifest.write_text(manifest_text())
    status, modules = loaded("plan", "-s", "shop", "-f", str(manifest), "--state", str(tmp_path))
    assert status == 0
    assert "pydantic" in modules  # the manifest is validated: the test sees a real plan
    assert not modules & {"asyncssh", "cryptography", "asyncio", *WEB}
    status, again = loaded("plan", "-s", "shop", "-f", str(manifest), "--state", str(tmp_path))
    assert status == 0
    assert not again & {"pydantic", "yaml"}  # validated before: baton.config.cache has it


@pytest.fixture(scope="module")
def failed_deploy(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """What a parallel deploy to a server nobody answers on reports: status, modules, gc."""
    tmp_path = tmp_path_factory.mktemp("deploy")
    manifest = tmp_path / "baton.yml"
    manifest.write_text(
        "application: shop\n"
        "servers:\n  - {name: web1, address: 127.0.0.1, port: 1, connect_timeout: 2}\n"
        "deploy:\n  steps:\n    - {name: switch, run: 'true'}\n"
    )
    return run(
        "deploy", "-s", "shop", "-f", str(manifest), "--state", str(tmp_path / "state"),
        "--parallel", "--version", "v1", "--json",
    )  # fmt: skip


def test_deploy_freezes_its_start_up_and_leaves_the_collector_on(
    failed_deploy: dict[str, Any],
) -> None:
    assert failed_deploy["status"] == 1  # nothing listens on port 1: preflight fails
    assert failed_deploy["gc"] is True
    assert failed_deploy["frozen"] > 20_000  # the library, manifest and plan: out of the way


def test_deploy_loads_asyncssh_without_x509_certificate_support(
    failed_deploy: dict[str, Any],
) -> None:
    modules = set(failed_deploy["modules"])
    assert {"asyncssh", "cryptography.hazmat.primitives.ciphers.aead"} <= modules  # SSH ran
    assert not {"cryptography.x509", "asyncssh.crypto.x509", "OpenSSL"} & modules


def test_deploy_loads_no_other_command_module(failed_deploy: dict[str, Any]) -> None:
    others = set(COMMANDS.values()) - {COMMANDS["deploy"]}
    assert {"baton.cli.serve", "baton.cli.sandbox", "baton.cli.completion"} <= others
    assert COMMANDS["deploy"] in failed_deploy["modules"]
    assert not others & set(failed_deploy["modules"])


def _commands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    """The subcommands of ``parser``, by name, in the order its help lists them."""
    [subparsers] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(subparsers.choices)


def test_a_command_parser_holds_that_command_alone_with_the_same_help() -> None:
    every = _commands(build_parser())
    assert list(every) == list(COMMANDS)  # the table lists every command, in --help's order
    for name, full in every.items():
        alone = _commands(build_parser(name))
        assert list(alone) == [name]
        assert alone[name].format_help() == full.format_help()
    deploy = _commands(build_parser("deploy"))["deploy"]
    assert {"--parallel", "--lock-wait"} <= set(deploy._option_string_actions)
    assert "--to" not in deploy._option_string_actions  # rollback's, built for rollback only


def test_every_module_that_registers_commands_is_in_the_table() -> None:
    """A module's ``register_<command>`` functions and the table in main.py name the same
    commands: a command missing from the table would be missing from ``baton --help``; one
    the table names without its function fails."""
    for module in pkgutil.iter_modules(baton.cli.__path__, "baton.cli."):
        names = vars(import_module(module.name))
        register = {n.removeprefix("register_") for n in names if n.startswith("register_")}
        assert register == {c for c, m in COMMANDS.items() if m == module.name}, module.name


def test_a_bad_or_missing_command_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    for words in (["nope"], []):
        with pytest.raises(SystemExit) as exit_:
            main(words)
        assert exit_.value.code == 2
    errors = capsys.readouterr().err.splitlines()
    assert "invalid choice: 'nope' (choose from 'plan', 'deploy', " in errors[1]
    assert errors[1].endswith(", 'sandbox', 'demo', 'serve')")
    assert errors[3] == "baton: error: the following arguments are required: COMMAND"
