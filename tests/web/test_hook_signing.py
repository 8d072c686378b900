"""What a webhook request must carry to deploy, as a stranger would try it: a captured request
replayed (as is, to another application, later, with a new delivery id), signatures that do
not match, and the README's curl and openssl recipe run as a CI job runs it."""

from __future__ import annotations

import re
import secrets
import subprocess
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi import FastAPI

from baton.clock import FakeClock
from baton.config import load_manifest
from baton.drivers.fake import FakeFleet
from baton.web.hook_signing import (
    MEMORY,
    Deliveries,
    HookHeaders,
    HookSigning,
    Refused,
    baton_signature,
    hub_signature,
)
from tests.web.conftest import HOOK_SECRET as SECRET
from tests.web.fakes import slow_script
from tests.web.test_webhook import signed

README = Path(__file__).parents[2] / "README.md"
BODY = b'{"version": "v5"}'


@pytest.fixture
def fleet(manifest_path: Path) -> FakeFleet:
    """Fake time that starts at the real time, as the README's recipe signs with ``date``."""
    return FakeFleet(load_manifest(manifest_path), slow_script(), FakeClock(time.time()))


async def deploys(api: httpx.AsyncClient) -> list[str]:
    return [d["version"] for d in (await api.get("/api/deploys")).json()]


async def test_a_replayed_request_is_409_and_deploys_once(
    hooked: FastAPI, api: httpx.AsyncClient, fleet: FakeFleet
) -> None:
    headers = signed(fleet.clock, BODY)
    first = await api.post("/hooks/deploy/shop", content=BODY, headers=headers)
    again = await api.post("/hooks/deploy/shop", content=BODY, headers=headers)
    assert first.status_code == 202 and again.status_code == 409
    assert f"delivery {headers['X-Baton-Delivery']} " in again.json()["detail"]
    assert "a retry is a new request" in again.json()["detail"]
    assert await deploys(api) == ["v5"]


async def test_an_empty_body_replayed_is_refused_too(
    hooked: FastAPI, api: httpx.AsyncClient, fleet: FakeFleet
) -> None:
    headers = signed(fleet.clock, b"")
    assert (await api.post("/hooks/deploy/shop", headers=headers)).status_code == 202
    assert (await api.post("/hooks/deploy/shop", headers=headers)).status_code == 409
    assert len(await deploys(api)) == 1


async def test_a_request_signed_for_another_application_is_401(
    hooked: FastAPI, api: httpx.AsyncClient, fleet: FakeFleet
) -> None:
    headers = signed(fleet.clock, BODY, application="blog")
    answer = await api.post("/hooks/deploy/shop", content=BODY, headers=headers)
    assert answer.status_code == 401
    assert answer.json()["detail"].startswith("wrong X-Baton-Signature: sha256=<hex HMAC-SHA256")
    assert await deploys(api) == [] and fleet.timeline.entries == []


@pytest.mark.parametrize(
    ("seconds", "accepted", "said"),
    [
        (-300, True, ""),
        (300, True, ""),
        (301, False, "301s behind this server's clock"),
        (-301, False, "301s ahead of this server's clock"),
        (86_400 * 30, False, "2592000s behind"),
    ],
    ids=["5 min early", "5 min late", "late", "early", "a month late"],
)
async def test_only_a_timestamp_within_5_minutes_of_the_servers_clock_deploys(
    hooked: FastAPI,
    api: httpx.AsyncClient,
    fleet: FakeFleet,
    seconds: float,
    accepted: bool,
    said: str,
) -> None:
    """Signed now, sent ``seconds`` later on the server's (fake) clock."""
    headers = signed(fleet.clock, BODY)
    assert isinstance(fleet.clock, FakeClock)
    if seconds > 0:
        fleet.clock.advance(seconds)
    else:
        headers = signed(FakeClock(fleet.clock.time() - seconds), BODY)
    answer = await api.post("/hooks/deploy/shop", content=BODY, headers=headers)
    assert answer.status_code == (202 if accepted else 401)
    if not accepted:
        assert said in answer.json()["detail"]
        assert "(at most 300s either way): sign just before sending" in answer.json()["detail"]
    assert await deploys(api) == (["v5"] if accepted else [])


