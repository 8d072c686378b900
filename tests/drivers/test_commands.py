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
    assert commands.nginx_read(NGINX) == "cat -- '/etc/nginx/baton/shop'\"'\"'s.conf'"


UP = NginxBalancer(type="nginx", file=Path("/etc/nginx/up.conf"), upstream="u")


def test_nginx_writes_through_a_fresh_temporary_file_fed_on_stdin() -> None:
    """mktemp's name cannot be guessed and it never follows a link; the text goes on stdin
    (no "Argument list too long"); only the directory's mode is read first."""
    assert commands.nginx_directory_mode(UP) == "stat -L -c %a -- /etc/nginx"
    assert commands.nginx_temporary_file(UP) == "mktemp -- /etc/nginx/up.conf.baton-XXXXXX"
    temporary = "/etc/nginx/up.conf.baton-Ab12Cd"
    assert commands.nginx_fill(UP, temporary) == (
        "tee -- /etc/nginx/up.conf.baton-Ab12Cd >/dev/null"
    )
    assert commands.nginx_install(UP, temporary) == (
        "chmod --reference=/etc/nginx/up.conf -- /etc/nginx/up.conf.baton-Ab12Cd && "
        "mv -f -- /etc/nginx/up.conf.baton-Ab12Cd /etc/nginx/up.conf"
    )
    assert commands.nginx_discard(UP, temporary) == "rm -f -- /etc/nginx/up.conf.baton-Ab12Cd"


def test_nginx_with_sudo_runs_each_program_through_sudo_so_sudoers_can_name_it() -> None:
    sudo = NginxBalancer(
        type="nginx", file=Path("/etc/nginx/up.conf"), upstream="u", sudo=True,
        reload="systemctl reload nginx",
    )  # fmt: skip
    temporary = "/etc/nginx/up.conf.baton-Ab12Cd"
    assert commands.nginx_includes_file(sudo) == (
        "sudo -n nginx -T 2>/dev/null | grep -qxF -- '# configuration file /etc/nginx/up.conf:'"
    )
    assert commands.nginx_test(sudo) == "sudo -n nginx -t"
    assert commands.nginx_reload(sudo) == "sudo -n systemctl reload nginx"
    assert commands.nginx_workers(sudo) == 'ps -o pid= --ppid "$(cat -- /run/nginx.pid)"'
    assert commands.nginx_read(sudo) == "sudo -n cat -- /etc/nginx/up.conf"
    assert commands.nginx_directory_mode(sudo) == "stat -L -c %a -- /etc/nginx"
    assert commands.nginx_temporary_file(sudo) == (
        "sudo -n mktemp -- /etc/nginx/up.conf.baton-XXXXXX"
    )
    assert commands.nginx_fill(sudo, temporary) == (
        "sudo -n tee -- /etc/nginx/up.conf.baton-Ab12Cd >/dev/null"
    )
    assert commands.nginx_install(sudo, temporary) == (
        "sudo -n chmod --reference=/etc/nginx/up.conf -- /etc/nginx/up.conf.baton-Ab12Cd && "
        "sudo -n mv -f -- /etc/nginx/up.conf.baton-Ab12Cd /etc/nginx/up.conf"
    )
    assert commands.nginx_discard(sudo, temporary) == (
        "sudo -n rm -f -- /etc/nginx/up.conf.baton-Ab12Cd"
    )
    assert "sh -c" not in commands.nginx_includes_file(sudo)


def test_the_command_balancer_runs_its_shell_line_through_sudo_when_asked() -> None:
    """(nginx's lines carry their own ``sudo -n`` per program: see above.)"""
    assert commands.on_balancer_host(COMMAND, "nginx -t") == "nginx -t"
    sudo = CommandBalancer(
        type="command", servers={"web1": "a"}, remove="r", add="a", status="s", sudo=True
    )
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
