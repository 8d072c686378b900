"""Small process and system helpers for the sandbox: our processes only, bounded waits.

A pid recorded in a file may have been reused by the time we read it, so a process counts as
ours only while its command line names something of the sandbox (its directory, a module).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")
DEADLINE = 30.0


def is_ours(pid: int | None, marker: str) -> bool:
    """Whether ``pid`` is a live process whose command line contains ``marker``."""
    if pid is None:
        return False
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        zombie = "State:\tZ" in Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return marker in cmdline and not zombie


def stop_ours(pid: int | None, marker: str, deadline: float = 5.0) -> bool:
    """SIGTERM ``pid`` if it is ours (``marker`` in its command line); SIGKILL if it lingers."""
    if pid is None or not is_ours(pid, marker):
        return False
    os.kill(pid, signal.SIGTERM)
    end = time.monotonic() + deadline
    while is_ours(pid, marker) and time.monotonic() < end:
        time.sleep(0.02)
    if is_ours(pid, marker):
        os.kill(pid, signal.SIGKILL)
    return True


def terminate(process: subprocess.Popen[bytes], grace: float = 5.0) -> None:
    """End a child we started: SIGTERM, then SIGKILL after ``grace`` seconds; safe twice."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


class Started:
    """A process the sandbox started (HAProxy, nginx, moto): its pid, and ``stop()``, which is
    safe to call twice."""

    process: subprocess.Popen[bytes]

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self) -> None:
        terminate(self.process)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(condition: Callable[[], bool], what: str) -> None:
    end = time.monotonic() + DEADLINE
    while not condition():
        if time.monotonic() > end:
            raise RuntimeError(f"timed out after {DEADLINE:.0f}s waiting for {what}")
        time.sleep(0.05)


def in_use(address: str, port: int) -> bool:
    """Whether something listens on ``address:port`` (a bind there fails)."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((address, port))
        except OSError:
            return True
    return False


def blocking(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run ``coroutine`` to completion, also when called (blocking) from async code."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def ensure_packages() -> None:
    """Install sshd and HAProxy with apt-get when missing (as root), or say how to."""
    missing = [pkg for pkg, program in _PACKAGES.items() if not Path(program).exists()]
    if not missing:
        return
    if os.geteuid() != 0:
        raise RuntimeError(f"the sandbox needs {', '.join(missing)}: run as root, or install them")
    print(f"installing {', '.join(missing)} with apt-get ...", file=sys.stderr)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update"], ["apt-get", "install", "-y", *missing]):
        result = subprocess.run(command, env=env, capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(
                f"cannot install {', '.join(missing)}: `{' '.join(command)}` failed:\n"
                f"{result.stderr.strip()[-2000:]}\ninstall them yourself and run `up` again"
            )


_PACKAGES = {"openssh-server": "/usr/sbin/sshd", "haproxy": "/usr/sbin/haproxy"}
