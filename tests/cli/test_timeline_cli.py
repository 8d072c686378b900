"""``baton show ID --timeline`` and the spans in ``--json``."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest

from baton.cli.main import main
from baton.execution.events import DeployFinished
from baton.state import Store
from tests.history.test_timeline import T0, record, served, started

WIDTH = 80


@pytest.fixture
def state(tmp_path: Path) -> Path:
    """A finished serial deploy of web1 (0-4.7 s) then web2 (4.7-9.4 s)."""
    finished = DeployFinished(deploy_id=1, status="succeeded", summary="", at=T0 + 9.4)
    events = [started(), *served("web1", T0), *served("web2", T0 + 4.7), finished]
    record(Store(tmp_path), events, "succeeded")
    return tmp_path


def test_ascii_timeline_fits_the_width_and_puts_each_server_where_it_ran(
    state: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", str(WIDTH))
    assert main(["show", "1", "--timeline", "--state", str(state)]) == 0
    out = capsys.readouterr().out
    assert out.isascii() and "\x1b" not in out
    lines = out.splitlines()
    assert all(len(line) <= WIDTH for line in lines[2:]), out
    assert "wall time 9.4s" in lines[1] and "waits 4.0s (plan estimated 4s)" in lines[1]
    assert "longest out of rotation: web1 3.6s" in lines[1]
    web1 = next(line for line in lines if line.startswith("web1")).split("|")[1]
    web2 = next(line for line in lines if line.startswith("web2")).split("|")[1]
    assert web1.rstrip().endswith("w") and web2.startswith(" ")  # web2 starts when web1 ends
    assert web1.index("#") < web1.index("h")
    assert abs(len(web1.rstrip()) - len(web2) / 2) <= 2  # each took half of the wall time
    assert web2.lstrip(" .").startswith("w") and abs(web2.count("#") - web1.count("#")) <= 1
    assert "legend:  X failed  ! interrupted / cancelled  # step" in out


def test_on_a_terminal_it_draws_coloured_blocks_to_the_terminals_width(state: Path) -> None:
    controller, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 60, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in {"COLUMNS", "NO_COLOR"}}
    command = [sys.executable, "-m", "baton", "show", "1", "--timeline", "--state", str(state)]
    done = subprocess.run(command, stdout=terminal, env=env, timeout=30, check=True)
    os.close(terminal)
    out = os.read(controller, 65536).decode()
    os.close(controller)
    assert done.returncode == 0 and "\x1b[34m█" in out  # steps in blue blocks
    rows = [line for line in out.splitlines() if line.startswith("web")]
    plain = [line.replace("\x1b[0m", "") for line in rows]
    for code in ("31", "32", "33", "34", "35", "36", "37", "90"):
        plain = [line.replace(f"\x1b[{code}m", "") for line in plain]
    assert all(len(line) <= 60 for line in plain), plain


def test_json_includes_the_spans(state: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["show", "1", "--json", "--state", str(state)]) == 0
    timeline = json.loads(capsys.readouterr().out)["timeline"]
    assert timeline["wall_time"] == pytest.approx(9.4)
    web1 = timeline["servers"][0]
    assert (web1["server"], web1["total"], web1["out_of_rotation"]) == ("web1", 4.7, 3.6)
    out = [s for s in web1["spans"] if s["kind"] == "out_of_rotation"]
    assert [(s["start"] - T0, s["duration"]) for s in out] == [
        (pytest.approx(0.1), pytest.approx(3.6))
    ]
    assert {s["kind"] for s in web1["spans"]} == {"out_of_rotation", "wait", "step", "health_check"}
