"""Run one tool as a child and report what its whole process tree cost, as one JSON line.

``python -m bench.measure --timeout S --log FILE -- COMMAND...`` prints::

    {"wall": 6.1, "user": 3.2, "sys": 0.4, "max_rss_kb": 81234, "peak_pss_kb": 90210,
     "returncode": 0, "timed_out": false}

CPU is ``getrusage(RUSAGE_CHILDREN)`` of this wrapper, so it counts the tool and every process
it started, and nothing else (not this wrapper, not the servers). The wrapper makes itself a
child subreaper, so processes the tool detaches (Ansible's ``ControlPersist`` ssh masters)
re-parent here; they are stopped and reaped when the tool exits, and their CPU counts too.
``max_rss_kb`` is the largest single process; ``peak_pss_kb`` the sampled peak of the tree's
proportional set size (shared pages counted once), which is fair to tools that fork workers.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import json
import os
import resource
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

PR_SET_CHILD_SUBREAPER = 36
SAMPLE_EVERY = 0.2
LEFTOVER_GRACE = 2.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.measure")
    parser.add_argument("--timeout", type=float, default=600.0)
    parser.add_argument("--log", type=Path, required=True)
    parser.add_argument("--cwd", type=Path, default=None)
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    print(json.dumps(measure(command, args.log, args.timeout, args.cwd)), flush=True)
    return 0


def measure(command: list[str], log: Path, timeout: float, cwd: Path | None) -> dict[str, object]:
    _become_subreaper()
    sampler = _PssSampler(os.getpid())
    started = time.monotonic()
    with log.open("wb") as output:
        process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT, cwd=cwd
        )
        sampler.start()
        timed_out = _wait(process, timeout)
        wall = time.monotonic() - started
    sampler.stop()
    _reap_leftovers()
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "wall": round(wall, 4),
        "user": usage.ru_utime,
        "sys": usage.ru_stime,
        "max_rss_kb": usage.ru_maxrss,
        "peak_pss_kb": sampler.peak_kb,
        "returncode": process.returncode,
        "timed_out": timed_out,
    }


def _become_subreaper() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER) failed")


def _wait(process: subprocess.Popen[bytes], timeout: float) -> bool:
    try:
        process.wait(timeout=timeout)
        return False
    except subprocess.TimeoutExpired:
        _signal_tree(os.getpid(), signal.SIGKILL)
        process.wait()
        return True


def _reap_leftovers() -> None:
    """Stop what the tool left running (it re-parented here), then reap every child."""
    deadline = time.monotonic() + LEFTOVER_GRACE
    _signal_tree(os.getpid(), signal.SIGTERM)
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            if time.monotonic() > deadline:
                _signal_tree(os.getpid(), signal.SIGKILL)
            time.sleep(0.02)


def _signal_tree(root: int, number: signal.Signals) -> None:
    for pid in descendants(root):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, number)


def descendants(root: int) -> list[int]:
    """Every process below ``root``, from /proc/PID/task/TID/children (no /proc scan)."""
    found: list[int] = []
    frontier = [root]
    while frontier:
        pid = frontier.pop()
        for children in Path(f"/proc/{pid}/task").glob("*/children"):
            with contextlib.suppress(OSError):
                kids = [int(k) for k in children.read_text().split()]
                found.extend(kids)
                frontier.extend(kids)
    return found


def _pss_kb(pid: int) -> int:
    with contextlib.suppress(OSError, ValueError):
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    return 0


class _PssSampler:
    """Samples the summed PSS of the tree below ``root`` in a thread; keeps the peak."""

    def __init__(self, root: int) -> None:
        self._root = root
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.peak_kb = 0

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stopped.wait(SAMPLE_EVERY):
            total = sum(_pss_kb(pid) for pid in descendants(self._root))
            self.peak_kb = max(self.peak_kb, total)


if __name__ == "__main__":
    sys.exit(main())
