"""The events a deploy emits. The CLI, the dashboard and the history store all consume them.

Each event is a small frozen record; ``to_dict`` gives the JSON form stored with the deploy and
streamed to the dashboard.
"""

from __future__ import annotations

import dataclasses
import enum
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar


class StepStatus(enum.StrEnum):
    """How a step (or hook) ended."""

    SUCCEEDED = "succeeded"
    FAILED = "failed"
    TIMED_OUT = "timed out"
    INTERRUPTED = "interrupted"
    """The deploy was cancelled or stopped while the step ran."""


class ServerStatus(enum.StrEnum):
    """How a server's deploy ended."""

    SUCCEEDED = "succeeded"
    FAILED = "failed"
    STOPPED = "stopped"
    """Its wave stopped it (another server failed) before it changed anything."""
    CANCELLED = "cancelled"
    NOT_STARTED = "not started"


class DeployStatus(enum.StrEnum):
    """Where a deploy is, as recorded: running, or how it ended."""

    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    ABANDONED = "abandoned"
    """Its process died, or stopped writing its state, before it finished."""


class Stage(enum.StrEnum):
    """Where a server is in its deploy, in the operator's words; its last stage is its status."""

    QUEUED = "queued"
    CONNECTING = "connecting"
    LEAVING_ROTATION = "leaving rotation"
    OUT_OF_ROTATION = "out of rotation"
    WAITING = "waiting"
    STEP = "step"
    HEALTH_CHECK = "health check"
    REJOINING_ROTATION = "rejoining rotation"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    NOT_STARTED = "not started"
    STOPPED = "stopped"
    READY = "ready"
    """Done with a prepare or migrate wave; still serving, waiting for its rollout."""
    VERIFYING = "verifying"
    CANCELLED = "cancelled"


@dataclass(frozen=True, kw_only=True)
class Event:
    kind: ClassVar[str] = "event"
    at: float = field(default_factory=time.time)

    def to_dict(self) -> dict[str, Any]:
        data = {k: (v.value if isinstance(v, enum.Enum) else v) for k, v in _fields(self)}
        return {"kind": self.kind, **data}


@dataclass(frozen=True, kw_only=True)
class ServerEvent(Event):
    """Something that happened to one server of the deploy."""

    server: str


def _fields(event: Event) -> list[tuple[str, Any]]:
    return [(f.name, getattr(event, f.name)) for f in dataclasses.fields(event)]


@dataclass(frozen=True, kw_only=True)
class DeployStarted(Event):
    kind: ClassVar[str] = "deploy_started"
    deploy_id: int
    application: str
    version: str
    strategy: str
    servers: tuple[str, ...]
    run_migrations: bool
    estimated_extra_seconds: int


@dataclass(frozen=True, kw_only=True)
class Warned(Event):
    kind: ClassVar[str] = "warning"
    message: str


@dataclass(frozen=True, kw_only=True)
class StageChanged(ServerEvent):
    kind: ClassVar[str] = "stage"
    stage: Stage
    detail: str = ""


@dataclass(frozen=True, kw_only=True)
class LoadBalancerChanged(ServerEvent):
    kind: ClassVar[str] = "load_balancer"
    load_balancer: str
    action: str
    """"removed" or "added"."""


@dataclass(frozen=True, kw_only=True)
class StepStarted(ServerEvent):
    kind: ClassVar[str] = "step_started"
    step: str
    migration: bool
    phase: str = ""
    """The deploy-wide phase (first_thing, last_thing, on_failure) a hook runs in; "" for a
    server's own steps and hooks."""


@dataclass(frozen=True, kw_only=True)
class StepOutput(ServerEvent):
    kind: ClassVar[str] = "output"
    step: str
    stream: str
    text: str
    """One or more whole lines, each ending in a newline: output comes in chunks."""


@dataclass(frozen=True, kw_only=True)
class StepFinished(ServerEvent):
    kind: ClassVar[str] = "step_finished"
    step: str
    status: StepStatus
    """When interrupted, ``output`` is what it had printed."""
    exit_status: int | None
    started_at: float
    output: str = ""
    phase: str = ""


@dataclass(frozen=True, kw_only=True)
class HealthChecked(ServerEvent):
    kind: ClassVar[str] = "health"
    passed: bool
    attempts: int
    detail: str


@dataclass(frozen=True, kw_only=True)
class Verified(ServerEvent):
    kind: ClassVar[str] = "verified"
    passed: bool
    detail: str


@dataclass(frozen=True, kw_only=True)
class ServerFinished(ServerEvent):
    kind: ClassVar[str] = "server_finished"
    status: ServerStatus
    detail: str
    in_rotation: bool | None
    started_at: float | None


@dataclass(frozen=True, kw_only=True)
class DeployFinished(Event):
    kind: ClassVar[str] = "deploy_finished"
    deploy_id: int
    status: DeployStatus
    summary: str


EventSink = Callable[[Event], None]


def _kinds(base: type[Event]) -> dict[str, type[Event]]:
    """Every event type below ``base`` by its kind: a new event is stored and read back
    without a list to keep up to date (a hand-kept one had left out Verified)."""
    found: dict[str, type[Event]] = {}
    for cls in base.__subclasses__():
        if "kind" in vars(cls):
            found[cls.kind] = cls
        found.update(_kinds(cls))
    return found


EVENT_TYPES: dict[str, type[Event]] = _kinds(Event)


_TYPED: dict[type[Event], dict[str, Callable[[str], enum.StrEnum]]] = {
    StageChanged: {"stage": Stage},
    StepFinished: {"status": StepStatus},
    ServerFinished: {"status": ServerStatus},
    DeployFinished: {"status": DeployStatus},
}
"""The fields stored as their enum's value, by event type."""


def event_from_dict(data: dict[str, Any]) -> Event | None:
    """An event back from its stored form (``to_dict``); None for a kind this baton lacks, so
    a newer baton's events never break an older one following the same state."""
    cls = EVENT_TYPES.get(data.get("kind", ""))
    if cls is None:
        return None
    names = {f.name for f in dataclasses.fields(cls)}
    values = {k: v for k, v in data.items() if k in names}
    for name, kind in _TYPED.get(cls, {}).items():
        if name in values:
            values[name] = kind(values[name])
    if "servers" in values:
        values["servers"] = tuple(values["servers"])
    if cls is StepOutput and "line" in data:  # recorded line by line by an older baton
        values["text"] = f"{data['line']}\n"
    try:
        return cls(**values)
    except (TypeError, ValueError):
        return None
