"""The JSON API as a CI system uses it: bearer token, JSON in and out, clear 4xx answers."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from baton.cli.main import main
from baton.config import load_manifest
from baton.state import Store
from baton.web import Credentials, create_app
from tests.manifests import manifest_text
from tests.web.conftest import API_TOKEN, BASE_URL, LOGIN_TOKEN
from tests.web.fakes import FakeFleet


async def follow(client: httpx.AsyncClient, deploy_id: int) -> tuple[list[Any], dict[str, Any]]:
    """Read the deploy's event stream to its end: (events, end message)."""
    answer = await client.get(f"/api/deploys/{deploy_id}/stream")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/event-stream")
    events, end = [], {}
    for message in answer.text.split("\n\n"):
        data = [line[6:] for line in message.splitlines() if line.startswith("data: ")]
        if not data:
            continue
        if "event: end" in message:
            end = json.loads(data[0])
        else:
            events.append(json.loads(data[0]))
    return events, end


async def test_without_a_token_every_route_is_401(anonymous: httpx.AsyncClient) -> None:
    for path in ("/api/apps", "/api/deploys", "/api/docs", "/api/openapi.json", "/", "/history"):
        answer = await anonymous.get(path)
        assert answer.status_code == 401, path
    answer = await anonymous.get("/api/apps", headers={"Authorization": "Bearer wrong"})
    assert answer.status_code == 401
    assert "log in with the one-time link" in answer.json()["detail"]


async def test_lists_applications_with_servers_and_rotation(api: httpx.AsyncClient) -> None:
    apps = (await api.get("/api/apps")).json()
    assert [a["application"] for a in apps] == ["shop"]
    servers = apps[0]["servers"]
    assert [s["name"] for s in servers] == ["web1", "web2", "web3"]
    assert {s["rotation"] for s in servers} == {"in rotation"}
    assert {s["version"] for s in servers} == {None}
    assert "last deploy that succeeded" in apps[0]["version_source"]


async def test_setting_changed_through_the_api_is_what_the_cli_reads(
    api: httpx.AsyncClient, state_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    answer = await api.put("/api/apps/shop/settings/deploy.parallel", json={"value": "on"})
    assert answer.status_code == 200
    assert answer.json() == {"application": "shop", "key": "deploy.parallel", "value": "true"}
    main(["settings", "get", "-s", "shop", "deploy.parallel", "--state", str(state_dir)])
    assert capsys.readouterr().out == "true\n"


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("deploy.paralel", "true", "unknown setting 'deploy.paralel'; valid settings:"),
        ("deploy.parallel", "maybe", "deploy.parallel: invalid value 'maybe'"),
    ],
)
async def test_bad_setting_is_400_and_changes_nothing(
    api: httpx.AsyncClient, state_dir: Path, key: str, value: str, message: str
) -> None:
    answer = await api.put(f"/api/apps/shop/settings/{key}", json={"value": value})
    assert answer.status_code == 400
    assert message in answer.json()["detail"]
    assert Store(state_dir).settings("shop") == {}


async def test_unknown_application_is_404(api: httpx.AsyncClient) -> None:
    answer = await api.put("/api/apps/blog/settings/deploy.parallel", json={"value": "true"})
    assert answer.status_code == 404
    assert answer.json()["detail"] == "no application 'blog'; known: shop"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"strategy": "sideways"}, "strategy: Input should be 'serial' or 'parallel'"),
        ({"version": "no spaces allowed"}, "version 'no spaces allowed': use letters"),
        ({"run_migrations": "perhaps"}, "run_migrations: Input should be a valid boolean"),
        ({"stratgy": "serial"}, "stratgy: Extra inputs are not permitted"),
        ({"batch": "0"}, "batch '0': '0' is not a batch size"),
        ({"batch": "2", "strategy": "parallel"}, "--batch and --parallel"),
    ],
)
async def test_bad_deploy_request_is_4xx_and_starts_nothing(
    api: httpx.AsyncClient, fleet: FakeFleet, body: dict[str, str], message: str
) -> None:
    answer = await api.post("/api/apps/shop/deploys", json=body)
    assert answer.status_code in {400, 422}
    assert message in answer.json()["detail"]
    assert (await api.get("/api/deploys")).json() == []
    assert fleet.timeline.entries == []


