"""Bring up a fleet per scenario, run every tool on it in turn, several times, and keep the runs.

Tools alternate within a repetition and the order rotates between repetitions, so drift (page
cache, CPU frequency, sshd's state) falls on every tool alike. Every run is checked: each
server's ``current`` must point at the release that run deployed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench.fleet import BenchFleet, bench_fleet
from bench.peers import Tool
from bench.workload import STEPS, Context, Mode

REPOSITORY = Path(__file__).resolve().parent.parent
THROTTLE_MARKER = "MaxStartups"
"""sshd logs it when it throttles or drops connections being set up."""


@dataclass(frozen=True)
class Scenario:
    mode: Mode
    size: int
    max_parallel: int = 0

    @property
    def label(self) -> str:
        cap = f"-max{self.max_parallel}" if self.max_parallel else ""
        return f"{self.mode}-{self.size}{cap}"


@dataclass
class Run:
    """One tool's deploy: what the wrapper measured, whether it deployed everywhere, extras."""

    scenario: str
    mode: str
    size: int
    tool: str
    repetition: int
    wall: float
    cpu: float
    max_rss_kb: int
    peak_pss_kb: int
    ok: bool
    problem: str = ""
    sshd_throttled: int = 0
    load_before: float = 0.0
    """The machine's 1-minute load average when the run started (other work skews results)."""
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Settings:
    root: Path
    peers_python: Path
    repetitions: int = 3
    timeout: float = 900.0
    first_address: str = "127.0.3.1"
    prefix: str = "bench"


def run_scenario(scenario: Scenario, tools: list[Tool], settings: Settings) -> list[Run]:
    tools = [t for t in tools if scenario.mode in t.modes]
    directory = settings.root / scenario.label
    with bench_fleet(
        directory,
        scenario.size,
        prefix=settings.prefix,
        first_address=settings.first_address,
        load_balancer=scenario.mode == "serial",
    ) as fleet:
        contexts = {tool.name: _context(scenario, fleet, tool, settings) for tool in tools}
        for tool in tools:
            tool.prepare(contexts[tool.name])
        runs = []
        for repetition in range(settings.repetitions):
            shift = repetition % len(tools)
            for tool in tools[shift:] + tools[:shift]:
                run = run_once(scenario, tool, contexts[tool.name], fleet, repetition, settings)
                print(_one_line(run), file=sys.stderr, flush=True)
                runs.append(run)
    return runs


def _context(scenario: Scenario, fleet: BenchFleet, tool: Tool, settings: Settings) -> Context:
    workdir = fleet.directory / "tools" / tool.name
    workdir.mkdir(parents=True, exist_ok=True)
    return Context(
        mode=scenario.mode,
        hosts=fleet.hosts,
        client_key=fleet.sshd.client_key,
        known_hosts=fleet.sshd.known_hosts,
        workdir=workdir,
        peers_python=settings.peers_python,
        haproxy_socket=fleet.haproxy_socket,
        max_parallel=scenario.max_parallel,
    )


def run_once(
    scenario: Scenario,
    tool: Tool,
    ctx: Context,
    fleet: BenchFleet,
    repetition: int,
    settings: Settings,
) -> Run:
    version = f"r{repetition}-{tool.name}"
    invocation = tool.invocation(ctx, version)
    log = ctx.workdir / f"{version}.log"
    throttled_before = _throttle_lines(fleet)
    load_before = os.getloadavg()[0]
    wrapper = [
        sys.executable, "-m", "bench.measure", "--timeout", str(settings.timeout),
        "--log", str(log), *(["--cwd", str(invocation.cwd)] if invocation.cwd else []),
        "--", *invocation.argv,
    ]  # fmt: skip
    environment = {**os.environ, **invocation.env, "PYTHONPATH": str(REPOSITORY)}
    completed = subprocess.run(
        wrapper, capture_output=True, text=True, env=environment, cwd=REPOSITORY,
        timeout=settings.timeout + 60,
    )  # fmt: skip
    measured = json.loads(completed.stdout.strip().splitlines()[-1])
    output = log.read_text(errors="replace")
    problem = _problem(measured, output, fleet, version)
    details: dict[str, Any] = {}
    if not problem:
        details = tool.details(ctx, version, output)
    return Run(
        scenario=scenario.label,
        mode=scenario.mode,
        size=scenario.size,
        tool=tool.name,
        repetition=repetition,
        wall=measured["wall"],
        cpu=measured["user"] + measured["sys"],
        max_rss_kb=measured["max_rss_kb"],
        peak_pss_kb=measured["peak_pss_kb"],
        ok=not problem,
        problem=problem,
        sshd_throttled=_throttle_lines(fleet) - throttled_before,
        load_before=load_before,
        details=details,
    )


def _problem(measured: dict[str, Any], output: str, fleet: BenchFleet, version: str) -> str:
    if measured["timed_out"]:
        return "timed out"
    if measured["returncode"] != 0:
        return f"exit {measured['returncode']}: {output[-400:]}"
    wrong = [h.name for h in fleet.hosts if not _deployed(fleet, h.name, version)]
    if wrong:
        return f"{len(wrong)} server(s) not on {version}, e.g. {', '.join(wrong[:3])}"
    return ""


def _deployed(fleet: BenchFleet, name: str, version: str) -> bool:
    """The server's ``current`` points at the release, which holds its VERSION file."""
    current = fleet.directory / "home" / name / "current"
    try:
        return os.readlink(current) == f"releases/{version}" and (
            (current / "VERSION").read_text().strip() == version
        )
    except OSError:
        return False


def _throttle_lines(fleet: BenchFleet) -> int:
    return fleet.sshd.log_text().count(THROTTLE_MARKER)


def _one_line(run: Run) -> str:
    status = "ok" if run.ok else f"FAILED ({run.problem[:200]})"
    return (
        f"bench: {run.scenario:<16} {run.tool:<16} #{run.repetition} wall {run.wall:7.2f}s "
        f"cpu {run.cpu:7.2f}s rss {run.max_rss_kb / 1024:6.0f}MB "
        f"pss {run.peak_pss_kb / 1024:6.0f}MB load {run.load_before:4.1f} {status}"
    )


def steps_per_server() -> int:
    return len(STEPS)


def default_root() -> Path:
    """Under /tmp: the sandbox users must be able to enter their home directories."""
    root = Path(tempfile.mkdtemp(prefix="baton-bench-", dir="/tmp"))
    root.chmod(0o755)
    return root


def save(runs: list[Run], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps([asdict(r) for r in runs], indent=1))


def load(path: Path) -> list[Run]:
    return [Run(**r) for r in json.loads(path.read_text())]
