"""Browser sessions: the one-time login link, CSRF tokens, origin checks, and the pages' forms."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from baton.config import load_manifest
from baton.execution import prepare, run_deploy
from baton.planning import DeployOptions, Strategy
from baton.state import Store
from tests.web.conftest import BASE_URL, LOGIN_TOKEN
from tests.web.fakes import FakeFleet


async def log_in(client: httpx.AsyncClient) -> str:
    """Open the login link; return the CSRF token the application page embeds."""
    answer = await client.get(f"/login?token={LOGIN_TOKEN}")
    assert answer.status_code == 303
    cookie = answer.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie
    page = (await client.get("/apps/shop")).text
    match = re.search(r'name="csrf-token" content="([^"]+)"', page)
    assert match
    return match.group(1)


async def test_login_link_works_once(anonymous: httpx.AsyncClient) -> None:
    await log_in(anonymous)
    assert (await anonymous.get("/")).status_code == 200
    again = await anonymous.get(f"/login?token={LOGIN_TOKEN}")
    assert again.status_code == 401
    assert "already used" in again.text


async def test_page_without_session_is_401_and_says_how_to_log_in(
    anonymous: httpx.AsyncClient,
) -> None:
    answer = await anonymous.get("/apps/shop")
    assert answer.status_code == 401
    assert "one-time link" in answer.text


async def test_setting_form_needs_the_csrf_token(
    anonymous: httpx.AsyncClient, state_dir: Path
) -> None:
    csrf = await log_in(anonymous)
    form = {"key": "deploy.parallel", "value": "true"}
    refused = await anonymous.post("/apps/shop/settings", data=form)
    assert refused.status_code == 403 and "CSRF" in refused.text
    assert Store(state_dir).settings("shop") == {}
    accepted = await anonymous.post("/apps/shop/settings", data={**form, "csrf_token": csrf})
    assert accepted.status_code == 303
    assert Store(state_dir).settings("shop") == {"deploy.parallel": "true"}


async def test_cross_origin_request_is_refused_even_with_the_token(
    anonymous: httpx.AsyncClient, state_dir: Path
) -> None:
    csrf = await log_in(anonymous)
    headers = {"X-CSRF-Token": csrf, "Origin": "http://evil.example"}
    answer = await anonymous.put(
        "/api/apps/shop/settings/deploy.parallel", json={"value": "true"}, headers=headers
    )
    assert answer.status_code == 403
    assert "cross-site request refused" in answer.json()["detail"]
    headers["Origin"] = BASE_URL
    answer = await anonymous.put(
        "/api/apps/shop/settings/deploy.parallel", json={"value": "true"}, headers=headers
    )
    assert answer.status_code == 200
    assert Store(state_dir).settings("shop") == {"deploy.parallel": "true"}


async def test_deploy_form_redirects_to_the_live_page(anonymous: httpx.AsyncClient) -> None:
    csrf = await log_in(anonymous)
    form = {"csrf_token": csrf, "strategy": "serial", "migrations": "skip", "version": "7"}
    answer = await anonymous.post("/apps/shop/deploy", data=form)
    assert answer.status_code == 303
    live = await anonymous.get(answer.headers["location"])
    assert "Deploy #1: shop 7" in live.text
    assert 'data-stream="/api/deploys/1/stream"' in live.text
    await anonymous.get("/api/deploys/1/stream")  # to the end
    detail = (await anonymous.get("/deploys/1/detail")).text
    assert detail.count('<span class="status succeeded">succeeded</span>') == 3
    assert "restarting\nstarted" in detail


async def test_bad_strategy_in_the_form_is_400_page(anonymous: httpx.AsyncClient) -> None:
    csrf = await log_in(anonymous)
    answer = await anonymous.post(
        "/apps/shop/deploy", data={"csrf_token": csrf, "strategy": "sideways"}
    )
    assert answer.status_code == 400
    assert "strategy &#39;sideways&#39;: expected serial or parallel" in answer.text


async def test_a_deploy_started_elsewhere_can_be_watched(
    anonymous: httpx.AsyncClient, state_dir: Path, manifest_path: Path
) -> None:
    """As the CLI would: its own Store on the same directory, the library's run_deploy."""
    await log_in(anonymous)
    manifest = load_manifest(manifest_path)
    cli_store = Store(state_dir)
    plan = prepare(manifest, cli_store, DeployOptions("cli-1", Strategy.PARALLEL, False))
    report = await run_deploy(plan, cli_store, drivers=FakeFleet(manifest).drivers())
    stream = await anonymous.get(f"/api/deploys/{report.deploy_id}/stream")
    assert '"kind": "deploy_started"' in stream.text
    assert "event: end" in stream.text and '"status": "succeeded"' in stream.text
    home = (await anonymous.get("/")).text
    assert home.count("cli-1") == 3


@pytest.mark.real_time
async def test_deploy_button_uses_the_setting_and_a_second_one_is_refused(
    anonymous: httpx.AsyncClient, state_dir: Path, fleet: FakeFleet
) -> None:
    csrf = await log_in(anonymous)
    Store(state_dir).set_setting("shop", "deploy.parallel", "true")
    first = await anonymous.post("/apps/shop/deploy", data={"csrf_token": csrf})
    assert first.status_code == 303
    app_page = (await anonymous.get("/apps/shop")).text
    assert 'Deploy #1 is running: <a href="/deploys/1">watch it</a>' in app_page
    second = await anonymous.post("/apps/shop/deploy", data={"csrf_token": csrf})
    assert second.status_code == 409
    assert "shop: a deploy is already running (deploy #1" in second.text
    await anonymous.get("/api/deploys/1/stream")  # to the end
    record = Store(state_dir).deploy(1)
    assert record is not None and (record.strategy, record.status) == ("parallel", "succeeded")
    assert fleet.removals() == []  # parallel never touches the load balancer
