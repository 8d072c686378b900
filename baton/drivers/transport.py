"""The transport interface: run one shell command on one server.

A command is a value (:class:`ShellCommand`: its line, its timeout, its variables) built by
whoever wants it run -- a step, a health check, a load balancer driver -- and handed to a
transport, which only knows how to run it: on this machine, over SSH, or from a fake's script.

A transport is opened once per server per deploy and reused for every step, so an SSH
connection is set up once. Output arrives through ``on_output`` while the command runs, in
chunks of whole lines, so front ends can stream it without paying per line.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import TracebackType

from baton.drivers._output import OutputCollector

OutputCallback = Callable[[str, str], None]
"""Called with (stream, text): stream is "stdout" or "stderr", text one or more complete lines,
each ending in a newline (a line is never split between two calls)."""


@dataclass(frozen=True)
class ShellCommand:
    """What to run through the server's shell, for at most ``timeout`` seconds, with
    ``environment`` exported (its values never appear on a command line) and ``input`` on its
    standard input (a file's text, of any size; not together with ``environment`` over SSH)."""

    line: str
    timeout: float
    environment: Mapping[str, str] = field(default_factory=dict)
    input: str = ""

    def __post_init__(self) -> None:
        if self.input and self.environment:
            raise ValueError("a command takes its environment or an input on stdin, not both")


@dataclass(frozen=True)
class CommandResult:
    """What a command did: exit status (None when it timed out) and its output (its first and
    last parts when long, with a marker saying how many bytes were left out)."""

    exit_status: int | None
    output: str
    timed_out: bool = False

    @property
    def ok(self) -> bool:
        return self.exit_status == 0 and not self.timed_out

    @property
    def status(self) -> str:
        """As a step's status is recorded: succeeded, timed out or failed."""
        return "succeeded" if self.ok else ("timed out" if self.timed_out else "failed")


class Transport(abc.ABC):
    """Runs commands on one server. Use as an async context manager.

    Each kind says how to start a command and see it end (:meth:`_execute`); what it printed
    and how it ended become a :class:`CommandResult` here, the same way for every kind."""

    @abc.abstractmethod
    async def open(self) -> None:
        """Connect (raise baton.UnreachableError with the server named when it cannot)."""

    async def run(
        self, command: ShellCommand, on_output: OutputCallback | None = None
    ) -> CommandResult:
        """Run ``command``; never raises for a non-zero exit. What ``on_output`` raises is
        raised once the command has ended (a failing display does not cut a step short)."""
        output = OutputCollector(on_output)
        exit_status = await self._execute(command, output)
        result = CommandResult(exit_status, output.finish(), timed_out=exit_status is None)
        if output.callback_error is not None:
            raise output.callback_error
        return result

    @abc.abstractmethod
    async def _execute(self, command: ShellCommand, output: OutputCollector) -> int | None:
        """Run ``command``, feeding what it prints to ``output``: its exit status, or None
        when it ran out of time (and was stopped)."""

    @abc.abstractmethod
    async def close(self) -> None:
        """Release the connection; safe to call twice."""

    async def __aenter__(self) -> Transport:
        await self.open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()
