"""The manifest as frozen, validated objects.

Everything downstream of :func:`baton.config.load_manifest` works with these classes and never
with the YAML dictionaries they came from.
"""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from baton.config.templates import check_template

Name = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", max_length=64)]
Seconds = Annotated[int, Field(ge=0, le=86_400)]
PositiveSeconds = Annotated[float, Field(gt=0, le=86_400)]
FilePath = Annotated[Path, Field(strict=False), AfterValidator(Path.expanduser)]
"""A path; ``~`` means the operator's home."""
_HOST_NAME = re.compile(
    r"(?=.{1,253}\.?\Z)[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?"
    r"(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*\.?\Z"
)


def _host(value: str) -> str:
    """A host name (letters, digits, - and _ in dot-separated labels) or an IP address."""
    try:
        ipaddress.ip_address(value)
    except ValueError:
        if not _HOST_NAME.match(value):
            raise ValueError(f"{value!r} is not a host name or IP address") from None
    return value


Host = Annotated[str, AfterValidator(_host)]
EnvName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", max_length=128)]


class PathError(ValueError):
    """A problem with a value inside the model being validated; ``path`` leads to it, so the
    error names the exact key and line (the loader reads it)."""

    def __init__(self, path: tuple[str | int, ...], message: str) -> None:
        super().__init__(message)
        self.path = path


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


class Server(Frozen):
    """One machine that runs the application."""

    name: Name
    address: Host
    port: int = Field(default=22, ge=1, le=65535)
    user: str = Field(default="deploy", min_length=1)
    key_file: FilePath | None = None
    agent: bool = False
    known_hosts: FilePath | None = None
    host_key_checking: bool = True
    roles: tuple[Name, ...] = ("web",)
    migrations: bool = False
    transport: Literal["ssh", "local"] = "ssh"
    connect_timeout: PositiveSeconds = 10.0

    @model_validator(mode="after")
    def _one_way_to_authenticate(self) -> Server:
        if self.transport == "ssh" and self.key_file is not None and self.agent:
            raise ValueError("give either key_file or agent: true, not both")
        return self


class LoadBalancerConfiguration(Frozen):
    """Values that stick once a deploy applied them (see baton.state)."""

    wait_after_adding_servers: Seconds | None = None
    wait_after_removing_servers: Seconds | None = None
    httpchk: str | None = Field(default=None, pattern=r"^/")


class LoadBalancer(Frozen):
    """A load balancer in front of the servers; ``servers`` maps baton names to its own names."""

    name: Name = "default"
    type: Literal["haproxy"]
    socket: FilePath | None = None
    address: str | None = Field(default=None, pattern=r"^[^:\s]+:\d{1,5}$")
    backend: Name
    servers: dict[Name, Name] = Field(default_factory=dict)
    timeout: PositiveSeconds = 5.0
    configuration: LoadBalancerConfiguration = LoadBalancerConfiguration()

    @model_validator(mode="after")
    def _one_connection(self) -> LoadBalancer:
        if (self.socket is None) == (self.address is None):
            raise ValueError(
                "give exactly one of socket (admin socket path) or address (host:port)"
            )
        return self

    def member_name(self, server: str) -> str:
        """The load balancer's own name for a baton server (the same name unless mapped)."""
        return self.servers.get(server, server)


class Step(Frozen):
    """A named shell command run on each server, in order."""

    name: Name
    run: str = Field(min_length=1)
    migration: bool = False
    timeout: PositiveSeconds = 600.0

    @model_validator(mode="after")
    def _placeholders_known(self) -> Step:
        check_template(self.run)
        return self


class HealthCheck(Frozen):
    """What must pass on a server before it goes back into rotation."""

    url: str | None = Field(default=None, pattern=r"^https?://")
    command: str | None = None
    timeout: PositiveSeconds = 5.0
    deadline: PositiveSeconds = 60.0
    interval: PositiveSeconds = 0.5

    @model_validator(mode="after")
    def _one_probe(self) -> HealthCheck:
        if (self.url is None) == (self.command is None):
            raise ValueError("give exactly one of url or command")
        check_template(self.url or self.command or "")
        return self


class SecretSource(Frozen):
    """Where a secret's value comes from: never the manifest itself."""

    from_env: EnvName | None = None
    from_file: FilePath | None = None

    @model_validator(mode="after")
    def _one_source(self) -> SecretSource:
        if (self.from_env is None) == (self.from_file is None):
            raise ValueError("give exactly one of from_env (a variable) or from_file (a path)")
        return self


class Deploy(Frozen):
    steps: tuple[Step, ...] = Field(min_length=1)
    health_check: HealthCheck | None = None
    environment: dict[EnvName, str] = Field(default_factory=dict)
    """Variables exported to every step."""
    secrets: dict[EnvName, SecretSource] = Field(default_factory=dict)
    """Variables exported to every step whose values are masked (***) in all output."""

    @model_validator(mode="after")
    def _unique_steps(self) -> Deploy:
        _require_unique([s.name for s in self.steps], "step", "steps")
        _require_one([s.migration for s in self.steps], "steps", "migration", "step")
        both = sorted(set(self.environment) & set(self.secrets))
        if both:
            raise PathError(("secrets", both[0]), "also in environment; pick one")
        return self

    @property
    def migration_step(self) -> Step | None:
        return next((s for s in self.steps if s.migration), None)


class Manifest(Frozen):
    """An application: its servers, its load balancers and how to deploy it."""

    application: Name
    servers: tuple[Server, ...] = Field(min_length=1)
    load_balancers: tuple[LoadBalancer, ...] = ()
    deploy: Deploy
    source: Path = Field(default=Path("baton.yml"), exclude=True)

    @model_validator(mode="after")
    def _consistent(self) -> Manifest:
        names = [s.name for s in self.servers]
        _require_unique(names, "server", "servers")
        _require_unique([lb.name for lb in self.load_balancers], "load balancer", "load_balancers")
        _require_one([s.migrations for s in self.servers], "servers", "migrations", "server")
        for index, lb in enumerate(self.load_balancers):
            unknown = sorted(set(lb.servers) - set(names))
            if unknown:
                raise PathError(
                    ("load_balancers", index, "servers", unknown[0]),
                    f"load balancer {lb.name!r} maps unknown server(s) {', '.join(unknown)}; "
                    f"servers are: {', '.join(names)}",
                )
        return self

    @property
    def migration_server(self) -> Server:
        """The server that runs migrations: the one marked, else the first."""
        return next((s for s in self.servers if s.migrations), self.servers[0])

    def server(self, name: str) -> Server:
        return next(s for s in self.servers if s.name == name)


def _require_unique(names: list[str], what: str, field: str) -> None:
    seen: set[str] = set()
    for index, name in enumerate(names):
        if name in seen:
            raise PathError((field, index, "name"), f"duplicate {what} name {name!r}")
        seen.add(name)


def _require_one(marks: list[bool], field: str, key: str, what: str) -> None:
    marked = [index for index, mark in enumerate(marks) if mark]
    if len(marked) > 1:
        raise PathError((field, marked[1], key), f"only one {what} can have {key}: true")


VERSION_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+:-]{0,127}$")
