"""The history consumer: writes a deploy's events and results to the store in batches.

Output is already bounded per step by the engine (:mod:`baton.execution.output`), so what one
deploy writes is bounded too, however much its steps print.
"""

from __future__ import annotations

from baton.execution.events import Event, ServerFinished, StepFinished
from baton.state import ServerResult, StepResult, Store, StoredEvent


class Recorder:
    """Buffers events; ``flush`` writes them in one transaction (called often, and at the end)."""

    def __init__(self, store: Store, deploy_id: int) -> None:
        self._store = store
        self._deploy_id = deploy_id
        self._seq = 0
        self._events: list[StoredEvent] = []
        self._steps: list[StepResult] = []
        self._servers: list[ServerResult] = []

    def __call__(self, event: Event) -> None:
        self._seq += 1
        data = event.to_dict()
        data.pop("output", None)
        kind = str(data.pop("kind"))
        data.pop("at", None)
        self._events.append(StoredEvent(self._seq, event.at, kind, data))
        if isinstance(event, StepFinished):
            self._steps.append(_step_result(event))
        elif isinstance(event, ServerFinished):
            self._servers.append(
                ServerResult(
                    event.server,
                    event.status,
                    event.detail,
                    event.in_rotation,
                    event.started_at,
                    event.at,
                )
            )

    def flush(self) -> None:
        """Write what is buffered; on StateWriteError it stays buffered for a later try."""
        if not (self._events or self._steps or self._servers):
            return
        self._store.record(self._deploy_id, self._events, self._steps, self._servers)
        self._events, self._steps, self._servers = [], [], []


def _step_result(event: StepFinished) -> StepResult:
    return StepResult(
        server=event.server,
        step=event.step,
        status=event.status,
        exit_status=event.exit_status,
        started_at=event.started_at,
        finished_at=event.at,
        output=event.output,
    )
