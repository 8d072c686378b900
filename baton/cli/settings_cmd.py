"""``baton settings get|set|list``: an application's settings, kept in baton's state."""

from __future__ import annotations

import argparse

from baton.cli.common import add_app, add_json, open_store, print_json
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


def register_settings(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "settings",
        help="show or change an application's settings",
        description="Show or change an application's settings.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    get = actions.add_parser("get", help="print one setting's value")
    add_app(get)
    get.add_argument("key", metavar="KEY")
    get.set_defaults(handler=get_setting)
    set_ = actions.add_parser(
        "set",
        help="change one setting",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_app(set_)
    set_.add_argument("key", metavar="KEY")
    set_.add_argument("value", metavar="VALUE")
    set_.set_defaults(handler=set_setting)
    list_ = actions.add_parser("list", help="every setting: value, default, meaning")
    add_app(list_)
    add_json(list_)
    list_.set_defaults(handler=list_settings)


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
