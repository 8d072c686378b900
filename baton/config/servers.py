"""Where baton's commands run: one SSH endpoint model, for servers and balancer hosts alike.

A balancer's ``host:`` used to copy the server's SSH keys but not the checks between them, so a
host with both ``key_file`` and ``agent: true`` loaded and then failed at run time; sharing the
model shares the checks, and such a manifest is refused at load with its file and line.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Literal

from baton.config.validation import Frozen
from baton.config.values import FilePath, Host, Name, Port, PositiveSeconds, Text


@dataclass(frozen=True, kw_only=True)
class SSHEndpoint(Frozen):
    """A machine reached over SSH: a server, or the host a load balancer's commands run on."""

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
    connect_timeout: PositiveSeconds = 10.0
    """Seconds to wait for the SSH connection."""

    def __post_init__(self) -> None:
        if self.over_ssh and self.key_file is not None and self.agent:
            raise ValueError("give either key_file or agent: true, not both")

    @property
    def over_ssh(self) -> bool:
        """Whether baton reaches this machine over SSH (so its login keys must make sense)."""
        return True

    def as_server(self, name: str) -> Server:
        """This endpoint as a server named ``name``, so the SSH transport can reach it."""
        return Server(name=name, **dataclasses.asdict(self))


@dataclass(frozen=True, kw_only=True)
class _Named(Frozen):
    """The server's name, in a base of its own so that it stays the first key of a server."""

    name: Name
    """The server's name in baton's output and history: letters, digits, '.', '_' and '-'."""


@dataclass(frozen=True, kw_only=True)
class Server(SSHEndpoint, _Named):
    """One machine that runs the application."""

    roles: tuple[Name, ...] = ("web",)
    """Labels for the server, for your own use."""
    migrations: bool = False
    """This server runs the migration step (at most one server; none means the first)."""
    transport: Literal["ssh", "local"] = "ssh"
    """ssh, or local to run the commands on this machine (tests, one-box apps)."""

    @property
    def over_ssh(self) -> bool:
        return self.transport == "ssh"
