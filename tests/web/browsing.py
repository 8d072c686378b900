"""Helpers for the browser tests: Chromium from Debian, screenshots, watching the live page."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from playwright.sync_api import Page

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "web"
OUT_OF_ROTATION_ROWS = """rows => rows.filter(r => r.querySelector('.rotation').textContent
    .startsWith('out of rotation')).map(r => r.dataset.server)"""


def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=ARTIFACTS / f"{name}.png", full_page=True)


def cli_setting(state_dir: Path, application: str, key: str) -> str:
    """What ``baton settings get`` prints, run as a separate process."""
    command = [sys.executable, "-m", "baton", "settings", "get", "-s", application, key]
    done = subprocess.run(
        [*command, "--state", str(state_dir)], capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def watch_rotation(page: Page, timeout: float, shoot_as: str = "") -> list[tuple[str, ...]]:
    """Sample the live page until the deploy ends: each change of who is out of rotation.

    With ``shoot_as``, a screenshot is saved the first time the second server is out.
    """
    seen: list[tuple[str, ...]] = [()]
    for _ in range(int(timeout / 0.04)):
        out = tuple(page.eval_on_selector_all("#live tbody tr", OUT_OF_ROTATION_ROWS))
        if out != seen[-1]:
            seen.append(out)
            if shoot_as and len([s for s in seen if s]) == 2:
                shot(page, shoot_as)
        if page.locator("#status").inner_text() != "running":
            return seen
        page.wait_for_timeout(40)
    raise AssertionError(f"the deploy did not end in {timeout}s; seen: {seen}")


def rotation_spans(page: Page) -> list[tuple[str, float, float]]:
    """(server, out at, back at) as the live page records them, in the order servers left."""
    rows = page.eval_on_selector_all(
        "#live tbody tr",
        "rows => rows.map(r => [r.dataset.server, r.dataset.outAt, r.dataset.backAt])",
    )
    spans = [(name, float(out), float(back)) for name, out, back in rows if out and back]
    return sorted(spans, key=lambda span: span[1])


TIMELINE_SPANS = """rects => rects.map(r => ({server: r.closest('g').dataset.server,
    kind: r.dataset.kind, status: r.dataset.status, label: r.dataset.label,
    start: Number(r.dataset.start), end: Number(r.dataset.end),
    x: Number(r.getAttribute('x')), width: Number(r.getAttribute('width'))}))"""


def timeline_spans(page: Page) -> list[dict[str, Any]]:
    """Every span the timeline picture draws, with its times and its geometry."""
    spans: list[dict[str, Any]] = page.eval_on_selector_all(
        "#timeline-svg rect.span", TIMELINE_SPANS
    )
    return spans


def confirm(page: Page, button: str, action: str) -> str:
    """Click ``button``, read the confirmation dialog and accept it with ``action``."""
    page.get_by_role("button", name=button, exact=True).click()
    dialog = page.locator("#confirm-dialog")
    text = dialog.locator("#confirm-text").inner_text()
    dialog.get_by_role("button", name=action).click()
    return text
