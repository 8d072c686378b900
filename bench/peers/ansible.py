"""Ansible (ansible-core): one playbook, ``shell`` tasks, forks sized to the fleet.

Tuned as its documentation advises for speed: no fact gathering, SSH pipelining, persistent
control connections. Serial is ``serial: 1`` with the HAProxy runtime API driven by a command
delegated to the control machine (the ``community.general.haproxy`` module is not part of
ansible-core).
"""

from __future__ import annotations

from typing import Any

import yaml

from bench.peers import SCRIPTS, Invocation, Tool
from bench.workload import BACKEND, RELEASE, STEPS, Context


class Ansible(Tool):
    name = "ansible"
    modes = frozenset({"parallel", "serial"})

    def prepare(self, ctx: Context) -> None:
        (ctx.workdir / "cp").mkdir(exist_ok=True)
        (ctx.workdir / "tmp").mkdir(exist_ok=True)
        (ctx.workdir / "ansible.cfg").write_text(_config(ctx))
        (ctx.workdir / "inventory.ini").write_text(_inventory(ctx))
        (ctx.workdir / "playbook.yml").write_text(yaml.safe_dump([_play(ctx)], sort_keys=False))

    def invocation(self, ctx: Context, version: str) -> Invocation:
        playbook = ctx.peers_python.parent / "ansible-playbook"
        return Invocation(
            [str(playbook), "-i", "inventory.ini", "playbook.yml", "-e", f"version={version}"],
            cwd=ctx.workdir,
            env={"ANSIBLE_CONFIG": str(ctx.workdir / "ansible.cfg")},
        )


def _config(ctx: Context) -> str:
    return (
        "[defaults]\n"
        f"forks = {ctx.forks}\n"
        "host_key_checking = True\n"
        "gathering = explicit\n"
        "interpreter_python = /usr/bin/python3\n"
        f"private_key_file = {ctx.client_key}\n"
        "retry_files_enabled = False\n"
        f"local_tmp = {ctx.workdir / 'tmp'}\n"
        "[ssh_connection]\n"
        "pipelining = True\n"
        "ssh_args = -o ControlMaster=auto -o ControlPersist=60s -o IdentitiesOnly=yes"
        f" -o UserKnownHostsFile={ctx.known_hosts}\n"
        f"control_path_dir = {ctx.workdir / 'cp'}\n"
    )


def _inventory(ctx: Context) -> str:
    lines = ["[fleet]"]
    lines += [f"{h.name} ansible_host={h.address} ansible_user={h.user}" for h in ctx.hosts]
    lines += [
        "[control]",
        f"localhost ansible_connection=local ansible_python_interpreter={ctx.peers_python}",
    ]
    return "\n".join(lines) + "\n"


def _play(ctx: Context) -> dict[str, Any]:
    tasks: list[dict[str, Any]] = [
        {"name": s.name, "shell": s.template.replace(RELEASE, "{{ version }}")} for s in STEPS
    ]
    play: dict[str, Any] = {"hosts": "fleet", "gather_facts": False}
    if ctx.mode == "serial":
        assert ctx.haproxy_socket is not None
        play["serial"] = 1
        tasks = [_haproxy("remove from haproxy", "maint"), *tasks, _haproxy("add back", "ready")]
        play["vars"] = {
            "hactl": f"{ctx.peers_python} {SCRIPTS / 'hactl.py'} {ctx.haproxy_socket}",
        }
    play["tasks"] = tasks
    return play


def _haproxy(name: str, state: str) -> dict[str, Any]:
    command = f"set server {BACKEND}/{{{{ inventory_hostname }}}} state {state}"
    return {"name": name, "command": f"{{{{ hactl }}}} '{command}'", "delegate_to": "localhost"}
