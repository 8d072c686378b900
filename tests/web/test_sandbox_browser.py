"""The dashboard deploying to the real sandbox fleet (sshd + HAProxy + apps), in Chromium."""

from __future__ import annotations

import asyncio
import itertools
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from baton.sandbox import fleet
from baton.sandbox.status import IN_ROTATION, status
from baton.web import create_app
from tests.web.browsing import rotation_spans, shot, watch_rotation
from tests.web.live_server import LiveServer

pytestmark = [pytest.mark.browser, pytest.mark.integration]


@pytest.fixture
def sandbox(sandbox_fleet: fleet.Sandbox) -> fleet.Sandbox:
    """The shared fleet without lag or waits (another test may have left some)."""
    return fleet.up(sandbox_fleet.directory, lag=0, waits=0)


def test_serial_deploy_to_the_sandbox_fleet(
    browser: Browser, sandbox: fleet.Sandbox, tmp_path: Path
) -> None:
    names = [s.name for s in sandbox.servers]
    version = f"web-{uuid.uuid4().hex[:8]}"
    with LiveServer(create_app(tmp_path / "state", [sandbox.manifest])) as server:
        context = browser.new_context(base_url=server.url, viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.goto(server.login_url)
        rotation = page.locator('section[data-app="sandbox"] .rotation')
        expect(rotation).to_have_text([IN_ROTATION] * len(names))  # as HAProxy reports it
        page.get_by_role("link", name="sandbox").click()
        page.get_by_role("button", name="Deploy with options…").click()
        dialog = page.locator("#options-dialog")
        dialog.get_by_label("Serial").check()
        dialog.get_by_label("Version").fill(version)
        dialog.get_by_role("button", name="Deploy").click()
        seen = watch_rotation(page, 90, shoot_as="sandbox-live-second-server-out")
        expect(page.locator("#status")).to_have_text("succeeded")
        shot(page, "sandbox-live-succeeded")
        assert all(len(out) <= 1 for out in seen) and (names[-1],) in seen
        spans = rotation_spans(page)
        assert [name for name, _, _ in spans] == names
        assert all(a[2] <= b[1] for a, b in itertools.pairwise(spans))
        page.goto("/")
        expect(page.locator('section[data-app="sandbox"] tbody tr')).to_contain_text(
            [version] * len(names)
        )
        expect(rotation).to_have_text([IN_ROTATION] * len(names))
        context.close()
    with ThreadPoolExecutor(1) as thread:  # Playwright's loop is running in this thread
        servers = thread.submit(asyncio.run, status(sandbox)).result()
    assert [(s.version, s.membership) for s in servers] == [(version, IN_ROTATION)] * len(names)
