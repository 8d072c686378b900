"""``baton show ID --follow`` and ``baton listen -s APP``: watch a deploy another process or
machine runs on the same state, rendered as ``baton deploy`` renders its own."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from baton.cli.common import Commands, add_app, add_command, open_store

if TYPE_CHECKING:
    from baton.state import Store

EXIT_STATUS = {"succeeded": 0, "cancelled": 130}
"""As ``baton deploy`` exits: 0 succeeded, 130 cancelled, 1 anything else."""

LISTEN_EPILOG = """\
examples:
  baton listen -s shop                 # follow the running deploy, or wait for the next one
  baton show 42 --follow               # follow one deploy (from its start)
  BATON_STATE=postgresql://baton@db.internal/baton baton listen -s shop

exit status: that deploy's (0 succeeded, 1 failed or abandoned, 130 cancelled)
"""


def register_listen(commands: Commands) -> None:
    listen = add_command(
        commands,
        "listen",
        "follow the running deploy of an application, or wait for the next one",
        listen_for_deploy,
        description="Follow the deploy of APP that is running now - started by anyone who "
        "shares this state - or wait for the next one to start, and exit with its status.",
        epilog=LISTEN_EPILOG,
        arguments=(add_app,),
    )
    listen.add_argument("--quiet", action="store_true", help="the summary only")


def listen_for_deploy(args: argparse.Namespace) -> int:
    import asyncio

    from baton.history.follow import next_deploy

    store = open_store(args)

    def waiting() -> None:
        print(f"{args.app}: no deploy running; waiting for the next one", flush=True)

    deploy_id = asyncio.run(next_deploy(store, args.app, waiting=waiting))
    return follow_deploy(store, deploy_id, quiet=args.quiet)


def follow_deploy(store: Store, deploy_id: int, *, quiet: bool = False) -> int:
    """Render a deploy's events as they are recorded; the exit status is the deploy's."""
    import asyncio

    from baton.cli.progress import renderer_for
    from baton.history.follow import follow

    record = store.deploy(deploy_id)
    assert record is not None
    servers = [str(name) for name in record.plan.get("servers", [])]
    print(
        f"following deploy #{record.id} of {record.application}: version {record.version}, "
        f"{record.strategy}",
        flush=True,
    )
    renderer = renderer_for(servers, live=sys.stdout.isatty() and not quiet, quiet=quiet)
    final = asyncio.run(follow(store, deploy_id, renderer))
    renderer.close()
    print(f"deploy #{final.id} {final.summary or final.status + ': its process is gone'}")
    return EXIT_STATUS.get(final.status, 1)
