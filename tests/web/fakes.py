"""Fake drivers for the dashboard's tests: one timeline, one script, load balancers that last."""

from __future__ import annotations

from pathlib import Path

from baton.config import LoadBalancer, Manifest, Server, load_manifest
from baton.drivers.fake import FakeLoadBalancer, FakeTransport, Script, Timeline
from baton.execution import Drivers
from tests.manifests import manifest_text

STEP_SECONDS = 0.5
"""How long the slow fleet's restart takes: long enough for a browser to see each stage."""


class FakeFleet:
    """Fake servers and load balancers; the same load balancer answers every question."""

    def __init__(self, manifest: Manifest, script: Script | None = None) -> None:
        self.manifest = manifest
        self.timeline = Timeline()
        self.script = script or Script()
        names = [s.name for s in manifest.servers]
        self.load_balancers = {
            lb.name: FakeLoadBalancer(lb.name, names, self.timeline)
            for lb in manifest.load_balancers
        }

    def drivers(self) -> Drivers:
        def transport(server: Server) -> FakeTransport:
            return FakeTransport(server, self.timeline, self.script)

        def load_balancer(lb: LoadBalancer) -> FakeLoadBalancer:
            return self.load_balancers[lb.name]

        return Drivers(transport, load_balancer)

    def removals(self) -> list[str]:
        """Servers in the order they were taken out of rotation."""
        return [e.server for e in self.timeline.entries if e.what == "remove"]


def slow_script() -> Script:
    """Every server takes STEP_SECONDS to restart, so each stage stays on screen a while."""
    return Script().on("restart", output="restarting\nstarted", seconds=STEP_SECONDS)


def write_manifest(directory: Path, servers: int = 3) -> Path:
    path = directory / "baton.yml"
    path.write_text(manifest_text(servers, waits=(0, 0)))
    return path


def fleet_for(path: Path, script: Script | None = None) -> FakeFleet:
    return FakeFleet(load_manifest(path), script)