def tampered(headers: dict[str, str], **changes: str) -> dict[str, str]:
    return {**headers, **{f"X-Baton-{name.title()}": value for name, value in changes.items()}}


@pytest.mark.parametrize(
    ("change", "said"),
    [
        ({"signature": "sha256=" + "0" * 64}, "wrong X-Baton-Signature"),
        ({"timestamp": "SHIFT"}, "wrong X-Baton-Signature"),
        ({"delivery": "another-delivery-id"}, "wrong X-Baton-Signature"),
        ({"timestamp": ""}, "X-Baton-Timestamp: expected seconds since the epoch"),
        ({"timestamp": "1e9"}, "X-Baton-Timestamp: expected seconds since the epoch"),
        ({"delivery": "short"}, "X-Baton-Delivery: a new id per request, 8 to 128"),
        ({"delivery": "id with spaces"}, "X-Baton-Delivery: a new id per request"),
    ],
    ids=[
        "garbage",
        "timestamp changed",
        "id changed",
        "no time",
        "not digits",
        "short",
        "spaces",
    ],
)
async def test_a_request_changed_after_signing_is_401(
    hooked: FastAPI,
    api: httpx.AsyncClient,
    fleet: FakeFleet,
    change: dict[str, str],
    said: str,
) -> None:
    headers = signed(fleet.clock, BODY)
    if change.get("timestamp") == "SHIFT":
        change = {"timestamp": str(int(headers["X-Baton-Timestamp"]) - 1)}
    answer = await api.post("/hooks/deploy/shop", content=BODY, headers=tampered(headers, **change))
    assert answer.status_code == 401 and said in answer.json()["detail"]
    assert await deploys(api) == []


async def test_another_secret_or_another_body_is_401(
    hooked: FastAPI, api: httpx.AsyncClient, fleet: FakeFleet
) -> None:
    other_secret = signed(fleet.clock, BODY, secret=b"another secret, also 32 bytes long!")
    answer = await api.post("/hooks/deploy/shop", content=BODY, headers=other_secret)
    assert answer.status_code == 401
    answer = await api.post("/hooks/deploy/shop", content=b"{}", headers=signed(fleet.clock, BODY))
    assert answer.status_code == 401
    assert await deploys(api) == []


def test_a_timestamp_is_ascii_digits_only() -> None:
    """Headers arrive as latin-1: "²" passes ``str.isdigit`` but ``int`` refuses it."""
    signing = HookSigning(SECRET, FakeClock(), Deliveries(FakeClock()))
    headers = HookHeaders(signature="sha256=0", timestamp="\u00b2", delivery="a-delivery-id")
    with pytest.raises(Refused, match="X-Baton-Timestamp: expected seconds since the epoch"):
        signing.admit("shop", BODY, headers)


def github(body: bytes, delivery: str | None, secret: bytes = SECRET) -> dict[str, str]:
    headers = {"X-Hub-Signature-256": hub_signature(secret, body)}
    return headers if delivery is None else {**headers, "X-GitHub-Delivery": delivery}


async def test_github_style_needs_a_delivery_id_and_deploys_a_body_once(
    hooked: FastAPI, api: httpx.AsyncClient
) -> None:
    first, second = "72d3162e-cc78-11e3-81ab-4c9367dc0958", "8a1b0d32-cc78-11e3-81ab-4c9367dc0958"
    answers = [
        await api.post("/hooks/deploy/shop", content=BODY, headers=github(BODY, None)),
        await api.post("/hooks/deploy/shop", content=BODY, headers=github(b"{}", first)),
        await api.post("/hooks/deploy/shop", content=BODY, headers=github(BODY, first)),
        await api.post("/hooks/deploy/shop", content=BODY, headers=github(BODY, first)),
        await api.post("/hooks/deploy/shop", content=BODY, headers=github(BODY, second)),
    ]
    assert [a.status_code for a in answers] == [401, 401, 202, 409, 409]
    assert "X-GitHub-Delivery: a new id per request" in answers[0].json()["detail"]
    assert "wrong X-Hub-Signature-256" in answers[1].json()["detail"]
    assert (
        answers[4]
        .json()["detail"]
        .startswith(
            f"delivery {second} (or this body, signed with X-Hub-Signature-256 only) was received"
        )
    )
    assert await deploys(api) == ["v5"]


