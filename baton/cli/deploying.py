"""``baton plan`` and ``baton deploy``."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time

from baton._exceptions import InputError
from baton.cli.common import add_app, add_json, add_manifest, manifest_for, open_store, print_json
from baton.cli.progress import make_renderer
from baton.config.model import VERSION_PATTERN
from baton.execution import prepare, run_deploy
from baton.planning import DeployOptions, Plan, Strategy, plan_to_dict, render_plan

DEPLOY_EPILOG = """\
The strategy comes from --serial/--parallel if given (this deploy only; the setting is not
changed), else from the deploy.parallel setting, else serial. Serial takes one server at a time
out of every load balancer, runs the steps, passes the health check and puts it back; parallel
runs the steps everywhere at once and never touches the load balancers.

exit status: 0 deployed, 1 the deploy failed (the summary says where each server stands),
             2 bad input (nothing changed)
"""


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    plan = commands.add_parser(
        "plan",
        help="show what a deploy would do, without doing it",
        description="Show the order of work, the values in force and the extra time waits add.",
        epilog=DEPLOY_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_deploy_arguments(plan)
    add_json(plan)
    plan.set_defaults(handler=show_plan)
    deploy = commands.add_parser(
        "deploy",
        help="deploy a release to every server",
        description="Deploy a release to every server of the application.",
        epilog=DEPLOY_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_deploy_arguments(deploy)
    add_json(deploy)
    deploy.add_argument("--quiet", action="store_true", help="no live progress, summary only")
    deploy.set_defaults(handler=deploy_release)


def _add_deploy_arguments(parser: argparse.ArgumentParser) -> None:
    add_app(parser)
    add_manifest(parser)
    strategy = parser.add_mutually_exclusive_group()
    strategy.add_argument(
        "--serial",
        dest="strategy",
        action="store_const",
        const=Strategy.SERIAL,
        help="this deploy one server at a time, through the load balancers",
    )
    strategy.add_argument(
        "--parallel",
        dest="strategy",
        action="store_const",
        const=Strategy.PARALLEL,
        help="this deploy on all servers at once",
    )
    migrations = parser.add_mutually_exclusive_group()
    migrations.add_argument(
        "--skip-migrations",
        dest="run_migrations",
        action="store_const",
        const=False,
        help="do not run the migration step this time",
    )
    migrations.add_argument(
        "--run-migrations",
        dest="run_migrations",
        action="store_const",
        const=True,
        help="run the migration step this time",
    )
    parser.add_argument(
        "--version",
        dest="release",
        metavar="V",
        help="the release to deploy (default: a UTC timestamp)",
    )


def _options(args: argparse.Namespace) -> DeployOptions:
    version = args.release or time.strftime("%Y%m%d%H%M%S", time.gmtime())
    if not VERSION_PATTERN.match(version):
        raise InputError(
            f"--version {version!r}: use letters, digits and . _ + : - (at most 128 characters)"
        )
    return DeployOptions(
        version=version, strategy=args.strategy, run_migrations=args.run_migrations
    )


def _plan(args: argparse.Namespace) -> Plan:
    manifest = manifest_for(args)
    return prepare(manifest, open_store(args), _options(args))


def show_plan(args: argparse.Namespace) -> int:
    plan = _plan(args)
    if args.json:
        print_json(plan_to_dict(plan))
    else:
        print(render_plan(plan))
    return 0


def deploy_release(args: argparse.Namespace) -> int:
    store = open_store(args)
    plan = prepare(manifest_for(args), store, _options(args))
    if not args.json:
        print(render_plan(plan), flush=True)
    renderer = make_renderer(
        plan, live=sys.stdout.isatty() and not args.json, quiet=args.quiet or args.json
    )
    report = asyncio.run(run_deploy(plan, store, sinks=[renderer]))
    renderer.close()
    if args.json:
        print_json(
            {
                "deploy_id": report.deploy_id,
                "status": report.result.status,
                "servers": [vars(s) for s in report.result.servers],
            }
        )
    else:
        print(f"deploy #{report.deploy_id} {report.result.summary()}")
    return 0 if report.result.status == "succeeded" else 1
