"""Logging in and out in headless Chromium: the token form, logout, expiry, the styled pages,
and a Content-Security-Policy the pages (and the API docs) live with.

Screenshots go to artifacts/web/.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, expect

from tests.web.browsing import shot
from tests.web.conftest import API_TOKEN
from tests.web.live_server import LiveServer

pytestmark = pytest.mark.browser
HEADER_COLOUR = "rgb(35, 48, 61)"  # style.css: the dashboard's header


@pytest.fixture
def server(app: FastAPI) -> Iterator[LiveServer]:
    with LiveServer(app) as server:
        yield server


@pytest.fixture
def context(browser: Browser, server: LiveServer) -> Iterator[BrowserContext]:
    context = browser.new_context(base_url=server.url, viewport={"width": 1100, "height": 700})
    yield context
    context.close()


def styled(page: Page) -> bool:
    colour = page.eval_on_selector("header", "h => getComputedStyle(h).backgroundColor")
    return bool(colour == HEADER_COLOUR)


def test_log_in_with_the_api_token_and_log_out(context: BrowserContext) -> None:
    page = context.new_page()
    response = page.goto("/apps/shop")
    assert response is not None and response.status == 401
    expect(page.locator(".error")).to_contain_text("not logged in")
    assert styled(page)
    shot(page, "login-401")
    page.get_by_label("API token").fill("not the token")
    page.get_by_role("button", name="Log in").click()
    expect(page.locator(".error")).to_contain_text("wrong token")
    page.get_by_label("API token").fill(API_TOKEN)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("h1")).to_have_text("Applications")
    page.get_by_role("button", name="Log out").click()
    expect(page.locator("h1")).to_have_text("Log in")
    assert page.goto("/").status == 401  # type: ignore[union-attr]


def test_an_expired_session_asks_to_log_in_again(
    context: BrowserContext, server: LiveServer
) -> None:
    now = [1_000_000.0]
    server.credentials.clock = lambda: now[0]
    page = context.new_page()
    page.goto(server.login_url)
    expect(page.locator("h1")).to_have_text("Applications")
    now[0] += 12 * 3600 + 1
    page.reload()
    expect(page.locator(".error")).to_contain_text("your session ended")
    assert styled(page)
    shot(page, "login-session-ended")
    page.goto(server.login_url)  # the one-time link is spent
    expect(page.locator(".error")).to_contain_text("already used")
    page.get_by_label("API token").fill(API_TOKEN)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("h1")).to_have_text("Applications")


def test_pages_and_api_docs_work_under_the_security_policy(
    context: BrowserContext, server: LiveServer
) -> None:
    refused: list[str] = []

    def watch(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            refused.append(message.text)

    page = context.new_page()
    page.on("console", watch)
    page.goto(server.login_url)
    page.get_by_role("link", name="shop").click()
    page.wait_for_load_state()  # app.js, which makes the switch submit, has run
    page.get_by_role("switch", name="deploy.parallel").click()  # its script is a file now
    page.locator("#confirm-dialog").get_by_role("button", name="Change it").click()
    expect(page.locator('tr[data-setting="deploy.parallel"] .value')).to_have_text("true")
    page.get_by_role("button", name="Deploy with options…").click()
    expect(page.locator("#plan-preview")).to_contain_text("Plan: parallel")
    page.goto("/api/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("baton")
    shot(page, "api-docs")
    page.goto("/definitely/not/here")
    expect(page.locator("h1")).to_have_text("Error 404")
    assert styled(page)
    assert refused == []
