"""Any balancer with a command line: baton runs the manifest's ``remove``, ``add`` and
``status`` commands, here or on the balancer's host."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from baton.balancers import Kind, driver_in, register
from baton.config.balancing import HostedBalancer
from baton.config.templates import BALANCER_PLACEHOLDERS, check_template, placeholders
from baton.config.values import PathError, Text


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
        return bool(placeholders(self.status))

    def describe(self) -> str:
        return "status command"

    def check_servers(self, names: list[str]) -> None:
        """A status command run per server is asked about the servers listed, so list each."""
        unmapped = [name for name in names if name not in self.servers]
        if self.status_per_server and unmapped:
            raise PathError(
                ("servers",),
                f"server(s) {', '.join(unmapped)} missing: a status command run per server is "
                "asked about the servers listed here, so list each (as itself: web1: web1)",
            )


KIND = register(
    Kind(
        type="command",
        model=CommandBalancer,
        driver=driver_in("baton.drivers.command", "CommandDriver"),
    )
)
