"""One HTTP/1.1 request on a fresh connection: the GET health checks and the sandbox's traffic
need, and the POST notifications need.

No client library: a health check must not pull one in, and the sandbox's traffic wants each
request on its own connection, exactly as a new visitor would arrive.

A URL's ``user:password@`` is sent as Basic authorization, never in the Host header, and every
message shows a URL through :func:`redacted`, without its credentials.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import ssl
from urllib.parse import SplitResult, unquote, urlsplit

from baton.withheld import host_and_port, redacted

__all__ = ["get", "post", "redacted"]


async def get(url: str, timeout: float, *, body: bool = True) -> tuple[int, str]:
    """(status, body) of a GET to ``url``, no redirects followed; ``body=False`` reads only the
    status line. Raises OSError (ConnectionError when the answer is not HTTP) or TimeoutError,
    whose message says whether the connect or the response timed out."""
    return await _request("GET", url, b"", {}, timeout, body)


async def post(url: str, payload: bytes, headers: dict[str, str], timeout: float) -> int:
    """The status of a POST of ``payload`` to ``url`` (the answer's body is not read); raises
    as :func:`get` does."""
    status, _ = await _request("POST", url, payload, headers, timeout, False)
    return status


async def _request(
    method: str, url: str, payload: bytes, headers: dict[str, str], timeout: float, body: bool
) -> tuple[int, str]:
    parts = urlsplit(url)
    secure = parts.scheme == "https"
    host = parts.hostname or "localhost"
    port = parts.port or (443 if secure else 80)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    fields = {"Host": host_and_port(parts), "Connection": "close", "User-Agent": "baton"}
    fields.update({**_authorization(parts), **headers})
    if method != "GET":
        fields["Content-Length"] = str(len(payload))
    head = "".join(f"{k}: {v}\r\n" for k, v in fields.items())
    request = f"{method} {target} HTTP/1.1\r\n{head}\r\n".encode() + payload
    phase = f"connect to {host}:{port}"
    try:
        async with asyncio.timeout(timeout):
            reader, writer = await asyncio.open_connection(
                host, port, ssl=ssl.create_default_context() if secure else None
            )
            phase = "response"
            try:
                writer.write(request)
                response = await (reader.read() if body else reader.readline())
            finally:
                writer.close()
                with contextlib.suppress(OSError):
                    await writer.wait_closed()
    except TimeoutError:
        raise TimeoutError(f"{phase} timed out after {round(timeout, 1):g}s") from None
    answer, _, text = response.decode(errors="replace").partition("\r\n\r\n")
    words = answer.split("\r\n", 1)[0].split()
    if len(words) < 2 or not words[1].isdigit():
        raise ConnectionError(f"no HTTP answer from {redacted(url)}")
    return int(words[1]), text.strip()


def _authorization(parts: SplitResult) -> dict[str, str]:
    """Basic authorization for a URL's ``user:password@``, decoded as a browser does."""
    if parts.username is None:
        return {}
    pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
    return {"Authorization": f"Basic {base64.b64encode(pair.encode()).decode()}"}
