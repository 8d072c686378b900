"""Fake drivers for the dashboard's tests: one timeline, one script, load balancers that last."""

from __future__ import annotations

from pathlib import Path

from baton.clock import SYSTEM_CLOCK, Clock
from baton.config import load_manifest
from baton.drivers.fake import FakeFleet, Script
from tests.manifests import manifest_text

STEP_SECONDS = 0.5
"""How long the slow fleet's restart takes: long enough for a browser to see each stage."""


def slow_script() -> Script:
    """Every server takes STEP_SECONDS to restart, so each stage stays on screen a while."""
    return Script().on("restart", output="restarting\nstarted", seconds=STEP_SECONDS)


VERIFY = "  verify:\n    duration: 0.001\n"
"""A canary (if a test, or a generated request, sets deploy.canary) is watched for a moment,
so a deploy here still ends at once."""


def write_manifest(directory: Path, servers: int = 3) -> Path:
    path = directory / "baton.yml"
    path.write_text(manifest_text(servers, waits=(0, 0)) + VERIFY)
    return path


def fleet_for(path: Path, script: Script | None = None, clock: Clock = SYSTEM_CLOCK) -> FakeFleet:
    return FakeFleet(load_manifest(path), script, clock)
