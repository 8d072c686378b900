"""Run commands on this machine with ``/bin/sh -c``, as if it were a server.

Also home of :class:`OutputCollector`, which the SSH transport shares: it splits the chunks a
command writes into lines, streams them to ``on_output`` and keeps the tail of the output.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import os
import signal
import subprocess
from collections import deque
from collections.abc import Mapping

from baton.config.model import Server
from baton.drivers.transport import CommandResult, OutputCallback, Transport

MAX_OUTPUT_CHARS = 1 << 20
"""A command's combined output keeps its last ~1 MiB; every line still reaches ``on_output``."""
KILL_GRACE = 1.0
"""Seconds between SIGTERM and SIGKILL when a command times out."""


class OutputCollector:
    """Turns chunks from stdout and stderr into lines, in the order they arrive."""

    def __init__(self, on_output: OutputCallback | None, limit: int = MAX_OUTPUT_CHARS) -> None:
        self._on_output = on_output
        self._limit = limit
        self._partial = {"stdout": "", "stderr": ""}
        self._lines: deque[str] = deque()
        self._size = 0
        self.callback_error: BaseException | None = None

    def feed(self, stream: str, text: str) -> None:
        """Take a chunk of ``stream``; complete lines go out at once, the rest waits."""
        *lines, partial = (self._partial[stream] + text).split("\n")
        for line in lines:
            self._emit(stream, line)
        if len(partial) > self._limit:  # a runaway line without newline: do not hoard it
            self._emit(stream, partial)
            partial = ""
        self._partial[stream] = partial

    def finish(self) -> str:
        """Emit unterminated last lines and return the combined output."""
        for stream, partial in self._partial.items():
            if partial:
                self._emit(stream, partial)
            self._partial[stream] = ""
        return "".join(f"{line}\n" for line in self._lines)

    def _emit(self, stream: str, line: str) -> None:
        self._lines.append(line)
        self._size += len(line) + 1
        while self._size > self._limit and len(self._lines) > 1:
            self._size -= len(self._lines.popleft()) + 1
        if self._on_output is not None and self.callback_error is None:
            try:
                self._on_output(stream, line)
            except Exception as error:  # raised again by run(), once the command has ended
                self.callback_error = error


class _Protocol(asyncio.SubprocessProtocol):
    """Feeds pipe data to the collector as it arrives: no reader tasks, no polling."""

    def __init__(self, collector: OutputCollector) -> None:
        self._collector = collector
        self._decoders = {n: codecs.getincrementaldecoder("utf-8")("replace") for n in (1, 2)}
        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def pipe_data_received(self, fd: int, data: bytes) -> None:
        stream = "stdout" if fd == 1 else "stderr"
        self._collector.feed(stream, self._decoders[fd].decode(data))

    def connection_lost(self, exc: Exception | None) -> None:  # process gone, pipes closed
        if not self.done.done():
            self.done.set_result(None)


class LocalTransport(Transport):
    """Runs each command in its own process group, so a timeout kills all it started."""

    def __init__(self, server: Server) -> None:
        self.server = server

    def __repr__(self) -> str:
        return f"LocalTransport({self.server.name!r})"

    async def open(self) -> None:
        """Nothing to connect to."""

    async def close(self) -> None:
        """Nothing to release."""

    async def run(
        self,
        command: str,
        *,
        timeout: float,
        on_output: OutputCallback | None = None,
        environment: Mapping[str, str] | None = None,
    ) -> CommandResult:
        collector = OutputCollector(on_output)
        loop = asyncio.get_running_loop()
        transport, protocol = await loop.subprocess_exec(
            lambda: _Protocol(collector),
            *("/bin/sh", "-c", command),
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            env={**os.environ, **environment} if environment else None,
        )
        try:
            timed_out = not await _wait(protocol.done, timeout)
            if timed_out:
                await _kill_group(transport.get_pid(), protocol.done)
            status = None if timed_out else _exit_status(transport.get_returncode())
        finally:
            transport.close()
        result = CommandResult(exit_status=status, output=collector.finish(), timed_out=timed_out)
        if collector.callback_error is not None:
            raise collector.callback_error
        return result


async def _wait(done: asyncio.Future[None], timeout: float) -> bool:
    """Whether ``done`` completed within ``timeout`` seconds (it is not cancelled)."""
    try:
        async with asyncio.timeout(timeout):
            await asyncio.shield(done)
    except TimeoutError:
        return False
    return True


async def _kill_group(pid: int, done: asyncio.Future[None]) -> None:
    for number in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, number)
        if await _wait(done, KILL_GRACE):
            return


def _exit_status(returncode: int | None) -> int:
    """The shell convention: 128 + signal number for a command killed by a signal."""
    if returncode is None:
        return 255
    return 128 - returncode if returncode < 0 else returncode
