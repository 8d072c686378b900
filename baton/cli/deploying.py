"""``baton plan`` and ``baton deploy``."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, TypeVar

from baton._exceptions import InputError
from baton.cli.common import (
    Commands,
    Handler,
    add_app,
    add_command,
    add_json,
    add_manifest,
    manifest_for,
    open_store,
    print_json,
    starting,
)

if TYPE_CHECKING:
    import asyncio

    from baton.config import Manifest
    from baton.execution import DeployReport
    from baton.planning import DeployOptions, Plan
    from baton.settings import Ramp
    from baton.state import Store

_T = TypeVar("_T")

DEPLOY_EPILOG = """\
The strategy comes from --serial/--parallel/--batch if given (this deploy only; the setting is
not changed), else from the deploy.parallel setting, else serial. Serial takes one server at a
time (a batch with --batch or deploy.batch_size) out of every load balancer, runs the steps,
passes the health check and puts it back; parallel runs the steps everywhere at once and never
touches the load balancers. Steps marked `stage: prepare` run first on every server while it
still serves; the migration runs alone before any other server runs its remaining steps
(unless deploy.migrations_first is false).

Before anything changes, baton checks that every load balancer answers and knows every server
and connects to every server; a failure there changes nothing. Ctrl-C finishes the load
balancer change under way and puts back a server that was not changed yet.

examples:
  baton plan   -s shop --parallel                 # what a one-off parallel deploy would do
  baton deploy -s shop --version 1.4.2            # strategy and migrations from the settings
  baton deploy -s shop --serial --skip-migrations --version 1.4.3
  baton deploy -s shop --batch 1,25%,50%          # 1 server, then a quarter, then halves
  baton deploy -s shop --json --quiet | jq .status

exit status: 0 deployed, 1 the deploy failed (the summary says where each server stands),
             2 bad input (nothing changed), 130 interrupted (recorded as cancelled)
