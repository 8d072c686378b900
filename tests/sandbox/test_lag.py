"""The lag proxy answers membership changes at once and applies them to HAProxy only later."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from baton.sandbox.lag import LagProxy, ask

HEADER = "1\n# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight\n"


class FakeHAProxy:
    """An admin socket that keeps each server's admin state and logs when a change arrives."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.admin = {"web1": 0, "web2": 0}
        self.changes: list[tuple[float, str]] = []

    async def start(self) -> asyncio.Server:
        return await asyncio.start_unix_server(self._client, str(self.path))

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        command = (await reader.readline()).decode().strip()
        writer.write(self.answer(command).encode())
        await writer.drain()
        writer.close()

    def answer(self, command: str) -> str:
        words = command.split()
        if words[:2] == ["set", "server"]:
            self.changes.append((time.monotonic(), command))
            self.admin[words[2].split("/")[1]] = {"maint": 1, "drain": 8, "ready": 0}[words[4]]
            return "\n"
        if words[:3] == ["show", "servers", "state"]:
            servers = enumerate(self.admin.items(), start=1)
            rows = [f"3 app {i} {n} 127.0.1.{i} 2 {a} 1" for i, (n, a) in servers]
            return HEADER + "\n".join(rows) + "\n\n"
        if words == ["show", "stat"]:
            status = {0: "UP", 1: "MAINT", 8: "DRAIN"}
            rows = [f"app,{n},{status[a]},1" for n, a in self.admin.items()]
            return "# pxname,svname,status,weight\n" + "\n".join(rows) + "\n\n"
        return f"Unknown command '{command}'\n\n"


@pytest.fixture
async def haproxy(tmp_path: Path) -> AsyncIterator[FakeHAProxy]:
    fake = FakeHAProxy(tmp_path / "admin.sock")
    server = await fake.start()
    yield fake
    server.close()
    await server.wait_closed()


async def proxy_for(haproxy: FakeHAProxy, lag: float) -> LagProxy:
    proxy = LagProxy(haproxy.path.with_name("lag.sock"), haproxy.path, lag)
    await proxy.start()
    return proxy


async def test_a_change_is_answered_at_once_and_applied_after_the_lag(
    haproxy: FakeHAProxy,
) -> None:
    proxy = await proxy_for(haproxy, 0.5)
    sent = time.monotonic()
    assert await ask(proxy.listen, "set server app/web1 state maint") == "\n"
    assert time.monotonic() - sent < 0.2
    assert haproxy.admin["web1"] == 0
    await asyncio.sleep(0.7)
    assert haproxy.admin["web1"] == 1
    assert haproxy.changes[0][0] - sent >= 0.5
    await proxy.stop()


async def test_read_back_shows_the_change_before_haproxy_has_it(haproxy: FakeHAProxy) -> None:
    proxy = await proxy_for(haproxy, 5)
    await ask(proxy.listen, "disable server app/web2")
    states = await ask(proxy.listen, "show servers state app")
    assert "3 app 2 web2 127.0.1.2 0 1 1" in states
    assert "3 app 1 web1 127.0.1.1 2 0 1" in states
    stat = await ask(proxy.listen, "show stat")
    assert "app,web2,MAINT,1" in stat and "app,web1,UP,1" in stat
    assert haproxy.admin["web2"] == 0
    await proxy.stop()


async def test_changes_reach_haproxy_in_the_order_they_were_made(haproxy: FakeHAProxy) -> None:
    proxy = await proxy_for(haproxy, 0.2)
    await ask(proxy.listen, "set server app/web1 state maint")
    await ask(proxy.listen, "set server app/web1 state ready")
    assert "web1 127.0.1.1 2 0" in await ask(proxy.listen, "show servers state app")
    await asyncio.sleep(0.5)
    assert [c for _, c in haproxy.changes] == [
        "set server app/web1 state maint",
        "set server app/web1 state ready",
    ]
    assert haproxy.admin["web1"] == 0 and proxy.pending == {}
    await proxy.stop()


async def test_an_unknown_server_is_refused_at_once(haproxy: FakeHAProxy) -> None:
    proxy = await proxy_for(haproxy, 0.1)
    assert await ask(proxy.listen, "set server app/web9 state maint") == "No such server.\n\n"
    await asyncio.sleep(0.2)
    assert haproxy.changes == []
    await proxy.stop()


async def test_interactive_prompt_mode(haproxy: FakeHAProxy) -> None:
    proxy = await proxy_for(haproxy, 5)
    reader, writer = await asyncio.open_unix_connection(str(proxy.listen))
    writer.write(b"prompt\n")
    assert await reader.readexactly(3) == b"\n> "
    writer.write(b"set server app/web1 state drain\n")
    assert await reader.readexactly(3) == b"\n> "
    writer.write(b"show stat\n")
    assert "app,web1,DRAIN,1" in (await reader.readuntil(b"\n> ")).decode()
    writer.write(b"quit\n")
    assert await reader.read() == b""
    writer.close()
    await proxy.stop()
