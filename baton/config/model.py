"""The manifest as frozen, validated objects.

Everything downstream of :func:`baton.config.load_manifest` works with these classes and never
with the YAML dictionaries they came from. They are plain frozen dataclasses: pydantic validates
a manifest into them (:mod:`baton.config.validation`), and checks that span several keys run in
``__post_init__``, so a model built in code is checked as one read from a file.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import re
import string
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from baton.config.templates import BALANCER_PLACEHOLDERS, check_template
from baton.config.validation import Check, Frozen

Name = Annotated[
    str, Check("StringConstraints", pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", max_length=64)
]
Seconds = Annotated[int, Check("Field", ge=0, le=86_400)]
PositiveSeconds = Annotated[float, Check("Field", gt=0, le=86_400)]
FilePath = Annotated[Path, Check("Field", strict=False), Check("AfterValidator", Path.expanduser)]
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


Host = Annotated[str, Check("AfterValidator", _host)]
HttpURL = Annotated[str, Check("Field", pattern=r"^https?://")]
EnvName = Annotated[
    str, Check("StringConstraints", pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", max_length=128)
]
Port = Annotated[int, Check("Field", ge=1, le=65535)]
Text = Annotated[str, Check("Field", min_length=1)]
"""A string that is not empty."""


KeyPath = tuple[str | int, ...]
"""Where a value is in the manifest: keys and list indexes from the top."""


class PathError(ValueError):
    """A problem with a value inside the model being validated; ``path`` leads to it, so the
    error names the exact key and line (the loader reads it)."""

    def __init__(self, path: KeyPath, message: str) -> None:
        super().__init__(message)
        self.path = path


@dataclass(frozen=True, kw_only=True)
class Server(Frozen):
    """One machine that runs the application."""

    name: Name
    """The server's name in baton's output and history: letters, digits, '.', '_' and '-'."""
    address: Host
    """Where SSH connects: a host name or an IP address."""
    port: Port = 22
    """The SSH port."""
    user: Text = "deploy"
    """The user SSH logs in as; steps run as this user."""
    key_file: FilePath | None = None
    """The private key SSH logs in with (or `agent: true` for the SSH agent)."""
    agent: bool = False
    """Log in with the SSH agent's keys ($SSH_AUTH_SOCK) instead of key_file."""
    known_hosts: FilePath | None = None
    """The file of trusted host keys; none means ~/.ssh/known_hosts."""
    host_key_checking: bool = True
    """Refuse a server whose host key is not in known_hosts; false only for throwaway
    machines."""
    roles: tuple[Name, ...] = ("web",)
    """Labels for the server, for your own use."""
    migrations: bool = False
    """This server runs the migration step (at most one server; none means the first)."""
    transport: Literal["ssh", "local"] = "ssh"
    """ssh, or local to run the commands on this machine (tests, one-box apps)."""
    connect_timeout: PositiveSeconds = 10.0
    """Seconds to wait for the SSH connection."""

    def __post_init__(self) -> None:
        if self.transport == "ssh" and self.key_file is not None and self.agent:
            raise ValueError("give either key_file or agent: true, not both")


@dataclass(frozen=True, kw_only=True)
class LoadBalancerConfiguration(Frozen):
    """Values that stick once a deploy applied them (see baton.state)."""

    wait_after_adding_servers: Seconds | None = None
    """Whole seconds a serial deploy waits after putting a server back, for the load balancer
    to really route to it. Sticks once deployed: set 0 and deploy to clear it."""
    wait_after_removing_servers: Seconds | None = None
    """Whole seconds a serial deploy waits after taking a server out, for the load balancer to
    really stop routing to it. Sticks once deployed: set 0 and deploy to clear it."""
    httpchk: Annotated[str, Check("Field", pattern=r"^/")] | None = None
    """The load balancer's health path, kept and shown with the waits (HAProxy's runtime API
    cannot change it: keep haproxy.cfg's `option httpchk` in step)."""