async def test_plan_warns_when_parallel_runs_migrations_among_steps(
    api: httpx.AsyncClient,
) -> None:
    query = {"strategy": "parallel", "run_migrations": "true"}
    first = (await api.get("/api/apps/shop/plan", params=query)).json()
    assert first["warnings"] == [] and first["wave_phases"][0] == "migrate"
    change = {"value": "false"}
    assert (
        await api.put("/api/apps/shop/settings/deploy.migrations_first", json=change)
    ).is_success
    plan = (await api.get("/api/apps/shop/plan", params=query)).json()
    assert any("serial is advised" in w for w in plan["warnings"])
    serial = (await api.get("/api/apps/shop/plan", params={"strategy": "serial"})).json()
    assert serial["warnings"] == []
    skipped = {"strategy": "parallel", "run_migrations": "false"}
    assert (await api.get("/api/apps/shop/plan", params=skipped)).json()["warnings"] == []


async def test_plan_in_batches(api: httpx.AsyncClient) -> None:
    plan = (await api.get("/api/apps/shop/plan", params={"batch": "100%"})).json()
    assert plan["strategy"] == "serial" and plan["batches"] == [2, 1]
    assert plan["notes"] == [
        "batches of 3 shrunk to 2: deploy.min_in_service = 1 keeps 1 of 3 servers in rotation"
    ]


async def test_serial_deploy_runs_to_success_and_is_followed(
    api: httpx.AsyncClient, fleet: FakeFleet
) -> None:
    body = {"strategy": "serial", "version": "1.2.3", "run_migrations": False}
    answer = await api.post("/api/apps/shop/deploys", json=body)
    assert answer.status_code == 202
    deploy_id = answer.json()["deploy_id"]
    events, end = await follow(api, deploy_id)
    assert end == {"status": "succeeded", "summary": end["summary"]}
    changes = [e for e in events if e["kind"] == "load_balancer"]
    removed = [e["server"] for e in changes if e["action"] == "removed"]
    assert removed == ["web1", "web2", "web3"] == fleet.removals()
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    servers = (await api.get("/api/apps")).json()[0]["servers"]
    assert {(s["version"], s["rotation"]) for s in servers} == {("1.2.3", "in rotation")}
    detail = (await api.get(f"/api/deploys/{deploy_id}")).json()
    assert [s["status"] for s in detail["servers"]] == ["succeeded"] * 3
    assert "started" in detail["servers"][0]["steps"][-1]["output"]


@pytest.mark.real_time
async def test_second_deploy_of_the_app_is_409_with_the_holder(api: httpx.AsyncClient) -> None:
    first = (await api.post("/api/apps/shop/deploys", json={"strategy": "serial"})).json()
    second = await api.post("/api/apps/shop/deploys", json={"strategy": "parallel"})
    assert second.status_code == 409
    assert "a deploy is already running" in second.json()["detail"]
    assert second.json()["holder"]["deploy_id"] == first["deploy_id"]
    _, end = await follow(api, first["deploy_id"])
    assert end["status"] == "succeeded"
    history = (await api.get("/api/deploys", params={"application": "shop"})).json()
    assert [d["id"] for d in history] == [first["deploy_id"]]


async def test_application_shows_values_in_force_and_estimated_time(tmp_path: Path) -> None:
    path = tmp_path / "waits.yml"
    path.write_text(manifest_text(2, waits=(5, 10)))
    fleet = FakeFleet(load_manifest(path))
    credentials = Credentials(api_token=API_TOKEN)
    app = create_app(tmp_path / "state", [path], fleet.drivers(), credentials=credentials)
    transport = httpx.ASGITransport(app)
    headers = {"Authorization": f"Bearer {API_TOKEN}"}
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL, headers=headers) as api:
        detail = (await api.get("/api/apps/shop")).json()
    values = {v["key"]: (v["value"], v["origin"]) for v in detail["load_balancer_values"]}
    assert values["wait_after_removing_servers"] == ("5", "manifest")
    assert values["wait_after_adding_servers"] == ("10", "manifest")
    assert detail["next_deploy"]["estimated_extra_seconds"] == 30
    parallel = detail["settings"][0]
    assert (parallel["key"], parallel["value"], parallel["set"]) == (
        "deploy.parallel",
        "false",
        False,
    )


