"""Every command line a driver sends, built by pure functions (as Kamal's ``commands/``).

Drivers call these and hand the result to a runner (the SSH or local transport, HAProxy's
runtime API); nothing here runs anything, so tests compare the exact strings without a server.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from baton.config.templates import render

if TYPE_CHECKING:
    from baton.balancers.command import CommandBalancer
    from baton.balancers.haproxy import HAProxyBalancer
    from baton.balancers.nginx import NginxBalancer
    from baton.config.balancing import HostedBalancer

ENVIRONMENT_PRELUDE = "set -a; . /dev/stdin; set +a; "
"""Read the step's variables from stdin: they never show on a command line (``ps``), and
sshd's AcceptEnv, which rarely allows them, is not needed."""


# -- over SSH --------------------------------------------------------------------------------


def ssh_command(command: str, environment: Mapping[str, str] | None) -> str:
    """The command an SSH session starts: ``command``, reading its variables from stdin first."""
    return ENVIRONMENT_PRELUDE + command if environment else command


def ssh_environment(environment: Mapping[str, str]) -> str:
    """What the session's stdin carries for :data:`ENVIRONMENT_PRELUDE`: one NAME=value line
    per variable, each value shell-quoted."""
    return "".join(f"{name}={shlex.quote(value)}\n" for name, value in environment.items())


# -- on a balancer's host (nginx, command) ---------------------------------------------------


def on_balancer_host(lb: HostedBalancer, command: str) -> str:
    """``command`` as run on the balancer's host: through ``sudo -n`` (never a password prompt)
    when the manifest says ``sudo: true``."""
    return f"sudo -n sh -c {shlex.quote(command)}" if lb.sudo else command


def read_file(path: Path) -> str:
    return f"cat -- {shlex.quote(str(path))}"


def replace_file(path: Path, text: str) -> str:
    """Write ``text`` beside ``path`` with its mode, then rename it over ``path`` (atomic)."""
    quoted = shlex.quote(str(path))
    temporary = shlex.quote(f"{path}.baton-new")
    return (
        f"printf %s {shlex.quote(text)} > {temporary} && "
        f"chmod --reference={quoted} {temporary} && mv -f -- {temporary} {quoted}"
    )


# -- nginx -----------------------------------------------------------------------------------


def nginx_includes_file(lb: NginxBalancer) -> str:
    """Succeeds when nginx's whole configuration (``-T``) includes the file baton manages."""
    marker = shlex.quote(f"# configuration file {lb.file}:")
    return f"{lb.command} -T 2>/dev/null | grep -qxF -- {marker}"


def nginx_test(lb: NginxBalancer) -> str:
    return f"{lb.command} -t"


def nginx_reload(lb: NginxBalancer) -> str:
    return lb.reload_command


def nginx_workers(lb: NginxBalancer) -> str:
    """Prints the pids of the worker processes under nginx's master."""
    pid_file = shlex.quote(str(lb.pid_file))
    return f'ps -o pid= --ppid "$(cat -- {pid_file})"'


# -- the command balancer --------------------------------------------------------------------


def balancer_command(lb: CommandBalancer, template: str, server: str) -> str:
    """One of the manifest's remove/add/status commands for ``server``: {server} is the
    balancer's name for it, {address} and {port} its halves (``address:port``), all quoted."""
    member = lb.member_name(server)
    address, _, port = member.rpartition(":") if ":" in member else (member, "", "")
    return render(template, {"server": member, "address": address, "port": port})


# -- HAProxy's runtime API -------------------------------------------------------------------


def haproxy_set_state(lb: HAProxyBalancer, server: str, state: str) -> str:
    """``state`` is drain, maint or ready."""
    return f"set server {lb.backend}/{lb.member_name(server)} state {state}"


def haproxy_servers_state(lb: HAProxyBalancer) -> str:
    return f"show servers state {lb.backend}"


def haproxy_stat(lb: HAProxyBalancer) -> str:
    """The backend's servers' counters (type 4: servers; -1: every proxy id)."""
    return f"show stat {lb.backend} 4 -1"


def haproxy_line(command: str) -> bytes:
    """What is written to the runtime API's socket for ``command``."""
    return f"{command}\n".encode()
