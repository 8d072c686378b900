"""``python -m bench.flood``: a step printing 67 MB, under baton and over plain ``ssh``.

Brings up a one-server sandbox on a free loopback address, then alternates (``--repeat``
times) between ``ssh`` running the flood with its output to /dev/null, and ``baton deploy``
running it as the only step (parallel, so only the step is timed, from the history). Then
``baton show --output`` on the last deploy, for its peak memory. Prints a Markdown table of
medians for BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from baton.sandbox import fleet
from baton.sandbox.manifest import manifest_data
from baton.sandbox.processes import in_use

FLOOD = "head -c 50000000 /dev/urandom | base64"
BATON = [sys.executable, "-m", "baton"]


ENVIRONMENT = dict(os.environ)
WHERE: dict[str, Path] = {}
"""The directory baton runs in (``-m`` puts it first on the path)."""


def measure(command: list[str], stdout: int | None = subprocess.DEVNULL) -> tuple[float, int, str]:
    """(wall seconds, peak RSS in MiB, stdout) of ``command``, run to its end."""
    started = time.perf_counter()
    output = subprocess.PIPE if stdout is None else stdout
    process = subprocess.Popen(command, stdout=output, env=ENVIRONMENT, cwd=WHERE.get("cwd"))
    out = process.stdout.read().decode() if process.stdout is not None else ""
    _, status, usage = os.wait4(process.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{command[:4]} exited {os.waitstatus_to_exitcode(status)}")
    return time.perf_counter() - started, usage.ru_maxrss // 1024, out


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.flood", description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--baton-from", metavar="DIR", help="run the baton in DIR (e.g. an older checkout)"
    )
    args = parser.parse_args()
    if args.baton_from:
        WHERE["cwd"] = Path(args.baton_from).absolute()
        ENVIRONMENT["PYTHONPATH"] = str(WHERE["cwd"])
    directory = Path(tempfile.mkdtemp(prefix="baton-flood-", dir="/tmp"))
    directory.chmod(0o755)
    try:
        first = next(a for a in fleet.ADDRESSES[120:] if not in_use(a, 22) and not in_use(a, 8000))
        sandbox = fleet.up(directory, 1, first_address=first, prefix="flood")
        print(table(run(sandbox, directory, args.repeat)))
    finally:
        fleet.down(directory)
        shutil.rmtree(directory, ignore_errors=True)
    return 0


def run(sandbox: fleet.Sandbox, directory: Path, repeat: int) -> dict[str, list[float]]:
    server = sandbox.servers[0]
    data = manifest_data(sandbox)
    data["deploy"] = {"steps": [{"name": "flood", "run": FLOOD, "timeout": 120}]}
    manifest = directory / "flood.yml"
    manifest.write_text(yaml.safe_dump(data))
    state = directory / "state"
    ssh = ["ssh", "-i", str(directory / "ssh" / "client_key"), "-o", "BatchMode=yes",
           "-o", f"UserKnownHostsFile={directory / 'ssh' / 'known_hosts'}",
           f"{server.user}@{server.address}", FLOOD]  # fmt: skip
    deploy = [*BATON, "deploy", "-s", "sandbox", "-f", str(manifest), "--state", str(state),
              "--parallel", "--quiet", "--json"]  # fmt: skip
    figures: dict[str, list[float]] = {k: [] for k in ("ssh", "step", "deploy", "rss", "show")}
    for n in range(repeat):
        figures["ssh"].append(measure(ssh)[0])
        wall, rss, out = measure([*deploy, "--version", f"f{n}"], stdout=None)
        deploy_id = json.loads(out)["deploy_id"]
        figures["deploy"].append(wall)
        figures["rss"].append(rss)
        show = [*BATON, "show", str(deploy_id), "--state", str(state)]
        _, _, shown = measure([*show, "--json"], stdout=None)
        step = json.loads(shown)["steps"][0]
        figures["step"].append(step["finished_at"] - step["started_at"])
        figures["show"].append(measure([*show, "--output"])[1])
    figures["database"] = [sum(f.stat().st_size for f in state.glob("baton.sqlite3*")) / 2**20]
    return figures


def table(figures: dict[str, list[float]]) -> str:
    median = {k: statistics.median(v) for k, v in figures.items()}
    rows = [
        ("plain `ssh`, output to /dev/null (wall)", f"{median['ssh']:.2f} s"),
        ("the step under `baton deploy` (from its history)", f"{median['step']:.2f} s"),
        ("ratio step / ssh", f"{median['step'] / median['ssh']:.2f}x"),
        ("whole `baton deploy --parallel` (wall)", f"{median['deploy']:.2f} s"),
        ("`baton deploy` peak memory", f"{median['rss']:.0f} MiB"),
        ("`baton show --output` peak memory", f"{median['show']:.0f} MiB"),
        (f"state after {len(figures['ssh'])} flood deploys", f"{median['database']:.1f} MiB"),
    ]
    lines = ["| median of runs | figure |", "| --- | --- |"]
    return "\n".join(lines + [f"| {name} | {value} |" for name, value in rows])


if __name__ == "__main__":
    raise SystemExit(main())