Member = Annotated[
    str, Check("StringConstraints", pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$", max_length=255)
]
"""A load balancer's own name for a server: an HAProxy server, an nginx upstream member
(``host:port``), an AWS target (``id`` or ``id:port``)."""
TARGET_GROUP_ARN = (
    r"^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:\d{12}:targetgroup/[A-Za-z0-9-]{1,32}/"
    r"[0-9a-f]{16}$"
)


@dataclass(frozen=True, kw_only=True)
class BalancerHost(Frozen):
    """The machine a balancer's commands run on when it is not this one: reached over SSH."""

    address: Host
    """Where SSH connects: the balancer's host name or IP."""
    port: Port = 22
    """The SSH port."""
    user: Text = "deploy"
    """The user baton logs in as."""
    key_file: FilePath | None = None
    """The private key to log in with (or agent: true)."""
    agent: bool = False
    """Log in with the keys of the running SSH agent."""
    known_hosts: FilePath | None = None
    """The known_hosts file its host key is checked against (default: ~/.ssh/known_hosts)."""
    host_key_checking: bool = True
    """Check the host key (never turn this off outside a lab)."""
    connect_timeout: PositiveSeconds = 10.0
    """Seconds to wait for the SSH connection."""

    def as_server(self, name: str) -> Server:
        """This host as a server, so the SSH transport can reach it."""
        return Server(name=name, **dataclasses.asdict(self))


@dataclass(frozen=True, kw_only=True)
class LoadBalancer(Frozen):
    """What every kind of load balancer has; ``servers`` maps baton names to its own names."""

    name: Name = "default"
    """The load balancer's name in baton's output and state."""
    type: str
    """The kind of load balancer: haproxy, nginx, elbv2 or command."""
    servers: dict[Name, Member] = field(default_factory=dict)
    """baton server name -> the load balancer's name for it (default: the same name)."""
    timeout: PositiveSeconds = 5.0
    """Seconds for each call to the load balancer, and the longest wait for a drain."""
    configuration: LoadBalancerConfiguration = LoadBalancerConfiguration()
    """Values that stick once a deploy applied them (see `baton config show`)."""

    def member_name(self, server: str) -> str:
        """The load balancer's own name for a baton server (the same name unless mapped)."""
        return self.servers.get(server, server)

    def describe(self) -> str:
        """What the balancer is, for messages: "backend app", "target group ...", ..."""
        return self.type


@dataclass(frozen=True, kw_only=True)
class HAProxyBalancer(LoadBalancer):
    """A backend of HAProxy, driven through its admin socket."""

    type: Literal["haproxy"]
    """The kind of load balancer."""
    socket: FilePath | None = None
    """HAProxy's admin socket (the runtime API); give this or address."""
    address: Annotated[str, Check("Field", pattern=r"^[^:\s]+:\d{1,5}$")] | None = None
    """host:port of HAProxy's runtime API over TCP; give this or socket."""
    backend: Name
    """The HAProxy backend the servers are members of."""

    def __post_init__(self) -> None:
        if (self.socket is None) == (self.address is None):
            raise ValueError(
                "give exactly one of socket (admin socket path) or address (host:port)"
            )

    def describe(self) -> str:
        return f"backend {self.backend}"


@dataclass(frozen=True, kw_only=True)
class HostedBalancer(LoadBalancer):
    """A balancer baton drives with commands, here (``local``) or on a host over SSH."""

    host: Literal["local"] | BalancerHost = "local"
    """Where the balancer's commands run: local (this machine) or a host reached over SSH."""
    sudo: bool = False
    """Run them through `sudo -n` (never a password prompt)."""


@dataclass(frozen=True, kw_only=True)
class NginxBalancer(HostedBalancer):
    """An upstream block of open-source nginx, in a file baton rewrites (``down`` marks)."""

    type: Literal["nginx"]
    """The kind of load balancer."""
    file: FilePath
    """The file baton rewrites; nginx's configuration includes it and it holds the upstream."""
    upstream: Name
    """The upstream block in that file whose server lines are the servers."""
    command: Text = "nginx"
    """How to call nginx on its host, with any -p/-c options: baton adds -t, -T, -s reload."""
    reload: Text | None = None
    """The graceful reload (default: ``<command> -s reload``)."""
    pid_file: FilePath = Path("/run/nginx.pid")
    """The master's pid file: its workers are watched to see the old generation drain."""

    @property
    def reload_command(self) -> str:
        return self.reload or f"{self.command} -s reload"

    def describe(self) -> str:
        return f"nginx upstream {self.upstream} in {self.file}"


@dataclass(frozen=True, kw_only=True)
class ELBv2Balancer(LoadBalancer):
    """An AWS Elastic Load Balancing v2 target group; ``servers`` maps each server to its target
    (instance id or IP, with ``:port`` when not the group's port)."""

    type: Literal["elbv2"]
    """The kind of load balancer."""
    target_group_arn: Annotated[str, Check("Field", pattern=TARGET_GROUP_ARN)]
    """The target group's ARN; credentials come from the AWS chain, never the manifest."""
    region: Annotated[str, Check("Field", pattern=r"^[a-z]{2}(-[a-z]+)+-\d$")] | None = None
    """The target group's region (by default the one its ARN names)."""
    endpoint_url: HttpURL | None = None
    """Another endpoint for the API (a VPC endpoint; moto in tests)."""

    @property
    def region_name(self) -> str:
        return self.region or self.target_group_arn.split(":")[3]

    def describe(self) -> str:
        return f"target group {self.target_group_arn.rsplit(':', 1)[-1]}"


@dataclass(frozen=True, kw_only=True)
class CommandBalancer(HostedBalancer):
    """Any balancer with a command line: baton runs your ``remove``, ``add`` and ``status``."""

    type: Literal["command"]
    """The kind of load balancer."""
    remove: Text
    """Takes {server} out of rotation ({server}, {address}, {port} are shell-quoted)."""
    add: Text
    """Puts {server} back into rotation."""
    status: Text
    """Prints in, out or down for {server}; without a placeholder, one "<name> <state>" line
    per server."""

    def __post_init__(self) -> None:
        for key in ("remove", "add", "status"):
            try:
                check_template(getattr(self, key), BALANCER_PLACEHOLDERS)
            except ValueError as error:
                raise PathError((key,), str(error)) from None

    @property
    def status_per_server(self) -> bool:
        """Whether ``status`` names a server, so it runs once per server."""
        return any(f is not None for _, f, _, _ in string.Formatter().parse(self.status))

    def describe(self) -> str:
        return "status command"


AnyLoadBalancer = Annotated[
    HAProxyBalancer | NginxBalancer | ELBv2Balancer | CommandBalancer,
    Check("Field", discriminator="type"),
]
LOAD_BALANCER_TYPES: dict[str, type[LoadBalancer]] = {
    "haproxy": HAProxyBalancer,
    "nginx": NginxBalancer,
    "elbv2": ELBv2Balancer,
    "command": CommandBalancer,
}
"""``type:`` -> the model of that kind of balancer."""


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


def _web_url(url: str) -> str:
    """An http(s) URL with a host, or ValueError saying what is wrong with it."""
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ValueError("should be an http:// or https:// URL with a host")
    if any(c.isspace() for c in url):
        raise ValueError("should be a URL without spaces")
    try:
        parts.port  # noqa: B018 - raises for a port that is not a number in range
    except ValueError:
        raise ValueError("has a bad port") from None
    return url


WebURL = Annotated[
    str, Check("StringConstraints", max_length=2048), Check("AfterValidator", _web_url)
]


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
    verify: Verify = Verify()
    """How a canary is verified (the deploy.canary setting); without a probe, only the error
    rate the load balancer saw."""
    environment: dict[EnvName, str] = field(default_factory=dict)
    """Variables exported to every step."""
    secrets: dict[EnvName, SecretSource] = field(default_factory=dict)
    """Variables exported to every step whose values are masked (***) in all output."""

    def __post_init__(self) -> None:
        _require_unique([s.name for s in self.steps], "step", "steps")
        _require_one([s.migration for s in self.steps], "steps", "migration", "step")
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


@dataclass(frozen=True, kw_only=True)
class Manifest(Frozen):
    """An application: its servers, its load balancers and how to deploy it."""

    application: Name
    """The application's name: `-s` on the command line names it."""
    servers: Annotated[tuple[Server, ...], Check("Field", min_length=1)]
    """The machines that run the application, in deploy order."""
    load_balancers: tuple[AnyLoadBalancer, ...] = ()
    """The load balancers in front of the servers; a serial deploy takes each server out of
    all of them (in this order) and puts it back in the reverse order."""
    deploy: Deploy
    """How to deploy a release: its steps, health check, environment and secrets."""
    hooks: Hooks = Hooks()
    """Commands run at fixed points around the deploy."""
    notifications: Notifications = Notifications()
    """Webhooks told when each deploy starts and ends."""
    source: Annotated[Path, Check("json_schema.SkipJsonSchema")] = field(
        default=Path("baton.yml"), metadata={"key": False}
    )
    """The file the manifest was read from (set by the loader, not a key)."""

    def __post_init__(self) -> None:
        names = [s.name for s in self.servers]
        _require_unique(names, "server", "servers")
        _require_unique([lb.name for lb in self.load_balancers], "load balancer", "load_balancers")
        _require_one([s.migrations for s in self.servers], "servers", "migrations", "server")
        for index, lb in enumerate(self.load_balancers):
            _check_mapping(lb, index, names)

    @property
    def migration_server(self) -> Server:
        """The server that runs migrations: the one marked, else the first."""
        return next((s for s in self.servers if s.migrations), self.servers[0])

    def server(self, name: str) -> Server:
        return next(s for s in self.servers if s.name == name)


def _check_mapping(lb: LoadBalancer, index: int, names: list[str]) -> None:
    unknown = sorted(set(lb.servers) - set(names))
    if unknown:
        raise PathError(
            ("load_balancers", index, "servers", unknown[0]),
            f"load balancer {lb.name!r} maps unknown server(s) {', '.join(unknown)}; "
            f"servers are: {', '.join(names)}",
        )
    unmapped = [name for name in names if name not in lb.servers]
    if isinstance(lb, ELBv2Balancer) and unmapped:
        raise PathError(
            ("load_balancers", index, "servers"),
            f"server(s) {', '.join(unmapped)} have no target: map each server to its "
            "instance id or IP (id:port when not the target group's port)",
        )
    if isinstance(lb, CommandBalancer) and lb.status_per_server and unmapped:
        raise PathError(
            ("load_balancers", index, "servers"),
            f"server(s) {', '.join(unmapped)} missing: a status command run per server is "
            "asked about the servers listed here, so list each (as itself: web1: web1)",
        )
    if isinstance(lb, ELBv2Balancer):
        for server, target in lb.servers.items():
            if target.count(":") > 1 or not re.match(r"^[^:]+(:\d{1,5})?$", target):
                raise PathError(
                    ("load_balancers", index, "servers", server),
                    f"{target!r} is not a target: an instance id or IP, optionally :port",
                )


def _require_unique(names: list[str], what: str, field: str) -> None:
    seen: set[str] = set()
    for index, name in enumerate(names):
        if name in seen:
            raise PathError((field, index, "name"), f"duplicate {what} name {name!r}")
        seen.add(name)


def _require_prepare_first(steps: tuple[Step, ...]) -> None:
    """Prepare steps run before every other step, so the manifest must list them first."""
    for index, step in enumerate(steps):
        if step.prepare and index and not steps[index - 1].prepare:
            raise PathError(
                ("steps", index, "stage"),
                f"prepare steps run before the others; list {step.name!r} before "
                f"{steps[index - 1].name!r}",
            )


def _require_one(marks: list[bool], field: str, key: str, what: str) -> None:
    marked = [index for index, mark in enumerate(marks) if mark]
    if len(marked) > 1:
        raise PathError((field, marked[1], key), f"only one {what} can have {key}: true")


VERSION_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+:-]{0,127}$")
