"""A deploy's timeline: per server, the spans of time it spent out of rotation, in each step,
health check and wait, computed from the deploy's recorded events; and a row per deploy-wide
hook phase (first_thing before the servers, last_thing or on_failure after them).

Pure: the same events give the same spans, so the terminal (``baton show --timeline``), the
dashboard's picture and ``--json`` all draw the same data. A deploy still running is drawn up
to ``now``; a span left open by a deploy that ended without closing it (cancelled, killed) is
"interrupted" at the moment the server or the deploy stopped.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from baton.state import DeployRecord, StoredEvent

OUT_OF_ROTATION = "out_of_rotation"
STEP = "step"
HEALTH_CHECK = "health_check"
WAIT = "wait"
CAPACITY = "capacity"
OUTCOME = "outcome"
"""A zero-length mark where a server failed or was cancelled."""

STAGE_SPANS = {"waiting": WAIT, "health check": HEALTH_CHECK}
FINAL_STAGES = {"succeeded", "failed", "stopped", "cancelled", "not started"}
INTERRUPTED = "interrupted"
RUNNING = "running"
LEFT_OUT = "left out"
FIRST_PHASE = "first_thing"
"""The deploy-wide phase drawn above the servers; the others run after them."""


@dataclass(frozen=True)
class Span:
    """One stretch of time on one server. ``status`` says how it ended."""

    server: str
    kind: str
    label: str
    start: float
    end: float
    status: str

    @property
    def duration(self) -> float:
        return max(self.end - self.start, 0.0)

    def to_dict(self) -> dict[str, Any]:
        return {**vars(self), "duration": round(self.duration, 3)}


@dataclass(frozen=True)
class ServerRow:
    server: str
    """The server, or the deploy-wide phase (first_thing, last_thing, on_failure)."""
    group: int
    """The plan's wave (1-based): servers deployed together share one; 0 for a phase."""
    status: str
    start: float | None
    end: float | None
    spans: tuple[Span, ...]

    @property
    def total(self) -> float:
        return 0.0 if self.start is None or self.end is None else self.end - self.start

    @property
    def out_of_rotation(self) -> float:
        return sum(s.duration for s in self.spans if s.kind == OUT_OF_ROTATION)

    def to_dict(self) -> dict[str, Any]:
        return {
            "server": self.server,
            "group": self.group,
            "status": self.status,
            "start": self.start,
            "end": self.end,
            "total": round(self.total, 3),
            "out_of_rotation": round(self.out_of_rotation, 3),
            "spans": [s.to_dict() for s in self.spans],
        }


@dataclass(frozen=True)
class DeployTimeline:
    deploy_id: int
    status: str
    start: float
    end: float
    rows: tuple[ServerRow, ...]
    estimated_waits: int
    """What ``plan`` estimated the load balancer waits would add, in seconds."""

    @property
    def wall_time(self) -> float:
        return self.end - self.start

    @property
    def waits(self) -> float:
        return sum(s.duration for r in self.rows for s in r.spans if s.kind == WAIT)

    @property
    def longest_out(self) -> ServerRow | None:
        """The server out of rotation longest, or None if none was out."""
        out = [r for r in self.rows if r.out_of_rotation > 0]
        return max(out, key=lambda r: r.out_of_rotation) if out else None

    def spans(self) -> list[Span]:
        return [s for r in self.rows for s in r.spans]

    def to_dict(self) -> dict[str, Any]:
        longest = self.longest_out
        return {
            "deploy_id": self.deploy_id,
            "status": self.status,
            "start": self.start,
            "end": self.end,
            "wall_time": round(self.wall_time, 3),
            "waits": round(self.waits, 3),
            "estimated_waits": self.estimated_waits,
            "longest_out_of_rotation": None
            if longest is None
            else {"server": longest.server, "seconds": round(longest.out_of_rotation, 3)},
            "servers": [r.to_dict() for r in self.rows],
        }


@dataclass
class _Track:
    """One server's spans while the events are read."""

    name: str
    open: dict[str, tuple[str, float]] = field(default_factory=dict)
    """kind -> (label, start) of the spans not closed yet."""
    spans: list[Span] = field(default_factory=list)
    out_of: set[str] = field(default_factory=set)
    status: str = "queued"
    start: float | None = None
    end: float | None = None
    hooks: dict[str, float] = field(default_factory=dict)
    """A phase's hooks still running: label -> start."""

    def begin(self, kind: str, label: str, at: float) -> None:
        self.open.setdefault(kind, (label, at))

    def close(self, kind: str, at: float, status: str, label: str | None = None) -> None:
        opened = self.open.pop(kind, None)
        if opened is not None:
            self.spans.append(Span(self.name, kind, label or opened[0], opened[1], at, status))


def timeline_of(record: DeployRecord, events: Iterable[StoredEvent], now: float) -> DeployTimeline:
    """The timeline of ``record`` from its recorded ``events``; a running deploy up to ``now``."""
    plan = record.plan
    tracks = {name: _Track(name) for name in plan.get("servers", [])}
    start, end = record.started_at, record.finished_at
    last: float | None = None
    for event in events:
        last = event.at if last is None else max(last, event.at)
        if event.kind == "deploy_started":
            start = event.at
        elif event.kind == "deploy_finished":
            end = event.at
        elif phase := str(event.data.get("phase") or ""):
            _hook(tracks.setdefault(phase, _Track(phase)), event)
        elif (server := event.data.get("server")) is not None:
            _read(tracks.setdefault(server, _Track(server)), event)
    running = record.status == RUNNING
    stop = _stop(record.status, now, end, start if last is None else last)
    groups = _groups(plan)
    order = sorted(tracks.values(), key=lambda track: track.name != FIRST_PHASE)
    rows = tuple(_row(track, groups.get(track.name, 0), stop, running) for track in order)
    estimate = int(plan.get("estimated_extra_seconds", 0))
    return DeployTimeline(record.id, record.status, start, max(stop, start), rows, estimate)


