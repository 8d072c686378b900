"""The transport interface: run one shell command on one server.

A transport is opened once per server per deploy and reused for every step, so an SSH
connection is set up once. Output arrives through ``on_output`` while the command runs, in
chunks of whole lines, so front ends can stream it without paying per line.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import TracebackType

OutputCallback = Callable[[str, str], None]
"""Called with (stream, text): stream is "stdout" or "stderr", text one or more complete lines,
each ending in a newline (a line is never split between two calls)."""


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
    """Runs commands on one server. Use as an async context manager."""

    @abc.abstractmethod
    async def open(self) -> None:
        """Connect (raise baton.UnreachableError with the server named when it cannot)."""

    @abc.abstractmethod
    async def run(
        self,
        command: str,
        *,
        timeout: float,
        on_output: OutputCallback | None = None,
        environment: Mapping[str, str] | None = None,
    ) -> CommandResult:
        """Run ``command`` through the server's shell with ``environment`` exported; never
        raises for a non-zero exit. Environment values never appear on a command line."""

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
