"""How a release is deployed: the ``deploy`` section (steps, environment, secrets), the
``hooks`` around it and the ``notifications`` sent about it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Literal

from baton.config.steps import HealthCheck, Step, Verify
from baton.config.templates import check_template
from baton.config.validation import Check, Frozen
from baton.config.values import (
    EnvName,
    FilePath,
    Name,
    PathError,
    PositiveSeconds,
    Text,
    WebURL,
    require_one,
    require_unique,
)


@dataclass(frozen=True, kw_only=True)
class SecretSource(Frozen):
    """Where a secret's value comes from: never the manifest itself."""

    from_env: EnvName | None = None
    """The operator's environment variable that holds the value; give this or from_file."""
    from_file: FilePath | None = None
    """The file that holds the value (one trailing newline dropped); give this or from_env."""

    def __post_init__(self) -> None:
        if (self.from_env is None) == (self.from_file is None):
            raise ValueError("give exactly one of from_env (a variable) or from_file (a path)")


@dataclass(frozen=True, kw_only=True)
class Webhook(Frozen):
    """Where deploy notifications go: a JSON payload, or Slack's ``{"text": ...}``."""

    url: WebURL
    """The webhook's http:// or https:// URL (history records only its scheme and host)."""
    format: Literal["json", "slack"] = "json"
    """json: the deploy's facts as a JSON object; slack: a Slack-compatible {"text": ...}."""


@dataclass(frozen=True, kw_only=True)
class Notifications(Frozen):
    """Each deploy's start and end, sent to webhooks in the background (baton.notify)."""

    webhooks: tuple[Webhook, ...] = ()
    """Each gets every deploy's start and end."""
    dashboard_url: WebURL | None = None
    """Where ``baton serve`` is reached: messages link to the deploy's page there."""
    timeout: PositiveSeconds = 5.0
    """Seconds per delivery attempt."""
    deadline: Annotated[PositiveSeconds, Check("Field", le=600)] = 30.0
    """Seconds a message is retried for; also the most a deploy's end waits for delivery."""


@dataclass(frozen=True, kw_only=True)
class Deploy(Frozen):
    """How to deploy a release to one server."""

    steps: Annotated[tuple[Step, ...], Check("Field", min_length=1)]
    """Commands run in order on each server, through its shell."""
    health_check: HealthCheck | None = None
    """What must pass before a server goes back into rotation (none: nothing is checked)."""
    verify: Verify = Verify()  # noqa: RUF009 - frozen, so one shared default is safe
    """How a canary is verified (the deploy.canary setting); without a probe, only the error
    rate the load balancer saw."""
    environment: dict[EnvName, str] = field(default_factory=dict)
    """Variables exported to every step."""
    secrets: dict[EnvName, SecretSource] = field(default_factory=dict)
    """Variables exported to every step whose values are masked (***) in all output."""

    def __post_init__(self) -> None:
        require_unique([s.name for s in self.steps], "step", "steps")
        require_one([s.migration for s in self.steps], "steps", "migration", "step")
        _require_prepare_first(self.steps)
        both = sorted(set(self.environment) & set(self.secrets))
        if both:
            raise PathError(("secrets", both[0]), "also in environment; pick one")

    @property
    def migration_step(self) -> Step | None:
        return next((s for s in self.steps if s.migration), None)


RunOn = Literal["single_server", "all_servers", "local"]


@dataclass(frozen=True, kw_only=True)
class Hook(Frozen):
    """A command run at a fixed point of the deploy, templated and quoted like a step."""

    name: Name | None = None
    """Shown with its output as POINT.NAME (default: the point, numbered after the first)."""
    run: Text
    """The command, through the shell; placeholders as in steps, every value shell-quoted."""
    run_on: RunOn | None = None
    """single_server, all_servers or local (this machine); the default depends on the point:
    local for first_thing, last_thing and on_failure, the server itself around each server."""
    halt_on_error: bool = True
    """A failure halts the deploy as a failed step does; false: warn and go on."""
    timeout: PositiveSeconds = 600.0
    """Seconds before the command is stopped and counts as failed."""

    def __post_init__(self) -> None:
        check_template(self.run)


@dataclass(frozen=True, kw_only=True)
class Hooks(Frozen):
    """Commands around the deploy: before anything changes, around each server's steps (while
    it is out of rotation in serial), after every server succeeded, and when it failed."""

    first_thing: tuple[Hook, ...] = ()
    """Before anything changes; a failure halts the deploy with no server touched."""
    before_server: tuple[Hook, ...] = ()
    """On each server before its steps (after it left rotation, in serial)."""
    after_server: tuple[Hook, ...] = ()
    """On each server after its steps and health check (before it rejoins, in serial)."""
    last_thing: tuple[Hook, ...] = ()
    """After every server succeeded; a failure fails the deploy."""
    on_failure: tuple[Hook, ...] = ()
    """When the deploy failed (a step, a health check or another hook)."""


def _require_prepare_first(steps: tuple[Step, ...]) -> None:
    """Prepare steps run before every other step, so the manifest must list them first."""
    for index, step in enumerate(steps):
        if step.prepare and index and not steps[index - 1].prepare:
            raise PathError(
                ("steps", index, "stage"),
                f"prepare steps run before the others; list {step.name!r} before "
                f"{steps[index - 1].name!r}",
            )
