"""The kinds of value the manifest's sections share: names, seconds, hosts, ports, paths and URLs,
and :class:`PathError`, which lets a check spanning several keys name the exact one.
"""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

from baton.config.validation import Check

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
NAME_LENGTH = 64
"""An application's (or a server's) name: nothing a shell or a URL treats specially."""
Name = Annotated[str, Check("StringConstraints", pattern=NAME_PATTERN, max_length=NAME_LENGTH)]
Seconds = Annotated[int, Check("Field", ge=0, le=86_400)]
PositiveSeconds = Annotated[float, Check("Field", gt=0, le=86_400)]
FilePath = Annotated[Path, Check("Field", strict=False), Check("AfterValidator", Path.expanduser)]
"""A path; ``~`` means the operator's home."""
_HOST_NAME = re.compile(
    r"(?=.{1,253}\.?\Z)[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?"
    r"(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*\.?\Z"
)


def _host(value: str) -> str:
    """A host name (letters, digits, - and _ in dot-separated labels) or an IP address."""
    try:
        ipaddress.ip_address(value)
    except ValueError:
        if not _HOST_NAME.match(value):
            raise ValueError(f"{value!r} is not a host name or IP address") from None
    return value


Host = Annotated[str, Check("AfterValidator", _host)]
HttpURL = Annotated[str, Check("Field", pattern=r"^https?://")]
EnvName = Annotated[
    str, Check("StringConstraints", pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", max_length=128)
]
Port = Annotated[int, Check("Field", ge=1, le=65535)]
Text = Annotated[str, Check("Field", min_length=1)]
"""A string that is not empty."""


KeyPath = tuple[str | int, ...]
"""Where a value is in the manifest: keys and list indexes from the top."""


class PathError(ValueError):
    """A problem with a value inside the model being validated; ``path`` leads to it, so the
    error names the exact key and line (the loader reads it)."""

    def __init__(self, path: KeyPath, message: str) -> None:
        super().__init__(message)
        self.path = path


def _web_url(url: str) -> str:
    """An http(s) URL with a host, or ValueError saying what is wrong with it."""
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ValueError("should be an http:// or https:// URL with a host")
    if any(c.isspace() for c in url):
        raise ValueError("should be a URL without spaces")
    try:
        parts.port  # noqa: B018 - raises for a port that is not a number in range
    except ValueError:
        raise ValueError("has a bad port") from None
    return url


WebURL = Annotated[
    str, Check("StringConstraints", max_length=2048), Check("AfterValidator", _web_url)
]


def require_unique(names: list[str], what: str, field: str) -> None:
    seen: set[str] = set()
    for index, name in enumerate(names):
        if name in seen:
            raise PathError((field, index, "name"), f"duplicate {what} name {name!r}")
        seen.add(name)


def require_one(marks: list[bool], field: str, key: str, what: str) -> None:
    marked = [index for index, mark in enumerate(marks) if mark]
    if len(marked) > 1:
        raise PathError((field, marked[1], key), f"only one {what} can have {key}: true")


VERSION_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+:-]{0,127}$")