def _stop(status: str, now: float, end: float | None, last: float) -> float:
    """Where the picture ends: now while running; for a killed (abandoned) deploy, at its last
    recorded event, since nothing was recorded after it."""
    if status == RUNNING:
        return now
    if end is None or status not in {"succeeded", "failed", "cancelled"}:
        return last
    return end


def _groups(plan: Mapping[str, Any]) -> dict[str, int]:
    return {
        entry["server"]: number
        for number, wave in enumerate(plan.get("waves", []), 1)
        for entry in wave
    }


def _row(track: _Track, group: int, stop: float, running: bool) -> ServerRow:
    for label, began in track.hooks.items():
        track.spans.append(
            Span(track.name, STEP, label, began, stop, RUNNING if running else INTERRUPTED)
        )
    for kind in list(track.open):
        if kind == OUT_OF_ROTATION and track.end is not None:
            track.close(kind, stop, LEFT_OUT)  # still out when the deploy ended
        elif running:
            track.close(kind, stop, RUNNING)
        else:
            track.close(
                kind, track.end or stop, LEFT_OUT if kind == OUT_OF_ROTATION else INTERRUPTED
            )
    end = track.end if track.end is not None or track.start is None else stop
    spans = tuple(sorted(track.spans, key=lambda s: (s.start, s.kind != OUT_OF_ROTATION)))
    return ServerRow(track.name, group, _row_status(track, running), track.start, end, spans)


def _row_status(track: _Track, running: bool) -> str:
    if track.status in FINAL_STAGES:
        return track.status
    if running:
        return RUNNING if track.start is not None else "queued"
    return INTERRUPTED if track.start is not None else "not started"


def _read(track: _Track, event: StoredEvent) -> None:
    data, at = event.data, event.at
    if event.kind == "stage":
        _stage(track, str(data["stage"]), str(data.get("detail", "")), at)
    elif event.kind == "step_started":
        label = f"{data['step']} (migration)" if data.get("migration") else str(data["step"])
        track.begin(STEP, label, at)
    elif event.kind == "step_finished":
        track.begin(STEP, str(data["step"]), float(data.get("started_at") or at))
        track.close(STEP, at, _step_status(str(data["status"])))
    elif event.kind == "health":
        passed = bool(data["passed"])
        label = f"health check ({data['attempts']} attempt(s)): {data.get('detail', '')}"
        track.close(HEALTH_CHECK, at, "succeeded" if passed else "failed", label.rstrip(": "))
    elif event.kind == "load_balancer":
        _rotation(track, str(data["load_balancer"]), str(data["action"]), at)
    elif event.kind == "server_finished":
        _finished(track, str(data["status"]), str(data.get("detail", "")), at)
        if data.get("started_at") is not None:
            track.start = float(data["started_at"])


def _hook(track: _Track, event: StoredEvent) -> None:
    """A deploy-wide hook on its phase's row: a step span per server it ran on; the row ends
    as its worst hook did."""
    data, at = event.data, event.at
    label = f"{data['step']} on {data['server']}"
    if event.kind == "step_started":
        track.hooks[label] = at
        track.start = at if track.start is None else min(track.start, at)
    elif event.kind == "step_finished":
        began = track.hooks.pop(label, float(data.get("started_at") or at))
        status = _step_status(str(data["status"]))
        track.spans.append(Span(track.name, STEP, label, began, at, status))
        track.start = began if track.start is None else min(track.start, began)
        track.end = at if track.end is None else max(track.end, at)
        worst = {"succeeded": "succeeded", INTERRUPTED: "cancelled"}.get(status, "failed")
        if track.status in {"queued", "succeeded"} or worst == "failed":
            track.status = worst


def _step_status(status: str) -> str:
    return INTERRUPTED if status in {"cancelled", INTERRUPTED} else status


def _stage(track: _Track, stage: str, detail: str, at: float) -> None:
    if stage in FINAL_STAGES:
        return  # the server_finished event that follows closes what is open
    if track.start is None:
        track.start = at
    if stage == "queued" and detail:
        track.begin(CAPACITY, detail, at)
        return
    for kind in (WAIT, CAPACITY):
        track.close(kind, at, "succeeded")
    if stage in STAGE_SPANS:
        label = f"wait {detail}" if stage == "waiting" else "health check"
        track.begin(STAGE_SPANS[stage], label, at)


def _rotation(track: _Track, load_balancer: str, action: str, at: float) -> None:
    if action == "removed":
        track.out_of.add(load_balancer)
        track.begin(OUT_OF_ROTATION, "out of rotation", at)
        return
    track.out_of.discard(load_balancer)
    if not track.out_of:
        track.close(OUT_OF_ROTATION, at, "succeeded")


def _finished(track: _Track, status: str, detail: str, at: float) -> None:
    track.status, track.end = status, at
    if status == "not started":
        return
    ended = {"cancelled": INTERRUPTED, "failed": "failed"}.get(status, status)
    for kind in [k for k in track.open if k != OUT_OF_ROTATION]:
        track.close(kind, at, ended)
    track.spans[:] = [s for s in track.spans if s.kind != OUTCOME]  # a later report corrects
    if status in {"failed", "cancelled"}:
        track.spans.append(Span(track.name, OUTCOME, f"{status}: {detail}", at, at, status))
