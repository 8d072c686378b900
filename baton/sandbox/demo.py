"""``baton demo``: deploys under live traffic, with and without load balancer lag.

Each deploy goes through the real command line (``python -m baton deploy``), the path a user
takes, while :class:`~baton.sandbox.traffic.Traffic` sends steady requests through HAProxy.
The demo keeps its history in its own state (DIR/demo-state, emptied at every start), not in the
sandbox's DIR/state, so a user's first deploy after ``baton demo --keep`` is deploy #1.
:func:`deploy` and :func:`plan_estimate` are used by the acceptance tests too.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from baton.sandbox import balancers, fleet
from baton.sandbox.manifest import APPLICATION
from baton.sandbox.moto import CREDENTIALS
from baton.sandbox.status import status
from baton.sandbox.traffic import Traffic

SETTLE_SECONDS = 0.5


@dataclass(frozen=True)
class Scenario:
    strategy: str
    lag: float
    waits: int
    balancer: str = "haproxy"


SCENARIOS = (
    Scenario("serial", 0, 0),
    Scenario("parallel", 0, 0),
    Scenario("serial", 2, 0),
    Scenario("serial", 2, 3),
    Scenario("serial", 0, 0, "nginx"),
    Scenario("parallel", 0, 0, "nginx"),
    Scenario("serial", 2, 0, "elbv2"),
    Scenario("serial", 2, 3, "elbv2"),
)


@dataclass(frozen=True)
class Outcome:
    """One deploy under traffic, as the demo's table shows it."""

    scenario: Scenario
    version: str
    exit_status: int
    seconds: float
    estimate: float | None
    sent: int
    failed: int
    versions: Counter[str]


def _environment() -> dict[str, str]:
    """The environment for ``python -m baton``: this baton importable, even if not installed,
    and the sandbox cloud balancer's credentials (moto takes any)."""
    package_parent = str(Path(__file__).resolve().parents[2])
    path = os.pathsep.join(p for p in (package_parent, os.environ.get("PYTHONPATH")) if p)
    return {**os.environ, **CREDENTIALS, "PYTHONPATH": path}


async def baton(*arguments: str, output: Path | None = None) -> tuple[int, str]:
    """Run ``python -m baton ARGUMENTS``; (exit status, stdout and stderr together)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "baton", *arguments, env=_environment(),
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    text = (await process.communicate())[0].decode(errors="replace")
    if output is not None:
        output.write_text(text)
    return process.returncode if process.returncode is not None else -1, text


def demo_state(directory: Path) -> Path:
    """The demo's own state directory, apart from the sandbox's."""
    return directory / "demo-state"


def _common(sandbox: fleet.Sandbox, version: str, strategy: str, state: Path | None) -> list[str]:
    return [
        "-s", APPLICATION, "-f", str(sandbox.manifest), "--state", str(state or sandbox.state),
        f"--{strategy}", "--version", version,
    ]  # fmt: skip


async def deploy(
    sandbox: fleet.Sandbox,
    version: str,
    strategy: str = "serial",
    *options: str,
    output: Path | None = None,
    state: Path | None = None,
) -> tuple[int, str]:
    """``baton deploy`` of ``version`` to the sandbox (state: the sandbox's unless given);
    (exit status, output)."""
    arguments = _common(sandbox, version, strategy, state)
    return await baton("deploy", *arguments, *options, output=output)


async def plan_estimate(
    sandbox: fleet.Sandbox, version: str, strategy: str, state: Path | None = None
) -> float | None:
    """The extra seconds ``baton plan`` says the waits add, or None when it cannot say."""
    code, text = await baton("plan", *_common(sandbox, version, strategy, state), "--json")
    try:
        return float(json.loads(text)["estimated_extra_seconds"]) if code == 0 else None
    except (ValueError, KeyError, TypeError):
        return None


async def run_scenario(directory: Path, scenario: Scenario, version: str, rate: float) -> Outcome:
    """Shape the sandbox for ``scenario``, deploy ``version`` under traffic, and measure."""
    sandbox = await asyncio.to_thread(
        fleet.up, directory, lag=scenario.lag, waits=scenario.waits, balancer=scenario.balancer
    )
    state = demo_state(directory)
    estimate = await plan_estimate(sandbox, version, scenario.strategy, state)
    traffic = Traffic(sandbox.frontend_url, rate=rate)
    traffic.start()
    began = time.monotonic()
    log = directory / f"demo-{version}.log"
    code, _ = await deploy(sandbox, version, scenario.strategy, output=log, state=state)
    seconds = time.monotonic() - began
    await asyncio.sleep(scenario.lag + SETTLE_SECONDS)  # let lagged changes land under traffic
    report = await traffic.stop()
    served = Counter(s.version or "none" for s in await status(sandbox))
    return Outcome(scenario, version, code, seconds, estimate, report.sent, report.failed, served)


def table(outcomes: list[Outcome]) -> str:
    """The demo's results, one row per deploy."""
    header = (
        "balancer", "strategy", "lag", "waits", "wall time", "estimate", "sent", "failed",
        "served",
    )  # fmt: skip
    rows = [header] + [_row(o) for o in outcomes]
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)) for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(line.rstrip() for line in lines)


