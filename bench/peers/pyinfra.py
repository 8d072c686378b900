"""pyinfra: a Python inventory and deploy file, ``--parallel`` sized to the fleet, ``--no-wait``
so a host moves to its next operation without waiting for the others."""

from __future__ import annotations

from bench.peers import Invocation, Tool
from bench.workload import RELEASE, STEPS, Context

DEPLOY = """\
from pyinfra import host
from pyinfra.operations import server

version = host.data.version
"""


class Pyinfra(Tool):
    name = "pyinfra"

    def prepare(self, ctx: Context) -> None:
        (ctx.workdir / "inventory.py").write_text(_inventory(ctx))
        operations = "".join(
            f"server.shell(name={s.name!r}, commands=[{_command(s.template)}])\n" for s in STEPS
        )
        (ctx.workdir / "deploy.py").write_text(DEPLOY + operations)

    def invocation(self, ctx: Context, version: str) -> Invocation:
        pyinfra = ctx.peers_python.parent / "pyinfra"
        return Invocation(
            [str(pyinfra), "inventory.py", "deploy.py", "-y", "--no-wait",
             "--parallel", str(ctx.forks), "--data", f"version={version}"],
            cwd=ctx.workdir,
        )  # fmt: skip


def _command(template: str) -> str:
    """The step as an f-string expression over ``version``."""
    return "f" + repr(template.replace(RELEASE, "{version}"))


def _inventory(ctx: Context) -> str:
    hosts = ",\n".join(
        f"    ({h.name!r}, {{'ssh_hostname': {h.address!r}, 'ssh_user': {h.user!r}}})"
        for h in ctx.hosts
    )
    shared = {
        "ssh_key": str(ctx.client_key),
        "ssh_known_hosts_file": str(ctx.known_hosts),
        "ssh_strict_host_key_checking": "yes",
        "ssh_allow_agent": False,
        "ssh_look_for_keys": False,
    }
    return f"fleet = ([\n{hosts}\n], {shared!r})\n"
