"""A lagging proxy in front of HAProxy's admin socket, to behave like a cloud load balancer.

Cloud load balancers accept a membership change at once and apply it some seconds later.
This proxy does the same to a real HAProxy: ``set server B/S state ...`` (and ``enable`` /
``disable server``) is answered at once and forwarded only after ``lag`` seconds, while
``show servers state`` and ``show stat`` answer as if the change had already happened, so a
driver's read-back passes. Every other command goes straight through.

Both of HAProxy's modes are spoken: one line of ``;``-separated commands per connection, and
the interactive ``prompt`` mode. Run it with ``python3 -m baton.sandbox.lag``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import logging
import re
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger("baton.sandbox.lag")

_CHANGE = re.compile(
    r"^\s*(?:set\s+server\s+(\S+)/(\S+)\s+state\s+(ready|drain|maint)"
    r"|(enable|disable)\s+server\s+(\S+)/(\S+))\s*$"
)
_MAINT, _DRAIN = 0x01, 0x08
_ADMIN_BITS = {"ready": 0, "drain": _DRAIN, "maint": _MAINT}


@dataclass(frozen=True)
class Change:
    backend: str
    server: str
    state: str
    due: float
    seq: int

    @property
    def command(self) -> str:
        return f"set server {self.backend}/{self.server} state {self.state}"


def parse_change(command: str) -> tuple[str, str, str] | None:
    """``(backend, server, state)`` for a membership change, else None."""
    match = _CHANGE.match(command)
    if match is None:
        return None
    if match.group(1):
        return match.group(1), match.group(2), match.group(3)
    state = "ready" if match.group(4) == "enable" else "maint"
    return match.group(5), match.group(6), state


async def ask(socket: Path, command: str) -> str:
    """Send one command to an HAProxy admin socket and return its whole answer."""
    reader, writer = await asyncio.open_unix_connection(str(socket))
    try:
        writer.write(command.encode() + b"\n")
        await writer.drain()
        return (await reader.read()).decode()
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()


class LagProxy:
    """Serve ``listen``, forwarding to the HAProxy admin socket ``target`` with ``lag`` seconds."""

    def __init__(self, listen: Path, target: Path, lag: float) -> None:
        self.listen, self.target, self.lag = listen, target, lag
        self.pending: dict[tuple[str, str], Change] = {}
        self._queue: asyncio.Queue[Change] = asyncio.Queue()
        self._seq = itertools.count()
        self._server: asyncio.Server | None = None
        self._worker: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.listen.unlink(missing_ok=True)
        self._server = await asyncio.start_unix_server(self._client, str(self.listen))
        self.listen.chmod(0o600)
        self._worker = asyncio.create_task(self._apply_forever())

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
        self.listen.unlink(missing_ok=True)

    async def answer(self, command: str) -> str:
        """What this proxy answers to one command (the real answer, with pending changes)."""
        change = parse_change(command)
        if change is not None:
            return await self._accept(*change)
        reply = await ask(self.target, command)
        words = command.split()
        if words[:3] == ["show", "servers", "state"]:
            return self._rewrite_states(reply)
        if words[:2] == ["show", "stat"] and reply.startswith("# pxname"):
            return self._rewrite_stat(reply)
        return reply

    async def _accept(self, backend: str, server: str, state: str) -> str:
        if not await self._exists(backend, server):
            return "No such server.\n\n"
        change = Change(backend, server, state, time.monotonic() + self.lag, next(self._seq))
        self.pending[(backend, server)] = change
        self._queue.put_nowait(change)
        log.info("accepted %s, applying in %.1fs", change.command, self.lag)
        return "\n"

    async def _exists(self, backend: str, server: str) -> bool:
        rows = (await ask(self.target, f"show servers state {backend}")).splitlines()
        return any(row.split()[1:2] == [backend] and row.split()[3:4] == [server] for row in rows)

    async def _apply_forever(self) -> None:
        while True:
            change = await self._queue.get()
            await asyncio.sleep(max(0.0, change.due - time.monotonic()))
            reply = await ask(self.target, change.command)
            log.info("applied %s: %r", change.command, reply.strip())
            if self.pending.get((change.backend, change.server)) == change:
                del self.pending[(change.backend, change.server)]

    def _rewrite_states(self, reply: str) -> str:
        lines = reply.split("\n")
        for i, line in enumerate(lines):
            cols = line.split(" ")
            change = self.pending.get((cols[1], cols[3])) if len(cols) > 6 else None
            if change is not None and cols[0].isdigit():
                cols[5], cols[6] = _as_if_state(int(cols[5]), int(cols[6]), change.state)
                lines[i] = " ".join(cols)
        return "\n".join(lines)

    def _rewrite_stat(self, reply: str) -> str:
        lines = reply.split("\n")
        status = lines[0].lstrip("# ").split(",").index("status")
        for i, line in enumerate(lines[1:], start=1):
            cols = line.split(",")
            change = self.pending.get((cols[0], cols[1])) if len(cols) > status else None
            if change is not None:
                cols[status] = _as_if_status(cols[status], change.state)
                lines[i] = ",".join(cols)
        return "\n".join(lines)

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await self._converse(reader, writer)
        except (OSError, asyncio.IncompleteReadError) as exc:
            log.warning("client went away: %s", exc)
        finally:
            writer.close()

    async def _converse(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        interactive = False
        while line := (await reader.readline()).decode():
            commands = [c.strip() for c in line.strip().split(";") if c.strip()]
            if commands[:1] == ["quit"]:
                return
            if commands[:1] == ["prompt"]:
                interactive, commands = True, commands[1:]
                writer.write(b"\n")
            for command in commands:
                writer.write((await self.answer(command)).encode())
            if not interactive:
                await writer.drain()
                return
            writer.write(b"> ")
            await writer.drain()


def _as_if_state(op_state: int, admin: int, state: str) -> tuple[str, str]:
    """``show servers state`` columns srv_op_state and srv_admin_state after ``state``."""
    was_maint = bool(admin & _MAINT)
    admin = (admin & ~(_MAINT | _DRAIN)) | _ADMIN_BITS[state]
    if state == "maint":
        op_state = 0
    elif was_maint:
        op_state = 2  # leaving maintenance: HAProxy starts it as running, checks follow
    return str(op_state), str(admin)


def _as_if_status(status: str, state: str) -> str:
    """``show stat`` status column after ``state``."""
    if state == "maint":
        return "MAINT"
    up = not status.startswith(("DOWN", "NOLB"))
    if state == "drain":
        return "DRAIN" if up else status
    return "UP" if status.startswith(("MAINT", "DRAIN")) else status


async def run(listen: Path, target: Path, lag: float) -> None:
    """Serve until SIGTERM or SIGINT, then remove the socket."""
    stopping = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(signum, stopping.set)
    proxy = LagProxy(listen, target, lag)
    await proxy.start()
    log.info("proxying %s -> %s with %.1fs lag", listen, target, lag)
    try:
        await stopping.wait()
    finally:
        await proxy.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Lagging proxy for an HAProxy admin socket.")
    parser.add_argument("--listen", type=Path, required=True, help="socket to serve")
    parser.add_argument("--target", type=Path, required=True, help="HAProxy's admin socket")
    parser.add_argument("--lag", type=float, required=True, help="seconds before a change lands")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    asyncio.run(run(args.listen, args.target, args.lag))
    return 0


if __name__ == "__main__":
    sys.exit(main())
