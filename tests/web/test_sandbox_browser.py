"""The dashboard deploying to the real sandbox fleet (sshd + HAProxy + apps), in Chromium.

Screenshots go to artifacts/web/; docs/timeline-live.png and docs/timeline-serial.png are
copies of the two this module takes of the timeline.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml
from playwright.sync_api import Browser, Page, expect

from baton.drivers import Membership
from baton.sandbox import fleet
from baton.sandbox.status import IN_ROTATION, membership
from baton.state import Store
from baton.web import create_app
from tests.web.browsing import (
    OUT_OF_ROTATION_ROWS,
    confirm,
    rotation_spans,
    shot,
    timeline_spans,
)
from tests.web.live_server import LiveServer

pytestmark = [pytest.mark.browser, pytest.mark.integration]

WAIT = 1
"""Seconds the sandbox's load balancer waits last: each shows on the timeline."""
OUT_OF_ROTATION = Membership.OUT_OF_ROTATION.value
RECORDED = 0.2
"""How close a drawn out-of-rotation span must be to the removal and re-adding recorded."""


@pytest.fixture
def sandbox(sandbox_fleet: fleet.Sandbox) -> fleet.Sandbox:
    """The shared fleet without lag, with 1 s waits (another test may have left others)."""
    return fleet.up(sandbox_fleet.directory, lag=0, waits=WAIT)


@contextmanager
def logged_in(browser: Browser, server: LiveServer) -> Iterator[Page]:
    context = browser.new_context(base_url=server.url, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(server.login_url)
    try:
        yield page
    finally:
        context.close()


class HAProxySamples:
    """HAProxy's own view of who is out of rotation, read every 50 ms in a thread:
    (asked at, answered at, servers out). Out means taken out (maintenance); a server just put
    back may still be "down" until HAProxy's own health check passes, which is not ours."""

    def __init__(self, socket: Path) -> None:
        self.socket = socket
        self.samples: list[tuple[float, float, frozenset[str]]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=asyncio.run, args=(self._sample(),))

    async def _sample(self) -> None:
        while not self._stop.is_set():
            asked = time.time()
            members = await membership(self.socket)
            out = frozenset(name for name, m in members.items() if m == OUT_OF_ROTATION)
            self.samples.append((asked, time.time(), out))
            await asyncio.sleep(0.05)

    def __enter__(self) -> HAProxySamples:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)


