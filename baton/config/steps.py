"""The manifest's steps, and what checks a server after them: its health check, a canary's
verification."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from baton.config.templates import check_template
from baton.config.validation import Check, Frozen
from baton.config.values import HttpURL, Name, PathError, PositiveSeconds, Text


@dataclass(frozen=True, kw_only=True)
class Step(Frozen):
    """A named shell command run on each server, in order."""

    name: Name
    """The step's name in baton's output and history."""
    run: Text
    """The command, run through the server's shell. {version}, {server}, {address},
    {application}, {port} and {user} are filled in, shell-quoted; {{ and }} are braces."""
    migration: bool = False
    """The migration step: runs on exactly one server per deploy; --skip-migrations skips it."""
    timeout: PositiveSeconds = 600.0
    """Seconds before the step is stopped and fails."""
    stage: Literal["prepare"] | None = None
    """``prepare``: runs on every server while it still serves, before any server leaves."""

    def __post_init__(self) -> None:
        check_template(self.run)
        if self.migration and self.prepare:
            raise PathError(
                ("stage",),
                "a migration step cannot be a prepare step: it runs once, after prepare",
            )

    @property
    def prepare(self) -> bool:
        return self.stage == "prepare"


@dataclass(frozen=True, kw_only=True)
class HealthCheck(Frozen):
    """What must pass on a server before it goes back into rotation."""

    url: HttpURL | None = None
    """A GET from this machine that passes on HTTP 2xx or 3xx, e.g.
    http://{address}:8000/healthz; give this or command."""
    command: str | None = None
    """A command run on the server that passes on exit status 0; give this or url."""
    timeout: PositiveSeconds = 5.0
    """Seconds per attempt."""
    deadline: PositiveSeconds = 60.0
    """Give up (and halt the deploy) after this many seconds."""
    interval: PositiveSeconds = 0.5
    """Seconds between attempts."""

    def __post_init__(self) -> None:
        if (self.url is None) == (self.command is None):
            raise ValueError("give exactly one of url or command")
        check_template(self.url or self.command or "")


@dataclass(frozen=True, kw_only=True)
class Verify(Frozen):
    """How a canary is verified after it rejoined: a probe, and the balancer's error rate."""

    url: HttpURL | None = None
    """A URL fetched from this machine once per interval; it must answer 2xx or 3xx."""
    command: str | None = None
    """Or a command run on the canary once per interval; it must exit 0."""
    duration: PositiveSeconds = 30.0
    """Seconds the canary is watched after it rejoined rotation."""
    interval: PositiveSeconds = 1.0
    """Seconds between probes."""
    timeout: PositiveSeconds = 5.0
    """Seconds each probe may take."""
    max_error_rate: Annotated[float, Check("Field", ge=0.0, le=1.0)] = 0.01
    """Most failed probes, and most 5xx or connection errors per response the balancer saw
    (0-1)."""

    def __post_init__(self) -> None:
        if self.url is not None and self.command is not None:
            raise ValueError("give at most one of url or command")
        check_template(self.url or self.command or "")

    @property
    def probe(self) -> HealthCheck | None:
        """The URL or command as a health check run once per interval; None for neither."""
        if self.url is None and self.command is None:
            return None
        return HealthCheck(url=self.url, command=self.command, timeout=self.timeout)
