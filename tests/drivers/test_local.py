"""LocalTransport: real /bin/sh processes on this machine."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from baton.config.model import Server
from baton.drivers._output import KeptOutput, OutputCollector
from baton.drivers.local import LocalTransport
from baton.drivers.transport import ShellCommand

pytestmark = pytest.mark.integration

SERVER = Server(name="here", address="localhost", transport="local")


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie waiting to be reaped does not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


async def test_streams_lines_in_order_with_exit_status() -> None:
    seen: list[tuple[str, str]] = []
    command = "echo one; sleep 0.05; echo two >&2; sleep 0.05; echo three; printf tail; exit 4"
    async with LocalTransport(SERVER) as transport:
        result = await transport.run(
            ShellCommand(command, timeout=10), on_output=lambda *a: seen.append(a)
        )
    assert seen == [
        ("stdout", "one\n"),
        ("stderr", "two\n"),
        ("stdout", "three\n"),
        ("stdout", "tail\n"),
    ]
    assert result.exit_status == 4 and not result.ok and not result.timed_out
    assert result.output == "one\ntwo\nthree\ntail\n"


async def test_lines_arrive_while_the_command_runs() -> None:
    arrivals: list[float] = []
    start = time.monotonic()
    async with LocalTransport(SERVER) as transport:
        await transport.run(
            ShellCommand("echo early; sleep 1; echo late", timeout=10),
            on_output=lambda *_: arrivals.append(time.monotonic() - start),
        )
    assert arrivals[0] < 0.8 <= arrivals[1]


async def test_a_signal_death_reads_as_128_plus_the_signal() -> None:
    result = await LocalTransport(SERVER).run(ShellCommand("kill -TERM $$", timeout=10))
    assert result.exit_status == 143


async def test_timeout_kills_the_whole_process_group(tmp_path: Path) -> None:
    command = f"echo $$ > {tmp_path}/shell; sleep 300 & echo $! > {tmp_path}/child; wait"
    started = time.monotonic()
    result = await LocalTransport(SERVER).run(ShellCommand(command, timeout=0.5))
    assert result.timed_out and result.exit_status is None
    assert time.monotonic() - started < 2
    await asyncio.sleep(0.1)
    pids = [int((tmp_path / name).read_text()) for name in ("shell", "child")]
    assert not [pid for pid in pids if alive(pid)]


async def test_a_callback_error_surfaces_after_the_command_ends(tmp_path: Path) -> None:
    def fail(stream: str, line: str) -> None:
        raise ValueError(f"cannot show {line}")

    with pytest.raises(ValueError, match="cannot show first"):
        await LocalTransport(SERVER).run(
            ShellCommand(f"echo first; echo second; touch {tmp_path}/ran", timeout=10),
            on_output=fail,
        )
    assert (tmp_path / "ran").exists()


def test_collector_sends_whole_lines_per_chunk_and_keeps_head_and_tail() -> None:
    seen: list[str] = []
    collector = OutputCollector(lambda _, text: seen.append(text), head=4, tail=10)
    for chunk in ("ab", "c\nde", "f\ng", "hij\nklm\nn", "opq\nrst\n"):
        collector.feed("stdout", chunk)
    assert seen == ["abc\n", "def\n", "ghij\nklm\n", "nopq\nrst\n"]
    assert collector.finish() == "abc\n[... 13 bytes of output left out ...]\nnopq\nrst\n"


def test_kept_output_says_how_many_bytes_it_left_out_and_starts_on_a_line() -> None:
    kept = KeptOutput(head=6, tail=8)
    for line in ("first\n", "é" * 40 + "\n", "middle\n", "last\n"):
        kept.add(line)
    assert kept.text() == "first\n[... 88 bytes of output left out ...]\nlast\n"
    small = KeptOutput(head=6, tail=8)
    small.add("a\nb\n")
    assert small.text() == "a\nb\n"
