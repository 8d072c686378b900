"""``baton state copy``: move a state (an SQLite directory) into a shared PostgreSQL one."""

from __future__ import annotations

import argparse

from baton.cli.common import Commands, add_actions, add_command

EPILOG = """\
Copies settings, applied load balancer values, history (with the same deploy ids), events,
the journal and profiles; a running deploy's lock is not copied. The target must hold no
deploys yet; the source is left as it was.

examples:
  baton state copy --from ~/.local/state/baton --to postgresql://baton@db.internal/baton
  export BATON_STATE=postgresql://baton@db.internal/baton     # then every command shares it
"""


def register_state(commands: Commands) -> None:
    actions = add_actions(
        commands,
        "state",
        "move baton's state, e.g. into PostgreSQL for a team",
        description="Work with baton's state as a whole.",
    )
    copy = add_command(
        actions,
        "copy",
        "copy every application's state into another (empty) state",
        copy_state,
        description="Copy a whole state into another one, e.g. an SQLite directory into a "
        "PostgreSQL database a team shares.",
        epilog=EPILOG,
    )
    copy.add_argument("--from", dest="source", required=True, metavar="DIR|URL")
    copy.add_argument("--to", dest="target", required=True, metavar="DIR|URL")


def copy_state(args: argparse.Namespace) -> int:
    from baton.state import Store

    _require_state(args.source)
    source, target = Store(args.source), Store(args.target)
    copied = source.copy_into(target)
    rows = ", ".join(f"{count} {table}" for table, count in copied.items() if count)
    print(f"copied {source.location} into {target.location}: {rows or 'nothing (empty state)'}")
    return 0


def _require_state(location: str) -> None:
    """Refuse a source directory that holds no state: opening it would create an empty one
    (a mistyped path reported as a successful copy of nothing)."""
    from pathlib import Path

    from baton._exceptions import StateError
    from baton.state.database import is_url
    from baton.state.sqlite import STATE_FILE

    if not is_url(location) and not (Path(location) / STATE_FILE).is_file():
        raise StateError(
            f"{location}: no baton state there (no {STATE_FILE}); --from takes the directory "
            "of an existing state or a postgresql:// URL"
        )
