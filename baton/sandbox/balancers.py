"""The sandbox's load balancer, of the kind ``up --balancer`` asks for.

Each kind says how the sandbox runs it (:class:`baton.balancers.SandboxWiring`, in the kind's
module): how it starts, lags, reports its processes, writes its manifest block and says what
traffic sees (membership read from the part that carries the traffic, never from what baton was
told). This module asks the kind the sandbox runs, and holds what the kinds share.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from baton.sandbox.manifest import APP_PORT
from baton.sandbox.processes import stop_ours

if TYPE_CHECKING:
    from baton.balancers import SandboxWiring
    from baton.sandbox.fleet import Sandbox

LAG_MODULE = "baton.sandbox.lag"
CLOUD_MODULE = "baton.sandbox.cloud"
MOTO_MODULE = "moto.server"


def kinds() -> dict[str, SandboxWiring]:
    """The kinds of load balancer the sandbox can run, in the registry's order."""
    from baton.balancers import kinds as registered

    return {name: k.sandbox for name, k in registered().items() if k.sandbox is not None}


def check(kind: str, lag: float) -> None:
    """Raise ValueError for a kind that does not exist or cannot lag."""
    known = kinds()
    if kind not in known:
        raise ValueError(f"--balancer must be one of {', '.join(known)}, not {kind!r}")
    known[kind].check(lag)


def wiring(sandbox: Sandbox) -> SandboxWiring:
    return kinds()[sandbox.balancer]


def members(sandbox: Sandbox) -> dict[str, str]:
    return {s.name: f"{s.address}:{APP_PORT}" for s in sandbox.servers}


def start(sandbox: Sandbox) -> None:
    """Start the balancer in front of the sandbox's servers (not yet with lag)."""
    wiring(sandbox).start(sandbox)


def set_lag(sandbox: Sandbox, lag: float) -> None:
    """(Re)start what makes changes land ``lag`` seconds late: the lag proxy or the follower."""
    for pid_key, module in (("lag", LAG_MODULE), ("cloud", CLOUD_MODULE)):
        stop_ours(sandbox.pids.pop(pid_key, None), module)
    sandbox.lag = lag
    wiring(sandbox).set_lag(sandbox, lag)
    sandbox.save()


def lag_in_place(sandbox: Sandbox, lag: float) -> bool:
    """Whether the sandbox already runs with ``lag`` (and what applies it is alive)."""
    return sandbox.lag == lag and wiring(sandbox).lag_in_place(sandbox, lag)


def spawn(sandbox: Sandbox, key: str, module: str, arguments: list[str]) -> None:
    """Start ``python -m module ARGUMENTS`` in the background, logging to DIR/KEY.log."""
    from baton.sandbox.moto import CREDENTIALS

    env = {**os.environ, **CREDENTIALS, "PYTHONPATH": str(Path(__file__).parents[2])}
    with (sandbox.directory / f"{key}.log").open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", module, *arguments],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env, start_new_session=True,
        )  # fmt: skip
    sandbox.pids[key] = process.pid


def processes(sandbox: Sandbox) -> list[tuple[int | None, str]]:
    """(pid, marker in its command line) of every balancer process the sandbox needs."""
    return wiring(sandbox).processes(sandbox)


def stop(sandbox: Sandbox) -> list[str]:
    """Stop every balancer process; return what was stopped."""
    directory, stopped = sandbox.directory, []
    for key, marker, what in (
        ("lag", LAG_MODULE, "lag proxy"),
        ("cloud", CLOUD_MODULE, "cloud data plane"),
        ("moto", MOTO_MODULE, "moto_server"),
        ("haproxy", str(directory / "haproxy"), "haproxy"),
        ("nginx", str(directory / "nginx"), "nginx"),
    ):
        if stop_ours(sandbox.pids.get(key), marker):
            stopped.append(what)
    return stopped


def manifest_block(sandbox: Sandbox) -> dict[str, Any]:
    """The load balancer as the sandbox's manifest names it."""
    configuration = {
        "wait_after_removing_servers": sandbox.waits,
        "wait_after_adding_servers": sandbox.waits, "httpchk": "/",
    }  # fmt: skip
    common = {"name": sandbox.balancer, "type": sandbox.balancer}
    return {**common, **wiring(sandbox).manifest_keys(sandbox), "configuration": configuration}


async def membership(sandbox: Sandbox) -> dict[str, str]:
    """Each server's membership as the balancer that carries the traffic has it."""
    return await wiring(sandbox).membership(sandbox)


def exports(sandbox: Sandbox) -> dict[str, str]:
    """Environment variables a deploy to the sandbox needs (the cloud's credentials, say)."""
    return wiring(sandbox).exports()