"""


def register_plan(commands: Commands) -> None:
    _add_deploying(
        commands,
        "plan",
        "show what a deploy would do, without doing it",
        "Show the order of work, the values in force and the extra time waits add.",
        show_plan,
    )


def register_deploy(commands: Commands) -> None:
    deploy = _add_deploying(
        commands,
        "deploy",
        "deploy a release to every server",
        "Deploy a release to every server of the application.",
        deploy_release,
    )
    _add_running(deploy)


def register_rollback(commands: Commands) -> None:
    rollback = _add_deploying(
        commands,
        "rollback",
        "deploy the last version that succeeded before the newest deploy",
        "Redeploy an earlier good version, with the same strategy rules and safety as any "
        "deploy. --to picks the deploy whose version to go back to.",
        roll_back,
    )
    rollback.add_argument(
        "--to", type=int, metavar="DEPLOY_ID", help="go back to this deploy's version"
    )
    _add_running(rollback)


def register_recover(commands: Commands) -> None:
    add_command(
        commands,
        "recover",
        "put back servers a killed deploy left out of rotation",
        recover_servers,
        description="Find servers that a deploy which did not finish (killed, interrupted) took "
        "out of rotation and never put back; put back those whose health check passes, report "
        "the rest. `baton deploy` does this by itself before deploying.",
        arguments=(add_app, add_manifest),
    )


def _add_deploying(
    commands: Commands, name: str, help: str, description: str, handler: Handler
) -> argparse.ArgumentParser:
    """plan, deploy and rollback: one explanation of how a deploy goes, and its choices."""
    parser = add_command(
        commands,
        name,
        help,
        handler,
        description=description,
        epilog=DEPLOY_EPILOG,
        arguments=(add_app, add_manifest, add_one_off_choices),
    )
    parser.add_argument(
        "--profile",
        metavar="NAME",
        help="take the one-off choices saved as this profile (`baton profile save`); flags "
        "given here still win",
    )
    add_json(parser)
    return parser


def _add_running(parser: argparse.ArgumentParser) -> None:
    """What a command that runs a deploy (deploy, rollback) adds to the choices of one."""
    parser.add_argument("--quiet", action="store_true", help="no live progress, summary only")
    parser.add_argument(
        "--lock-wait",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="if another deploy of the application is running, wait this long for it "
        "(default: fail at once, naming the holder)",
    )


def add_one_off_choices(parser: argparse.ArgumentParser) -> None:
    """The choices a single deploy can make without changing the settings."""
    strategy = parser.add_mutually_exclusive_group()
    strategy.add_argument(
        "--serial",
        dest="strategy",
        action="store_const",
        const="serial",
        help="this deploy one server at a time, through the load balancers",
    )
    strategy.add_argument(
        "--parallel",
        dest="strategy",
        action="store_const",
        const="parallel",
        help="this deploy on all servers at once",
    )
    parser.add_argument(
        "--batch",
        metavar="N|N%|RAMP",
        help="this deploy in batches through the load balancers: a count (2), a percentage "
        "(25%%) or a ramp (1,25%%,50%%; the last size repeats); default: deploy.batch_size",
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


def one_off_options(args: argparse.Namespace, version: str) -> DeployOptions:
    """The choices :func:`add_one_off_choices` parsed, for ``version``."""
    from baton.planning import DeployOptions, Strategy

    strategy = Strategy(args.strategy) if args.strategy else None
    batch = None if args.batch is None else batch_option(args.batch)
    return DeployOptions(version, strategy, args.run_migrations, batch)


def _options(args: argparse.Namespace, store: Store) -> DeployOptions:
    from baton.planning import release_version
    from baton.planning.profiles import with_profile

    options = one_off_options(args, release_version(args.release))
    if args.profile is None:
        return options
    profile = store.profiles(args.app).get(args.profile)
    if profile is None:
        raise InputError(
            f"--profile {args.profile}: {args.app} has no such profile "
            f"(saved: {', '.join(store.profiles(args.app)) or 'none'})"
        )
    return with_profile(options, args.profile, profile)


def batch_option(text: str) -> Ramp:
    """``--batch`` parsed like the deploy.batch_size setting; bad input is exit 2."""
    from baton.settings import parse_ramp

    try:
        return parse_ramp(text)
    except ValueError as exc:
        raise InputError(f"--batch {text!r}: {exc}") from None


def _manifest(args: argparse.Namespace) -> tuple[Manifest, dict[str, str]]:
    """The manifest, its files checked and its secrets read: bad input fails here, exit 2."""
    from baton.config.references import check_files, resolve_secrets

    manifest = manifest_for(args)
    check_files(manifest)
    return manifest, resolve_secrets(manifest, os.environ)


def _plan(args: argparse.Namespace) -> Plan:
    from baton.execution.current import prepare

    manifest, _ = _manifest(args)
    store = open_store(args, read_only=True)
    return prepare(manifest, store, _options(args, store))


def show_plan(args: argparse.Namespace) -> int:
    from baton.planning import plan_to_dict, render_plan

    with starting():
        plan = _plan(args)
    if args.json:
        print_json(plan_to_dict(plan))
    else:
        print(render_plan(plan))
    return 0


def deploy_release(args: argparse.Namespace) -> int:
    with starting():
        manifest, secrets = _manifest(args)  # bad input ends here, before the engine loads
        from baton.execution import prepare

        store = open_store(args)
        plan = prepare(manifest, store, _options(args, store))
    return _deploy(args, store, plan, secrets)


def roll_back(args: argparse.Namespace) -> int:
    with starting():
        manifest, secrets = _manifest(args)
        from baton.execution import prepare
        from baton.execution.rollback import rollback_version

        store = open_store(args)
        args.release = rollback_version(store, args.app, args.to)
        plan = prepare(manifest, store, _options(args, store))
    return _deploy(args, store, plan, secrets)


def _deploy(args: argparse.Namespace, store: Store, plan: Plan, secrets: dict[str, str]) -> int:
    """The deploy, then the library's automatic rollback when it failed and its plan asks.
    Its exit status is the deploy's, but 130 when Ctrl-C stopped either of them."""
    from baton.execution.rollback import roll_back_if_needed

    report = _run(args, store, plan, secrets)
    result: dict[str, Any] = _report_dict(report)
    rollback = _run_async(roll_back_if_needed(report, store, run=_runner(args, store, secrets)))
    if rollback is not None and rollback.report is not None:
        result["rollback"] = _report_dict(rollback.report)
    elif rollback is not None:
        result["rollback"] = {"note": rollback.note}
        if not args.json:
            print(f"automatic rollback: none: {rollback.note}")
    if args.json:
        print_json(result)
    if result.get("rollback", {}).get("status") == "cancelled":  # Ctrl-C during the rollback
        return 130
    return {"succeeded": 0, "cancelled": 130}.get(report.result.status, 1)


