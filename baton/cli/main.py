"""The ``baton`` command: parses arguments, calls the library, renders the result.

Exit status: 0 success, 1 the deploy failed, 2 bad input (nothing changed).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from importlib import import_module

from baton._exceptions import BatonError
from baton.cli.common import starting

DESCRIPTION = """\
Deploy a web application to its servers, serially through the load balancers or in parallel.

  baton plan   -s shop                      # what a deploy would do now, and how long waits add
  baton deploy -s shop --version 1.4.2      # deploy (strategy from the deploy.parallel setting)
  baton deploy -s shop --parallel           # one-off parallel deploy; the setting is unchanged
  baton settings set -s shop deploy.parallel true
  baton history -s shop; baton show 12      # what happened
  baton listen -s shop                      # follow a deploy started elsewhere
  baton init --app shop --server web1=10.0.0.11; baton check -s shop   # start on your servers

The manifest is ./baton.yml unless -f says otherwise; state lives in $BATON_STATE or
~/.local/state/baton unless --state says otherwise (a directory, or postgresql://... for a
state a team shares).
"""


COMMANDS = {
    "plan": "baton.cli.deploying",
    "deploy": "baton.cli.deploying",
    "rollback": "baton.cli.deploying",
    "recover": "baton.cli.deploying",
    "check": "baton.cli.check_cmd",
    "init": "baton.cli.init_cmd",
    "schema": "baton.cli.init_cmd",
    "completion": "baton.cli.completion",
    "settings": "baton.cli.settings_cmd",
    "config": "baton.cli.inspecting",
    "history": "baton.cli.inspecting",
    "show": "baton.cli.inspecting",
    "lock": "baton.cli.inspecting",
    "listen": "baton.cli.follow_cmd",
    "profile": "baton.cli.profiles",
    "state": "baton.cli.state_cmd",
    "sandbox": "baton.cli.sandbox",
    "demo": "baton.cli.sandbox",
    "serve": "baton.cli.serve",
}
"""Each command and the module whose ``register_<command>`` adds it, in the order ``baton --help``
lists them (tests/cli/test_startup.py checks that every such function is here)."""

COMPLETE = "__complete"
"""The first word of the calls the completion scripts make (:mod:`baton.cli.completion`)."""


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser of every command or, for a known ``command``, of that command alone.

    A command imports only its own module and builds only its own arguments: all of them (35
    parsers, each looking up its texts through gettext, and 171 arguments) and their modules
    cost some 10 ms of CPU, a fifth of ``baton deploy --help``. The other commands show only in
    what a single command's parser never prints: the list of commands (``baton --help``, a bad
    or missing command) and completion, which get every command.
    """
    parser = argparse.ArgumentParser(
        prog="baton", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in [known for known in COMMANDS if known == command] or COMMANDS:
        getattr(import_module(COMMANDS[name]), f"register_{name}")(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    with starting():
        words = sys.argv[1:] if argv is None else list(argv)
        parser = build_parser(words[0] if words else None)
        if words[:1] == [COMPLETE]:
            from baton.cli.completion import complete

            return complete(parser, words[1:])
        args = parser.parse_args(words)
    try:
        status: int = args.handler(args)
    except BatonError as exc:
        print(f"baton: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("baton: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (e.g. `baton history | head`): stop quietly, as cat would.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    return status


if __name__ == "__main__":
    sys.exit(main())
