"""Fabric: a ThreadingGroup over every host runs each step (see bench/scripts/fabric_run.py)."""

from __future__ import annotations

from bench.peers import SCRIPTS, Invocation, Tool, write_hosts_json
from bench.workload import Context


class Fabric(Tool):
    name = "fabric"

    def prepare(self, ctx: Context) -> None:
        write_hosts_json(ctx)

    def invocation(self, ctx: Context, version: str) -> Invocation:
        script = str(SCRIPTS / "fabric_run.py")
        return Invocation([str(ctx.peers_python), script, str(ctx.workdir / "hosts.json"), version])
