"""The timeline, the application page's guidance, Recover and history, through HTTP (fakes)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from baton.config import load_manifest
from baton.state import LockHolder, Store
from baton.web import Credentials, create_app
from tests.manifests import manifest_text
from tests.web.conftest import API_TOKEN, BASE_URL, LOGIN_TOKEN
from tests.web.fakes import FakeFleet
from tests.web.test_api import follow
from tests.web.test_session import log_in


async def test_timeline_spans_match_the_deploys_load_balancer_events(
    api: httpx.AsyncClient,
) -> None:
    body = {"strategy": "serial", "version": "1.0", "run_migrations": False}
    deploy_id = (await api.post("/api/apps/shop/deploys", json=body)).json()["deploy_id"]
    events, _ = await follow(api, deploy_id)
    timeline = (await api.get(f"/api/deploys/{deploy_id}/timeline")).json()
    assert timeline["status"] == "succeeded" and timeline["estimated_waits"] == 0
    assert [s["server"] for s in timeline["servers"]] == ["web1", "web2", "web3"]
    for server in timeline["servers"]:
        (out,) = [s for s in server["spans"] if s["kind"] == "out_of_rotation"]
        changes = [e["at"] for e in events if e["kind"] == "load_balancer"]
        mine = [
            e["at"]
            for e in events
            if e["kind"] == "load_balancer" and e["server"] == server["server"]
        ]
        assert (out["start"], out["end"]) == tuple(mine) and set(mine) <= set(changes)
        assert [s["label"] for s in server["spans"] if s["kind"] == "step"] == ["fetch", "restart"]
    assert timeline["longest_out_of_rotation"]["seconds"] >= 0.5  # the restart takes 0.5 s


async def test_the_timeline_fragment_draws_each_span_where_it_happened(
    api: httpx.AsyncClient,
) -> None:
    """``api`` carries the bearer token for /api and, once logged in, a session for pages."""
    await log_in(api)
    deploy_id = (await api.post("/api/apps/shop/deploys", json={})).json()["deploy_id"]
    await follow(api, deploy_id)
    fragment = (await api.get(f"/deploys/{deploy_id}/timeline")).text
    assert "<script" not in fragment and "style=" not in fragment
    assert 'data-figure="waits">0.0s <small>(plan estimated 0s)' in fragment
    assert fragment.count('data-kind="out_of_rotation" data-status="succeeded"') == 3
    assert fragment.count("<title>web2: restart: succeeded, 0.5") == 1
    page = (await api.get(f"/deploys/{deploy_id}/detail")).text
    assert 'id="timeline-svg"' in page


def stranded_manifest(tmp_path: Path) -> Path:
    path = tmp_path / "health.yml"
    path.write_text(manifest_text(3, waits=(0, 0), migration=False, health=True))
    return path


async def test_recover_after_a_cancelled_deploy_puts_the_server_back(tmp_path: Path) -> None:
    path = stranded_manifest(tmp_path)
    fleet = FakeFleet(load_manifest(path))
    fleet.script.on("restart", seconds=30)
    credentials = Credentials(login_token=LOGIN_TOKEN, api_token=API_TOKEN)
    app = create_app(tmp_path / "state", [path], fleet.drivers(), credentials=credentials)
    headers = {"Authorization": f"Bearer {API_TOKEN}"}
    transport = httpx.ASGITransport(app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL, headers=headers) as api:
        assert (await api.get("/api/apps/shop")).json()["attention"] is None
        deploy_id = (await api.post("/api/apps/shop/deploys", json={})).json()["deploy_id"]
        while "restart" not in str(fleet.timeline.commands("web1")):
            await asyncio.sleep(0.02)
        await api.post(f"/api/deploys/{deploy_id}/cancel")
        _, end = await follow(api, deploy_id)
        assert end["status"] == "cancelled" and fleet.timeline.out == {"web1"}
        timeline = (await api.get(f"/api/deploys/{deploy_id}/timeline")).json()
        web1 = timeline["servers"][0]["spans"]
        assert [s["status"] for s in web1 if s["kind"] == "step"] == ["succeeded", "interrupted"]
        attention = (await api.get("/api/apps/shop")).json()["attention"]
        assert attention["out_of_rotation"] == ["web1"] == attention["recoverable"]
        assert attention["last"]["status"] == "cancelled"
        assert "health-check web1" in attention["recover_confirmation"]
        recovered = (await api.post("/api/apps/shop/recover")).json()
        assert [(r["server"], r["restored"]) for r in recovered] == [("web1", True)]
        assert fleet.timeline.out == set()
        assert (await api.get("/api/apps/shop")).json()["attention"] is None
        assert (await api.post("/api/apps/shop/recover")).json() == []
        await app.state.dashboard.launcher.stop()


async def test_after_a_failed_deploy_the_page_names_who_is_out_and_not_on_the_good_version(
    tmp_path: Path,
) -> None:
    path = stranded_manifest(tmp_path)
    fleet = FakeFleet(load_manifest(path))
    credentials = Credentials(api_token=API_TOKEN)
    app = create_app(tmp_path / "state", [path], fleet.drivers(), credentials=credentials)
    headers = {"Authorization": f"Bearer {API_TOKEN}"}
    transport = httpx.ASGITransport(app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL, headers=headers) as api:
        good = (await api.post("/api/apps/shop/deploys", json={"version": "1.0"})).json()
        await follow(api, good["deploy_id"])
        fleet.script.on("web2: restart", exit_status=1)
        bad = (await api.post("/api/apps/shop/deploys", json={"version": "2.0"})).json()
        _, end = await follow(api, bad["deploy_id"])
        assert end["status"] == "failed"
        attention = (await api.get("/api/apps/shop")).json()["attention"]
        await app.state.dashboard.launcher.stop()
    assert attention["out_of_rotation"] == ["web2"] and attention["recoverable"] == []
    assert attention["behind"] == {"web1": "2.0"}  # web2 and web3 still serve 1.0
    assert attention["last_good"]["version"] == "1.0"
    assert "Deploy shop version 2.0" in attention["redeploy"]
    assert "Deploy shop version 1.0" in attention["rollback"]


def record_deploys(state_dir: Path, count: int) -> None:
    store = Store(state_dir)
    for n in range(count):
        deploy_id = store.start_deploy("shop", f"v{n}", "serial", {}, [], LockHolder.this_process())
        store.finish_deploy(deploy_id, "failed" if n % 3 == 0 else "succeeded", "")


@pytest.mark.parametrize(
    ("query", "showing", "versions"),
    [
        ("", "1-25 of 60", ["v59", "v58"]),
        ("?page=3", "51-60 of 60", ["v9", "v8"]),
        ("?status=failed", "1-20 of 20", ["v57", "v54"]),
        ("?application=shop&status=failed&page=2", "none: page 2 is past the last", []),
        ("?status=abandoned", "no deploys", []),
    ],
)
async def test_history_filters_by_application_and_status_and_pages(
    anonymous: httpx.AsyncClient, state_dir: Path, query: str, showing: str, versions: list[str]
) -> None:
    record_deploys(state_dir, 60)
    await log_in(anonymous)
    page = (await anonymous.get(f"/history{query}")).text
    assert showing in page
    cells = [
        line.split("<td>")[2].split("</td>")[0]
        for line in page.splitlines()
        if "<td>shop</td><td>" in line
    ]
    assert cells[: len(versions)] == versions


async def test_history_refuses_an_unknown_status(anonymous: httpx.AsyncClient) -> None:
    await log_in(anonymous)
    answer = await anonymous.get("/history?status=exploded")
    assert answer.status_code == 400 and "expected one of running, succeeded" in answer.text


async def test_api_history_filters_and_pages(api: httpx.AsyncClient, state_dir: Path) -> None:
    record_deploys(state_dir, 10)
    failed = (await api.get("/api/deploys", params={"status": "failed", "limit": 2})).json()
    assert [d["version"] for d in failed] == ["v9", "v6"]
    older = (await api.get("/api/deploys", params={"status": "failed", "offset": 2})).json()
    assert [d["version"] for d in older] == ["v3", "v0"]
