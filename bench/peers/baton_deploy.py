"""baton itself: ``baton deploy --parallel|--serial --json`` against a generated manifest."""

from __future__ import annotations

import compileall
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

import baton
from baton.state import Store
from bench.peers import Invocation, Tool
from bench.workload import APPLICATION, BACKEND, RELEASE, STEPS, Context

BATON = [sys.executable, "-m", "baton"]


class Baton(Tool):
    name = "baton"
    modes = frozenset({"parallel", "serial"})
    needs_peers_venv = False

    def prepare(self, ctx: Context) -> None:
        # baton's bytecode, as `pip install` writes it for the peers: run from the repository
        # (an editable install) with PYTHONDONTWRITEBYTECODE set, every run would otherwise
        # compile baton's ~120 modules from source, a cost no installed baton pays.
        compileall.compile_dir(Path(baton.__file__).parent, quiet=1)
        (ctx.workdir / "baton.yml").write_text(yaml.safe_dump(manifest(ctx), sort_keys=False))
        store = Store(ctx.workdir / "state")
        store.set_setting(APPLICATION, "deploy.max_parallel", str(ctx.max_parallel))
        store.close()
        # The manifest is validated once, as by the `baton plan` an operator runs before a
        # deploy: every measured deploy then finds it in baton's cache (baton-cold: never).
        subprocess.run(
            [*BATON, "plan", "-s", APPLICATION, "-f", str(ctx.workdir / "baton.yml"),
             "--state", str(ctx.workdir / "state")],
            check=True, capture_output=True, env={**os.environ, **self._environment(ctx)},
        )  # fmt: skip

    def invocation(self, ctx: Context, version: str) -> Invocation:
        return Invocation(
            [
                *BATON, "deploy", "-s", APPLICATION,
                "-f", str(ctx.workdir / "baton.yml"), "--state", str(ctx.workdir / "state"),
                f"--{ctx.mode}", "--version", version, "--json",
            ],
            env=self._environment(ctx),
        )  # fmt: skip

    def _environment(self, ctx: Context) -> dict[str, str]:
        """baton's cache of validated manifests in the tool's own directory, never the user's."""
        return {"BATON_CACHE": str(ctx.workdir / "cache")}

    def details(self, ctx: Context, version: str, output: str) -> dict[str, Any]:
        """The deploy's own duration and its steps' durations, from baton's state."""
        report = json.loads(output[output.index("{") :])
        store = Store(ctx.workdir / "state")
        try:
            record = store.deploy(int(report["deploy_id"]))
            steps = store.step_results(int(report["deploy_id"]))
        finally:
            store.close()
        assert record is not None and record.finished_at is not None
        per_server: dict[str, float] = {}
        for step in steps:
            assert step.started_at is not None and step.finished_at is not None
            elapsed = step.finished_at - step.started_at
            per_server[step.server] = per_server.get(step.server, 0.0) + elapsed
        return {
            "status": report["status"],
            "succeeded": sum(s["status"] == "succeeded" for s in report["servers"]),
            "deploy_seconds": record.finished_at - record.started_at,
            "steps_sum": sum(per_server.values()),
            "steps_slowest_server": max(per_server.values(), default=0.0),
        }


class BatonCold(Baton):
    """baton with its manifest cache off: what the first deploy after an edit costs."""

    name = "baton-cold"

    def _environment(self, ctx: Context) -> dict[str, str]:
        return {"BATON_CACHE": "off"}


def manifest(ctx: Context) -> dict[str, Any]:
    servers = [
        {"name": h.name, "address": h.address, "user": h.user, "key_file": str(ctx.client_key),
         "known_hosts": str(ctx.known_hosts), "connect_timeout": 30}
        for h in ctx.hosts
    ]  # fmt: skip
    steps = [{"name": s.name, "run": s.template.replace(RELEASE, "{version}")} for s in STEPS]
    data: dict[str, Any] = {"application": APPLICATION, "servers": servers}
    if ctx.mode == "serial" and ctx.haproxy_socket is not None:
        data["load_balancers"] = [
            {"name": "haproxy", "type": "haproxy", "socket": str(ctx.haproxy_socket),
             "backend": BACKEND, "configuration": {"wait_after_removing_servers": 0,
                                                   "wait_after_adding_servers": 0}}
        ]  # fmt: skip
    data["deploy"] = {"steps": steps}
    return data
