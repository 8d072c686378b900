"""HAProxyDriver against a real HAProxy with three real HTTP servers behind it."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import TypeVar

import pytest

from baton import LoadBalancerError
from baton.config.model import HAProxyBalancer, Server
from baton.drivers import Membership
from baton.drivers.factory import load_balancer_driver, open_transport
from baton.drivers.haproxy import HAProxyDriver, ServerState
from baton.drivers.local import LocalTransport
from baton.drivers.ssh import SSHTransport
from baton.sandbox.haproxy import HAProxyProcess
from tests.drivers.conftest import NameServer, load_balancer

pytestmark = pytest.mark.integration

T = TypeVar("T")
IN, OUT, DOWN = Membership.IN_ROTATION, Membership.OUT_OF_ROTATION, Membership.DOWN


async def get(url: str) -> str:
    """The body HAProxy answers with (a fresh connection per request, so each is balanced)."""
    host, port = url.removeprefix("http://").strip("/").split(":")
    path = "/slow" if url.endswith("/slow") else "/"
    reader, writer = await asyncio.open_connection(host, int(port.split("/")[0]))
    writer.write(f"GET {path} HTTP/1.0\r\nHost: x\r\n\r\n".encode())
    response = (await reader.read()).decode()
    writer.close()
    assert response.startswith("HTTP/1.0 200"), response
    return response.split("\r\n\r\n", 1)[1]


async def served_by(haproxy: HAProxyProcess, requests: int = 12) -> Counter[str]:
    return Counter([await get(haproxy.frontend_url) for _ in range(requests)])


async def test_remove_takes_a_server_out_and_add_puts_it_back(haproxy: HAProxyProcess) -> None:
    driver = HAProxyDriver(load_balancer(haproxy))
    assert await driver.membership() == {"a": IN, "b": IN, "c": IN}
    assert set(await served_by(haproxy)) == {"a", "b", "c"}

    await driver.remove("b")
    state = (await driver.server_states())["b"]
    assert state.admin_state & 0x01 and state.maintenance and not state.in_rotation
    assert await driver.membership() == {"a": IN, "b": OUT, "c": IN}
    assert set(await served_by(haproxy)) == {"a", "c"}

    await driver.add("b")
    assert (await driver.server_states())["b"].admin_state == 0
    assert await driver.membership() == {"a": IN, "b": IN, "c": IN}
    assert set(await served_by(haproxy)) == {"a", "b", "c"}


async def test_baton_names_map_to_haproxy_names(haproxy: HAProxyProcess) -> None:
    driver = HAProxyDriver(load_balancer(haproxy, servers={"web-1": "a"}))
    await driver.remove("web-1")
    assert await driver.membership() == {"web-1": OUT, "b": IN, "c": IN}
    assert (await driver.server_states())["web-1"].haproxy_name == "a"
    assert "a" not in await served_by(haproxy)


async def test_remove_waits_for_sessions_to_drain(haproxy: HAProxyProcess) -> None:
    driver = HAProxyDriver(load_balancer(haproxy))
    slow = asyncio.create_task(get(f"{haproxy.frontend_url}slow"))
    busy = await until(driver, lambda states: [n for n, s in states.items() if s.sessions])
    started = time.monotonic()
    await driver.remove(busy[0])
    assert time.monotonic() - started > 0.3  # the slow request takes a second
    assert slow.done() and await slow == busy[0]  # it finished rather than being cut


async def test_a_server_failing_checks_is_down(
    haproxy: HAProxyProcess, name_servers: dict[str, NameServer]
) -> None:
    driver = HAProxyDriver(load_balancer(haproxy))
    name_servers["c"].shutdown()
    name_servers["c"].server_close()
    await until(driver, lambda states: states["c"].op_state == 0)
    assert await driver.membership() == {"a": IN, "b": IN, "c": DOWN}


async def test_an_unknown_server_is_refused_in_haproxys_words(haproxy: HAProxyProcess) -> None:
    driver = HAProxyDriver(load_balancer(haproxy))
    with pytest.raises(LoadBalancerError) as raised:
        await driver.remove("nope")
    assert str(raised.value) == (
        f"load balancer front (HAProxy {haproxy.socket}): "
        "'set server app/nope state drain' refused: No such server."
    )


async def test_an_unknown_backend_is_refused(haproxy: HAProxyProcess) -> None:
    driver = HAProxyDriver(load_balancer(haproxy, backend="other"))
    with pytest.raises(
        LoadBalancerError, match=r"'set server other/a state ready' .*No such backend"
    ):
        await driver.add("a")
    with pytest.raises(LoadBalancerError, match="Can't find backend"):
        await driver.membership()


async def test_an_absent_socket_is_reported(tmp_path: Path) -> None:
    lb = HAProxyBalancer(name="gone", type="haproxy", socket=tmp_path / "none.sock", backend="app")
    with pytest.raises(
        LoadBalancerError, match=r"^load balancer gone .*cannot reach .*No such file"
    ):
        await HAProxyDriver(lb).membership()


class FakeAdminSocket:
    """Accepts every command and reports every server as enabled: a load balancer that lies."""

    STATE = "1\n# be_id be_name srv_id srv_name srv_op_state srv_admin_state\n3 app 1 a 2 0\n\n"
    STAT = "# pxname,svname,scur\napp,a,0\n\n"

    def __init__(self) -> None:
        self.commands: list[str] = []

    async def answer(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        command = (await reader.readline()).decode().strip()
        self.commands.append(command)
        replies = {"show servers": self.STATE, "show stat": self.STAT}
        writer.write(next((r for c, r in replies.items() if command.startswith(c)), "\n").encode())
        writer.close()


@pytest.fixture
async def liar() -> AsyncIterator[tuple[FakeAdminSocket, str]]:
    fake = FakeAdminSocket()
    server = await asyncio.start_server(fake.answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    yield fake, f"127.0.0.1:{port}"
    server.close()
    await server.wait_closed()


async def test_a_removal_haproxy_does_not_show_is_an_error(
    liar: tuple[FakeAdminSocket, str],
) -> None:
    fake, address = liar
    lb = HAProxyBalancer(name="tcp", type="haproxy", address=address, backend="app")
    with pytest.raises(LoadBalancerError, match=r"a is not in maintenance after removal .*0x00"):
        await HAProxyDriver(lb).remove("a")
    assert fake.commands == [
        "set server app/a state drain",
        "show stat app 4 -1",
        "set server app/a state maint",
        "show servers state app",
        "show stat app 4 -1",
    ]


def test_the_factory_picks_drivers_by_type(haproxy: HAProxyProcess) -> None:
    assert isinstance(load_balancer_driver(load_balancer(haproxy)), HAProxyDriver)
    with pytest.raises(
        ValueError, match="no driver for load balancer type 'haproxy'; known: nginx"
    ):
        load_balancer_driver(load_balancer(haproxy), {"nginx": HAProxyDriver})
    assert isinstance(open_transport(Server(name="x", address="h")), SSHTransport)
    assert isinstance(
        open_transport(Server(name="x", address="h", transport="local")), LocalTransport
    )


async def until(
    driver: HAProxyDriver, check: Callable[[dict[str, ServerState]], T], limit: float = 5
) -> T:
    deadline = time.monotonic() + limit
    while not (found := check(await driver.server_states())):
        assert time.monotonic() < deadline, "HAProxy never reached the expected state"
        await asyncio.sleep(0.05)
    return found


async def test_traffic_counts_each_servers_responses_and_errors(haproxy: HAProxyProcess) -> None:
    driver = HAProxyDriver(load_balancer(haproxy, servers={"web-a": "a"}))
    before = await driver.traffic()
    assert set(before) == {"web-a", "b", "c"}
    await served_by(haproxy, 6)
    host, port = haproxy.frontend_url.removeprefix("http://").strip("/").split(":")
    for _ in range(3):
        reader, writer = await asyncio.open_connection(host, int(port))
        writer.write(b"GET /fail HTTP/1.0\r\nHost: x\r\n\r\n")
        assert (await reader.read()).startswith(b"HTTP/1.0 500")
        writer.close()
    after = await driver.traffic()
    assert sum(after[s].responses - before[s].responses for s in after) == 9
    assert sum(after[s].errors - before[s].errors for s in after) == 3
    assert all(after[s].errors - before[s].errors == 1 for s in after)  # round robin


async def test_many_changes_at_once_stay_within_the_admin_sockets_connections(
    haproxy: HAProxyProcess,
) -> None:
    """A batch leaving together asks for many changes at once; HAProxy's stats socket takes 10
    connections and drops the rest, so the driver queues its own."""
    driver = HAProxyDriver(load_balancer(haproxy))
    reads = await asyncio.gather(*(driver.membership() for _ in range(40)))
    assert all(r == {"a": IN, "b": IN, "c": IN} for r in reads)
