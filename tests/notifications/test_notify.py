"""Notifications against a real HTTP receiver on loopback that fails, hangs and succeeds; the
fleet is the fake one (the webhook is what is under test)."""

from __future__ import annotations

import base64
from pathlib import Path

from baton.config import parse_manifest
from baton.drivers.fake import FakeFleet
from baton.execution import run_deploy
from baton.planning import DeployOptions, Strategy, build_plan
from baton.settings import Settings
from baton.state import Store
from tests.manifests import manifest_text
from tests.receiver import receiving


def notifying(url: str, extra: str = "") -> str:
    return manifest_text(2, migration=False) + (
        "notifications:\n"
        "  dashboard_url: http://127.0.0.1:8765/\n"
        "  timeout: 0.3\n"
        "  deadline: 2\n"
        f"  webhooks:\n    - url: {url}\n{extra}"
    )


async def deploy(text: str, store: Store, *, fail: bool = False) -> int:
    manifest = parse_manifest(text)
    fleet = FakeFleet(manifest)
    if fail:
        fleet.script.on("web2: restart", exit_status=3)
    plan = build_plan(manifest, Settings(), DeployOptions("v7", Strategy.SERIAL), [])
    report = await run_deploy(plan, store, drivers=fleet.drivers())
    return report.deploy_id


async def test_start_and_end_reach_a_receiver_that_fails_twice_then_succeeds(
    tmp_path: Path,
) -> None:
    store = Store(tmp_path)
    async with receiving([500, 503]) as receiver:
        deploy_id = await deploy(notifying(receiver.url), store)
    started, finished = receiver.received[-2:]
    assert len(receiver.received) == 4 and receiver.received[0] == started
    assert (started["event"], started["status"], started["version"]) == (
        "deploy_started",
        "running",
        "v7",
    )
    assert finished["event"] == "deploy_finished" and finished["status"] == "succeeded"
    assert finished["strategy"] == "serial" and finished["deploy_id"] == deploy_id
    assert [(s["server"], s["status"], s["in_rotation"]) for s in finished["servers"]] == [
        ("web1", "succeeded", True),
        ("web2", "succeeded", True),
    ]
    assert finished["url"] == f"http://127.0.0.1:8765/deploys/{deploy_id}"
    history = [(a.message, a.attempt, a.outcome, a.detail) for a in store.notifications(deploy_id)]
    assert history == [
        ("started", 1, "retrying", "HTTP 500"),
        ("started", 2, "retrying", "HTTP 503"),
        ("started", 3, "delivered", "HTTP 200"),
        ("finished", 1, "delivered", "HTTP 200"),
    ]
    assert {a.target for a in store.notifications(deploy_id)} == {
        f"http://127.0.0.1:{receiver.port}/…"
    }


async def test_a_hanging_receiver_never_fails_the_deploy_and_is_given_up_on(
    tmp_path: Path,
) -> None:
    store = Store(tmp_path)
    async with receiving(["hang"] * 50) as receiver:
        deploy_id = await deploy(notifying(receiver.url), store)
    record = store.deploy(deploy_id)
    assert record is not None and record.status == "succeeded"
    attempts = store.notifications(deploy_id)
    assert attempts[0].detail == "no answer within 0.3s"
    assert {a.outcome for a in attempts} <= {"retrying", "gave up"}
    assert {a.message for a in attempts if a.outcome == "gave up"} == {"started", "finished"}
    assert max(a.at for a in attempts) - (record.finished_at or 0) < 2 + 1


async def test_slack_gets_text_and_a_failed_deploy_says_where_each_server_is(
    tmp_path: Path,
) -> None:
    store = Store(tmp_path)
    async with receiving([404]) as receiver, receiving([]) as slack:
        text = notifying(receiver.url, f"    - url: {slack.url}\n      format: slack\n")
        deploy_id = await deploy(text, store, fail=True)
    assert [a.outcome for a in store.notifications(deploy_id) if a.detail == "HTTP 404"] == [
        "gave up"
    ]
    started, finished = (body["text"] for body in slack.received)
    assert started.startswith(f"baton: shop deploy #{deploy_id} (v7, serial) started")
    assert finished.startswith(f"baton: shop deploy #{deploy_id} (v7, serial) failed: ")
    assert "• web1: succeeded" in finished and "• web2: failed" in finished
    assert finished.endswith(f"/deploys/{deploy_id}")


async def test_a_webhook_url_with_credentials_is_sent_as_basic_auth_and_never_shown(
    tmp_path: Path,
) -> None:
    """The Host header is host:port and the user part Basic authorization; what the history
    says of a receiver that answered something else shows neither the path nor the password."""
    store = Store(tmp_path)
    async with receiving(["garbage"]) as receiver:
        url = f"http://hook:s3cret@127.0.0.1:{receiver.port}/hooks/T0KEN"
        deploy_id = await deploy(notifying(url), store)
    shown = f"http://127.0.0.1:{receiver.port}/…"
    attempts = [(a.target, a.attempt, a.outcome, a.detail) for a in store.notifications(deploy_id)]
    assert attempts[0] == (shown, 1, "retrying", f"no HTTP answer from {shown}")
    assert "s3cret" not in str(attempts) and "T0KEN" not in str(attempts)
    lines = receiver.heads[0].split("\r\n")
    assert lines[0] == "POST /hooks/T0KEN HTTP/1.1" and f"Host: 127.0.0.1:{receiver.port}" in lines
    assert f"Authorization: Basic {base64.b64encode(b'hook:s3cret').decode()}" in lines
