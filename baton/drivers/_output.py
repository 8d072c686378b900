"""What both real transports share: turning a command's output chunks into streamed lines.

:class:`OutputCollector` splits the chunks a command writes into lines, streams them to
``on_output`` as they complete and keeps the tail of the combined output.
"""

from __future__ import annotations

import asyncio
from collections import deque

from baton.drivers.transport import OutputCallback

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


async def wait_for(done: asyncio.Future[None], timeout: float) -> bool:
    """Whether ``done`` completed within ``timeout`` seconds (it is not cancelled)."""
    try:
        async with asyncio.timeout(timeout):
            await asyncio.shield(done)
    except TimeoutError:
        return False
    return True