def test_deliveries_are_remembered_a_day_and_at_most_a_bounded_number(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = FakeClock()
    deliveries = Deliveries(clock)
    assert deliveries.first_time("a") and not deliveries.first_time("a")
    assert not deliveries.first_time("b", "a") and deliveries.first_time("b")
    clock.advance(MEMORY - 1)
    assert not deliveries.first_time("a")
    clock.advance(1)
    assert deliveries.first_time("a")
    monkeypatch.setattr("baton.web.hook_signing.REMEMBERED", 3)
    for key in "cde":
        assert deliveries.first_time(key)
    assert deliveries.first_time("a") and deliveries.first_time("b")  # the two oldest went


def readme_recipe() -> str:
    """The shell block of the README's deploy webhook section (the one CI is told to copy)."""
    section = README.read_text().split("- **Deploy webhook for CI.**", 1)[1]
    blocks = re.findall(r"```sh\n(.*?)```", section, re.S)
    return next(block for block in blocks if "X-Baton-Signature" in block)


def run_recipe(secret: bytes) -> list[str]:
    """Run the recipe in bash as CI would (date, openssl, printf), with a ``curl`` that prints
    its arguments instead of sending them."""
    prelude = "curl() { printf '%s\\0' \"$@\"; }\n"
    shell = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", prelude + readme_recipe()],
        env={"PATH": "/usr/bin:/bin", "BATON_HOOK_SECRET": secret.decode()},
        capture_output=True,
        check=True,
    )
    return shell.stdout.decode().split("\0")[:-1]


def as_request(arguments: list[str]) -> tuple[str, dict[str, str], bytes]:
    """The curl arguments as (path, headers, body)."""
    headers, body, url = {}, b"", ""
    words = iter(arguments)
    for word in words:
        if word == "-H":
            name, value = next(words).split(": ", 1)
            headers[name] = value
        elif word == "--data-binary":
            body = next(words).encode()
        elif word == "-X":
            assert next(words) == "POST"
        elif word.startswith("https://"):
            url = word
    return urlsplit(url).path, headers, body


async def test_the_readmes_recipe_deploys_once(hooked: FastAPI, api: httpx.AsyncClient) -> None:
    path, headers, body = as_request(run_recipe(SECRET))
    assert path == "/hooks/deploy/shop" and body == b'{"version": "1.4.2"}'
    assert set(headers) >= {"X-Baton-Timestamp", "X-Baton-Delivery", "X-Baton-Signature"}
    answer = await api.post(path, content=body, headers=headers)
    assert answer.status_code == 202, answer.text
    assert (answer.json()["version"], answer.json()["queued"]) == ("1.4.2", False)
    assert (await api.post(path, content=body, headers=headers)).status_code == 409
    path, headers, body = as_request(run_recipe(secrets.token_hex(16).encode()))
    assert (await api.post(path, content=body, headers=headers)).status_code == 401
    assert await deploys(api) == ["1.4.2"]


def test_the_recipe_signs_what_baton_signs() -> None:
    """Line by line, the recipe's HMAC is :func:`baton_signature` of what it sent."""
    path, headers, body = as_request(run_recipe(SECRET))
    timestamp, delivery = headers["X-Baton-Timestamp"], headers["X-Baton-Delivery"]
    expected = baton_signature(SECRET, path.rsplit("/", 1)[1], timestamp, delivery, body)
    assert headers["X-Baton-Signature"] == expected
    assert re.fullmatch(r"[0-9a-f]{32}", delivery) and abs(int(timestamp) - time.time()) < 60
