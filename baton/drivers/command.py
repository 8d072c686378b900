"""Any load balancer with a command line or an HTTP API, through the operator's own commands.

``remove``, ``add`` and ``status`` are shell commands run on the balancer's host (this machine
or one over SSH). ``{server}`` is the balancer's name for the server (``servers`` maps baton
names to it), ``{address}`` and ``{port}`` its halves when it reads ``address:port``; every
value is shell-quoted. ``status`` says ``in``, ``out`` or ``down``: for one server when it uses
a placeholder, else once, one ``<name> <state>`` line per server. It is the read-back after
every change and the preflight's proof that the balancer knows each server.
"""

from __future__ import annotations

from baton.clock import SYSTEM_CLOCK, Clock
from baton.config.model import CommandBalancer
from baton.drivers import commands
from baton.drivers.hosted import BalancerHost
from baton.drivers.loadbalancer import LoadBalancerDriver, Membership

STATES = {
    "in": Membership.IN_ROTATION,
    "out": Membership.OUT_OF_ROTATION,
    "down": Membership.DOWN,
}


class CommandDriver(LoadBalancerDriver):
    """Runs the manifest's commands and believes only what ``status`` says afterwards."""

    def __init__(self, lb: CommandBalancer, clock: Clock = SYSTEM_CLOCK) -> None:
        """``clock`` as every driver takes it; the commands themselves are bounded by
        lb.timeout, and this driver never waits between them."""
        self.lb = lb
        self.name = lb.name
        self.host = BalancerHost(lb, "command")
        self._servers = tuple(lb.servers)

    def __repr__(self) -> str:
        return f"CommandDriver({self.name!r}, on={self.host.where})"

    async def remove(self, server: str) -> None:
        await self._change(server, self.lb.remove, Membership.OUT_OF_ROTATION, "remove")

    async def add(self, server: str) -> None:
        await self._change(server, self.lb.add, Membership.IN_ROTATION, "add")

    async def membership(self) -> dict[str, Membership]:
        """One call, or one per mapped server when ``status`` names one (the manifest then
        maps every server)."""
        if not self.lb.status_per_server:
            return self._parse_table(await self._status(self.lb.status))
        return {server: await self._status_of(server) for server in self._servers}

    async def close(self) -> None:
        await self.host.close()

    async def _change(self, server: str, template: str, wanted: Membership, verb: str) -> None:
        await self.host.check(self._render(template, server), f"the {verb} command")
        state = await self._status_of(server)
        if state is not wanted:
            raise self.host.error(
                f"after the {verb} command, status says {server} is {state.value}"
            )

    async def _status_of(self, server: str) -> Membership:
        if not self.lb.status_per_server:
            table = self._parse_table(await self._status(self.lb.status))
            if server not in table:
                raise self.host.error(f"status does not list {self.lb.member_name(server)}")
            return table[server]
        output = await self._status(self._render(self.lb.status, server))
        word = output.split()[0].lower() if output.split() else ""
        if word not in STATES:
            raise self.host.error(
                f"status for {server} said {output.strip()[:80]!r}: expected in, out or down"
            )
        return STATES[word]

    async def _status(self, command: str) -> str:
        return await self.host.check(command, "the status command")

    def _parse_table(self, output: str) -> dict[str, Membership]:
        table: dict[str, Membership] = {}
        for line in output.splitlines():
            words = line.split()
            if len(words) != 2 or words[1].lower() not in STATES:
                raise self.host.error(
                    f"status said {line.strip()[:80]!r}: expected a '<name> in|out|down' line "
                    "per server (or a {server} in the status command)"
                )
            table[self.lb.server_for(words[0])] = STATES[words[1].lower()]
        return table

    def _render(self, template: str, server: str) -> str:
        return commands.balancer_command(self.lb, template, server)
