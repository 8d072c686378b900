"""Secrets in what baton shows and sends: masked wherever the text came from. A step's output
was always masked; here a load balancer command fails quoting a secret, and the summary,
``baton show`` and the notification a real receiver gets all say ``***``."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from tests.receiver import receiving

TOKEN = "lb-token-6f1c2a9e"

MANIFEST = """\
application: shop
servers:
  - {{name: web1, transport: local, address: localhost}}
  - {{name: web2, transport: local, address: localhost}}
load_balancers:
  - name: droplets
    type: command
    remove: echo "refused token=$SHOP_LB_TOKEN" >&2; exit 1
    add: "true"
    status: printf 'web1 in\\nweb2 in\\n'
notifications:
  timeout: 2
  deadline: 5
  webhooks:
    - {{url: "{url}", format: slack}}
deploy:
  secrets:
    LB_TOKEN: {{from_env: SHOP_LB_TOKEN}}
  steps:
    - {{name: release, run: "true"}}
"""


async def baton(*args: str) -> tuple[int, str]:
    """Exit status and everything printed by ``baton ARGS`` with the token in its environment."""
    process = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "baton", *args),
        env={**os.environ, "SHOP_LB_TOKEN": TOKEN},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    printed, _ = await asyncio.wait_for(process.communicate(), 60)
    return await process.wait(), printed.decode()


async def test_a_failing_balancer_command_quoting_a_secret_shows_it_masked(
    tmp_path: Path,
) -> None:
    manifest = tmp_path / "baton.yml"
    common = ("-s", "shop", "-f", str(manifest), "--state", str(tmp_path))
    async with receiving([]) as receiver:
        manifest.write_text(MANIFEST.format(url=receiver.url))
        status, deployed = await baton("deploy", *common, "--version", "9")
    assert status == 1, deployed
    assert "web1: failed - load balancer droplets (command): the remove command failed" in deployed
    assert "refused token=***" in deployed
    _, shown = await baton("show", "1", "--state", str(tmp_path))
    assert "refused token=***" in shown
    finished = receiver.received[-1]["text"]
    assert "shop deploy #1 (9, serial) failed" in finished and "refused token=***" in finished
    assert TOKEN not in deployed + shown + str(receiver.received)


async def test_a_preflight_refusal_quoting_a_secret_shows_it_masked_by_deploy_and_check(
    tmp_path: Path,
) -> None:
    manifest = tmp_path / "baton.yml"
    status_command = "status: printf 'web1 in\\nweb2 in\\n'"
    failing = 'status: echo "no such token=$SHOP_LB_TOKEN" >&2; exit 2'
    manifest.write_text(MANIFEST.format(url="http://127.0.0.1:9/").replace(status_command, failing))
    common = ("-s", "shop", "-f", str(manifest), "--state", str(tmp_path))
    status, refused = await baton("deploy", *common, "--version", "9")
    assert status == 1 and "baton: error: load balancer droplets" in refused
    assert "no such token=***" in refused and TOKEN not in refused
    status, checked = await baton("check", *common)
    assert status == 1 and "droplets: PROBLEM: load balancer droplets (command)" in checked
    assert "no such token=***" in checked and TOKEN not in checked
