"""Every command line a driver sends, built by pure functions (as Kamal's ``commands/``).

Drivers call these and hand the result to a runner (the SSH or local transport, HAProxy's
runtime API); nothing here runs anything, so tests compare the exact strings without a server.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
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


# -- on the command balancer's host ----------------------------------------------------------


def on_balancer_host(lb: HostedBalancer, command: str) -> str:
    """``command`` (the command balancer's shell line) as run on the balancer's host: through
    ``sudo -n sh -c`` (never a password prompt) when the manifest says ``sudo: true``."""
    return f"sudo -n sh -c {shlex.quote(command)}" if lb.sudo else command


# -- nginx -----------------------------------------------------------------------------------
# With ``sudo: true`` each program that needs root runs as its own ``sudo -n PROGRAM ARGS`` (no
# ``sh -c`` through sudo), so sudoers can name exactly these lines; pipes and redirections
# stay with the unprivileged shell.


def as_root(lb: NginxBalancer, line: str) -> str:
    """``line``, one program and its arguments, through ``sudo -n`` when ``sudo: true``."""
    return f"sudo -n {line}" if lb.sudo else line


def nginx_includes_file(lb: NginxBalancer) -> str:
    """Succeeds when nginx's whole configuration (``-T``) includes the file baton manages."""
    marker = shlex.quote(f"# configuration file {lb.file}:")
    return f"{as_root(lb, lb.command)} -T 2>/dev/null | grep -qxF -- {marker}"


def nginx_test(lb: NginxBalancer) -> str:
    return as_root(lb, f"{lb.command} -t")


def nginx_reload(lb: NginxBalancer) -> str:
    return as_root(lb, lb.reload_command)


def nginx_workers(lb: NginxBalancer) -> str:
    """Prints the pids of the worker processes under nginx's master (no root needed)."""
    pid_file = shlex.quote(str(lb.pid_file))
    return f'ps -o pid= --ppid "$(cat -- {pid_file})"'


def nginx_read(lb: NginxBalancer) -> str:
    return as_root(lb, f"cat -- {shlex.quote(str(lb.file))}")


def nginx_directory_mode(lb: NginxBalancer) -> str:
    """The octal mode of the file's directory: one others can write to is refused."""
    return f"stat -L -c %a -- {shlex.quote(str(lb.file.parent))}"


def nginx_temporary_file(lb: NginxBalancer) -> str:
    """Creates a new file beside the upstream file (mode 0600, a name nobody can predict,
    never through a link) and prints its name."""
    return as_root(lb, f"mktemp -- {shlex.quote(f'{lb.file}.baton-XXXXXX')}")


def nginx_fill(lb: NginxBalancer, temporary: str) -> str:
    """Copies standard input (the new text, of any size) into ``temporary``."""
    return as_root(lb, f"tee -- {shlex.quote(temporary)}") + " >/dev/null"


def nginx_install(lb: NginxBalancer, temporary: str) -> str:
    """Gives ``temporary`` the upstream file's mode, then renames it over the file (atomic)."""
    file, quoted = shlex.quote(str(lb.file)), shlex.quote(temporary)
    chmod = as_root(lb, f"chmod --reference={file} -- {quoted}")
    return f"{chmod} && {as_root(lb, f'mv -f -- {quoted} {file}')}"


def nginx_discard(lb: NginxBalancer, temporary: str) -> str:
    return as_root(lb, f"rm -f -- {shlex.quote(temporary)}")


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
