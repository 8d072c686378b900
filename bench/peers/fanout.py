"""The floor, not a peer: a bare asyncssh fan-out (see bench/scripts/fanout_run.py)."""

from __future__ import annotations

import sys

from bench.peers import SCRIPTS, Invocation, Tool, write_hosts_json
from bench.workload import Context


class Fanout(Tool):
    name = "asyncssh-fanout"
    needs_peers_venv = False

    def prepare(self, ctx: Context) -> None:
        write_hosts_json(ctx)

    def invocation(self, ctx: Context, version: str) -> Invocation:
        script = str(SCRIPTS / "fanout_run.py")
        return Invocation([sys.executable, script, str(ctx.workdir / "hosts.json"), version])
