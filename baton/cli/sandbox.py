"""``baton sandbox up|traffic|status|down`` and ``baton demo``: a fleet on this machine."""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from baton.cli.common import Commands, Handler, add_actions, add_command
from baton.sandbox import DEFAULT_DIRECTORY, DEFAULT_FIRST_ADDRESS

if TYPE_CHECKING:
    from baton.sandbox.fleet import Sandbox

# The sandbox modules are imported by the handlers that use them, not here: `baton --help`
# registers these commands too, and should not pay for loading the sandbox.

SANDBOX_DESCRIPTION = """\
A fleet on this machine to deploy to: N real sshd servers on loopback addresses (127.0.1.x),
each running a small web app that answers with its release version, behind a real HAProxy
(or nginx, or a cloud load balancer made of moto's AWS API and a lagging HAProxy data plane).
`up` writes a manifest (DIR/baton.yml, application "sandbox") to deploy with, and prints the
commands to use it; its deploys keep their state in DIR/state. Each server has its own Unix
user (named after DIR, so sandboxes in different directories never share one); `down` removes
them. Needs root; installs openssh-server and haproxy with apt-get when they are missing.

examples:
  baton sandbox up --servers 3              # prints the manifest, the load balancer URL, commands
  baton sandbox up --lag 2 --waits 3        # membership changes land 2 s late; manifest waits 3 s
  baton sandbox up --balancer nginx         # nginx in front instead of HAProxy
  baton sandbox up --balancer elbv2 --lag 2 # an AWS target group (moto) whose data plane lags
  baton sandbox traffic --rate 50 --duration 30
  export BATON_STATE=$PWD/.sandbox/state
  baton deploy -s sandbox -f .sandbox/baton.yml --version v2
  baton sandbox status
  baton sandbox down                        # stops everything and removes the users
"""

DEMO_DESCRIPTION = """\
Bring up a 3-server sandbox, send steady traffic through its load balancer, and deploy: serial;
parallel; serial with 2 s of load balancer lag and no waits; serial with 2 s of lag and 3 s
waits; then serial and parallel behind nginx, and serial behind a cloud load balancer (moto's
AWS API, a data plane 2 s late) without and with waits. Prints, for each: wall time, the plan's
estimate of the time waits add, requests sent and failed, and the versions served at the end.
Tears the sandbox down unless --keep.
"""


def register_sandbox(commands: Commands) -> None:
    runs = "run a fleet of real servers behind HAProxy on this machine"
    actions = add_actions(commands, "sandbox", runs, description=SANDBOX_DESCRIPTION)
    _register_up(actions)
    traffic = _action(actions, "traffic", "steady HTTP load through the load balancer", _traffic)
    traffic.add_argument("--rate", type=float, default=50.0, help="requests per second (50)")
    traffic.add_argument("--duration", type=float, help="seconds to run (default: until Ctrl-C)")
    traffic.add_argument("--url", help="where to send them (default: the sandbox's frontend)")
    traffic.add_argument("--json", action="store_true", help="print the counts as JSON")
    status = _action(actions, "status", "each server: address, version, in rotation?", _status)
    status.add_argument("--json", action="store_true", help="print JSON for scripts")
    _action(actions, "down", "stop every process `up` started", _down)


def _action(actions: Commands, name: str, help: str, handler: Handler) -> argparse.ArgumentParser:
    """An action of the sandbox's, in its directory; its help, as a sentence, describes it."""
    description = help[0].upper() + help[1:] + "."
    return add_command(
        actions, name, help, handler, description=description, arguments=(_add_directory,)
    )


def _add_directory(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dir",
        type=Path,
        default=DEFAULT_DIRECTORY,
        metavar="DIR",
        help="the sandbox's directory (default: ./.sandbox)",
    )


def _register_up(actions: Commands) -> None:
    from baton.balancers import kinds

    up = _action(actions, "up", "start the sandbox, or bring it to the given shape", _up)
    up.add_argument("--servers", type=int, default=3, metavar="N", help="how many (default 3)")
    up.add_argument(
        "--lag",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="load balancer changes take effect this much later than reported (default 0)",
    )
    up.add_argument(
        "--waits",
        type=int,
        metavar="SECONDS",
        help="the manifest's wait_after_adding/removing_servers (default: the lag, rounded up)",
    )
    up.add_argument(
        "--balancer",
        choices=[name for name, kind in kinds().items() if kind.sandbox is not None],
        help="haproxy; nginx; or elbv2: moto's AWS API with a HAProxy data plane that follows "
        "it --lag seconds late (default: the running sandbox's, else haproxy)",
    )
    up.add_argument(
        "--first-address",
        help="the first server's loopback address (default: the running sandbox's, else "
        f"{DEFAULT_FIRST_ADDRESS})",
    )