def _row(outcome: Outcome) -> tuple[str, ...]:
    s = outcome.scenario
    estimate = "?" if outcome.estimate is None else f"+{outcome.estimate:g}s"
    served = ", ".join(f"{v} x{n}" for v, n in sorted(outcome.versions.items()))
    strategy = s.strategy if outcome.exit_status == 0 else f"{s.strategy} (FAILED)"
    return (
        s.balancer, strategy, f"{s.lag:g}s", f"{s.waits}s", f"{outcome.seconds:.1f}s", estimate,
        str(outcome.sent), str(outcome.failed), served,
    )  # fmt: skip


READING = """\
How to read it: serial takes each server out of HAProxy before restarting its app, so no
request fails. Parallel is fastest but restarts every app while HAProxy still sends it traffic.
With 2 s of load balancer lag and no waits, HAProxy keeps routing to a server after baton took
it out, and requests fail; waits that cover the lag fail none, at the cost `plan` estimated.
nginx: the same through an upstream file baton marks `down` and a graceful reload. elbv2: an
AWS target group (moto's API) whose data plane follows it 2 s late, as AWS's nodes do."""


async def run(
    directory: Path,
    *,
    keep: bool = False,
    rate: float = 50.0,
    scenarios: tuple[Scenario, ...] = SCENARIOS,
) -> int:
    """The whole demo, on a fresh state of its own; 0 when every deploy succeeded."""
    directory = directory.absolute()
    print(f"starting a 3-server sandbox in {directory} ...", flush=True)
    shutil.rmtree(demo_state(directory), ignore_errors=True)
    outcomes: list[Outcome] = []
    try:
        await asyncio.to_thread(fleet.up, directory, 3, balancer="haproxy")
        for number, scenario in enumerate(_available(scenarios), start=2):
            print(f"deploying v{number}: {_describe(scenario)} ...", flush=True)
            outcomes.append(await run_scenario(directory, scenario, f"v{number}", rate))
        print("\n" + table(outcomes) + "\n\n" + READING)
        print(f"\ndeploy logs: {directory}/demo-v*.log")
    finally:
        if not keep:
            fleet.down(directory)
            print("sandbox stopped (--keep leaves it running)")
    return 0 if all(o.exit_status == 0 for o in outcomes) else 1


def _describe(scenario: Scenario) -> str:
    return (
        f"{scenario.balancer}, {scenario.strategy}, lag {scenario.lag:g}s, waits {scenario.waits}s"
    )


def _available(scenarios: tuple[Scenario, ...]) -> list[Scenario]:
    """The scenarios this machine can run; says which it skips (no nginx, no boto3/moto)."""
    kept = []
    for scenario in scenarios:
        try:
            balancers.check(scenario.balancer, scenario.lag)
        except ValueError as why:
            print(f"skipping {_describe(scenario)}: {why}", flush=True)
            continue
        kept.append(scenario)
    return kept
