from collections.abc import Callable

import pytest

from baton.config import Manifest
from baton.drivers.fake import FakeFleet


@pytest.fixture
def fake_fleet() -> Callable[[Manifest], FakeFleet]:
    return FakeFleet
