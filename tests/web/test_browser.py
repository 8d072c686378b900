"""The dashboard in headless Chromium, as an operator uses it, against fake drivers.

Screenshots go to artifacts/web/.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from playwright.sync_api import Browser, Page, expect, sync_playwright

from baton.state import Store
from tests.web.fakes import FakeFleet
from tests.web.live_server import LiveServer

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "web"
OUT = "out of rotation"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def server(app: FastAPI) -> Iterator[LiveServer]:
    with LiveServer(app) as server:
        yield server


@pytest.fixture
def page(browser: Browser, server: LiveServer) -> Iterator[Page]:
    """A logged-in page on the application's page."""
    context = browser.new_context(base_url=server.url, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(server.login_url)
    expect(page.locator("h1")).to_have_text("Applications")
    page.get_by_role("link", name="shop").click()
    expect(page.locator("h1")).to_have_text("shop")
    yield page
    context.close()


def shot(page: Page, name: str) -> None:
    page.screenshot(path=ARTIFACTS / f"{name}.png", full_page=True)


def cli_setting(state_dir: Path, key: str) -> str:
    command = [sys.executable, "-m", "baton", "settings", "get", "-s", "shop", key]
    done = subprocess.run(
        [*command, "--state", str(state_dir)], capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def watch_rotation(page: Page, timeout: float = 20.0) -> list[tuple[str, ...]]:
    """Sample the live page until the deploy ends: each change of who is out of rotation."""
    seen: list[tuple[str, ...]] = [()]
    script = """rows => rows.filter(r => r.querySelector('.rotation').textContent
                  .startsWith('out of rotation')).map(r => r.dataset.server)"""
    for _ in range(int(timeout / 0.04)):
        out = tuple(page.eval_on_selector_all("#live tbody tr", script))
        if out != seen[-1]:
            seen.append(out)
            if out == ("web2",):
                shot(page, "live-web2-out-of-rotation")
        if page.locator("#status").inner_text() != "running":
            return seen
        page.wait_for_timeout(40)
    raise AssertionError(f"the deploy did not end in {timeout}s; seen: {seen}")


def test_toggle_parallel_and_the_cli_agrees(page: Page, state_dir: Path) -> None:
    switch = page.get_by_role("switch", name="deploy.parallel")
    expect(switch).not_to_be_checked()
    switch.click()
    expect(page.get_by_role("switch", name="deploy.parallel")).to_be_checked()
    row = page.locator('tr[data-setting="deploy.parallel"]')
    expect(row.locator(".value")).to_have_text("true")
    shot(page, "settings-parallel-on")
    assert cli_setting(state_dir, "deploy.parallel") == "true"
    page.get_by_role("switch", name="deploy.parallel").click()
    expect(row.locator(".value")).to_have_text("false")
    assert cli_setting(state_dir, "deploy.parallel") == "false"


def test_serial_deploy_with_options_takes_servers_out_one_at_a_time(
    page: Page, state_dir: Path, fleet: FakeFleet
) -> None:
    Store(state_dir).set_setting("shop", "deploy.parallel", "true")
    page.reload()
    page.get_by_role("button", name="Deploy with options…").click()
    dialog = page.locator("#options-dialog")
    dialog.get_by_label("Serial").check()
    dialog.get_by_label("Version").fill("2.0.0")
    expect(dialog.locator("#plan-preview")).to_contain_text("Plan: serial")
    shot(page, "deploy-with-options-serial")
    dialog.get_by_role("button", name="Deploy").click()
    expect(page.locator("h1")).to_contain_text("shop 2.0.0")
    seen = watch_rotation(page)
    assert [s for s in seen if s] == [("web1",), ("web2",), ("web3",)]
    expect(page.locator("#status")).to_have_text("succeeded")
    expect(page.locator("#summary")).to_contain_text("Deploy succeeded")
    expect(page.locator("#live .stage")).to_have_text(["succeeded"] * 3)
    expect(page.locator("#live .rotation")).to_have_text(["back in rotation"] * 3)
    expect(page.locator("#log")).to_contain_text("web3 | started")
    shot(page, "live-succeeded")
    assert fleet.removals() == ["web1", "web2", "web3"]
    assert Store(state_dir).settings("shop")["deploy.parallel"] == "true"


def test_parallel_with_migrations_shows_the_plans_warning(page: Page) -> None:
    page.get_by_role("button", name="Deploy with options…").click()
    dialog = page.locator("#options-dialog")
    dialog.get_by_label("Parallel").check()
    dialog.get_by_label("Run").check()
    warning = dialog.locator("#plan-preview .warning")
    expect(warning).to_contain_text("serial is advised")
    shot(page, "parallel-migrations-warning")
    dialog.get_by_label("Skip").check()
    expect(dialog.locator("#plan-preview")).to_contain_text("migrations skipped")
    expect(warning).to_have_count(0)


def test_without_the_login_token_the_browser_gets_401(browser: Browser, server: LiveServer) -> None:
    context = browser.new_context(base_url=server.url)
    page = context.new_page()
    for path in ("/", "/apps/shop", "/api/apps"):
        response = page.goto(path)
        assert response is not None and response.status == 401, path
    page.goto("/")
    expect(page.locator(".error")).to_contain_text("one-time link")
    response = page.goto("/login?token=guessed")
    assert response is not None and response.status == 401
    shot(page, "unauthorized")
    context.close()
