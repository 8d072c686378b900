"""The exact command lines the drivers send, compared as strings, without a server."""

from __future__ import annotations

from pathlib import Path

from baton.balancers.command import CommandBalancer
from baton.balancers.haproxy import HAProxyBalancer
from baton.balancers.nginx import NginxBalancer
from baton.drivers import commands

NGINX = NginxBalancer(
    type="nginx", file=Path("/etc/nginx/baton/shop's.conf"), upstream="shop",
    command="nginx -p /srv/nginx", pid_file=Path("/run/nginx.pid"),
)  # fmt: skip
HAPROXY = HAProxyBalancer(
    type="haproxy", socket=Path("/run/haproxy.sock"), backend="app", servers={"web1": "app1"}
)
COMMAND = CommandBalancer(
    type="command", servers={"web1": "10.0.0.1:8000"},
    remove="lbctl drain {server}", add="lbctl add {address} --port {port}", status="lbctl ls",
)  # fmt: skip


def test_nginx_commands() -> None:
    assert commands.nginx_includes_file(NGINX) == (
        "nginx -p /srv/nginx -T 2>/dev/null | grep -qxF -- "
        "'# configuration file /etc/nginx/baton/shop'\"'\"'s.conf:'"
    )
    assert commands.nginx_test(NGINX) == "nginx -p /srv/nginx -t"
    assert commands.nginx_reload(NGINX) == "nginx -p /srv/nginx -s reload"
    assert commands.nginx_workers(NGINX) == 'ps -o pid= --ppid "$(cat -- /run/nginx.pid)"'
    assert commands.read_file(NGINX.file) == "cat -- '/etc/nginx/baton/shop'\"'\"'s.conf'"
    assert commands.replace_file(Path("/etc/nginx/up.conf"), "server a;\n") == (
        "printf %s 'server a;\n' > /etc/nginx/up.conf.baton-new && "
        "chmod --reference=/etc/nginx/up.conf /etc/nginx/up.conf.baton-new && "
        "mv -f -- /etc/nginx/up.conf.baton-new /etc/nginx/up.conf"
    )


def test_a_hosted_balancer_runs_through_sudo_when_asked() -> None:
    assert commands.on_balancer_host(NGINX, "nginx -t") == "nginx -t"
    sudo = NginxBalancer(type="nginx", file=Path("/f"), upstream="u", sudo=True)
    assert commands.on_balancer_host(sudo, "cat -- '/a b'") == (
        "sudo -n sh -c 'cat -- '\"'\"'/a b'\"'\"''"
    )


def test_command_balancer_commands() -> None:
    assert commands.balancer_command(COMMAND, COMMAND.remove, "web1") == (
        "lbctl drain 10.0.0.1:8000"
    )
    assert commands.balancer_command(COMMAND, COMMAND.add, "web1") == (
        "lbctl add 10.0.0.1 --port 8000"
    )
    assert commands.balancer_command(COMMAND, "lbctl show {server}", "web 2") == (
        "lbctl show 'web 2'"
    )


def test_haproxy_runtime_api_commands() -> None:
    assert commands.haproxy_set_state(HAPROXY, "web1", "drain") == "set server app/app1 state drain"
    assert commands.haproxy_set_state(HAPROXY, "web2", "ready") == "set server app/web2 state ready"
    assert commands.haproxy_servers_state(HAPROXY) == "show servers state app"
    assert commands.haproxy_stat(HAPROXY) == "show stat app 4 -1"
    assert commands.haproxy_line("show stat app 4 -1") == b"show stat app 4 -1\n"


def test_ssh_commands_carry_variables_on_stdin() -> None:
    assert commands.ssh_command("deploy.sh", None) == "deploy.sh"
    assert commands.ssh_command("deploy.sh", {}) == "deploy.sh"
    assert commands.ssh_command("deploy.sh", {"A": "1"}) == (
        "set -a; . /dev/stdin; set +a; deploy.sh"
    )
    assert commands.ssh_environment({"A": "1", "TOKEN": "it's"}) == "A=1\nTOKEN='it'\"'\"'s'\n"
