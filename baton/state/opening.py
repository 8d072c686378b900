"""Open the state where the operator keeps it: the one rule the CLI, the dashboard and
scripts share for where that is."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from baton.state.store import Store


def open_state(location: str | None = None, *, read_only: bool = False) -> Store:
    """The state at ``location`` (a directory or a ``postgresql://`` URL), by default
    ``$BATON_STATE`` or ``~/.local/state/baton``; a directory is created on first use.
    ``read_only`` for code that only looks (a read-only directory still opens)."""
    from baton.state.store import Store, default_state

    return Store(location or default_state(), read_only=read_only)
