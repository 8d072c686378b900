"""Secrets baton itself holds (the deploy webhook's secret, the state's password), masked in
every deploy's text like the manifest's secrets.

They belong to the process, not to one deploy: ``baton serve`` reads the webhook secret once
and runs many deploys, and the state is opened before any plan exists. So they are noted here
once, where they are read, and every step environment
(:class:`~baton.execution.environment.StepEnvironment`) masks them too.
"""

from __future__ import annotations

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
