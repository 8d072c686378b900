"""``baton completion bash|zsh|fish``: each script, sourced in its real shell, completes
commands, flags, setting keys, the manifest's application and deploy ids from history."""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from baton.cli.completion import FILES, candidates
from baton.cli.main import build_parser, main
from baton.state import LockHolder, Store

BIN = str(Path(sys.executable).parent)


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory with a manifest for "shop" and state holding deploys #1 and #2."""
    home = tmp_path_factory.mktemp("completion")
    (home / "baton.yml").write_text("application: shop\n")
    store = Store(home / "state")
    for version in ("v1", "v2"):
        deploy = store.start_deploy("shop", version, "serial", {}, [], LockHolder.this_process())
        store.finish_deploy(deploy, "succeeded", "")
    store.close()
    return home


@pytest.fixture(scope="module", autouse=True)
def scripts(home: Path) -> None:
    """``baton completion SHELL`` for each shell, saved in ``home``."""
    for shell in ("bash", "zsh", "fish"):
        with contextlib.redirect_stdout(io.StringIO()) as output:
            assert main(["completion", shell]) == 0
        (home / f"baton.{shell}").write_text(output.getvalue())


def shell(home: Path, *command: str) -> list[str]:
    """Run ``command`` in the shell with baton's venv on PATH; its output lines."""
    environment = {**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}", "BATON_STATE": "state"}
    result = subprocess.run(
        command, cwd=home, env=environment, capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def bash(home: Path, *words: str) -> list[str]:
    """What bash offers after ``words`` (the last one is being completed)."""
    quoted = " ".join(f"'{w}'" for w in words)
    script = (
        f"source baton.bash; COMP_WORDS=({quoted}); COMP_CWORD={len(words) - 1}; "
        'COMP_LINE="${COMP_WORDS[*]}"; _baton; printf "%s\\n" "${COMPREPLY[@]}"'
    )
    return [line for line in shell(home, "bash", "--norc", "-c", script) if line]


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        (["baton", "sett"], ["settings"]),
        (["baton", "settings", "set", "-s", "shop", "deploy.m"],
         ["deploy.max_parallel", "deploy.min_in_service", "deploy.migrations_first"]),
        (["baton", "settings", "set", "-s", "shop", "deploy.parallel", ""], ["true", "false"]),
        (["baton", "check", "-s", ""], ["shop"]),
        (["baton", "show", ""], ["2", "1"]),
        (["baton", "rollback", "-s", "shop", "--to", ""], ["2", "1"]),
        (["baton", "deploy", "--ser"], ["--serial"]),
        (["baton", "completion", ""], ["bash", "zsh", "fish"]),
    ],
)  # fmt: skip
def test_bash_completes(home: Path, words: list[str], expected: list[str]) -> None:
    assert bash(home, *words) == expected


def test_bash_offers_every_command_and_no_hidden_one(home: Path) -> None:
    offered = bash(home, "baton", "")
    assert {"deploy", "check", "init", "schema", "completion", "settings"} <= set(offered)
    assert not [c for c in offered if c.startswith("_")]


def test_fish_completes(home: Path) -> None:
    command = "source baton.fish; complete -C 'baton settings get -s shop deploy.p'"
    assert shell(home, "fish", "--no-config", "-c", command) == ["deploy.parallel"]


def test_zsh_completes(home: Path) -> None:
    """The function the script defines, with compsys's compadd and compdef stood in for (they
    only exist in an interactive shell)."""
    command = (
        'compdef() { :; }; compadd() { shift; print -l -- "$@"; }; source baton.zsh; '
        "words=(baton show ''); CURRENT=3; _baton"
    )
    assert shell(home, "zsh", "-f", "-c", command) == ["2", "1"]


def test_a_path_argument_completes_files() -> None:
    parser = build_parser()
    assert candidates(parser, ["deploy", "-s", "shop", "-f", "ba"]) == [FILES]
    assert candidates(parser, ["deploy", "--state", ""]) == [FILES]


