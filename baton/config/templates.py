"""Step templates: ``{version}``, ``{server}``, ``{address}``, ``{application}``, ``{port}``.

Every value is shell-quoted when rendered, so a version or a name can never inject a command.
``{{`` and ``}}`` stand for literal braces.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from baton.config.model import Server

PLACEHOLDERS = ("version", "server", "address", "application", "port", "user")
BALANCER_PLACEHOLDERS = ("server", "address", "port")
"""In a command balancer's commands: the balancer's name for the server, and its halves when
that name is ``address:port``."""


def placeholders(text: str) -> list[str]:
    """The placeholders ``text`` names, in order; ValueError for a malformed one. (``string``
    is imported here: its import compiles a pattern, which ``baton --help`` need not pay.)"""
    import string

    return [f for _, f, spec, conv in string.Formatter().parse(text) if f is not None]


def check_template(text: str, known: tuple[str, ...] = PLACEHOLDERS) -> None:
    """Raise ValueError naming an unknown or malformed placeholder."""
    try:
        fields = placeholders(text)
    except ValueError as exc:
        raise ValueError(
            f"malformed template ({exc}); write {{{{ and }}}} for literal braces"
        ) from exc
    for field in fields:
        if field not in known:
            raise ValueError(
                f"unknown placeholder {{{field}}}; known: "
                + ", ".join("{" + p + "}" for p in known)
            )


def render(text: str, values: Mapping[str, object], *, quote: bool = True) -> str:
    """Fill the placeholders, shell-quoting each value unless ``quote`` is false (URLs)."""
    prepared = {k: shlex.quote(str(v)) if quote else str(v) for k, v in values.items()}
    return text.format_map(prepared)


def values_for(application: str, server: Server, version: str) -> dict[str, object]:
    """The placeholder values for one server in one deploy."""
    return {
        "version": version,
        "server": server.name,
        "address": server.address,
        "application": application,
        "port": server.port,
        "user": server.user,
    }