async def test_openapi_describes_every_endpoint(api: httpx.AsyncClient) -> None:
    schema = (await api.get("/api/openapi.json")).json()
    assert {
        "/api/apps",
        "/api/apps/{application}/deploys",
        "/api/deploys/{deploy_id}/stream",
    } <= set(schema["paths"])
    docs = await api.get("/api/docs")
    assert docs.status_code == 200 and "/api/openapi.json" in docs.text


async def test_the_docs_page_needs_no_internet(api: httpx.AsyncClient) -> None:
    docs = (await api.get("/api/docs")).text
    assert "cdn" not in docs.lower() and "/api/docs/assets/swagger-ui-bundle.js" in docs
    script = await api.get("/api/docs/assets/swagger-ui-bundle.js")
    assert script.status_code == 200 and "SwaggerUIBundle" in script.text
    assert (await api.get("/api/docs/assets/..%2Fpyproject.toml")).status_code == 404


@pytest.mark.real_time
async def test_cancel_interrupts_a_running_deploy_as_ctrl_c_does(
    api: httpx.AsyncClient, fleet: FakeFleet
) -> None:
    started = (await api.post("/api/apps/shop/deploys", json={"strategy": "serial"})).json()
    answer = await api.post(f"/api/deploys/{started['deploy_id']}/cancel")
    assert answer.status_code == 202 and answer.json()["cancelling"] is True
    _, end = await follow(api, started["deploy_id"])
    assert end["status"] == "cancelled"
    assert fleet.removals() in ([], ["web1"])  # nothing after the server under way
    assert fleet.timeline.out <= {"web1"}
    again = await api.post(f"/api/deploys/{started['deploy_id']}/cancel")
    assert again.status_code == 409 and "is not running: it cancelled" in again.json()["detail"]
    missing = await api.post("/api/deploys/999/cancel")
    assert missing.status_code == 404


async def test_a_failed_deploy_started_here_is_rolled_back_and_linked(
    api: httpx.AsyncClient, fleet: FakeFleet
) -> None:
    change = {"value": "true"}
    assert (await api.put("/api/apps/shop/settings/deploy.auto_rollback", json=change)).is_success
    body = {"strategy": "serial", "run_migrations": False}
    good = (await api.post("/api/apps/shop/deploys", json={**body, "version": "1.0"})).json()
    assert (await follow(api, good["deploy_id"]))[1]["status"] == "succeeded"
    fleet.script.rules.insert(0, (r"^web2: fetch .*2\.0", 1, "", 0.0))
    bad = (await api.post("/api/apps/shop/deploys", json={**body, "version": "2.0"})).json()
    assert (await follow(api, bad["deploy_id"]))[1]["status"] == "failed"
    for _ in range(100):  # the rollback starts when the failed deploy has ended
        newest = (await api.get("/api/deploys")).json()[0]
        if newest["id"] != bad["deploy_id"] and newest["status"] != "running":
            break
        await asyncio.sleep(0.05)
    assert (newest["version"], newest["status"]) == ("1.0", "succeeded")
    failed = (await api.get(f"/api/deploys/{bad['deploy_id']}")).json()
    assert failed["rolled_back_by"] == newest["id"]
    rollback = (await api.get(f"/api/deploys/{newest['id']}")).json()
    assert rollback["rollback_of"] == bad["deploy_id"]
    assert [s["server"] for s in rollback["servers"]] == ["web1", "web2"]  # what 2.0 changed
    rows = {r["id"]: r for r in (await api.get("/api/deploys")).json()}
    assert rows[bad["deploy_id"]]["rolled_back_by"] == newest["id"]
    assert rows[newest["id"]]["rollback_of"] == bad["deploy_id"]
    assert (
        rows[good["deploy_id"]]["rollback_of"] is rows[good["deploy_id"]]["rolled_back_by"] is None
    )
    await api.get(f"/login?token={LOGIN_TOKEN}")
    for page in ("/history", "/apps/shop"):
        text = (await api.get(page)).text
        assert f"rolled back by #{newest['id']}</a>" in text, page
        assert f"rollback of #{bad['deploy_id']}</a>" in text, page
