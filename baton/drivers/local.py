"""Run commands on this machine with ``/bin/sh -c``, as if it were a server."""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import os
import signal
import subprocess

from baton.config.model import Server
from baton.drivers._output import KILL_GRACE, OutputCollector, wait_for
from baton.drivers.transport import ShellCommand, Transport


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

    async def _execute(self, command: ShellCommand, output: OutputCollector) -> int | None:
        loop = asyncio.get_running_loop()
        transport, protocol = await loop.subprocess_exec(
            lambda: _Protocol(output),
            *("/bin/sh", "-c", command.line),
            stdin=subprocess.PIPE if command.input else subprocess.DEVNULL,
            start_new_session=True,
            env={**os.environ, **command.environment} if command.environment else None,
        )
        try:
            _feed(transport, command.input)
            if not await wait_for(protocol.done, command.timeout):
                await _kill_group(transport.get_pid(), protocol.done)
                return None
            return _exit_status(transport.get_returncode())
        finally:
            transport.close()


def _feed(transport: asyncio.SubprocessTransport, text: str) -> None:
    """Write ``text`` to the command's stdin and close it (a command that ends early is fine)."""
    if stdin := transport.get_pipe_transport(0):
        assert isinstance(stdin, asyncio.WriteTransport)
        stdin.write(text.encode())
        stdin.close()


async def _kill_group(pid: int, done: asyncio.Future[None]) -> None:
    for number in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, number)
        if await wait_for(done, KILL_GRACE):
            return


def _exit_status(returncode: int | None) -> int:
    """The shell convention: 128 + signal number for a command killed by a signal."""
    if returncode is None:
        return 255
    return 128 - returncode if returncode < 0 else returncode
