"""``baton config show``, ``baton history``, ``baton show`` and ``baton lock``: looking back."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from typing import TYPE_CHECKING

from baton._exceptions import InputError, LockError
from baton.cli.common import (
    Commands,
    add_actions,
    add_app,
    add_command,
    add_json,
    add_manifest,
    add_state,
    manifest_for,
    nothing_found,
    open_store,
    print_json,
)

if TYPE_CHECKING:
    from baton.state import StepResult


def register_config(commands: Commands) -> None:
    add_command(
        add_actions(commands, "config", "load balancer values in force"),
        "show",
        "each load balancer value in force and which deploy applied it",
        config_show,
        description="Values a deploy applied stay in force after their key is deleted from the "
        "manifest; setting one to 0 and deploying clears it.",
        arguments=(add_app, add_manifest, add_json),
    )


def register_history(commands: Commands) -> None:
    past = "past deploys of an application"
    history = add_command(commands, "history", past, show_history, arguments=(add_app, add_json))
    history.add_argument("-n", "--limit", type=int, default=20, help="how many (default 20)")


def register_show(commands: Commands) -> None:
    one = "one deploy: per server, per step, status, output"
    show = add_command(commands, "show", one, show_deploy)
    show.add_argument("deploy_id", type=int, metavar="DEPLOY_ID")
    add_state(show)
    add_json(show)
    show.add_argument("--output", action="store_true", help="include each step's output")
    show.add_argument(
        "--timeline",
        action="store_true",
        help="draw the timeline: per server, out of rotation, steps, health checks, waits "
        "(scaled to the terminal's width; plain ASCII when not a terminal)",
    )
    show.add_argument(
        "--follow",
        action="store_true",
        help="stream the deploy's events as they are recorded (from any process or machine "
        "sharing the state) and exit with its status",
    )


def register_lock(commands: Commands) -> None:
    actions = add_actions(commands, "lock", "the per-application deploy lock")
    add_command(actions, "status", "who holds the lock", lock_status, arguments=(add_app,))
    gone = "release a lock whose deploy is gone"
    release = add_command(actions, "release", gone, lock_release, arguments=(add_app,))
    release.add_argument(
        "--force", action="store_true", help="release it even though its deploy is still running"
    )


def config_show(args: argparse.Namespace) -> int:
    from baton.planning import values_in_force

    store = open_store(args, read_only=True)
    values = values_in_force(manifest_for(args), store.applied_values(args.app))
    if args.json:
        print_json([v.to_dict() for v in values])
        return 0
    for v in values:
        note = (
            "  <- no longer in the manifest; set it to 0 and deploy to clear" if v.lingering else ""
        )
        print(f"{v.load_balancer}.{v.key} = {v.value}  ({v.origin}){note}")
    return 0


def _when(stamp: float | None) -> str:
    return "-" if stamp is None else time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(stamp))


def _clock(stamp: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(stamp)) + f".{int(stamp % 1 * 10)}"


def show_history(args: argparse.Namespace) -> int:
    """Past deploys, newest first; an automatic rollback and the deploy it rolled back are
    marked on both rows, as ``show`` marks them."""
    from baton.execution.rollback import rollback_marks

    store = open_store(args, read_only=True)
    records = store.deploys(args.app, args.limit)
    marks = rollback_marks(store, records)
    if args.json:
        print_json([{**r.summary_dict(), **marks[r.id]._asdict()} for r in records])
        return 0
    if not records:
        print(nothing_found(f"no deploys of {args.app}", store))
    for r in records:
        took = f"{r.duration:.1f}s" if r.duration is not None else "running"
        row = f"#{r.id:<5} {_when(r.started_at)}  {r.version:<20} {r.strategy:<8} {r.status:<10}"
        print(f"{row} {took}{_marks(*marks[r.id])}")
    return 0


def _marks(rollback_of: int | None, rolled_back_by: int | None) -> str:
    of = f"  rollback of #{rollback_of}" if rollback_of is not None else ""
    by = f"  rolled back by #{rolled_back_by}" if rolled_back_by is not None else ""
    return of + by


def show_deploy(args: argparse.Namespace) -> int:
    from baton.cli import timeline_text
    from baton.history.timeline import timeline_of

    store = open_store(args, read_only=True)
    record = store.deploy(args.deploy_id)
    if record is None:
        raise InputError(nothing_found(f"no deploy #{args.deploy_id}", store))
    if args.follow:
        from baton.cli.follow_cmd import follow_deploy

        return follow_deploy(store, record.id)
    servers, steps = store.server_results(record.id), store.step_results(record.id)
    events = store.events(record.id)
    rotation = [e for e in events if e.kind == "load_balancer"]
    timeline = timeline_of(record, events, time.time())
    if args.json:
        print_json(
            {
                **record.summary_dict(),
                "plan": record.plan,
                "servers": [vars(s) for s in servers],
                "steps": [vars(s) for s in steps],
                "load_balancer_changes": [{"at": e.at, **e.data} for e in rotation],
                "timeline": timeline.to_dict(),
                "notifications": [vars(a) for a in store.notifications(record.id)],
            }
        )
        return 0
    print(
        f"deploy #{record.id} of {record.application}: version {record.version}, "
        f"{record.strategy}, {record.status}, started {_when(record.started_at)}"
    )
    from baton.execution.rollback import rollback_links

    rollback_of, rolled_back_by = rollback_links(store, record)
    if rollback_of is not None:
        print(f"  automatic rollback of deploy #{rollback_of}")
    if rolled_back_by is not None:
        print(f"  rolled back automatically by deploy #{rolled_back_by}")
    if args.timeline:
        fancy = sys.stdout.isatty() and "NO_COLOR" not in os.environ
        print(timeline_text.render(timeline, shutil.get_terminal_size().columns, fancy))
        return 0
    for server in servers:
        print(f"  {server.server}: {server.status} - {server.detail}")
        for change in (e for e in rotation if e.data["server"] == server.server):
            where = change.data["load_balancer"]
            print(f"    {_clock(change.at)} {change.data['action']} ({where})")
        _print_steps([s for s in steps if s.server == server.server], args.output)
    local = [s for s in steps if s.server not in {r.server for r in servers}]
    if local:
        print("  local: hooks run on this machine")
        _print_steps(local, args.output)
    for note in store.notifications(record.id):
        print(
            f"  notify {note.message} -> {note.target}: {note.outcome} "
            f"(attempt {note.attempt}, {note.detail})"
        )
    return 0


def _print_steps(steps: list[StepResult], output: bool) -> None:
    for step in steps:
        took = (step.finished_at or 0) - (step.started_at or 0)
        print(f"    {step.step:<16} {step.status:<10} exit {step.exit_status}  {took:.2f}s")
        if output and step.output:
            print("      " + step.output.rstrip().replace("\n", "\n      "))


def lock_status(args: argparse.Namespace) -> int:
    holder = open_store(args, read_only=True).lock_holder(args.app)
    if holder is None:
        print(f"{args.app}: not locked")
    else:
        state = "running" if holder.alive() else "holder is gone; the next deploy takes it over"
        print(f"{args.app}: locked by {holder.describe()} ({state})")
    return 0


def lock_release(args: argparse.Namespace) -> int:
    store = open_store(args)
    holder = store.lock_holder(args.app)
    if holder is not None and holder.alive() and not args.force:
        raise LockError(
            f"{args.app}: not released: {holder.describe()} is still running (a second deploy "
            "would run beside it); stop it with Ctrl-C, or use --force if you know better"
        )
    holder = store.release_lock(args.app)
    print(
        f"{args.app}: released lock of {holder.describe()}" if holder else f"{args.app}: not locked"
    )
    return 0
