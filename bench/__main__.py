"""``python -m bench``: the benchmark of baton against Ansible, pyinfra and Fabric.

Brings up a fleet per scenario, runs every tool on it (alternating, several repetitions), then
writes ``OUT/runs.json`` (every run) and ``OUT/results.md`` (medians and ratios) and prints the
tables. See BENCHMARKS.md for what each figure means.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

from bench import report
from bench.harness import Run, Scenario, Settings, default_root, load, run_scenario, save
from bench.peers import DEFAULT_PEERS_VENV, Tool, ensure_peers_venv
from bench.peers.ansible import Ansible
from bench.peers.baton_deploy import Baton, BatonCold
from bench.peers.fabric import Fabric
from bench.peers.fanout import Fanout
from bench.peers.pyinfra import Pyinfra

TOOLS: dict[str, type[Tool]] = {
    t.name: t for t in (Baton, BatonCold, Fanout, Pyinfra, Fabric, Ansible)
}


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.from_runs is not None:
        rows = report.summarise(load(args.from_runs))
        print(report.markdown(rows) + report.marginal(rows))
        return 0
    if os.geteuid() != 0:
        print("bench: run as root (it creates Unix users and starts sshd)", file=sys.stderr)
        return 2
    tools = [TOOLS[name]() for name in args.tools.split(",")]
    peers_python = DEFAULT_PEERS_VENV / "bin" / "python"
    if any(t.needs_peers_venv for t in tools):
        peers_python = ensure_peers_venv(args.peers_venv)
    root = args.root or default_root()
    settings = Settings(
        root=root, peers_python=peers_python, repetitions=args.repetitions, timeout=args.timeout,
        first_address=args.first_address, prefix=args.prefix,
    )  # fmt: skip
    runs: list[Run] = []
    started = time.monotonic()
    try:
        for scenario in _scenarios(args):
            chosen = tools if scenario.size != args.scale else [TOOLS["baton"]()]
            runs += run_scenario(scenario, chosen, settings)
            save(runs, args.out / "runs.json")
    finally:
        if args.root is None and not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    rows = report.summarise(runs)
    text = _header(time.monotonic() - started, argv) + report.markdown(rows) + report.marginal(rows)
    (args.out / "results.md").write_text(text)
    print(text)
    return 0 if all(r.ok for r in runs) else 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    sizes = parser.add_argument_group("scenarios (0 or empty to leave one out)")
    sizes.add_argument("--parallel", default="10,50,200", help="parallel fleet sizes")
    sizes.add_argument("--serial", type=int, default=10, help="serial fleet size (HAProxy)")
    sizes.add_argument("--scale", type=int, default=1000, help="baton-only parallel fleet size")
    sizes.add_argument("--scale-max-parallel", type=int, default=250,
                       help="deploy.max_parallel for the scale run")  # fmt: skip
    parser.add_argument("--tools", default=",".join(TOOLS), help="comma-separated")
    parser.add_argument("--repetitions", "-r", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds per tool run")
    parser.add_argument("--out", type=Path, default=Path("artifacts/bench"))
    parser.add_argument("--root", type=Path, default=None,
                        help="where fleets live (default: a fresh /tmp/baton-bench-*)")  # fmt: skip
    parser.add_argument("--keep", action="store_true", help="keep the fleets' files")
    parser.add_argument("--first-address", default="127.0.3.1")
    parser.add_argument("--prefix", default="bench", help="server (and Unix user) name prefix")
    parser.add_argument("--peers-venv", type=Path, default=DEFAULT_PEERS_VENV)
    parser.add_argument("--from-runs", type=Path, metavar="RUNS_JSON",
                        help="only print the tables of an earlier run's runs.json")  # fmt: skip
    return parser


def _scenarios(args: argparse.Namespace) -> list[Scenario]:
    scenarios = [Scenario("parallel", int(n)) for n in args.parallel.split(",") if int(n or 0)]
    if args.serial:
        scenarios.append(Scenario("serial", args.serial))
    if args.scale:
        scenarios.append(Scenario("parallel", args.scale, args.scale_max_parallel))
    return scenarios


def _header(seconds: float, argv: list[str] | None) -> str:
    command = " ".join(["python -m bench", *(sys.argv[1:] if argv is None else argv)])
    cpu = _cpu_model()
    return (
        f"Ran `{command}` in {seconds / 60:.1f} min on {platform.node()}: {os.cpu_count()} "
        f"cores ({cpu}), {_memory_gib():.0f} GiB, {platform.platform()}, "
        f"Python {platform.python_version()}, {_sshd_version()}.\n\n"
    )


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown CPU"


def _memory_gib() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) / 1024 / 1024
    return 0.0


def _sshd_version() -> str:
    probe = subprocess.run(["/usr/sbin/sshd", "-V"], capture_output=True, text=True)
    return (probe.stderr or probe.stdout).strip().split(",")[0] or "sshd"


if __name__ == "__main__":
    sys.exit(main())
