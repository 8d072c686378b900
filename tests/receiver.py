"""A real HTTP receiver on loopback for webhook tests: answers each POST as it is told to.

``behaviour`` is a list consumed one request at a time: an HTTP status to answer, "hang"
to read the request and never answer, or "garbage" to answer something that is not HTTP;
once it is used up every request gets 200. ``heads`` keeps each request's line and headers.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Receiver:
    behaviour: list[int | str] = field(default_factory=list)
    received: list[dict[str, Any]] = field(default_factory=list)
    heads: list[str] = field(default_factory=list)
    port: int = 0
    stopping: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/T0KEN"

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = (await reader.readuntil(b"\r\n\r\n")).decode()
        self.heads.append(head)
        length = next(
            int(line.split(":", 1)[1])
            for line in head.split("\r\n")
            if line.lower().startswith("content-length:")
        )
        self.received.append(json.loads(await reader.readexactly(length)))
        answer = self.behaviour.pop(0) if self.behaviour else 200
        if answer == "hang":
            await self.stopping.wait()
        status_line = "SSH-2.0-OpenSSH_9.6" if answer == "garbage" else f"HTTP/1.1 {answer} X"
        writer.write(f"{status_line}\r\nContent-Length: 0\r\n\r\n".encode())
        await writer.drain()
        writer.close()


@contextlib.asynccontextmanager
async def receiving(behaviour: list[int | str]) -> AsyncIterator[Receiver]:
    receiver = Receiver(list(behaviour))
    server = await asyncio.start_server(receiver.handle, "127.0.0.1", 0)
    receiver.port = server.sockets[0].getsockname()[1]
    async with server:
        try:
            yield receiver
        finally:
            receiver.stopping.set()
            server.close()
