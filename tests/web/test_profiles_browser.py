"""Deployment profiles in headless Chromium: "Deploy with options" saves its choices as a
profile, the application page offers a button per profile, and the button deploys with them.
Fake drivers; the CLI's view of the state is checked through the store it shares."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from playwright.sync_api import Browser, Page, expect

from baton.state import Store
from tests.web.browsing import shot
from tests.web.fakes import FakeFleet
from tests.web.live_server import LiveServer

pytestmark = pytest.mark.browser


@pytest.fixture
def page(browser: Browser, app: FastAPI) -> Iterator[Page]:
    with LiveServer(app) as server:
        context = browser.new_context(base_url=server.url, viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.goto(server.login_url)
        page.goto("/apps/shop")
        yield page
        context.close()


def test_save_options_as_a_profile_then_deploy_with_its_button(
    page: Page, state_dir: Path, fleet: FakeFleet
) -> None:
    expect(page.locator("#profiles")).to_have_count(0)
    page.get_by_role("button", name="Deploy with options…").click()
    dialog = page.locator("#options-dialog")
    dialog.get_by_label("Parallel").check()
    dialog.get_by_label("Skip").check()
    dialog.get_by_label("profile named").fill("hotfix")
    dialog.get_by_role("button", name="Save as profile").click()
    button = page.locator("#profiles").get_by_role("button", name="Deploy with hotfix")
    expect(button).to_be_visible()
    expect(page.locator("#profiles")).to_contain_text("parallel, skip migrations")
    assert Store(state_dir).profiles("shop") == {
        "hotfix": {"strategy": "parallel", "run_migrations": False}
    }
    assert Store(state_dir).deploys() == []  # saving deployed nothing
    shot(page, "profile-saved")
    button.click()
    confirmation = page.locator("#confirm-text")
    expect(confirmation).to_contain_text("Strategy: parallel")
    expect(confirmation).to_contain_text("Migrations: skipped")
    page.locator("#confirm-dialog").get_by_role("button", name="Deploy now").click()
    expect(page.locator("#status")).to_have_text("succeeded", timeout=20_000)
    (record,) = Store(state_dir).deploys("shop")
    assert record.strategy == "parallel" and record.plan["run_migrations"] is False
    assert fleet.removals() == []  # parallel: the load balancers were never touched
    assert not [c for c in fleet.timeline.commands() if c.startswith("migrate")]


def test_a_bad_profile_name_is_refused_and_saves_nothing(page: Page, state_dir: Path) -> None:
    page.get_by_role("button", name="Deploy with options…").click()
    dialog = page.locator("#options-dialog")
    dialog.get_by_label("profile named").fill("no spaces")
    dialog.get_by_role("button", name="Save as profile").click()
    expect(page.locator("body")).to_contain_text("profile name 'no spaces': use letters")
    assert Store(state_dir).profiles("shop") == {}
