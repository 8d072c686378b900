"""The dashboard in headless Chromium, as an operator uses it, against fake drivers.

Screenshots go to artifacts/web/.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from playwright.sync_api import Browser, Page, expect

from baton.state import Store
from tests.web.browsing import cli_setting, rotation_spans, shot, watch_rotation
from tests.web.fakes import FakeFleet
from tests.web.live_server import LiveServer

pytestmark = pytest.mark.browser


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


def test_toggle_parallel_and_the_cli_agrees(page: Page, state_dir: Path) -> None:
    switch = page.get_by_role("switch", name="deploy.parallel")
    expect(switch).not_to_be_checked()
    switch.click()
    confirm = page.locator("#confirm-dialog")
    expect(confirm).to_contain_text("Set deploy.parallel to true.")
    expect(confirm).to_contain_text("Strategy: parallel: all at once, load balancers untouched")
    shot(page, "settings-parallel-confirm")
    confirm.get_by_role("button", name="Cancel").click()
    expect(switch).not_to_be_checked()
    assert cli_setting(state_dir, "shop", "deploy.parallel") == "false"
    switch.click()
    confirm.get_by_role("button", name="Change it").click()
    expect(page.get_by_role("switch", name="deploy.parallel")).to_be_checked()
    row = page.locator('tr[data-setting="deploy.parallel"]')
    expect(row.locator(".value")).to_have_text("true")
    shot(page, "settings-parallel-on")
    assert cli_setting(state_dir, "shop", "deploy.parallel") == "true"
    page.get_by_role("switch", name="deploy.parallel").click()
    page.get_by_role("button", name="Change it").click()
    expect(row.locator(".value")).to_have_text("false")
    assert cli_setting(state_dir, "shop", "deploy.parallel") == "false"


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
    seen = watch_rotation(page, 20, shoot_as="live-web2-out-of-rotation")
    assert all(len(out) <= 1 for out in seen)  # never two out at once, as it happened
    assert ("web3",) in seen  # and the page showed it live
    spans = rotation_spans(page)  # who was out when, as the page records it
    assert [name for name, _, _ in spans] == ["web1", "web2", "web3"]
    for (_, _, back), (_, out, _) in itertools.pairwise(spans):
        assert back <= out
    expect(page.locator("#live .out-span")).to_have_count(3)
    expect(page.locator("#status")).to_have_text("succeeded")
    expect(page.locator("#summary")).to_contain_text("web3: succeeded - now serving 2.0.0")
    expect(page.locator("#live .stage")).to_have_text(["succeeded"] * 3)
    expect(page.locator("#live .rotation")).to_have_text(["back in rotation"] * 3)
    expect(page.locator("#log")).to_contain_text("web3 | started")
    shot(page, "live-succeeded")
    assert fleet.removals() == ["web1", "web2", "web3"]
    assert Store(state_dir).settings("shop")["deploy.parallel"] == "true"


def test_parallel_with_migrations_shows_the_plans_warning(page: Page, state_dir: Path) -> None:
    Store(state_dir).set_setting("shop", "deploy.migrations_first", "false")
    page.reload()
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
    dialog.get_by_label("Serial").check()
    dialog.get_by_label("Batches").fill("2")
    dialog.get_by_label("Batches").dispatch_event("change")
    expect(dialog.locator("#plan-preview")).to_contain_text("Plan: serial, batches of 2, 1")


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


def test_cancel_button_interrupts_the_deploy(page: Page, state_dir: Path) -> None:
    page.get_by_role("button", name="Deploy", exact=True).click()
    expect(page.locator("#confirm-text")).to_contain_text("Strategy: serial: one server at a time")
    expect(page.locator("#confirm-text")).to_contain_text("Load balancer waits add about 0s")
    page.get_by_role("button", name="Deploy now").click()
    expect(page.locator("h1")).to_contain_text("Deploy #1")
    page.get_by_role("button", name="Cancel deploy").click()
    expect(page.locator("#status")).to_have_text("cancelled", timeout=15_000)
    expect(page.locator("#summary")).to_contain_text(re.compile("cancelled|interrupted"))
    expect(page.locator("#log")).to_contain_text("deploy #1 cancelled")
    expect(page.get_by_role("button", name="Cancel deploy")).to_have_count(0)
    shot(page, "live-cancelled")
    assert Store(state_dir).deploys("shop")[0].status == "cancelled"
