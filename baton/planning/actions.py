"""What a plan is made of: actions per server, servers per wave, and the wave's phase."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from baton.config import Server, Step


@dataclass(frozen=True)
class RemoveFromLoadBalancers:
    load_balancers: tuple[str, ...]

    def describe(self) -> str:
        return f"remove from {', '.join(self.load_balancers)}"


@dataclass(frozen=True)
class AddToLoadBalancers:
    load_balancers: tuple[str, ...]

    def describe(self) -> str:
        return f"add back to {', '.join(self.load_balancers)}"


@dataclass(frozen=True)
class Wait:
    seconds: int
    reason: str

    def describe(self) -> str:
        return f"wait {self.seconds}s ({self.reason})"


@dataclass(frozen=True)
class RunStep:
    step: Step
    hook: bool = False
    """A before_server/after_server hook (baton.planning.hooks), not one of the deploy steps."""
    local: bool = False
    """Run on this machine rather than on the server."""
    halt_on_error: bool = True

    def describe(self) -> str:
        if self.hook:
            return f"hook {self.step.name}{' (local)' if self.local else ''}"
        marker = " [migration]" if self.step.migration else ""
        return f"step {self.step.name}{marker}"


@dataclass(frozen=True)
class CheckHealth:
    def describe(self) -> str:
        return "health check"


@dataclass(frozen=True)
class AwaitBatch:
    """Wait until every server of the wave got here (or finished), so a batch rejoins together."""

    def describe(self) -> str:
        return "wait for the batch"


@dataclass(frozen=True)
class Verify:
    """Watch a canary in rotation: the manifest's deploy.verify probe and the balancer's errors."""

    seconds: float
    max_error_rate: float

    def describe(self) -> str:
        return f"verify {self.seconds:g}s (errors <= {self.max_error_rate:.1%})"


Action = (
    RemoveFromLoadBalancers
    | AddToLoadBalancers
    | Wait
    | RunStep
    | CheckHealth
    | AwaitBatch
    | Verify
)


class Phase(enum.Enum):
    PREPARE = "prepare"
    """Prepare steps on every server, still in rotation."""
    MIGRATE = "migrate"
    """The migration (and the steps before it) on its server alone, still in rotation."""
    ROLLOUT = "rollout"
    """The rest of each server's work; a server's outcome is final here."""


@dataclass(frozen=True)
class ServerPlan:
    server: Server
    actions: tuple[Action, ...]


@dataclass(frozen=True)
class Wave:
    """Servers run at the same time; the next wave starts when this one succeeded.

    At most ``limit`` servers run at once (0: all). With ``stop_on_failure``, one failure
    stops the others before their next step or removal (a server that changed nothing yet
    goes back). A wave that is not ``final`` does part of each server's work: its servers
    finish in a later wave, and only a failure ends one here.
    """

    servers: tuple[ServerPlan, ...]
    phase: Phase = Phase.ROLLOUT
    limit: int = 0
    stop_on_failure: bool = False

    @property
    def final(self) -> bool:
        return self.phase is Phase.ROLLOUT