def register_demo(commands: Commands) -> None:
    parser = add_command(
        commands,
        "demo",
        "show zero failed requests under live traffic (and what lag does)",
        _demo,
        description=DEMO_DESCRIPTION,
        arguments=(_add_directory,),
    )
    parser.add_argument("--keep", action="store_true", help="leave the sandbox running")
    parser.add_argument("--rate", type=float, default=50.0, help="requests per second (50)")


def _up(args: argparse.Namespace) -> int:
    if args.servers < 1 or args.lag < 0 or (args.waits is not None and args.waits < 0):
        print("baton: error: --servers must be at least 1, --lag and --waits >= 0", file=sys.stderr)
        return 2
    from baton.sandbox import fleet

    try:
        sandbox = fleet.up(
            args.dir,
            args.servers,
            lag=args.lag,
            waits=args.waits,
            first_address=args.first_address,
            balancer=args.balancer,
        )
    except (RuntimeError, ValueError, OSError) as exc:
        print(f"baton: error: sandbox up: {exc}", file=sys.stderr)
        return 1
    print(f"manifest: {sandbox.manifest}")
    print(f"load balancer: {sandbox.frontend_url} ({sandbox.balancer})")
    print(f"state: {sandbox.state}")
    print("next, in this shell:")
    print("".join(f"  {line}\n" for line in next_commands(sandbox)), end="")
    return 0


def next_commands(sandbox: Sandbox) -> list[str]:
    """What to run after ``up``: every later baton command finds the state without --state."""
    directory = shlex.quote(str(sandbox.directory))
    return [
        *_credentials(sandbox),
        f"export BATON_STATE={shlex.quote(str(sandbox.state))}",
        f"baton deploy -s sandbox -f {shlex.quote(str(sandbox.manifest))} --version v2",
        "baton history -s sandbox",
        f"baton sandbox status --dir {directory}",
        f"baton sandbox down --dir {directory}",
    ]


def _credentials(sandbox: Sandbox) -> list[str]:
    """What a deploy to the sandbox needs exported, such as the elbv2 sandbox's AWS credentials
    (moto takes any; the manifest never holds them)."""
    from baton.sandbox.balancers import exports

    variables = exports(sandbox)
    if not variables:
        return []
    return [f"export {' '.join(f'{k}={shlex.quote(v)}' for k, v in variables.items())}"]


def _require(directory: Path) -> Sandbox | None:
    from baton.sandbox import fleet

    sandbox = fleet.load(directory.absolute())
    if sandbox is None or not sandbox.pids:
        print(
            f"baton: error: no sandbox running in {directory} (baton sandbox up)", file=sys.stderr
        )
        return None
    return sandbox


def _traffic(args: argparse.Namespace) -> int:
    url = args.url
    if url is None:
        sandbox = _require(args.dir)
        if sandbox is None:
            return 2
        url = sandbox.frontend_url
    import asyncio

    from baton.sandbox.traffic import measure

    report = asyncio.run(measure(url, rate=args.rate, duration=args.duration))
    print(json.dumps(report.as_dict(), indent=2) if args.json else report.summary())
    return 0 if report.failed == 0 else 1


def _status(args: argparse.Namespace) -> int:
    sandbox = _require(args.dir)
    if sandbox is None:
        return 2
    import asyncio

    from baton.sandbox.status import status

    servers = asyncio.run(status(sandbox))
    if args.json:
        rows = [vars(s) for s in servers]
        print(json.dumps({"load_balancer": sandbox.frontend_url, "servers": rows}, indent=2))
        return 0
    print(f"load balancer {sandbox.frontend_url}, lag {sandbox.lag:g}s, waits {sandbox.waits}s")
    for s in servers:
        print(f"  {s.name:<8} {s.address:<12} {s.version or '(not answering)':<18} {s.membership}")
    return 0


def _down(args: argparse.Namespace) -> int:
    from baton.sandbox import fleet

    stopped = fleet.down(args.dir)
    print(f"stopped: {', '.join(stopped)}" if stopped else f"nothing running in {args.dir}")
    return 0


def _demo(args: argparse.Namespace) -> int:
    import asyncio

    from baton.sandbox import demo, fleet

    status = asyncio.run(demo.run(args.dir, keep=args.keep, rate=args.rate))
    sandbox = fleet.load(args.dir.absolute()) if args.keep else None
    if sandbox is not None:
        print("the sandbox is still up; the demo's deploys are in its own state. next:")
        print("".join(f"  {line}\n" for line in next_commands(sandbox)), end="")
    return status
