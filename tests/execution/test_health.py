"""A URL health check against a real listener on loopback: the credentials in its URL go as
Basic authorization (never in the Host header), and what it reports never shows them."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from baton.config import HealthCheck
from baton.execution.health import check_url


@asynccontextmanager
async def answering(answer: bytes) -> AsyncIterator[tuple[int, list[str]]]:
    """A listener that keeps each request's head and answers ``answer``: (port, heads)."""
    heads: list[str] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        heads.append((await reader.readuntil(b"\r\n\r\n")).decode())
        writer.write(answer)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    async with server:
        yield server.sockets[0].getsockname()[1], heads


def url_check(port: int) -> HealthCheck:
    return HealthCheck(url=f"http://ops:pa%3Ass@127.0.0.1:{port}/health?key=k3y", timeout=5)


async def test_credentials_go_as_basic_authorization_and_never_show() -> None:
    async with answering(b"HTTP/1.1 503 Unavailable\r\nContent-Length: 0\r\n\r\n") as served:
        port, heads = served
        passed, detail = await check_url(url_check(port), {})
    assert not passed and detail == f"GET http://127.0.0.1:{port}/health?…: HTTP 503"
    lines = heads[0].split("\r\n")
    assert lines[0] == "GET /health?key=k3y HTTP/1.1"
    assert f"Host: 127.0.0.1:{port}" in lines
    assert f"Authorization: Basic {base64.b64encode(b'ops:pa:ss').decode()}" in lines


async def test_an_answer_that_is_not_http_is_reported_without_credentials() -> None:
    async with answering(b"SSH-2.0-OpenSSH_9.6\r\n\r\n") as (port, _):
        passed, detail = await check_url(url_check(port), {})
    assert not passed
    assert detail == (
        f"GET http://127.0.0.1:{port}/health?…: "
        f"ConnectionError no HTTP answer from http://127.0.0.1:{port}/…"
    )
