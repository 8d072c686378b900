"""``baton profile save|list|show|delete``: saved one-off deploy options, shared in the state."""

from __future__ import annotations

import argparse

from baton._exceptions import InputError
from baton.cli.common import (
    Commands,
    add_actions,
    add_app,
    add_command,
    add_json,
    open_store,
    print_json,
)

EPILOG = """\
A profile saves one-off choices under a name; `baton deploy --profile NAME` uses them, and
flags given with it still win. Profiles live in the state, so a team sharing it shares them.

examples:
  baton profile save -s shop hotfix --parallel --skip-migrations
  baton deploy -s shop --profile hotfix --version 1.4.3
  baton profile list -s shop
  baton profile delete -s shop hotfix
"""


def register_profile(commands: Commands) -> None:
    from baton.cli.deploying import add_one_off_choices

    actions = add_actions(
        commands,
        "profile",
        "saved sets of one-off deploy options",
        description="Save, list, show and delete deployment profiles.",
        epilog=EPILOG,
    )
    named = (add_app, _add_name)
    save = "save the given choices under NAME"
    add_command(actions, "save", save, save_profile, arguments=(*named, add_one_off_choices))
    every = "every profile of the application"
    add_command(actions, "list", every, list_profiles, arguments=(add_app, add_json))
    add_command(actions, "show", "one profile's choices", show_profile, arguments=named)
    add_command(actions, "delete", "delete a profile", delete_profile, arguments=named)


def _add_name(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", metavar="NAME")


def save_profile(args: argparse.Namespace) -> int:
    from baton.cli.deploying import one_off_options
    from baton.planning.profiles import describe_profile, profile_name, profile_of

    profile_name(args.name)
    profile = profile_of(one_off_options(args, version=""))
    if not profile:
        raise InputError(
            "profile save: give at least one choice (--serial/--parallel/--batch, "
            "--skip-migrations/--run-migrations)"
        )
    open_store(args).save_profile(args.app, args.name, profile)
    print(f"{args.app}: profile {args.name} = {describe_profile(profile)}")
    return 0


def list_profiles(args: argparse.Namespace) -> int:
    from baton.planning.profiles import describe_profile

    profiles = open_store(args, read_only=True).profiles(args.app)
    if args.json:
        print_json(profiles)
    elif not profiles:
        print(f"{args.app}: no profiles (save one with `baton profile save -s {args.app} NAME`)")
    for name, profile in profiles.items() if not args.json else ():
        print(f"{name:<20} {describe_profile(profile)}")
    return 0


def show_profile(args: argparse.Namespace) -> int:
    from baton.planning.profiles import describe_profile

    profile = open_store(args, read_only=True).profiles(args.app).get(args.name)
    if profile is None:
        raise InputError(f"{args.app}: no profile {args.name!r} (see `baton profile list`)")
    print(describe_profile(profile))
    return 0


def delete_profile(args: argparse.Namespace) -> int:
    if not open_store(args).delete_profile(args.app, args.name):
        raise InputError(f"{args.app}: no profile {args.name!r} (see `baton profile list`)")
    print(f"{args.app}: profile {args.name} deleted")
    return 0
