"""Run commands on this machine with ``/bin/sh -c``, as if it were a server.

Every command baton starts here (a local step or hook, a balancer command on this machine)
gets :func:`child_environment`: baton's own settings and the state's credentials stay with
baton, so a hook that prints its environment cannot put them in the shared history.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import os
import re
import signal
import subprocess
from collections.abc import Mapping

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
            env=child_environment(command.environment),
        )
        try:
            _feed(transport, command.input)
            if not await wait_for(protocol.done, command.timeout):
                await _kill_group(transport.get_pid(), protocol.done)
                return None
            return _exit_status(transport.get_returncode())
        finally:
            transport.close()


WITHHELD_PREFIX = "BATON_"
WITHHELD = frozenset({"PGPASSWORD"})
_STATE_URL = re.compile(
    r"postgres(?:ql)?://[^\s/?#]*:[^\s/?#]*@|postgres(?:ql)?://\S*[?&]password=", re.I
)
"""A PostgreSQL URL with a password, in the user part or the query string."""


def child_environment(variables: Mapping[str, str]) -> dict[str, str]:
    """This process's environment without what is baton's alone, plus ``variables`` (the
    step environment, which the manifest gave on purpose). Left out: every ``BATON_*``
    (``$BATON_STATE`` may be the state's URL), ``PGPASSWORD``, and any variable holding a
    PostgreSQL URL with a password (a state URL given as ``--state "$DATABASE_URL"``)."""
    inherited = {
        name: value
        for name, value in os.environ.items()
        if not (name.startswith(WITHHELD_PREFIX) or name in WITHHELD or _STATE_URL.search(value))
    }
    return {**inherited, **variables}


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
