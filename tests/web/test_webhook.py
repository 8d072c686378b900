"""The deploy webhook as CI calls it: signed requests deploy, anything else is 401 and deploys
nothing, and requests during a running deploy queue (one per application, the newest wins)."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from fastapi import FastAPI

from baton.cli.main import main
from baton.web.webhook import signature
from tests.web.fakes import FakeFleet
from tests.web.test_api import follow
from tests.web.test_session import log_in

SECRET = b"hook-secret-for-tests"


@pytest.fixture
def hooked(app: FastAPI) -> FastAPI:
    app.state.hook_secret = SECRET
    return app


async def call(
    client: httpx.AsyncClient, body: bytes, sign: bytes | None = SECRET
) -> httpx.Response:
    headers = {"Content-Type": "application/json"}
    if sign is not None:
        headers["X-Hub-Signature-256"] = signature(sign, body)
    return await client.post("/hooks/deploy/shop", content=body, headers=headers)


async def until(condition: object, seconds: float = 10.0) -> None:
    async with asyncio.timeout(seconds):
        while not condition():  # type: ignore[operator]
            await asyncio.sleep(0.05)


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-Hub-Signature-256": "sha256=" + "0" * 64},
        {"X-Hub-Signature-256": signature(b"another secret", b'{"version": "v5"}')},
        {"X-Hub-Signature-256": signature(SECRET, b'{"version": "v6"}')},
    ],
    ids=["missing", "garbage", "other secret", "other body"],
)
async def test_a_bad_or_missing_signature_is_401_and_deploys_nothing(
    hooked: FastAPI, api: httpx.AsyncClient, fleet: FakeFleet, headers: dict[str, str]
) -> None:
    answer = await api.post("/hooks/deploy/shop", content=b'{"version": "v5"}', headers=headers)
    assert answer.status_code == 401
    assert "X-Hub-Signature-256" in answer.json()["detail"]
    assert (await api.get("/api/deploys")).json() == []
    assert fleet.timeline.entries == []


async def test_without_a_secret_the_webhook_is_off(app: FastAPI, api: httpx.AsyncClient) -> None:
    answer = await call(api, b"{}")
    assert answer.status_code == 404 and "--hook-secret-env" in answer.json()["detail"]
    assert (await api.get("/api/deploys")).json() == []


@pytest.mark.parametrize(
    ("body", "code", "message"),
    [
        (b"[1, 2]", 400, "a JSON object"),
        (b"{not json", 400, "not JSON"),
        (b'{"version": "no spaces"}', 400, "use letters, digits"),
        (b"x" * 70_000, 413, "body over"),
    ],
)
async def test_a_signed_bad_body_is_refused(
    hooked: FastAPI, api: httpx.AsyncClient, body: bytes, code: int, message: str
) -> None:
    answer = await call(api, body)
    assert answer.status_code == code and message in answer.json()["detail"]
    assert (await api.get("/api/deploys")).json() == []


async def test_requests_during_a_deploy_queue_and_the_newest_wins(
    hooked: FastAPI, api: httpx.AsyncClient
) -> None:
    first = await call(api, b'{"version": "v5"}')
    assert first.status_code == 202 and first.json()["queued"] is False
    running = first.json()["deploy_id"]
    second = (await call(api, b'{"version": "v6"}')).json()
    third = (await call(api, json.dumps({"version": "v7"}).encode())).json()
    assert (second["queued"], second["deploy_id"]) == (True, None)
    assert (third["queued"], third["replaced"]) == (True, "v6")
    pending = (await api.get("/api/apps/shop")).json()["pending_deploy"]
    assert (pending["version"], pending["replaced"]) == ("v7", "v6")
    await log_in(api)
    page = (await api.get("/apps/shop")).text
    assert "Queued by the deploy webhook: version <strong>v7</strong>" in page
    assert "replacing v6" in page
    _, end = await follow(api, running)
    assert end["status"] == "succeeded"
    await until(lambda: len(hooked.state.dashboard.store.deploys("shop")) == 2)
    newest = hooked.state.dashboard.store.deploys("shop")[0]
    _, end = await follow(api, newest.id)
    history = (await api.get("/api/deploys")).json()
    assert [(d["version"], d["status"]) for d in history] == [
        ("v7", "succeeded"),
        ("v5", "succeeded"),
    ]
    after = (await api.get("/api/apps/shop")).json()
    assert after["pending_deploy"] is None
    assert (after["queued_start"]["version"], after["queued_start"]["deploy_id"]) == (
        "v7",
        newest.id,
    )


async def test_the_openapi_schema_declares_the_webhook(api: httpx.AsyncClient) -> None:
    schema = (await api.get("/api/openapi.json")).json()
    hook = schema["paths"]["/hooks/deploy/{application}"]["post"]
    assert {"202", "400", "401", "404", "413", "422", "502"} <= set(hook["responses"])
    assert hook["responses"]["401"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/Problem"
    )
    assert any(p["name"] == "x-hub-signature-256" for p in hook["parameters"])


def test_serve_refuses_an_unset_secret_variable(capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["serve", "--hook-secret-env", "BATON_TEST_UNSET_HOOK_SECRET"])
    err = capsys.readouterr().err
    assert status == 2 and err.count("\n") == 1
    assert "BATON_TEST_UNSET_HOOK_SECRET: the variable is not set" in err
