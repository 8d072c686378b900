"""Hooks through the command line with real processes (the local transport): the step
environment and secrets reach them, their output is shown and recorded like a step's, and a
failing last_thing fails the deploy while saying every server succeeded."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

MANIFEST = """\
application: shop
servers:
  - {name: web1, transport: local, address: localhost}
  - {name: web2, transport: local, address: localhost}
deploy:
  environment: {MODE: prod}
  secrets:
    TOKEN: {from_env: BATON_TEST_HOOK_TOKEN}
  steps:
    - name: release
      run: echo deploying {version} on {server}
hooks:
  first_thing:
    - run: echo first {version} $MODE $TOKEN
  after_server:
    - run: echo after {server}
  last_thing:
    - {run: "echo tagging {server}; exit 3", run_on: all_servers}
"""


def baton(*args: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "BATON_TEST_HOOK_TOKEN": "hunter2"}
    command = [sys.executable, "-m", "baton", *args]
    return subprocess.run(
        command, capture_output=True, text=True, timeout=60, check=False, env=environment
    )


def test_hooks_run_with_the_step_environment_and_show_like_steps(tmp_path: Path) -> None:
    manifest = tmp_path / "baton.yml"
    manifest.write_text(MANIFEST)
    common = ["-s", "shop", "-f", str(manifest), "--state", str(tmp_path)]
    plan = baton("plan", *common).stdout
    assert "first_thing (before the first server): hook first_thing on local" in plan
    assert "1. web1: step release -> hook after_server" in plan
    deploy = baton("deploy", *common, "--version", "9")
    out = deploy.stdout
    assert deploy.returncode == 1, deploy.stderr
    assert "local | first 9 prod ***" in out and "hunter2" not in out
    assert out.index("web1 | deploying 9") < out.index("web1 | after web1")
    assert "hook last_thing on web1 exited 3; hook last_thing on web2 exited 3" in out
    assert "web2: succeeded - now serving 9" in out
    shown = baton("show", "1", "--output", "--state", str(tmp_path)).stdout
    assert "deploy #1 of shop: version 9, serial, failed" in shown
    assert "  local: hooks run on this machine\n    first_thing      succeeded" in shown
    assert "      first 9 prod ***" in shown and "      tagging web2" in shown


def test_a_hook_printing_its_environment_records_no_state_url_or_password(
    tmp_path: Path,
) -> None:
    """What baton keeps for itself stays out of the commands it starts: its settings
    (``$BATON_STATE`` may be a PostgreSQL URL), ``PGPASSWORD``, and any variable holding a
    PostgreSQL URL with a password; what the manifest gives them still arrives, masked."""
    manifest = tmp_path / "baton.yml"
    manifest.write_text(MANIFEST.replace("echo first {version} $MODE $TOKEN", "env"))
    state = tmp_path / "state"
    held = {
        "BATON_STATE": str(state),
        "PGPASSWORD": "pg-secret-1",
        "SHOP_DB": "postgresql://baton:db-secret-2@db.internal/baton",
        "SHOP_DB_QUERY": "postgres://db.internal/baton?user=baton&password=db-secret-3",
    }
    environment = {**os.environ, **held, "BATON_TEST_HOOK_TOKEN": "hunter2"}
    command = [sys.executable, "-m", "baton", "deploy", "-s", "shop", "-f", str(manifest)]
    run = subprocess.run(
        [*command, "--version", "9"], capture_output=True, text=True, timeout=60, env=environment
    )
    assert run.returncode == 1, run.stderr
    shown = baton("show", "1", "--output", "--state", str(state)).stdout
    assert "      MODE=prod" in shown and "      TOKEN=***" in shown
    for name, value in held.items():
        assert name not in shown and value not in shown and value not in run.stdout
    assert "hunter2" not in shown
