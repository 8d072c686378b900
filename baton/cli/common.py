"""Arguments shared by several commands, and how they turn into library objects.

The CLI modules import the library (pydantic, SQLite, asyncio, asyncssh) inside the handlers
that use it, never at the top: ``baton --help`` imports every command's module, and should not
pay for what only a deploy needs (tests/cli/test_startup.py).
"""

from __future__ import annotations

import argparse
import gc
import json
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

from baton._exceptions import InputError

if TYPE_CHECKING:
    from baton.config import Manifest
    from baton.state import Store

Commands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"
"""Where a command goes: ``baton``'s commands, or a command's actions (:func:`add_actions`)."""
Handler: TypeAlias = Callable[[argparse.Namespace], int]
"""What a command runs: its arguments in, its exit status out."""
Arguments: TypeAlias = Callable[[argparse.ArgumentParser], None]
"""Adds arguments several commands take, such as :func:`add_app`."""


@contextmanager
def starting() -> Iterator[None]:
    """Start up without the cyclic garbage collector, then freeze what start-up built.

    Importing the library and validating the manifest leave some 100,000 objects that live as
    long as the process, and nothing else: no garbage. With the collector on, each of its passes
    walks them again while they are young (a 10-server deploy: 120 passes, 35-45 ms of its
    ~350 ms of CPU, BENCHMARKS.md "Start-up"). :func:`gc.freeze` moves them out of its sight for
    the rest of the run, so later passes look only at what the deploy itself allocates. Nested
    uses leave the collector to the outermost one.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()


def add_command(
    commands: Commands,
    name: str,
    help: str,
    handler: Handler | None = None,
    *,
    description: str | None = None,
    epilog: str | None = None,
    arguments: Iterable[Arguments] = (),
) -> argparse.ArgumentParser:
    """A command (or an action of one): the line ``--help`` lists it with, its own ``--help``,
    the shared ``arguments`` it takes first and the handler it runs; the caller adds the rest.

    A text with line breaks of its own (examples, exit statuses, a description laid out by
    hand) is printed as written; a one-line text is wrapped to the terminal's width.
    """
    as_written = any(text is not None and "\n" in text for text in (description, epilog))
    layout = argparse.RawDescriptionHelpFormatter if as_written else argparse.HelpFormatter
    parser = commands.add_parser(
        name, help=help, description=description, epilog=epilog, formatter_class=layout
    )
    for add in arguments:
        add(parser)
    if handler is not None:
        parser.set_defaults(handler=handler)
    return parser


def add_actions(
    commands: Commands,
    name: str,
    help: str,
    *,
    description: str | None = None,
    epilog: str | None = None,
) -> Commands:
    """A command that is a choice of actions, such as ``baton settings get|set|list``: where
    its actions go (:func:`add_command`); one of them is required."""
    command = add_command(commands, name, help, description=description, epilog=epilog)
    return command.add_subparsers(dest="action", metavar="ACTION", required=True)


def add_app(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-s", "--app", required=True, metavar="APP", help="the application's name")
    add_state(parser)


def add_state(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--state",
        metavar="DIR|URL",
        help="state directory, or postgresql://user@host:port/db for a state a team shares "
        "(default: $BATON_STATE or ~/.local/state/baton)",
    )


def add_manifest(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-f",
        "--file",
        type=Path,
        default=Path("baton.yml"),
        metavar="MANIFEST",
        help="the application's manifest (default: ./baton.yml)",
    )


def add_json(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON for scripts")


def open_store(args: argparse.Namespace, *, read_only: bool = False) -> Store:
    """The state; commands that only look open it ``read_only`` (see Store)."""
    from baton.state.opening import open_state

    return open_state(args.state, read_only=read_only)


def shown(location: str) -> str:
    """A state directory as the user would type it (``~`` for the home directory)."""
    home = str(Path.home())
    if location == home or location.startswith(home.rstrip("/") + "/"):
        return "~" + location[len(home.rstrip("/")) :]
    return location


def nothing_found(what: str, store: Store) -> str:
    """Where we looked, and how to look elsewhere."""
    return f"{what} in {shown(store.location)}; use --state or $BATON_STATE"


def existing_store(location: str | None) -> Store | None:
    """The state at ``location`` (default: $BATON_STATE or the default directory) if there is
    one, without creating it: None for an SQLite directory that holds no state yet."""
    from baton.state import Store, default_state
    from baton.state.database import is_url
    from baton.state.sqlite import STATE_FILE

    location = location or default_state()
    if is_url(location) or (Path(location) / STATE_FILE).is_file():
        return Store(location)
    return None


def manifest_for(args: argparse.Namespace) -> Manifest:
    """Load the manifest and check it describes the application named by -s."""
    from baton.config import load_manifest

    if not args.file.exists():
        raise InputError(f"{args.file}: no such manifest; name the manifest with -f MANIFEST")
    manifest = load_manifest(args.file)
    if manifest.application != args.app:
        raise InputError(
            f"{args.file}: application: the manifest describes {manifest.application!r}, "
            f"not {args.app!r} (-s {manifest.application}, or the right -f)"
        )
    return manifest


def print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, default=str))
