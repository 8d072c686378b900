"""What an outside review threw at the dashboard: nothing a client sends may yield a 5xx.

Out-of-range integers, non-ASCII credentials, wrong methods, HEAD; the security headers;
sessions that end; and the deploy form recording as one-off only what the user changed.
"""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from baton.cli.main import main
from baton.state import Store
from tests.web.conftest import API_TOKEN, LOGIN_TOKEN
from tests.web.test_session import log_in

HUGE = "99999999999999999999999"  # > 2**63 - 1: SQLite cannot even look it up
SECURITY = {
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
}


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        (f"/api/deploys/{HUGE}", {}),
        (f"/api/deploys/{HUGE}/events", {}),
        ("/api/deploys/1/events?after=" + HUGE, {}),
        ("/api/deploys/1/stream?after=-1", {}),
        ("/api/deploys/1/stream", {"Last-Event-ID": HUGE}),
        ("/api/deploys/1/stream", {"Last-Event-ID": "null"}),
        ("/api/deploys/0", {}),
    ],
)
async def test_out_of_range_numbers_are_422_with_the_declared_body(
    api: httpx.AsyncClient, path: str, headers: dict[str, str]
) -> None:
    answer = await api.get(path, headers=headers)
    assert answer.status_code == 422, answer.text
    body = answer.json()
    assert isinstance(body["detail"], str) and body["errors"]


async def test_out_of_range_numbers_on_pages_and_cancel_are_4xx(
    anonymous: httpx.AsyncClient, api: httpx.AsyncClient
) -> None:
    assert (await api.post(f"/api/deploys/{HUGE}/cancel")).status_code == 422
    await log_in(anonymous)
    for path in (f"/deploys/{HUGE}", f"/deploys/{HUGE}/detail"):
        answer = await anonymous.get(path)
        assert answer.status_code == 422 and "less than or equal" in answer.text, path


async def test_non_ascii_credentials_are_refused_not_a_crash(
    anonymous: httpx.AsyncClient,
) -> None:
    bearer = await anonymous.get("/api/apps", headers={"Authorization": "Bearer é".encode()})
    assert bearer.status_code == 401
    assert (await anonymous.get("/login?token=é")).status_code == 401
    assert (await anonymous.post("/login", data={"token": "ö"})).status_code == 401
    await log_in(anonymous)
    csrf = {"X-CSRF-Token": "jeton-à-moi".encode()}
    answer = await anonymous.put(
        "/api/apps/shop/settings/deploy.parallel", json={"value": "true"}, headers=csrf
    )
    assert answer.status_code == 403 and "CSRF" in answer.json()["detail"]


async def test_the_schema_declares_what_routes_return(api: httpx.AsyncClient) -> None:
    schema = (await api.get("/api/openapi.json")).json()
    start = schema["paths"]["/api/apps/{application}/deploys"]["post"]["responses"]
    assert {"202", "400", "401", "404", "409", "422", "502"} <= set(start)
    assert start["409"]["content"]["application/json"]["schema"]["$ref"].endswith("/Problem")
    assert "HTTPValidationError" not in schema["components"]["schemas"]
    version = schema["components"]["schemas"]["DeployRequest"]["properties"]["version"]["anyOf"][0]
    assert not re.fullmatch(version["pattern"], "é")  # the schema says what the route refuses
    answer = await api.post("/api/apps/shop/deploys", json={"version": "é"})
    assert answer.status_code == 400 and "use letters" in answer.json()["detail"]


async def test_wrong_method_is_405_with_allow(api: httpx.AsyncClient) -> None:
    answer = await api.delete("/api/apps/shop/settings/deploy.parallel")
    assert answer.status_code == 405
    assert answer.headers["allow"] == "PUT"
    assert answer.json() == {"detail": "Method Not Allowed"}


async def test_every_answer_carries_the_security_headers(
    anonymous: httpx.AsyncClient, api: httpx.AsyncClient
) -> None:
    answers = [
        await api.get("/api/apps"),
        await api.get("/api/nothing-here"),
        await anonymous.get("/login"),
        await anonymous.get("/static/style.css"),
        await api.get("/api/docs"),
    ]
    for answer in answers:
        assert SECURITY.items() <= answer.headers.items(), answer.url
        policy = answer.headers["content-security-policy"]
        assert "script-src 'self';" in policy and "frame-ancestors 'none'" in policy
        assert "<script>" not in answer.text and "javascript:" not in answer.text


