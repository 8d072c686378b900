"""The deploy webhook as CI calls it: signed requests deploy, anything else is refused and
deploys nothing, and requests during a running deploy queue (one per application, the newest
wins). How a request is signed, and why a replay is refused: test_hook_signing.py."""

from __future__ import annotations

import asyncio
import json
import secrets
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from baton.cli.main import main
from baton.cli.serve import hook_secret
from baton.clock import Clock
from baton.config.model import Server
from baton.drivers.local import LocalTransport
from baton.drivers.transport import ShellCommand
from baton.web.hook_signing import baton_signature
from tests.web.conftest import HOOK_SECRET as SECRET
from tests.web.fakes import FakeFleet
from tests.web.test_api import follow
from tests.web.test_session import log_in


def signed(
    clock: Clock, body: bytes, *, application: str = "shop", secret: bytes = SECRET
) -> dict[str, str]:
    """The headers a CI job sends: the time, a new delivery id, and the signature of both with
    the path and the body."""
    timestamp, delivery = str(int(clock.time())), secrets.token_hex(16)
    return {
        "Content-Type": "application/json",
        "X-Baton-Timestamp": timestamp,
        "X-Baton-Delivery": delivery,
        "X-Baton-Signature": baton_signature(secret, application, timestamp, delivery, body),
    }


async def call(client: httpx.AsyncClient, body: bytes, clock: Clock) -> httpx.Response:
    """POST ``body`` to shop's webhook, signed as CI signs it, at ``clock``'s time."""
    return await client.post("/hooks/deploy/shop", content=body, headers=signed(clock, body))


async def until(condition: object, seconds: float = 10.0) -> None:
    async with asyncio.timeout(seconds):
        while not condition():  # type: ignore[operator]
            await asyncio.sleep(0.05)


async def test_an_unsigned_request_is_401_and_deploys_nothing(
    hooked: FastAPI, api: httpx.AsyncClient, fleet: FakeFleet
) -> None:
    answer = await api.post("/hooks/deploy/shop", content=b'{"version": "v5"}')
    assert answer.status_code == 401
    assert answer.json()["detail"].startswith("unsigned: send X-Baton-Timestamp, X-Baton-")
    assert (await api.get("/api/deploys")).json() == []
    assert fleet.timeline.entries == []


async def test_without_a_secret_the_webhook_is_off(
    app: FastAPI, api: httpx.AsyncClient, fleet: FakeFleet
) -> None:
    answer = await call(api, b"{}", fleet.clock)
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
    hooked: FastAPI, api: httpx.AsyncClient, fleet: FakeFleet, body: bytes, code: int, message: str
) -> None:
    answer = await call(api, body, fleet.clock)
    assert answer.status_code == code and message in answer.json()["detail"]
    assert (await api.get("/api/deploys")).json() == []


async def test_requests_during_a_deploy_queue_and_the_newest_wins(
    hooked: FastAPI, api: httpx.AsyncClient, fleet: FakeFleet
) -> None:
    first = await call(api, b'{"version": "v5"}', fleet.clock)
    assert first.status_code == 202 and first.json()["queued"] is False
    running = first.json()["deploy_id"]
    second = (await call(api, b'{"version": "v6"}', fleet.clock)).json()
    third = (await call(api, json.dumps({"version": "v7"}).encode(), fleet.clock)).json()
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
    assert {"202", "400", "401", "404", "409", "413", "422", "502"} <= set(hook["responses"])
    assert hook["responses"]["401"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/Problem"
    )
    assert {p["name"] for p in hook["parameters"] if p["in"] == "header"} == {
        "x-baton-timestamp",
        "x-baton-delivery",
        "x-baton-signature",
        "x-hub-signature-256",
        "x-github-delivery",
    }


def test_serve_refuses_an_unset_secret_variable(capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["serve", "--hook-secret-env", "BATON_TEST_UNSET_HOOK_SECRET"])
    err = capsys.readouterr().err
    assert status == 2 and err.count("\n") == 1
    assert "BATON_TEST_UNSET_HOOK_SECRET: the variable is not set" in err


@pytest.mark.parametrize("where", ["env", "file"])
def test_serve_refuses_a_secret_shorter_than_32_bytes(
    where: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    short = "s" * 31
    if where == "env":
        monkeypatch.setenv("BATON_TEST_SHORT_HOOK_SECRET", short)
        option = ["--hook-secret-env", "BATON_TEST_SHORT_HOOK_SECRET"]
    else:
        (tmp_path / "secret").write_text(short + "\n")
        option = ["--hook-secret-file", str(tmp_path / "secret")]
    status = main(["serve", *option])
    err = capsys.readouterr().err
    assert status == 2 and err.count("\n") == 1
    assert f"{option[1]}: the secret is 31 bytes; use at least 32 (openssl rand -hex 32)" in err


async def test_the_secret_variable_is_gone_before_any_command_starts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Steps, hooks and balancer commands on this machine inherit baton's environment: once
    read, the webhook's secret is no longer in it, so a hook running ``env`` cannot show it."""
    secret = secrets.token_hex(32)
    monkeypatch.setenv("HOOKSEC", secret)
    assert hook_secret("HOOKSEC", None) == secret.encode()
    server = Server(name="here", address="localhost", transport="local")
    printed = await LocalTransport(server).run(ShellCommand("env", timeout=10))
    assert printed.ok and "PATH=" in printed.output
    assert "HOOKSEC" not in printed.output and secret not in printed.output
