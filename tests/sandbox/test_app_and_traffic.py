"""The sandbox app (boot window, restart, migration) and the traffic counter, on loopback."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from baton.drivers.http import get
from baton.sandbox import app
from baton.sandbox.demo import Outcome, Scenario, table
from baton.sandbox.processes import in_use
from baton.sandbox.traffic import Traffic

ADDRESS = "127.0.1.99"


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Path]:
    """A server home with release v1 current, as root (the app needs no user of its own)."""
    release = tmp_path / "releases" / "v1"
    release.mkdir(parents=True)
    shutil.copy(app.__file__, release / "app.py")
    (release / "VERSION").write_text("v1\n")
    (tmp_path / "current").symlink_to("releases/v1")
    yield tmp_path
    app.stop(tmp_path)


async def wait_answer(url: str, deadline: float = 5.0) -> tuple[int, str]:
    for _ in range(int(deadline / 0.05)):
        try:
            return await get(url, 1)
        except OSError:
            await asyncio.sleep(0.05)
    raise AssertionError(f"{url} never answered")


async def test_a_restarted_app_answers_503_while_booting_then_its_new_version(home: Path) -> None:
    url = f"http://{ADDRESS}:8000/"
    assert not in_use(ADDRESS, 8000), "127.0.1.99 is this test's own address"
    app.start(home, ADDRESS, 8000, 0.5)
    assert await wait_answer(url) == (503, "starting")
    await asyncio.sleep(0.6)
    assert await get(url, 1) == (200, "v1")
    (home / "releases" / "v2").mkdir()
    (home / "releases" / "v2" / "VERSION").write_text("v2\n")
    shutil.copy(app.__file__, home / "releases" / "v2" / "app.py")
    (home / "current").unlink()
    (home / "current").symlink_to("releases/v2")
    assert await get(url, 1) == (200, "v1")  # the running app keeps its version
    assert (
        app.main(["restart", "--root", str(home), "--address", ADDRESS, "--startup-delay", "0"])
        == 0
    )
    await asyncio.sleep(0.3)
    assert await wait_answer(url) == (200, "v2")


def test_migrate_appends_one_row_per_run(tmp_path: Path) -> None:
    database = tmp_path / "m.db"
    app.migrate(database, "v2", "web1")
    app.migrate(database, "v3", "web1")
    with sqlite3.connect(database) as db:
        rows = db.execute("SELECT version, server FROM migrations ORDER BY id").fetchall()
    db.close()
    assert rows == [("v2", "web1"), ("v3", "web1")]


async def test_traffic_counts_refused_connections_as_failed() -> None:
    report = await Traffic(f"http://{ADDRESS}:8001/", rate=100, limit=10).run()
    assert (report.sent, report.failed) == (10, 10)
    assert report.errors == {"Connection refused": 10}


async def test_traffic_keeps_its_rate_and_stops_when_asked() -> None:
    traffic = Traffic(f"http://{ADDRESS}:8001/", rate=50)
    traffic.start()
    await asyncio.sleep(0.5)
    report = await traffic.stop()
    assert 20 <= report.sent <= 30


def test_the_demo_table_shows_failures_and_versions() -> None:
    outcome = Outcome(Scenario("serial", 2, 0), "v4", 0, 4.5, 0.0, 352, 29, Counter(v4=3))
    lines = table([outcome]).splitlines()
    assert lines[0].split() == [
        "balancer", "strategy", "lag", "waits", "wall", "time", "estimate", "sent", "failed",
        "served",
    ]  # fmt: skip
    assert lines[2].split() == [
        "haproxy", "serial", "2s", "0s", "4.5s", "+0s", "352", "29", "v4", "x3",
    ]  # fmt: skip
