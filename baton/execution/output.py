"""One step's output on its way to the events: masked, bounded, in chunks of whole lines.

The first :data:`~baton.drivers.KEEP_HEAD` characters stream live as they arrive; after that
only the last :data:`~baton.drivers.KEEP_TAIL` are kept, and they go out when the step ends,
after a marker saying how many bytes were left out. So every consumer (the terminal, the
history, the dashboard) sees the same bounded output, however much a step prints.
"""

from __future__ import annotations

from collections.abc import Callable

from baton.drivers import KeptOutput
from baton.execution.events import EventSink, StepOutput


class StepOutputStream:
    """The ``on_output`` callback of one step: masks each chunk, keeps and emits what fits."""

    def __init__(self, server: str, step: str, mask: Callable[[str], str], emit: EventSink) -> None:
        self._server, self._step = server, step
        self._mask, self._emit = mask, emit
        self.kept = KeptOutput()
        self._streamed = 0

    def __call__(self, stream: str, text: str) -> None:
        text = self._mask(text)
        live = not self.kept.head_full
        before = self._streamed
        self.kept.add(text)
        if live:
            part = text[: self.kept.head_size - before]
            self._streamed += len(part)
            self._send(stream, part)

    def close(self) -> str:
        """Emit what is kept but not streamed yet (the marker, when something was left out,
        and the end); return all that is kept, which is exactly what was streamed."""
        kept = self.kept.text()
        self._send("stdout", kept[self._streamed :])
        return kept

    def _send(self, stream: str, text: str) -> None:
        if text:
            self._emit(StepOutput(server=self._server, step=self._step, stream=stream, text=text))