def haproxy_says(sandbox: fleet.Sandbox) -> dict[str, str]:
    """Each server's membership as HAProxy reports it (asked from a thread: Playwright's sync
    API owns this thread's event loop)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, membership(sandbox.haproxy_socket)).result()


def watch(page: Page, timeout: float) -> list[dict[str, Any]]:
    """Sample the live page every 50 ms until the deploy ends: who the table shows out of
    rotation, and what the timeline draws. The first time the second server is out, a
    screenshot is saved as timeline-live."""
    samples: list[dict[str, Any]] = []
    shot_taken = False
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        out = tuple(page.eval_on_selector_all("#live tbody tr", OUT_OF_ROTATION_ROWS))
        spans = timeline_spans(page)
        redraws = page.locator("#timeline").get_attribute("data-redraws")
        samples.append({"out": out, "spans": spans, "redraws": int(redraws or 0)})
        running = {s["server"] for s in spans if s["status"] == "running"}
        if not shot_taken and len({s["server"] for s in spans}) >= 2 and running:
            page.wait_for_timeout(600)  # let its first step show
            shot(page, "timeline-live")
            shot_taken = True
        if page.locator("#status").inner_text() != "running":
            return samples
        page.wait_for_timeout(50)
    raise AssertionError(f"the deploy did not end in {timeout}s")


def test_serial_deploy_to_the_sandbox_fleet_draws_its_timeline_live(
    browser: Browser, sandbox: fleet.Sandbox, tmp_path: Path
) -> None:
    names = [s.name for s in sandbox.servers]
    version = f"web-{uuid.uuid4().hex[:8]}"
    state = tmp_path / "state"
    app = create_app(state, [sandbox.manifest])
    with LiveServer(app) as server, logged_in(browser, server) as page:
        rotation = page.locator('section[data-app="sandbox"] .rotation')
        expect(rotation).to_have_text([IN_ROTATION] * len(names))  # as HAProxy reports it
        page.get_by_role("link", name="sandbox").click()
        page.get_by_role("button", name="Deploy with options…").click()
        dialog = page.locator("#options-dialog")
        dialog.get_by_label("Serial").check()
        dialog.get_by_label("Version").fill(version)
        with HAProxySamples(sandbox.haproxy_socket) as haproxy:
            dialog.get_by_role("button", name="Deploy").click()
            samples = watch(page, 90)
        expect(page.locator("#status")).to_have_text("succeeded")
        page.wait_for_timeout(500)  # the last redraw
        shot(page, "timeline-serial")
        assert_grew_live(samples)
        assert_table_showed_one_out_at_a_time(page, samples, names)
        drawn = timeline_spans(page)
        assert_matches_recorded(page, drawn, Store(state), names)
        assert_covers_what_haproxy_saw(drawn, haproxy.samples, names)
        assert_figures(page, names)
        page.goto("/")
        expect(page.locator('section[data-app="sandbox"] tbody tr')).to_contain_text(
            [version] * len(names)
        )
        expect(rotation).to_have_text([IN_ROTATION] * len(names))


def assert_grew_live(samples: list[dict[str, Any]]) -> None:
    """While the deploy ran, the picture was redrawn and gained spans, with running ones."""
    counts = [len(s["spans"]) for s in samples]
    assert counts[0] < counts[-1], counts
    assert len(set(counts)) >= 6, counts  # it grew step by step, not once at the end
    assert samples[-1]["redraws"] >= 6
    running = [s for s in samples if any(x["status"] == "running" for x in s["spans"])]
    assert len(running) >= len(samples) // 2
    kinds = {x["kind"] for s in running for x in s["spans"] if x["status"] == "running"}
    assert {"out_of_rotation", "step", "wait"} <= kinds


def assert_table_showed_one_out_at_a_time(
    page: Page, samples: list[dict[str, Any]], names: list[str]
) -> None:
    seen = [k for k, _ in itertools.groupby(s["out"] for s in samples)]
    assert all(len(out) <= 1 for out in seen) and (names[-1],) in seen
    spans = rotation_spans(page)
    assert [name for name, _, _ in spans] == names


def assert_matches_recorded(
    page: Page, drawn: list[dict[str, Any]], store: Store, names: list[str]
) -> None:
    """Each server's drawn out-of-rotation span starts at its recorded removal and ends at
    its recorded re-adding (within 0.2 s), in data and in the picture's geometry."""
    svg = page.locator("#timeline-svg")
    t0, x0 = float(svg.get_attribute("data-t0") or 0), float(svg.get_attribute("data-x0") or 0)
    per_second = float(svg.get_attribute("data-per-second") or 0)
    (record,) = store.deploys("sandbox", 1)
    changes = [e for e in store.events(record.id) if e.kind == "load_balancer"]
    for name in names:
        (out,) = [s for s in drawn if s["server"] == name and s["kind"] == "out_of_rotation"]
        removed, added = (e.at for e in changes if e.data["server"] == name)
        assert abs(out["start"] - removed) <= RECORDED and abs(out["end"] - added) <= RECORDED
        drawn_start = t0 + (out["x"] - x0) / per_second
        drawn_end = drawn_start + out["width"] / per_second
        assert abs(drawn_start - removed) <= RECORDED, (name, drawn_start, removed)
        assert abs(drawn_end - added) <= RECORDED, (name, drawn_end, added)
        assert out["status"] == "succeeded"


