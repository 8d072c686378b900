from collections.abc import Callable

import pytest

from baton.config import LoadBalancer, Manifest, Server
from baton.drivers.fake import FakeLoadBalancer, FakeTransport, Script, Timeline
from baton.execution import Drivers


class FakeFleet:
    """Fake drivers sharing one timeline and one script."""

    def __init__(self, manifest: Manifest) -> None:
        self.timeline = Timeline()
        self.script = Script()
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


@pytest.fixture
def fake_fleet() -> Callable[[Manifest], FakeFleet]:
    return FakeFleet