async def test_head_works_wherever_get_does(api: httpx.AsyncClient) -> None:
    started = (await api.post("/api/apps/shop/deploys", json={"version": "h1"})).json()
    for path in (started["stream_url"], "/api/apps", "/api/docs", "/static/app.js"):
        head, get = await api.head(path), await api.get(path)  # HEAD of a running deploy's stream
        assert (head.status_code, head.content) == (200, b""), path
        assert head.headers["content-type"] == get.headers["content-type"]


async def test_a_browser_resumes_the_stream_after_last_event_id(api: httpx.AsyncClient) -> None:
    started = (await api.post("/api/apps/shop/deploys", json={"version": "r1"})).json()
    everything = (await api.get(started["stream_url"])).text
    ids = [int(i) for i in re.findall(r"^id: (\d+)$", everything, re.MULTILINE)]
    resumed = await api.get(started["stream_url"], headers={"Last-Event-ID": str(ids[-2])})
    assert re.findall(r"^id: (\d+)$", resumed.text, re.MULTILINE) == [str(ids[-1])]


async def test_session_expires_and_the_api_token_logs_in_again(
    app: FastAPI, anonymous: httpx.AsyncClient
) -> None:
    credentials = app.state.credentials
    now = [1_000.0]
    credentials.clock = lambda: now[0]
    await log_in(anonymous)
    now[0] += 12 * 3600 - 1
    assert (await anonymous.get("/")).status_code == 200
    now[0] += 2
    expired = await anonymous.get("/")
    assert expired.status_code == 401 and "session ended" in expired.text
    assert 'action="/login"' in expired.text  # the 401 page is the login form
    spent = await anonymous.get(f"/login?token={LOGIN_TOKEN}")
    assert spent.status_code == 401 and "paste the API token" in spent.text
    again = await anonymous.post("/login", data={"token": API_TOKEN})
    assert again.status_code == 303 and "Max-Age=43200" in again.headers["set-cookie"]
    assert len(credentials.sessions) == 1  # the expired one is forgotten, not kept forever
    assert (await anonymous.get("/")).status_code == 200


async def test_logout_ends_the_session(anonymous: httpx.AsyncClient) -> None:
    csrf = await log_in(anonymous)
    assert (await anonymous.post("/logout")).status_code == 403  # CSRF, as for any change
    answer = await anonymous.post("/logout", data={"csrf_token": csrf})
    assert answer.status_code == 303 and answer.headers["location"] == "/login"
    assert (await anonymous.get("/")).status_code == 401


async def test_login_from_another_site_is_refused(anonymous: httpx.AsyncClient) -> None:
    answer = await anonymous.post(
        "/login", data={"token": API_TOKEN}, headers={"Sec-Fetch-Site": "cross-site"}
    )
    assert answer.status_code == 403
    assert (await anonymous.get("/")).status_code == 401


def test_serve_refuses_a_session_length_that_is_not_hours(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["serve", "--session-hours", "0"])
    assert exit_.value.code == 2
    assert "--session-hours: '0': a number of hours" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("form", "strategy", "origin"),
    [
        ({"strategy": "serial", "migrations": "run"}, "serial", "from the setting"),
        ({"strategy": "parallel", "migrations": "run"}, "parallel", "chosen for this deploy only"),
    ],
)
async def test_deploy_with_options_records_only_what_the_user_changed(
    anonymous: httpx.AsyncClient, form: dict[str, str], strategy: str, origin: str
) -> None:
    csrf = await log_in(anonymous)
    answer = await anonymous.post("/apps/shop/deploy", data={"csrf_token": csrf, **form})
    assert answer.status_code == 303
    live = (await anonymous.get(answer.headers["location"])).text
    assert f"Strategy <strong>{strategy}</strong>, {origin}" in live
    assert "migrations on web1, from the setting" in live
    assert "--" not in live.split("<h1>")[1].split("</p>")[0]  # no CLI flags in the words
    await anonymous.get("/api/deploys/1/stream")  # to the end


async def test_a_form_choice_equal_to_the_setting_is_not_one_off(
    anonymous: httpx.AsyncClient, state_dir: Path
) -> None:
    Store(state_dir).set_setting("shop", "deploy.parallel", "true")
    csrf = await log_in(anonymous)
    form = {"csrf_token": csrf, "strategy": "parallel", "migrations": "skip"}
    answer = await anonymous.post("/apps/shop/deploy", data=form)
    live = (await anonymous.get(answer.headers["location"])).text
    assert "Strategy <strong>parallel</strong>, from the setting deploy.parallel = true" in live
    assert "migrations skipped, chosen for this deploy only" in live
    await anonymous.get("/api/deploys/1/stream")
