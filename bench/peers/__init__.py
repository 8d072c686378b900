"""One adapter per tool. Each writes its own files for a scenario and says how to run a deploy.

An adapter never runs the tool itself: the harness runs every tool the same way, as its own
process under :mod:`bench.measure`, so CPU and memory are measured alike for all.
"""

from __future__ import annotations

import json
import subprocess
import sys
import venv
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.workload import RELEASE, STEPS, Context, Mode

PEER_PACKAGES = ("ansible-core==2.19.14", "pyinfra==3.10.0", "fabric==3.2.3")
DEFAULT_PEERS_VENV = Path.home() / ".cache" / "baton-bench" / "peers"
SCRIPTS = Path(__file__).resolve().parent.parent / "scripts"


@dataclass(frozen=True)
class Invocation:
    argv: list[str]
    cwd: Path | None = None
    env: dict[str, str] = field(default_factory=dict)
    """Added to the harness's environment."""


class Tool(ABC):
    name: str
    modes: frozenset[Mode] = frozenset({"parallel"})
    needs_peers_venv = True

    @abstractmethod
    def prepare(self, ctx: Context) -> None:
        """Write this tool's inventory, configuration and deploy description into ctx.workdir."""

    @abstractmethod
    def invocation(self, ctx: Context, version: str) -> Invocation:
        """The command that deploys ``version`` to every host of ``ctx``."""

    def details(self, ctx: Context, version: str, output: str) -> dict[str, Any]:
        """Extra figures a tool records about its own run (baton: step times from its state)."""
        return {}


def write_hosts_json(ctx: Context) -> Path:
    """The fleet as JSON, for the script-driven tools (Fabric, the asyncssh floor)."""
    path = ctx.workdir / "hosts.json"
    spec = {
        "hosts": [{"name": h.name, "address": h.address, "user": h.user} for h in ctx.hosts],
        "client_key": str(ctx.client_key),
        "known_hosts": str(ctx.known_hosts),
        "steps": [s.template for s in STEPS],
        "release": RELEASE,
    }
    path.write_text(json.dumps(spec))
    return path


def ensure_peers_venv(directory: Path = DEFAULT_PEERS_VENV) -> Path:
    """The peers' virtualenv's python, creating it (pinned versions, from PyPI) when missing."""
    python = directory / "bin" / "python"
    probe = [str(python), "-c", "import ansible, pyinfra, fabric"]
    if python.exists() and subprocess.run(probe, capture_output=True).returncode == 0:
        return python
    print(f"bench: installing {', '.join(PEER_PACKAGES)} into {directory}", file=sys.stderr)
    venv.create(directory, with_pip=True, clear=True)
    install = [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    subprocess.run([*install, *PEER_PACKAGES], check=True, timeout=900)
    return python
