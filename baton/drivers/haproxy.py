"""HAProxy through its runtime API (the admin socket), one connection per command.

HAProxy closes a non-interactive connection after answering, so every command opens its own,
each bounded by ``lb.timeout``. Every change is read back from ``show servers state``.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from baton._exceptions import LoadBalancerError
from baton.clock import SYSTEM_CLOCK, Clock, poll_until
from baton.config.model import HAProxyBalancer
from baton.drivers import commands
from baton.drivers.loadbalancer import LoadBalancerDriver, Membership, ServerTraffic

FORCED_MAINT, INHERITED_MAINT, CONFIG_MAINT = 0x01, 0x02, 0x04
FORCED_DRAIN, INHERITED_DRAIN = 0x08, 0x10
RESOLUTION_MAINT, HOSTNAME_MAINT = 0x20, 0x40
MAINTENANCE = FORCED_MAINT | INHERITED_MAINT | CONFIG_MAINT | RESOLUTION_MAINT | HOSTNAME_MAINT
DRAIN = FORCED_DRAIN | INHERITED_DRAIN
STOPPED, STARTING, RUNNING, STOPPING = 0, 1, 2, 3
RESPONSE_KINDS = ("1xx", "2xx", "3xx", "4xx", "5xx", "other")
ADMIN_CONNECTIONS = 4
"""Most runtime API connections one driver holds at once: HAProxy's stats socket accepts 10
(``stats maxconn``) and drops the rest, which a batch of servers leaving together would hit."""
DRAIN_POLL = 0.1
"""Seconds between session counts while a server drains."""


@dataclass(frozen=True)
class ServerState:
    """One server as HAProxy reports it (``show servers state`` and ``show stat``)."""

    haproxy_name: str
    admin_state: int
    op_state: int
    sessions: int

    @property
    def maintenance(self) -> bool:
        return bool(self.admin_state & MAINTENANCE)

    @property
    def draining(self) -> bool:
        return bool(self.admin_state & DRAIN)

    @property
    def in_rotation(self) -> bool:
        """Enabled by the operator and up: HAProxy sends it new requests."""
        return not self.maintenance and not self.draining and self.op_state in (STARTING, RUNNING)

    @property
    def membership(self) -> Membership:
        if self.maintenance or self.draining:
            return Membership.OUT_OF_ROTATION
        return Membership.IN_ROTATION if self.in_rotation else Membership.DOWN


class HAProxyDriver(LoadBalancerDriver):
    """Drains, disables and enables servers of one backend."""

    def __init__(self, lb: HAProxyBalancer, clock: Clock = SYSTEM_CLOCK) -> None:
        self.lb = lb
        self.name = lb.name
        self.clock = clock
        self._connections = asyncio.Semaphore(ADMIN_CONNECTIONS)

    def __repr__(self) -> str:
        return f"HAProxyDriver({self.name!r}, backend={self.lb.backend!r}, at={self._where()})"

    async def remove(self, server: str) -> None:
        """Drain ``server``, wait (up to lb.timeout) for its sessions to end, then disable it."""
        await self._set_state(server, "drain")
        await self._wait_drained(server)
        await self._set_state(server, "maint")
        state = await self._state_of(server)
        if not state.maintenance:
            raise self._error(f"{server} is not in maintenance after removal ({_admin(state)})")

    async def add(self, server: str) -> None:
        """Make ``server`` ready again and confirm nothing keeps it out."""
        await self._set_state(server, "ready")
        state = await self._state_of(server)
        if state.maintenance or state.draining:
            raise self._error(f"{server} is still out of rotation after adding ({_admin(state)})")

    async def membership(self) -> dict[str, Membership]:
        return {name: state.membership for name, state in (await self.server_states()).items()}

    async def server_states(self) -> dict[str, ServerState]:
        """Every server of the backend, keyed by baton name (HAProxy's name when unmapped).

        A member that bears the name of a baton server mapped to another member is left out:
        it is not that server, and must not pass for it (in preflight, say)."""
        admin = await self._servers_state()
        sessions = await self._sessions()
        return {
            self.lb.server_for(member): ServerState(
                member, admin_state, op_state, sessions.get(member, 0)
            )
            for member, (op_state, admin_state) in admin.items()
            if not self.lb.poses_as_a_server(member)
        }

    async def traffic(self) -> dict[str, ServerTraffic]:
        """Responses and errors per server from ``show stat`` (HTTP mode counters)."""
        rows = await self._rows(commands.haproxy_stat(self.lb), ",", "")
        return {
            self.lb.server_for(row["svname"]): ServerTraffic(
                sum(_count(row, f"hrsp_{kind}") for kind in RESPONSE_KINDS),
                sum(_count(row, key) for key in ("hrsp_5xx", "econ", "eresp")),
            )
            for row in rows
        }

    async def _set_state(self, server: str, state: str) -> None:
        command = commands.haproxy_set_state(self.lb, server, state)
        reply = await self._command(command)
        if reply.strip():
            raise self._error(f"{command!r} refused: {_one_line(reply)}")

    async def _wait_drained(self, server: str) -> None:
        member = self.lb.member_name(server)
        await poll_until(
            self._sessions,
            lambda sessions: sessions.get(member, 0) <= 0,
            timeout=self.lb.timeout,
            interval=DRAIN_POLL,
            clock=self.clock,
        )

    async def _state_of(self, server: str) -> ServerState:
        states = await self.server_states()
        if server not in states:
            raise self._error(f"{server} ({self.lb.member_name(server)}) missing from read-back")
        return states[server]

    async def _servers_state(self) -> dict[str, tuple[int, int]]:
        """HAProxy name -> (srv_op_state, srv_admin_state)."""
        rows = await self._rows(commands.haproxy_servers_state(self.lb), " ", "1\n")
        return {r["srv_name"]: (int(r["srv_op_state"]), int(r["srv_admin_state"])) for r in rows}

    async def _sessions(self) -> dict[str, int]:
        """HAProxy name -> current sessions (scur)."""
        rows = await self._rows(commands.haproxy_stat(self.lb), ",", "")
        return {row["svname"]: int(row["scur"] or 0) for row in rows}

    async def _rows(self, command: str, separator: str, preamble: str) -> list[dict[str, str]]:
        reply = await self._command(command)
        rows = _table(reply, separator, preamble)
        if rows is None:
            raise self._error(f"{command!r} refused: {_one_line(reply)}")
        return rows

    async def _command(self, command: str) -> str:
        try:
            async with self._connections, asyncio.timeout(self.lb.timeout):
                return await self._exchange(command)
        except TimeoutError:
            raise self._error(f"{command!r} got no answer within {self.lb.timeout:g}s") from None
        except OSError as error:
            reason = error.strerror or str(error)
            raise self._error(
                f"cannot reach the admin socket at {self._where()}: {reason}"
            ) from error

    async def _exchange(self, command: str) -> str:
        if self.lb.socket is not None:
            reader, writer = await asyncio.open_unix_connection(self.lb.socket)
        else:
            host, port = str(self.lb.address).rsplit(":", 1)
            reader, writer = await asyncio.open_connection(host, int(port))
        try:
            writer.write(commands.haproxy_line(command))
            await writer.drain()
            return (await reader.read()).decode(errors="replace")
        finally:
            writer.close()

    def _where(self) -> str:
        return str(self.lb.socket or self.lb.address)

    def _error(self, message: str) -> LoadBalancerError:
        return LoadBalancerError(f"load balancer {self.name} (HAProxy {self._where()}): {message}")


def _table(reply: str, separator: str, preamble: str) -> list[dict[str, str]] | None:
    """Rows of a reply whose header line starts with "# "; None for anything else (an error)."""
    body = reply.removeprefix(preamble)
    if not body.startswith("# "):
        return None
    header, *lines = body.removeprefix("# ").splitlines()
    names = header.split(separator)
    return [dict(zip(names, line.split(separator), strict=False)) for line in lines if line]


def _count(row: dict[str, str], key: str) -> int:
    value = row.get(key, "")
    return int(value) if value.isdigit() else 0


def _admin(state: ServerState) -> str:
    return f"srv_admin_state {state.admin_state:#04x}, srv_op_state {state.op_state}"


def _one_line(reply: str) -> str:
    return " ".join(reply.split()) or "(empty reply)"
