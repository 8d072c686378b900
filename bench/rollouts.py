"""Rollout shapes on the bench fleet (real sshd per server, real HAProxy): a serial deploy with
a 2 s prepare step in today's shape (run out of rotation) vs prepare-while-serving
(``stage: prepare``), and a rolling deploy in batches of 25%.

    python -m bench.rollouts [--sizes 10 50] [--first-address 127.0.12.1]

Per run: wall time of ``baton deploy`` and the longest time any server spent out of rotation
(from the removal and re-adding baton recorded). The target for serial with prepare is the
prepare time + the sum of every server's time out of rotation (its restart and health check),
within 10%, against the deploy's own duration (from its record: after preflight).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from baton.state import Store
from bench.fleet import BACKEND_PORT, BenchFleet, bench_fleet
from bench.workload import APPLICATION, BACKEND

PREPARE_SECONDS = 2
FIRST_ADDRESS = "127.0.12.1"
SHAPES = (
    ("serial, today's shape", False, ["--serial"]),
    ("serial, prepare while serving", True, ["--serial"]),
    ("rolling, batches of 25%", True, ["--batch", "25%"]),
)


def manifest(fleet: BenchFleet, prepare: bool) -> dict[str, Any]:
    sshd = fleet.sshd
    servers = [
        {"name": h.name, "address": h.address, "user": h.user, "key_file": str(sshd.client_key),
         "known_hosts": str(sshd.known_hosts), "connect_timeout": 30}
        for h in fleet.hosts
    ]  # fmt: skip
    fetch: dict[str, Any] = {
        "name": "fetch",
        "run": f"mkdir -p releases/{{version}} && sleep {PREPARE_SECONDS}",
    }
    if prepare:
        fetch["stage"] = "prepare"
    return {
        "application": APPLICATION,
        "servers": servers,
        "load_balancers": [
            {
                "name": "haproxy",
                "type": "haproxy",
                "socket": str(fleet.haproxy_socket),
                "backend": BACKEND,
            }
        ],
        "deploy": {
            "steps": [fetch, {"name": "restart", "run": "ln -sfn releases/{version} current"}],
            "health_check": {"url": f"http://{{address}}:{BACKEND_PORT}/", "interval": 0.1},
        },
    }


def run(fleet: BenchFleet, workdir: Path, shape: tuple[str, bool, list[str]]) -> dict[str, Any]:
    name, prepare, flags = shape
    path = workdir / "baton.yml"
    path.write_text(yaml.safe_dump(manifest(fleet, prepare), sort_keys=False))
    state = workdir / "state"
    version = f"v{time.time_ns()}"
    started = time.monotonic()
    completed = subprocess.run(
        [sys.executable, "-m", "baton", "deploy", "-s", APPLICATION, "-f", str(path),
         "--state", str(state), "--version", version, "--quiet", *flags],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    wall = time.monotonic() - started
    if completed.returncode != 0:
        raise RuntimeError(f"{name}: baton exited {completed.returncode}:\n{completed.stdout}")
    store = Store(state)
    out = out_of_rotation(store)
    record = store.deploys(APPLICATION, limit=1)[0]
    assert record.finished_at is not None
    fetches = [s for s in store.step_results(record.id) if s.step == "fetch"]
    started = min(s.started_at or 0 for s in fetches)
    return {"shape": name, "servers": len(fleet.hosts), "wall": wall,
            "deploy": record.finished_at - record.started_at,
            "fetches": max(s.finished_at or 0 for s in fetches) - started,
            "longest_out": max(out.values()), "total_out": sum(out.values())}  # fmt: skip


def out_of_rotation(store: Store) -> dict[str, float]:
    """Seconds each server spent out of rotation in the newest deploy."""
    deploy = store.deploys(APPLICATION, limit=1)[0]
    removed: dict[str, float] = {}
    spans: dict[str, float] = {}
    for event in store.events(deploy.id):
        if event.kind == "load_balancer":
            server = str(event.data["server"])
            if event.data["action"] == "removed":
                removed[server] = event.at
            else:
                spans[server] = spans.get(server, 0.0) + event.at - removed.pop(server)
    return spans


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.rollouts", description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 50])
    parser.add_argument("--first-address", default=FIRST_ADDRESS)
    args = parser.parse_args()
    print(
        "| servers | shape | wall s | deploy s | longest out of rotation s | target s "
        "| prepare wave s |"
    )
    print("| ---: | --- | ---: | ---: | ---: | ---: | ---: |")
    for size in args.sizes:
        directory = Path(tempfile.mkdtemp(prefix="baton-bench-rollouts-", dir="/tmp"))
        directory.chmod(0o755)
        try:
            with bench_fleet(
                directory, size, prefix="brol", first_address=args.first_address,
                load_balancer=True,
            ) as fleet:  # fmt: skip
                for shape in SHAPES:
                    workdir = directory / f"run-{SHAPES.index(shape)}"
                    workdir.mkdir()
                    row = run(fleet, workdir, shape)
                    serial_prepare = shape[1] and shape[2] == ["--serial"]
                    target = PREPARE_SECONDS + row["total_out"] if serial_prepare else None
                    print(
                        f"| {size} | {row['shape']} | {row['wall']:.1f} | {row['deploy']:.1f} | "
                        f"{row['longest_out']:.2f} | "
                        + (f"{target:.1f} (x{row['deploy'] / target:.2f})" if target else "")
                        + (f" | {row['fetches']:.1f} |" if shape[1] else " | |"),
                        flush=True,
                    )
        finally:
            shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
