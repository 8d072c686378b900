"""What baton withholds from the text it shows: secrets it holds itself (the deploy webhook's
secret, the state's password) and the credentials in URLs.

Secrets baton itself holds (the deploy webhook's secret, the state's password), masked in
every deploy's text like the manifest's secrets.

They belong to the process, not to one deploy: ``baton serve`` reads the webhook secret once
and runs many deploys, and the state is opened before any plan exists. So they are noted here
once, where they are read, and every step environment
(:class:`~baton.execution.environment.StepEnvironment`) masks them too.
"""

from __future__ import annotations

from urllib.parse import SplitResult, urlsplit

MIN_SECRET_CHARS = 4
"""Shorter secrets are refused: masking "e" would turn "version" into "v***rsion"."""

_WITHHELD: set[str] = set()


def withhold(*values: str) -> None:
    """Mask ``values`` in every deploy this process runs from now on; one shorter than
    :data:`MIN_SECRET_CHARS` is left alone (masking it would blank ordinary words)."""
    _WITHHELD.update(value for value in values if len(value) >= MIN_SECRET_CHARS)


def withheld() -> tuple[str, ...]:
    """What :func:`withhold` was given so far."""
    return tuple(_WITHHELD)


def redacted(url: str, *, path: bool = False) -> str:
    """``url`` as baton shows it in a message: never its ``user:password@``, nor its query,
    and by default not its path either (``scheme://host[:port]/…``), since a webhook's path
    is often its secret (a Slack URL is one); ``path=True`` keeps the path (a health check's,
    which says what was checked)."""
    parts = urlsplit(url)
    if path:
        shown = parts.path + ("?…" if parts.query else "")
    else:
        shown = "/…" if parts.path.strip("/") or parts.query else ""
    return f"{parts.scheme}://{host_and_port(parts)}{shown}"


def host_and_port(parts: SplitResult) -> str:
    """host[:port] as the URL gives them, without the user part."""
    return parts.netloc.rpartition("@")[2]
