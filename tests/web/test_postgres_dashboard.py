"""The dashboard unchanged on a PostgreSQL state a team shares: it shows a deploy another
process recorded there, and a deploy it starts is what that other process's CLI then lists.
Real PostgreSQL (the throw-away cluster), real `baton` processes, the local transport."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx

from baton.web import Credentials, create_app
from tests.web.conftest import API_TOKEN, BASE_URL, LOGIN_TOKEN
from tests.web.test_api import follow

MANIFEST = """\
application: shop
servers:
  - {name: web1, transport: local, address: localhost}
  - {name: web2, transport: local, address: localhost}
deploy:
  steps:
    - name: release
      run: echo deploying {version} on {server}
hooks:
  first_thing:
    - run: echo announcing {version}
"""


def baton(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "baton", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)


async def test_the_dashboard_on_postgresql_shows_deploys_from_another_process(
    tmp_path: Path, postgres_url: str
) -> None:
    manifest = tmp_path / "baton.yml"
    manifest.write_text(MANIFEST)
    done = baton(
        "deploy", "-s", "shop", "-f", str(manifest), "--state", postgres_url, "--version", "3.1"
    )
    assert done.returncode == 0, done.stderr
    credentials = Credentials(login_token=LOGIN_TOKEN, api_token=API_TOKEN)
    app = create_app(postgres_url, [manifest], credentials=credentials)
    headers = {"Authorization": f"Bearer {API_TOKEN}"}
    transport = httpx.ASGITransport(app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL, headers=headers) as api:
        (row,) = (await api.get("/api/deploys")).json()
        assert (row["version"], row["status"]) == ("3.1", "succeeded")
        detail = (await api.get(f"/api/deploys/{row['id']}")).json()
        outputs = [step["output"] for s in detail["servers"] for step in s["steps"]]
        assert outputs == ["deploying 3.1 on web1\n", "deploying 3.1 on web2\n"]
        (hook,) = detail["local_hooks"]
        assert (hook["step"], hook["output"]) == ("first_thing", "announcing 3.1\n")
        servers = (await api.get("/api/apps")).json()[0]["servers"]
        assert {s["name"]: s["version"] for s in servers} == {"web1": "3.1", "web2": "3.1"}
        await api.get(f"/login?token={LOGIN_TOKEN}")
        page = (await api.get("/history")).text
        assert f'href="/deploys/{row["id"]}"' in page and "3.1" in page
        page = (await api.get(f"/deploys/{row['id']}/detail")).text
        assert "Hooks run on this machine" in page and "announcing 3.1" in page
        started = await api.post("/api/apps/shop/deploys", json={"version": "3.2"})
        _, end = await follow(api, started.json()["deploy_id"])
        assert end["status"] == "succeeded"
        await app.state.dashboard.launcher.stop()
        app.state.dashboard.store.close()
    listed = baton("history", "-s", "shop", "--state", postgres_url, "--json")
    assert [(d["version"], d["status"]) for d in json.loads(listed.stdout)] == [
        ("3.2", "succeeded"),
        ("3.1", "succeeded"),
    ]
