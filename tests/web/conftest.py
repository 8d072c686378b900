from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from playwright.sync_api import Browser, sync_playwright

from baton.clock import SYSTEM_CLOCK, FakeClock
from baton.web import Credentials, create_app
from tests.web.browsing import CHROMIUM, CHROMIUM_ARGS
from tests.web.fakes import FakeFleet, fleet_for, slow_script, write_manifest

LOGIN_TOKEN = "login-token-for-tests"
API_TOKEN = "api-token-for-tests"
BASE_URL = "http://testserver"
HOOK_SECRET = b"hook-secret-for-tests-32-bytes-or-more"


@pytest.fixture
def manifest_path(tmp_path: Path) -> Path:
    return write_manifest(tmp_path)


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    return tmp_path / "state"


@pytest.fixture
def fleet(manifest_path: Path, request: pytest.FixtureRequest) -> FakeFleet:
    """The slow fleet, on fake time (its deploys end at once) but for a browser, which must
    see each stage a while, and a test marked real_time, which acts while a deploy runs."""
    real = any(request.node.get_closest_marker(m) for m in ("browser", "real_time"))
    return fleet_for(manifest_path, slow_script(), SYSTEM_CLOCK if real else FakeClock())


@pytest.fixture
def app(state_dir: Path, manifest_path: Path, fleet: FakeFleet) -> FastAPI:
    credentials = Credentials(login_token=LOGIN_TOKEN, api_token=API_TOKEN)
    return create_app(state_dir, [manifest_path], fleet.drivers(), credentials=credentials)


@pytest.fixture
def hooked(app: FastAPI) -> FastAPI:
    """The app with its deploy webhook on, as ``baton serve --hook-secret-env`` turns it on."""
    app.state.hook_secret = HOOK_SECRET
    return app


@pytest.fixture
async def anonymous(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url=BASE_URL) as client:
        yield client
    await app.state.dashboard.launcher.stop()


@pytest.fixture
async def api(app: FastAPI, anonymous: httpx.AsyncClient) -> httpx.AsyncClient:
    """A CI system: the bearer token on every request."""
    anonymous.headers["Authorization"] = f"Bearer {API_TOKEN}"
    return anonymous


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's headless Chromium (never a Playwright download).

    Per module: while Playwright's sync API runs, its event loop is the thread's running loop,
    and the async tests of other modules need the thread to themselves.
    """
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