def _run(
    args: argparse.Namespace, store: Store, plan: Plan, secrets: dict[str, str]
) -> DeployReport:
    """One deploy with live progress; the summary printed unless --json."""
    return _run_async(_runner(args, store, secrets)(plan))


def _run_async(work: Coroutine[Any, Any, _T]) -> _T:
    with starting():
        import asyncio

    return asyncio.run(work)


def _runner(
    args: argparse.Namespace, store: Store, secrets: dict[str, str]
) -> Callable[[Plan], Coroutine[Any, Any, DeployReport]]:
    """How this command runs a deploy (the release's, or its automatic rollback): its plan
    shown, live progress, Ctrl-C handled; the summary printed unless --json."""

    async def run(plan: Plan) -> DeployReport:
        with starting():
            from baton.cli.progress import make_renderer
            from baton.execution import run_deploy
            from baton.planning import render_plan

            if plan.rollback_of is not None and not args.json:
                print(f"automatic rollback of deploy #{plan.rollback_of}:", flush=True)
            if not args.json:
                print(render_plan(plan), flush=True)
            live = sys.stdout.isatty() and not args.json
            renderer = make_renderer(plan, live=live, quiet=args.quiet or args.json)
            deploy = run_deploy(
                plan, store, sinks=[renderer], lock_wait=args.lock_wait, secrets=secrets
            )
        report = await _interruptible(deploy)
        renderer.close()
        if not args.json:
            print(f"deploy #{report.deploy_id} {report.result.summary()}", flush=True)
        return report

    return run


def _report_dict(report: DeployReport) -> dict[str, Any]:
    return {
        "deploy_id": report.deploy_id,
        "status": report.result.status,
        "servers": [vars(s) for s in report.result.servers],
        "rollback_of": report.plan.rollback_of,
        "state_error": report.result.state_error,
    }


async def _interruptible(deploy: Coroutine[Any, Any, DeployReport]) -> DeployReport:
    """Ctrl-C (or SIGTERM) cancels the deploy gracefully: the engine finishes the load balancer
    change under way, puts back a server it had not changed yet and records the deploy as
    cancelled. A second Ctrl-C is not caught."""
    import asyncio
    import signal

    task = asyncio.ensure_future(deploy)
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, _cancel_once, task, loop, signum)
    try:
        return await task
    except asyncio.CancelledError:
        raise KeyboardInterrupt from None
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)


def _cancel_once(
    task: asyncio.Future[DeployReport], loop: asyncio.AbstractEventLoop, signum: int
) -> None:
    print(
        "\nbaton: interrupted; finishing the load balancer change under way "
        "(Ctrl-C again to stop at once)",
        file=sys.stderr,
        flush=True,
    )
    task.cancel()
    loop.remove_signal_handler(signum)


def recover_servers(args: argparse.Namespace) -> int:
    import asyncio

    from baton.execution.runner import recover_stranded

    outcomes = asyncio.run(recover_stranded(manifest_for(args), open_store(args)))
    if not outcomes:
        print(f"{args.app}: no server was left out of rotation by an unfinished deploy")
    for o in outcomes:
        verb = "put back into rotation" if o.restored else "left OUT of rotation"
        print(f"{o.server}: {verb} on {', '.join(o.load_balancers)} ({o.detail})")
    return 0 if all(o.restored for o in outcomes) else 1
