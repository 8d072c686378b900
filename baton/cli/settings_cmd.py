"""``baton settings get|set|list``: an application's settings, kept in baton's state."""

from __future__ import annotations

import argparse

from baton.cli.common import (
    Commands,
    add_actions,
    add_app,
    add_command,
    add_json,
    open_store,
    print_json,
)
from baton.settings import BOOLEAN_WORDS, SPECS, describe, spec_for

_WIDTH = max(len(key) for key in SPECS)
EPILOG = f"""\
settings:
{chr(10).join(f"  {s.key:<{_WIDTH}}  default {s.default:<6} {s.meaning}" for s in SPECS.values())}

Booleans accept {BOOLEAN_WORDS}.

examples:
  baton settings set -s shop deploy.parallel true
  baton settings get -s shop deploy.parallel
  baton settings list -s shop --json
"""


def register_settings(commands: Commands) -> None:
    actions = add_actions(
        commands,
        "settings",
        "show or change an application's settings",
        description="Show or change an application's settings.",
        epilog=EPILOG,
    )
    keyed = (add_app, _add_key)
    add_command(actions, "get", "print one setting's value", get_setting, arguments=keyed)
    set_ = add_command(
        actions, "set", "change one setting", set_setting, epilog=EPILOG, arguments=keyed
    )
    set_.add_argument("value", metavar="VALUE")
    every = "every setting: value, default, meaning"
    add_command(actions, "list", every, list_settings, arguments=(add_app, add_json))


def _add_key(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("key", metavar="KEY")


def get_setting(args: argparse.Namespace) -> int:
    spec = spec_for(args.key)
    print(open_store(args, read_only=True).settings(args.app).get(spec.key, spec.default))
    return 0


def set_setting(args: argparse.Namespace) -> int:
    spec = spec_for(args.key)
    value = spec.normalise(args.value)
    open_store(args).set_setting(args.app, spec.key, value)
    print(f"{args.app}: {spec.key} = {value}")
    return 0


def list_settings(args: argparse.Namespace) -> int:
    stored = open_store(args, read_only=True).settings(args.app)
    rows = describe(stored)
    if args.json:
        print_json(rows)
        return 0
    for row in rows:
        mark = "" if row["set"] else " (default)"
        print(f"{row['key']:<22} {row['value']}{mark}\n    {row['meaning']}")
    return 0
