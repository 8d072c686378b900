"""What a deploy did: one outcome per server, and a summary that says where each one stands."""

from __future__ import annotations

from dataclasses import dataclass

from baton.execution.events import DeployStatus, ServerStatus


@dataclass(frozen=True)
class ServerOutcome:
    server: str
    status: ServerStatus
    detail: str
    in_rotation: bool | None
    """None when the application has no load balancer."""
    started_at: float | None
    finished_at: float | None
    changed: bool = False
    """A step of its rollout ran: it may no longer run the version it had."""


@dataclass(frozen=True)
class DeployResult:
    servers: tuple[ServerOutcome, ...]
    hook_failure: str | None = None
    """Why a first_thing or last_thing hook halted the deploy."""
    state_error: str | None = None
    """Why baton's state could not be written, when it could not: the deploy stopped, and
    its record in the state is incomplete."""
    lock_lost: str | None = None
    """Why this deploy stopped when another deploy took over its lock (it was frozen): it
    touched nothing more, and its record is the other deploy's word (abandoned)."""
    observed: tuple[str, ...] = ()
    """What the load balancers counted during the deploy, one line per balancer."""

    @property
    def status(self) -> DeployStatus:
        if self.hook_failure or self.state_error is not None or self.lock_lost is not None:
            return DeployStatus.FAILED
        statuses = {s.status for s in self.servers}
        if statuses == {ServerStatus.SUCCEEDED}:
            return DeployStatus.SUCCEEDED
        if ServerStatus.CANCELLED in statuses:
            return DeployStatus.CANCELLED
        return DeployStatus.FAILED

    def summary(self) -> str:
        counts: dict[str, int] = {}
        for outcome in self.servers:
            counts[outcome.status] = counts.get(outcome.status, 0) + 1
        head = ", ".join(f"{n} {status}" for status, n in counts.items())
        lines = [f"{self.status}: {head}"]
        if self.hook_failure:
            lines.append(f"  {self.hook_failure}")
        for outcome in self.servers:
            rotation = {True: "in rotation", False: "OUT of rotation", None: "no load balancer"}
            lines.append(
                f"  {outcome.server}: {outcome.status} - {outcome.detail}"
                f" [{rotation[outcome.in_rotation]}]"
            )
        if self.state_error is not None:
            lines.append(
                f"  NOT RECORDED: {self.state_error}; this summary is from memory (rotation as "
                "read from the load balancers), and the next deploy or `baton recover` takes over"
            )
        if self.lock_lost is not None:
            lines.append(
                f"  LOCK LOST: {self.lock_lost}; this summary is from memory, and the state "
                "records this deploy as the deploy that took over left it (abandoned)"
            )
        lines += [f"  {line}" for line in self.observed]
        return "\n".join(lines)
