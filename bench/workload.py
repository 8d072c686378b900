"""The deploy every tool runs, and what a tool adapter is handed to run it.

Three steps on every server, in the login user's home directory: write the release, a 0.2 s
"build", switch the ``current`` symlink. Serial deploys wrap them in taking the server out of
HAProxy and putting it back.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

BUILD_SECONDS = 0.2
BACKEND = "app"
APPLICATION = "bench"
Mode = Literal["parallel", "serial"]


@dataclass(frozen=True)
class Step:
    name: str
    template: str
    """A shell command; :data:`RELEASE` stands for the release (a safe token)."""

    def command(self, version: str) -> str:
        return self.template.replace(RELEASE, version)


RELEASE = "@RELEASE@"
STEPS = (
    Step("write", "mkdir -p releases/@RELEASE@ && echo @RELEASE@ > releases/@RELEASE@/VERSION"),
    Step("build", f"sleep {BUILD_SECONDS}"),
    Step("switch", "ln -sfn releases/@RELEASE@ current"),
)


@dataclass(frozen=True)
class Host:
    name: str
    address: str
    user: str


@dataclass(frozen=True)
class Context:
    """Everything a tool adapter needs: the fleet, how to log in, where to write its files."""

    mode: Mode
    hosts: tuple[Host, ...]
    client_key: Path
    known_hosts: Path
    workdir: Path
    """A directory of this tool's own for this scenario (inventories, state, logs)."""
    peers_python: Path
    """The interpreter of the virtualenv holding ansible-core, pyinfra and fabric."""
    haproxy_socket: Path | None = None
    max_parallel: int = 0

    @property
    def size(self) -> int:
        return len(self.hosts)

    @property
    def forks(self) -> int:
        """The parallelism peers are given: every server at once, unless capped."""
        return self.max_parallel or self.size


def ideal_seconds(mode: Mode, servers: int) -> float:
    """The physical floor of the deploy's own work: the builds, once or once per server."""
    return BUILD_SECONDS * (servers if mode == "serial" else 1)
