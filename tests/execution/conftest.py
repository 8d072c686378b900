from collections.abc import Callable

import pytest

from baton.clock import FakeClock
from baton.config import Manifest
from baton.drivers.fake import FakeFleet, Script


@pytest.fixture
def clock() -> FakeClock:
    """The test's fake time: one per test, as two FakeClocks on one event loop would each
    wait for the other to go idle."""
    return FakeClock()


@pytest.fixture
def fake_fleet(clock: FakeClock) -> Callable[[Manifest], FakeFleet]:
    """Fake servers and load balancers on the test's fake time: a deploy handed
    ``fleet.clock`` waits for nothing, and its waits are asserted in exact fake seconds."""

    def make(manifest: Manifest, script: Script | None = None) -> FakeFleet:
        return FakeFleet(manifest, script, clock)

    return make
