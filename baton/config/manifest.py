"""The whole manifest: an application's servers, load balancers, deploy, hooks and notifications,
and the checks that span its sections."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

from baton.config.balancing import AnyLoadBalancer, LoadBalancer
from baton.config.deploying import Deploy, Hooks, Notifications
from baton.config.servers import Server
from baton.config.validation import Check, Frozen
from baton.config.values import Name, PathError, require_one, require_unique


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
    hooks: Hooks = Hooks()  # noqa: RUF009 - frozen, so one shared default is safe
    """Commands run at fixed points around the deploy."""
    notifications: Notifications = Notifications()  # noqa: RUF009 - frozen
    """Webhooks told when each deploy starts and ends."""
    source: Annotated[Path, Check("json_schema.SkipJsonSchema")] = field(
        default=Path("baton.yml"), metadata={"key": False}
    )
    """The file the manifest was read from (set by the loader, not a key)."""

    def __post_init__(self) -> None:
        names = [s.name for s in self.servers]
        require_unique(names, "server", "servers")
        require_unique([lb.name for lb in self.load_balancers], "load balancer", "load_balancers")
        require_one([s.migrations for s in self.servers], "servers", "migrations", "server")
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
    try:
        lb.check_servers(names)
    except PathError as error:
        raise PathError(("load_balancers", index, *error.path), str(error)) from None
