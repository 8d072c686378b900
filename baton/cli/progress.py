"""Live progress for ``baton deploy``: a line per server on a terminal, plain lines otherwise."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Sequence
from typing import TextIO

from baton.execution.events import (
    DeployFinished,
    Event,
    HealthChecked,
    LoadBalancerChanged,
    Stage,
    StageChanged,
    StepOutput,
    Verified,
    Warned,
)
from baton.planning import Plan


class PlainRenderer:
    """One line per event worth reading, output prefixed by its server."""

    def __init__(
        self,
        servers: Sequence[str],
        out: TextIO = sys.stdout,
        quiet: bool = False,
        shown: Iterable[str] = (),
    ) -> None:
        self.out = out
        self.quiet = quiet
        self.started = time.monotonic()
        self.shown = set(shown)
        """Warnings already printed (with the plan, before the deploy started)."""

    def __call__(self, event: Event) -> None:
        if self.quiet and not isinstance(event, Warned):
            return
        line = self.describe(event)
        if line is not None:
            print(line, file=self.out, flush=True)

    def describe(self, event: Event) -> str | None:
        elapsed = f"{time.monotonic() - self.started:6.1f}s"
        if isinstance(event, Warned):
            return None if event.message in self.shown else f"WARNING: {event.message}"
        if isinstance(event, StepOutput):
            prefix = f"{event.server} | "
            return prefix + event.text.removesuffix("\n").replace("\n", "\n" + prefix)
        if isinstance(event, StageChanged):
            detail = f" {event.detail}" if event.detail else ""
            return f"{elapsed} {event.server}: {event.stage.value}{detail}"
        if isinstance(event, LoadBalancerChanged):
            return f"{elapsed} {event.server}: {event.action} ({event.load_balancer})"
        if isinstance(event, HealthChecked):
            verdict = "passed" if event.passed else "FAILED"
            return f"{elapsed} {event.server}: health check {verdict} ({event.detail})"
        if isinstance(event, Verified):
            return f"{elapsed} {event.server}: {event.detail}"
        return None

    def close(self) -> None:
        return None


class _Row:
    """One server's line: its stage, and how long it has been deploying (frozen at the end)."""

    FINAL = frozenset(
        {Stage.SUCCEEDED, Stage.FAILED, Stage.STOPPED, Stage.NOT_STARTED, Stage.CANCELLED}
    )

    def __init__(self) -> None:
        self.stage = Stage.QUEUED.value
        self.started: float | None = None
        self.finished: float | None = None

    def update(self, event: StageChanged) -> None:
        now = time.monotonic()
        self.stage = f"{event.stage.value} {event.detail}".strip()[:44]
        if self.started is None and event.stage not in self.FINAL | {Stage.QUEUED}:
            self.started = now
        if event.stage in self.FINAL:
            self.finished = now

    def elapsed(self, now: float) -> float:
        if self.started is None:
            return 0.0
        return (self.finished or now) - self.started


class LiveRenderer(PlainRenderer):
    """Output lines scroll above a block of one status line per server, redrawn in place."""

    def __init__(
        self, servers: Sequence[str], out: TextIO = sys.stdout, shown: Iterable[str] = ()
    ) -> None:
        super().__init__(servers, out, shown=shown)
        self.rows = {name: _Row() for name in servers}
        self.drawn = 0
        self.last_draw = 0.0

    def __call__(self, event: Event) -> None:
        if isinstance(event, StageChanged):
            self.rows[event.server].update(event)
        text = self.describe(event) if isinstance(event, StepOutput | Warned) else None
        self._draw(text, force=isinstance(event, DeployFinished | Warned))

    def _draw(self, text: str | None, force: bool = False) -> None:
        now = time.monotonic()
        if text is None and not force and now - self.last_draw < 0.1:
            return
        self.last_draw = now
        self.out.write(f"\x1b[{self.drawn}F\x1b[J" if self.drawn else "")
        if text is not None:
            self.out.write(text + "\n")
        for name, row in list(self.rows.items())[-40:]:
            self.out.write(f"  {name:<16} {row.stage:<44} {row.elapsed(now):6.1f}s\n")
        self.drawn = min(len(self.rows), 40)
        self.out.flush()

    def close(self) -> None:
        self._draw(None, force=True)


def make_renderer(plan: Plan, *, live: bool, quiet: bool) -> PlainRenderer:
    """The renderer for our own deploy: the plan's warnings were printed with the plan."""
    return renderer_for(plan.server_order(), live=live, quiet=quiet, shown=plan.warnings)


def renderer_for(
    servers: Sequence[str], *, live: bool, quiet: bool, shown: Iterable[str] = ()
) -> PlainRenderer:
    if live and not quiet:
        return LiveRenderer(servers, shown=shown)
    return PlainRenderer(servers, quiet=quiet, shown=shown)