def test_completion_needs_a_known_shell(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["completion", "tcsh"])
    assert exit_.value.code == 2
    assert "invalid choice: 'tcsh' (choose from 'bash', 'zsh', 'fish')" in capsys.readouterr().err


HOSTILE = "shop$(touch PWNED)"
"""An application name that runs a command when the shell reads it unquoted."""


def save_script(directory: Path, shell_name: str) -> None:
    with contextlib.redirect_stdout(io.StringIO()) as output:
        assert main(["completion", shell_name]) == 0
    (directory / f"baton.{shell_name}").write_text(output.getvalue())


def test_a_name_the_manifest_cannot_hold_is_never_offered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "baton.yml").write_text(f"application: '{HOSTILE}'\n")
    save_script(tmp_path, "bash")
    assert bash(tmp_path, "baton", "check", "-s", "") == []
    monkeypatch.chdir(tmp_path)
    assert candidates(build_parser(), ["deploy", "-s", "sh"]) == []  # zsh and fish ask the same
    assert not (tmp_path / "PWNED").exists()


SETUP = {
    "bash": (["bash", "--norc", "-i"], "source baton.bash"),
    "zsh": (["zsh", "-f", "-i"], "autoload -U compinit; compinit -u; source baton.zsh"),
    "fish": (["fish", "--no-config", "-i"], "source baton.fish"),
}


@pytest.mark.parametrize("shell_name", SETUP)
def test_tab_then_enter_runs_nothing_from_a_candidate(tmp_path: Path, shell_name: str) -> None:
    """The attack as an operator meets it: an interactive shell on a terminal, ``baton check -s
    sh``, TAB, Enter. Whatever ``baton __complete`` answers (here a stand-in answering the
    hostile name), the shell inserts it quoted: baton gets it as one word and nothing runs."""
    save_script(tmp_path, shell_name)
    stand_in = tmp_path / "bin" / "baton"
    stand_in.parent.mkdir()
    stand_in.write_text(
        "#!/bin/sh\nif [ \"$1\" = __complete ]; then printf '%s\\n' '" + HOSTILE + "'\n"
        "else printf '%s\\n' \"$@\" > ran; fi\n"
    )
    stand_in.chmod(0o755)
    command, setup = SETUP[shell_name]
    path = f"{stand_in.parent}:{os.environ['PATH']}"
    with Terminal(command, tmp_path, {**os.environ, "PATH": path, "HOME": str(tmp_path)}) as term:
        term.type(f"{setup}; echo RE''ADY\r", until="READY\r\n")
        term.type("baton check -s sh\t", until="PWNED")
        term.type("\recho DO''NE\r", until="DONE\r\n")
    assert (tmp_path / "ran").read_text() == f"check\n-s\n{HOSTILE}\n"
    assert not (tmp_path / "PWNED").exists()


class Terminal:
    """A program on a pseudo-terminal in ``directory``; :meth:`type` sends keys and reads its
    output until a text shows (the test fails after 15 s without it)."""

    def __init__(self, command: list[str], directory: Path, environment: dict[str, str]) -> None:
        self.command, self.directory, self.environment = command, directory, environment
        self.output = ""

    def __enter__(self) -> Terminal:
        import pty

        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: the shell
            os.chdir(self.directory)
            os.execvpe(self.command[0], self.command, {**self.environment, "TERM": "dumb"})
        return self

    def type(self, keys: str, until: str) -> None:
        import select
        import time

        start = len(self.output)
        os.write(self.fd, keys.encode())
        deadline = time.monotonic() + 15
        while until not in self.output[start:]:
            assert time.monotonic() < deadline, f"{until!r} never came: {self.output!r}"
            if select.select([self.fd], [], [], 0.1)[0]:
                self.output += os.read(self.fd, 4096).decode(errors="replace")

    def __exit__(self, *exc: object) -> None:
        import signal

        os.kill(self.pid, signal.SIGKILL)
        os.waitpid(self.pid, 0)
        os.close(self.fd)