def assert_covers_what_haproxy_saw(
    drawn: list[dict[str, Any]],
    samples: list[tuple[float, float, frozenset[str]]],
    names: list[str],
) -> None:
    """Whenever HAProxy itself reported a server out, the picture has it out then."""
    for name in names:
        (out,) = [s for s in drawn if s["server"] == name and s["kind"] == "out_of_rotation"]
        seen = [(asked, answered) for asked, answered, who in samples if name in who]
        assert seen, f"HAProxy never reported {name} out"
        for asked, answered in seen:
            assert answered >= out["start"] - RECORDED and asked <= out["end"] + RECORDED


def assert_figures(page: Page, names: list[str]) -> None:
    estimate = 2 * WAIT * len(names)
    waits = page.locator('[data-figure="waits"]')
    expect(waits).to_contain_text(f"(plan estimated {estimate}s)")
    measured = float(waits.inner_text().split("s")[0])
    assert estimate <= measured <= estimate + 1.5
    rows = page.locator(".server-totals tbody tr")
    expect(rows).to_have_count(len(names))
    expect(rows.locator(".status")).to_have_text(["succeeded"] * len(names))
    wait_spans = [s for s in timeline_spans(page) if s["kind"] == "wait"]
    assert len(wait_spans) == 2 * len(names)
    assert all(WAIT <= s["end"] - s["start"] <= WAIT + 0.5 for s in wait_spans)


def slow_manifest(sandbox: fleet.Sandbox, path: Path) -> Path:
    """The sandbox's manifest with a 20 s step after fetch, to be cancelled in the middle."""
    data = yaml.safe_load(sandbox.manifest.read_text())
    data["deploy"]["steps"].insert(1, {"name": "pause", "run": "sleep 20", "timeout": 60})
    for balancer in data["load_balancers"]:
        balancer["configuration"].update(wait_after_removing_servers=0, wait_after_adding_servers=0)
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_cancelled_deploy_shows_the_interrupted_step_and_recover_puts_the_server_back(
    browser: Browser, sandbox: fleet.Sandbox, tmp_path: Path
) -> None:
    first = sandbox.servers[0].name
    manifest = slow_manifest(sandbox, tmp_path / "slow.yml")
    app = create_app(tmp_path / "state", [manifest])
    with LiveServer(app) as server, logged_in(browser, server) as page:
        page.goto("/apps/sandbox")
        text = confirm(page, "Deploy", "Deploy now")
        assert "Strategy: serial" in text and "Order: " + first in text
        pause = page.locator('#timeline-svg rect[data-label="pause"]')
        expect(pause).to_have_attribute("data-status", "running", timeout=30_000)
        page.get_by_role("button", name="Cancel deploy").click()
        expect(page.locator("#status")).to_have_text("cancelled", timeout=30_000)
        expect(pause).to_have_attribute("data-status", "interrupted")
        row = page.locator(f'#timeline-svg g[data-server="{first}"]')
        expect(row.locator("rect.outcome.cancelled")).to_have_count(1)
        expect(row.locator("rect.out_of_rotation")).to_have_attribute("data-status", "left out")
        shot(page, "timeline-cancelled")
        assert haproxy_says(sandbox)[first] != IN_ROTATION

        page.goto("/apps/sandbox")
        banner = page.locator("#attention")
        expect(banner).to_contain_text("cancelled")
        expect(banner).to_contain_text(f"Out of rotation now: {first}")
        shot(page, "recover-banner")
        text = confirm(page, f"Recover {first}", "Recover now")
        assert f"health-check {first}" in text
        expect(page.locator("#recovered")).to_contain_text(
            f"{first}: put back into rotation on haproxy"
        )
        assert page.url.endswith("/apps/sandbox")
        members = haproxy_says(sandbox)
        assert set(members.values()) == {IN_ROTATION}, members
        expect(page.locator("#attention")).to_have_count(0)
        expect(page.locator("section .servers .rotation, table.servers .rotation")).to_have_text(
            [IN_ROTATION] * len(sandbox.servers)
        )
