"""Serial deploys of the sandbox behind each load balancer driver: what baton adds per server.

``python -m bench.balancers`` (as root) brings up a sandbox of N servers behind HAProxy, nginx
and the cloud balancer (moto's AWS API, no lag), deploys it serially through the library with
no waits, and times every event. Per server it reports the time spent taking the server out of
the balancer (drain and read-back included) and putting it back, and baton's overhead beyond
the steps and the health check: (wall - steps - health checks) / N.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from baton.config import load_manifest
from baton.execution import run_deploy
from baton.execution.events import (
    Event,
    HealthChecked,
    ServerFinished,
    Stage,
    StageChanged,
    StepFinished,
    StepStarted,
)
from baton.execution.runner import prepare
from baton.planning import DeployOptions, Strategy
from baton.sandbox import fleet
from baton.sandbox.moto import CREDENTIALS
from baton.state import Store


class Clock:
    """Every event with the moment it arrived."""

    def __init__(self) -> None:
        self.events: list[tuple[float, Event]] = []

    def __call__(self, event: Event) -> None:
        self.events.append((time.monotonic(), event))

    def spans(self, begins: type | Stage, ends: type | Stage) -> dict[str, list[float]]:
        """Per server, the seconds from each ``begins`` to the next ``ends``."""
        opened: dict[str, float] = {}
        spans: dict[str, list[float]] = defaultdict(list)
        for at, event in self.events:
            server = getattr(event, "server", None)
            if server is None:
                continue
            if _is(event, begins):
                opened[server] = at
            elif _is(event, ends) and server in opened:
                spans[server].append(at - opened.pop(server))
        return spans


def _is(event: Event, what: type | Stage) -> bool:
    if isinstance(what, Stage):
        return isinstance(event, StageChanged) and event.stage is what
    return isinstance(event, what)


async def deploy(sandbox: fleet.Sandbox, version: str) -> dict[str, float]:
    manifest = load_manifest(sandbox.manifest)
    store = Store(sandbox.directory / "state")
    plan = prepare(manifest, store, DeployOptions(version, Strategy.SERIAL))
    clock = Clock()
    began = time.monotonic()
    report = await run_deploy(plan, store, sinks=[clock])
    wall = time.monotonic() - began
    assert report.result.status == "succeeded", report.result.summary()
    n = len(sandbox.servers)
    steps = sum(map(sum, clock.spans(StepStarted, StepFinished).values()))
    health = sum(map(sum, clock.spans(Stage.HEALTH_CHECK, HealthChecked).values()))
    out = [s for spans in clock.spans(Stage.LEAVING_ROTATION, Stage.OUT_OF_ROTATION).values()
           for s in spans]  # fmt: skip
    back = [s for spans in clock.spans(Stage.REJOINING_ROTATION, ServerFinished).values()
            for s in spans]  # fmt: skip
    return {
        "wall": wall, "steps": steps, "health": health,
        "remove_ms": 1000 * statistics.median(out), "add_ms": 1000 * statistics.median(back),
        "overhead": (wall - steps - health) / n,
    }  # fmt: skip


def run(kind: str, servers: int, repetitions: int, first_address: str) -> list[dict[str, float]]:
    directory = Path(tempfile.mkdtemp(prefix=f"baton-bench-{kind}-", dir="/tmp"))
    directory.chmod(0o755)
    try:
        sandbox = fleet.up(
            directory, servers, first_address=first_address, prefix="bb", balancer=kind
        )
        return [asyncio.run(deploy(sandbox, f"{kind}-{i}")) for i in range(repetitions)]
    finally:
        fleet.down(directory)
        shutil.rmtree(directory, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--servers", type=int, default=10)
    parser.add_argument("-r", "--repetitions", type=int, default=3)
    parser.add_argument("--drivers", default="haproxy,nginx,elbv2")
    parser.add_argument("--first-address", default="127.0.9.1")
    args = parser.parse_args()
    os.environ.update(CREDENTIALS)
    print(f"serial, {args.servers} servers, waits 0, median of {args.repetitions} deploys")
    print("| driver | wall s | steps s | health checks s | out of the balancer ms/server "
          "| back in ms/server | baton overhead s/server |")  # fmt: skip
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for kind in args.drivers.split(","):
        runs = run(kind, args.servers, args.repetitions, args.first_address)
        med = {key: statistics.median(r[key] for r in runs) for key in runs[0]}
        print(
            f"| {kind} | {med['wall']:.1f} | {med['steps']:.1f} | {med['health']:.1f} "
            f"| {med['remove_ms']:.0f} | {med['add_ms']:.0f} | {med['overhead']:.2f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
