"""What every transport shares: turning a command's output into streamed chunks of lines.

Output is handled in chunks, never line by line: a step that prints 67 MB arrives in a few
thousand chunks, and each goes to ``on_output`` at once as the complete lines it holds (a line
is never split between two calls, so masking a secret inside a line always sees all of it).
What is kept of a command's output is bounded by :class:`KeptOutput`: its first and last parts,
with a marker saying how many bytes were left out between them.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from baton.drivers.transport import OutputCallback

KEEP_HEAD = 64 * 1024
KEEP_TAIL = 192 * 1024
"""Characters of output kept from the start and from the end of one command (or step)."""
MAX_PARTIAL = 1 << 20
"""A runaway line without a newline goes out once it is this long, rather than being hoarded."""
KILL_GRACE = 1.0
"""Seconds between SIGTERM and SIGKILL when a command times out."""


def left_out_marker(count: int) -> str:
    """The line that stands for output baton did not keep (a byte count, UTF-8)."""
    return f"[... {count:,} bytes of output left out ...]\n"


class KeptOutput:
    """The first ``head`` and last ``tail`` characters of a text stream, and the bytes between.

    Adding is O(chunk): the head fills once, the tail is a queue of chunks trimmed from the
    left, so a flood costs no more than reading it.
    """

    def __init__(self, head: int = KEEP_HEAD, tail: int = KEEP_TAIL) -> None:
        self._head_limit, self._tail_limit = head, tail
        self._head: list[str] = []
        self._head_size = 0
        self._tail: deque[str] = deque()
        self._tail_size = 0
        self.left_out = 0
        """UTF-8 bytes dropped between the head and the tail."""

    @property
    def head_size(self) -> int:
        return self._head_size

    @property
    def head_full(self) -> bool:
        return self._head_size >= self._head_limit

    def add(self, text: str) -> None:
        if not self.head_full:
            room = self._head_limit - self._head_size
            self._head.append(text[:room])
            self._head_size += min(room, len(text))
            text = text[room:]
        if text:
            self._tail.append(text)
            self._tail_size += len(text)
            while self._tail_size - len(self._tail[0]) >= self._tail_limit:
                dropped = self._tail.popleft()
                self._tail_size -= len(dropped)
                self.left_out += len(dropped.encode())

    def tail(self) -> str:
        """The kept end, starting at a line boundary when some of it was cut."""
        text = "".join(self._tail)
        excess = len(text) - self._tail_limit
        if excess <= 0:
            return text
        newline = text.find("\n", excess)
        cut = newline + 1 if newline != -1 else excess
        self.left_out += len(text[:cut].encode())
        self._tail, self._tail_size = deque([text[cut:]]), len(text) - cut
        return text[cut:]

    def text(self) -> str:
        """Head, the marker when anything was left out, and tail."""
        head = "".join(self._head)
        tail = self.tail()
        if not self.left_out:
            return head + tail
        if head and not head.endswith("\n"):
            head += "\n"
        return head + left_out_marker(self.left_out) + tail


class OutputCollector:
    """Turns stdout and stderr chunks into chunks of complete lines, in the order they arrive."""

    def __init__(
        self, on_output: OutputCallback | None, head: int = KEEP_HEAD, tail: int = KEEP_TAIL
    ) -> None:
        self._on_output = on_output
        self._partial = {"stdout": "", "stderr": ""}
        self.kept = KeptOutput(head, tail)
        self.callback_error: BaseException | None = None

    def feed(self, stream: str, text: str) -> None:
        """Take a chunk of ``stream``; its complete lines go out at once, the rest waits."""
        buffered = self._partial[stream] + text
        cut = buffered.rfind("\n") + 1
        if cut:
            self._emit(stream, buffered[:cut])
            buffered = buffered[cut:]
        if len(buffered) > MAX_PARTIAL:
            self._emit(stream, buffered)
            buffered = ""
        self._partial[stream] = buffered

    def finish(self) -> str:
        """Emit unterminated last lines and return what is kept of the combined output."""
        for stream, partial in self._partial.items():
            if partial:
                self._emit(stream, partial + "\n")
            self._partial[stream] = ""
        return self.kept.text()

    def _emit(self, stream: str, text: str) -> None:
        self.kept.add(text)
        if self._on_output is not None and self.callback_error is None:
            try:
                self._on_output(stream, text)
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
