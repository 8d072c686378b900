"""The sandbox's load balancer, of the kind ``up --balancer`` asks for.

``haproxy``   a real HAProxy; with lag, baton talks to it through the lagging admin-socket
              proxy (:mod:`baton.sandbox.lag`).
``nginx``     a real nginx whose upstream file the nginx driver rewrites (no lag: nginx
              applies a change when it reloads).
``elbv2``     a cloud load balancer on one machine: moto's server is the control plane baton
              talks to, and a HAProxy data plane follows moto's target group ``lag`` seconds
              late (:mod:`baton.sandbox.cloud`), as AWS's nodes do.

Each kind starts, stops, reports its processes, writes its manifest block and says what
traffic sees (membership read from the data plane, never from what baton was told).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from baton.config.model import NginxBalancer
from baton.config.validation import validate
from baton.drivers.nginx import NginxDriver
from baton.sandbox.haproxy import start_haproxy
from baton.sandbox.manifest import APP_PORT, BACKEND
from baton.sandbox.nginx import NGINX, start_nginx
from baton.sandbox.processes import is_ours, stop_ours, wait_for
from baton.sandbox.status import membership as haproxy_membership

if TYPE_CHECKING:
    from baton.sandbox.fleet import Sandbox

KINDS = ("haproxy", "nginx", "elbv2")
LAG_MODULE = "baton.sandbox.lag"
CLOUD_MODULE = "baton.sandbox.cloud"
MOTO_MODULE = "moto.server"


def check(kind: str, lag: float) -> None:
    """Raise ValueError for a kind that does not exist or cannot lag."""
    if kind not in KINDS:
        raise ValueError(f"--balancer must be one of {', '.join(KINDS)}, not {kind!r}")
    if kind == "nginx" and lag > 0:
        raise ValueError("--lag needs --balancer haproxy or elbv2 (nginx acts at its reload)")
    if kind == "nginx" and not Path(NGINX).exists():
        raise ValueError(f"--balancer nginx needs {NGINX}: apt-get install nginx")
    if kind == "elbv2":
        try:
            import boto3  # noqa: F401
            import moto  # noqa: F401
        except ImportError:
            raise ValueError(
                "--balancer elbv2 needs boto3 and moto[server]: pip install 'baton[sandbox-aws]'"
            ) from None


def members(sandbox: Sandbox) -> dict[str, str]:
    return {s.name: f"{s.address}:{APP_PORT}" for s in sandbox.servers}


def start(sandbox: Sandbox) -> None:
    """Start the balancer in front of the sandbox's servers (not yet with lag)."""
    if sandbox.balancer == "nginx":
        proxy = start_nginx(sandbox.directory / "nginx", BACKEND, list(members(sandbox).values()))
        sandbox.pids["nginx"], sandbox.frontend_url = proxy.pid, proxy.frontend_url
        sandbox.save()
        return
    haproxy = start_haproxy(
        sandbox.directory / "haproxy", BACKEND, members(sandbox), None, "/", 200
    )
    sandbox.pids["haproxy"] = haproxy.pid
    sandbox.haproxy_socket, sandbox.frontend_url = haproxy.socket, haproxy.frontend_url
    sandbox.save()
    if sandbox.balancer == "elbv2":
        _start_control_plane(sandbox)


def _start_control_plane(sandbox: Sandbox) -> None:
    from baton.sandbox.moto import create_target_group, start_moto

    moto = start_moto(sandbox.directory / "moto.log")
    sandbox.pids["moto"], sandbox.endpoint_url = moto.pid, moto.endpoint_url
    sandbox.save()
    targets = {s.address: APP_PORT for s in sandbox.servers}
    sandbox.target_group_arn = create_target_group(moto.endpoint_url, targets)
    sandbox.save()


def set_lag(sandbox: Sandbox, lag: float) -> None:
    """(Re)start what makes changes land ``lag`` seconds late: the lag proxy or the follower."""
    for pid_key, module in (("lag", LAG_MODULE), ("cloud", CLOUD_MODULE)):
        stop_ours(sandbox.pids.pop(pid_key, None), module)
    sandbox.lag = lag
    if sandbox.balancer == "elbv2":
        command = ["--endpoint", sandbox.endpoint_url, "--target-group", sandbox.target_group_arn]
        command += ["--socket", str(sandbox.haproxy_socket), "--backend", BACKEND]
        command += [f"--member={n}={m}" for n, m in members(sandbox).items()]
        _spawn(sandbox, "cloud", CLOUD_MODULE, [*command, "--lag", str(lag)])
    elif sandbox.balancer == "haproxy" and lag > 0:
        command = ["--listen", str(sandbox.lag_socket), "--target", str(sandbox.haproxy_socket)]
        _spawn(sandbox, "lag", LAG_MODULE, [*command, "--lag", str(lag)])
        wait_for(sandbox.lag_socket.exists, "the lag proxy's socket")
    sandbox.save()


def lag_in_place(sandbox: Sandbox, lag: float) -> bool:
    """Whether the sandbox already runs with ``lag`` (and what applies it is alive)."""
    if sandbox.lag != lag:
        return False
    if sandbox.balancer == "elbv2":
        return is_ours(sandbox.pids.get("cloud"), CLOUD_MODULE)
    return lag == 0 or is_ours(sandbox.pids.get("lag"), LAG_MODULE)


def _spawn(sandbox: Sandbox, key: str, module: str, arguments: list[str]) -> None:
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
    directory = sandbox.directory
    if sandbox.balancer == "nginx":
        return [(sandbox.pids.get("nginx"), str(directory / "nginx"))]
    found = [(sandbox.pids.get("haproxy"), str(directory / "haproxy"))]
    if sandbox.balancer == "elbv2":
        found += [
            (sandbox.pids.get("moto"), MOTO_MODULE),
            (sandbox.pids.get("cloud"), CLOUD_MODULE),
        ]
    return found


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
    if sandbox.balancer == "nginx":
        proxy = sandbox.directory / "nginx"
        return {**common, "file": str(proxy / "upstream.conf"), "upstream": BACKEND,
                "command": f"{NGINX} -p {proxy} -c {proxy / 'nginx.conf'}",
                "pid_file": str(proxy / "nginx.pid"), "servers": members(sandbox),
                "configuration": configuration}  # fmt: skip
    if sandbox.balancer == "elbv2":
        return {**common, "target_group_arn": sandbox.target_group_arn,
                "endpoint_url": sandbox.endpoint_url, "servers": members(sandbox),
                "configuration": configuration}  # fmt: skip
    return {**common, "socket": str(sandbox.balancer_socket), "backend": BACKEND,
            "servers": {s.name: s.name for s in sandbox.servers},
            "configuration": configuration}  # fmt: skip


async def membership(sandbox: Sandbox) -> dict[str, str]:
    """Each server's membership as the balancer that carries the traffic has it."""
    if sandbox.balancer != "nginx":
        return await haproxy_membership(sandbox.haproxy_socket)
    block = manifest_block(sandbox)
    driver = NginxDriver(validate(NginxBalancer, block, strict=False))
    try:
        return {name: m.value for name, m in (await driver.membership()).items()}
    finally:
        await driver.close()
