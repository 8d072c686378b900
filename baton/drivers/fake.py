"""Recording fakes of both driver interfaces, for tests and dry runs.

They share a :class:`Timeline` so a test can ask what was out of rotation when a command ran.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from baton._exceptions import UnreachableError
from baton.clock import SYSTEM_CLOCK, Clock
from baton.config import LoadBalancer, Manifest, Server
from baton.drivers._output import OutputCollector
from baton.drivers.bundle import Drivers
from baton.drivers.loadbalancer import LoadBalancerDriver, Membership, ServerTraffic
from baton.drivers.transport import ShellCommand, Transport


@dataclass(frozen=True)
class Entry:
    at: float
    what: str
    """"run", "remove", "add", "open" or "close"."""
    server: str
    detail: str = ""
    out_of_rotation: frozenset[str] = frozenset()


@dataclass
class Timeline:
    """Everything the fakes did, in order, with who was out of rotation at that moment."""

    entries: list[Entry] = field(default_factory=list)
    out: set[str] = field(default_factory=set)
    clock: Clock = SYSTEM_CLOCK
    """Whose monotonic time an entry is stamped with; the fake commands wait on it."""

    def add(self, what: str, server: str, detail: str = "") -> None:
        at = self.clock.monotonic()
        self.entries.append(Entry(at, what, server, detail, frozenset(self.out)))

    def commands(self, server: str | None = None) -> list[str]:
        return [e.detail for e in self.entries if e.what == "run" and server in (None, e.server)]


@dataclass
class Script:
    """How fake commands behave: a regex → (exit status, output, seconds) table."""

    rules: list[tuple[str, int, str, float]] = field(default_factory=list)
    unreachable: set[str] = field(default_factory=set)

    def on(
        self, pattern: str, exit_status: int = 0, output: str = "", seconds: float = 0.0
    ) -> Script:
        self.rules.append((pattern, exit_status, output, seconds))
        return self

    def outcome(self, server: str, command: str) -> tuple[int, str, float]:
        for pattern, status, output, seconds in self.rules:
            if re.search(pattern, f"{server}: {command}"):
                return status, output, seconds
        return 0, "", 0.0


class FakeTransport(Transport):
    def __init__(self, server: Server, timeline: Timeline, script: Script | None = None) -> None:
        self.server = server
        self.timeline = timeline
        self.script = script or Script()

    async def open(self) -> None:
        if self.server.name in self.script.unreachable:
            raise UnreachableError(f"{self.server.name} ({self.server.address}): unreachable")
        self.timeline.add("open", self.server.name)

    async def _execute(self, command: ShellCommand, output: OutputCollector) -> int | None:
        self.timeline.add("run", self.server.name, command.line)
        status, printed, seconds = self.script.outcome(self.server.name, command.line)
        if printed:  # printed at once, then the command takes its time
            output.feed("stdout", printed if printed.endswith("\n") else printed + "\n")
        if seconds > command.timeout:
            await self.timeline.clock.sleep(command.timeout)
            return None
        await self.timeline.clock.sleep(seconds)
        return status

    async def close(self) -> None:
        self.timeline.add("close", self.server.name)


class FakeLoadBalancer(LoadBalancerDriver):
    def __init__(self, name: str, servers: list[str], timeline: Timeline) -> None:
        self.name = name
        self.timeline = timeline
        self.state = dict.fromkeys(servers, Membership.IN_ROTATION)
        self.counts: dict[str, ServerTraffic] = {}
        """What :meth:`traffic` reports; a test sets it."""

    async def remove(self, server: str) -> None:
        self.state[server] = Membership.OUT_OF_ROTATION
        self.timeline.out.add(server)
        self.timeline.add("remove", server, self.name)

    async def add(self, server: str) -> None:
        self.state[server] = Membership.IN_ROTATION
        self.timeline.out.discard(server)
        self.timeline.add("add", server, self.name)

    async def membership(self) -> dict[str, Membership]:
        return dict(self.state)

    async def traffic(self) -> dict[str, ServerTraffic]:
        return dict(self.counts)


class FakeFleet:
    """Fake servers and load balancers for a manifest, sharing one timeline and one script.

    ``FakeFleet(manifest).drivers()`` goes where :class:`baton.execution.Drivers` is taken.
    """

    def __init__(
        self, manifest: Manifest, script: Script | None = None, clock: Clock = SYSTEM_CLOCK
    ) -> None:
        self.manifest = manifest
        self.clock = clock
        self.timeline = Timeline(clock=clock)
        self.script = script or Script()
        names = [s.name for s in manifest.servers]
        self.load_balancers = {
            lb.name: FakeLoadBalancer(lb.name, names, self.timeline)
            for lb in manifest.load_balancers
        }

    def transport(self, server: Server) -> FakeTransport:
        return FakeTransport(server, self.timeline, self.script)

    def load_balancer(self, lb: LoadBalancer) -> FakeLoadBalancer:
        return self.load_balancers[lb.name]

    def drivers(self) -> Drivers:
        return Drivers(self.transport, self.load_balancer, self.clock)

    def removals(self) -> list[str]:
        """Servers in the order they were taken out of rotation."""
        return [e.server for e in self.timeline.entries if e.what == "remove"]
