"""The ``baton`` command: parses arguments, calls the library, renders the result.

Exit status: 0 success, 1 the deploy failed, 2 bad input (nothing changed).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from baton._exceptions import BatonError
from baton.cli import (
    check_cmd,
    completion,
    deploying,
    follow_cmd,
    init_cmd,
    inspecting,
    profiles,
    sandbox,
    serve,
    settings_cmd,
    state_cmd,
)
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="baton", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    deploying.register(commands)
    check_cmd.register(commands)
    init_cmd.register(commands)
    completion.register(commands)
    settings_cmd.register(commands)
    inspecting.register(commands)
    follow_cmd.register(commands)
    profiles.register(commands)
    state_cmd.register(commands)
    sandbox.register(commands)
    serve.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    with starting():
        parser = build_parser()
        words = sys.argv[1:] if argv is None else list(argv)
        if words[:1] == [completion.COMPLETE]:
            return completion.complete(parser, words[1:])
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
