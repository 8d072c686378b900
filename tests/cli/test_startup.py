"""What ``baton --help``, ``plan`` and ``deploy`` load: start-up time is mostly imports.

Each command runs in a fresh interpreter, which then reports the modules it loaded and the
garbage collector's state. Timings live in BENCHMARKS.md ("Start-up"); this guards the causes:
a heavy import creeping back into the command line's top level, and the collector walking
start-up's objects again and again (start-up runs with it off, then freezes them), while making
sure no command leaves it off.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.manifests import manifest_text

REPORT = """\
import gc, json, sys
from baton.cli.main import main
try:
    status = main(sys.argv[1:])
except SystemExit as exit:
    status = exit.code
report = {"status": status, "modules": sorted(sys.modules), "gc": gc.isenabled(),
          "frozen": gc.get_freeze_count()}
print(json.dumps(report), file=sys.stderr)
"""
WEB = {"fastapi", "starlette", "uvicorn", "jinja2"}


def run(*argv: str) -> dict[str, Any]:
    """What ``baton ARGV`` reports in a fresh interpreter: status, modules, gc, frozen."""
    done = subprocess.run(
        [sys.executable, "-c", REPORT, *argv], capture_output=True, text=True, timeout=60
    )
    report: dict[str, Any] = json.loads(done.stderr.splitlines()[-1])
    return report


def loaded(*argv: str) -> tuple[int, set[str]]:
    """(exit status, top-level packages loaded) of ``baton ARGV`` in a fresh interpreter."""
    report = run(*argv)
    return report["status"], {name.split(".")[0] for name in report["modules"]}


def test_help_loads_neither_ssh_web_validation_nor_asyncio() -> None:
    status, modules = loaded("--help")
    assert status == 0
    assert not modules & {"asyncssh", "cryptography", "pydantic", "yaml", "asyncio", *WEB}


def test_plan_loads_no_ssh_web_or_engine(tmp_path: Path) -> None:
    manifest = tmp_path / "baton.yml"
    manifest.write_text(manifest_text())
    status, modules = loaded("plan", "-s", "shop", "-f", str(manifest), "--state", str(tmp_path))
    assert status == 0
    assert "pydantic" in modules  # the manifest is validated: the test sees a real plan
    assert not modules & {"asyncssh", "cryptography", "asyncio", *WEB}


def test_deploy_freezes_its_start_up_and_leaves_the_collector_on(tmp_path: Path) -> None:
    manifest = tmp_path / "baton.yml"
    manifest.write_text(
        "application: shop\n"
        "servers:\n  - {name: web1, address: 127.0.0.1, port: 1, connect_timeout: 2}\n"
        "deploy:\n  steps:\n    - {name: switch, run: 'true'}\n"
    )
    report = run(
        "deploy", "-s", "shop", "-f", str(manifest), "--state", str(tmp_path / "state"),
        "--parallel", "--version", "v1", "--json",
    )  # fmt: skip
    assert report["status"] == 1  # nothing listens on port 1: preflight fails, as a user sees
    assert report["gc"] is True
    assert report["frozen"] > 20_000  # the library, manifest and plan: out of the collector's way
