"""What ``baton check`` found: a :class:`Finding` per check, gathered in a :class:`CheckReport`."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field

from baton._exceptions import BatonError
from baton.config import Manifest
from baton.planning import Plan

APPLICATION = "application"
"""The subject of the checks that are not about one server (manifest, secrets, lock, ...)."""


class Status(enum.Enum):
    OK = "ok"
    WARNING = "warning"
    """A deploy can start, but look: e.g. a server the load balancer has out of rotation."""
    PROBLEM = "problem"
    """A deploy would stop here, or before it starts."""
    SKIPPED = "not checked"
    """An earlier check failed (no SSH connection, say), so this one could not run."""


@dataclass(frozen=True)
class Finding:
    """One check of one server or of the application: what was found and what to do."""

    subject: str
    check: str
    status: Status
    detail: str
    advice: str = ""
    seconds: float | None = None
    """How long it took, where that matters (connecting)."""
    error: BatonError | None = field(default=None, compare=False, repr=False)
    """What a deploy raises for this problem (:func:`require`): the same error, message and
    exit status the operator gets from ``baton deploy``."""

    def to_dict(self) -> dict[str, object]:
        return {
            "subject": self.subject,
            "check": self.check,
            "status": self.status.value,
            "detail": self.detail,
            "advice": self.advice,
            "seconds": self.seconds,
        }


def require(findings: Iterable[Finding]) -> None:
    """Raise the error of the first problem among ``findings``: how a deploy stops at the first
    problem where ``baton check`` reports them all."""
    for finding in findings:
        if finding.status is Status.PROBLEM and finding.error is not None:
            raise finding.error


@dataclass(frozen=True)
class CheckReport:
    """Every finding, the plan a deploy would follow now, and how long checking took."""

    manifest: Manifest
    findings: tuple[Finding, ...]
    plan: Plan
    seconds: float

    @property
    def ok(self) -> bool:
        """Whether a deploy could start: no problem anywhere."""
        return all(f.status is not Status.PROBLEM for f in self.findings)

    @property
    def problems(self) -> list[Finding]:
        return [f for f in self.findings if f.status is Status.PROBLEM]

    def columns(self) -> list[str]:
        """The checks made of every server, in the order they run."""
        return ["ssh", "steps", *(lb.name for lb in self.manifest.load_balancers), "health"]

    def of_server(self, name: str) -> dict[str, Finding]:
        return {f.check: f for f in self.findings if f.subject == name}

    def of_application(self) -> list[Finding]:
        servers = {s.name for s in self.manifest.servers}
        return [f for f in self.findings if f.subject not in servers]
