"""What ``baton --help`` and ``baton plan`` load: start-up time is mostly imports.

Each command runs in a fresh interpreter, which then reports the modules it loaded. Timings
live in BENCHMARKS.md ("Start-up"); this guards the cause: a heavy import creeping back into
the command line's top level.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.manifests import manifest_text

REPORT = """\
import json, sys
from baton.cli.main import main
try:
    status = main(sys.argv[1:])
except SystemExit as exit:
    status = exit.code
print(json.dumps({"status": status, "modules": sorted(sys.modules)}), file=sys.stderr)
"""
WEB = {"fastapi", "starlette", "uvicorn", "jinja2"}


def loaded(*argv: str) -> tuple[int, set[str]]:
    """(exit status, top-level packages loaded) of ``baton ARGV`` in a fresh interpreter."""
    done = subprocess.run(
        [sys.executable, "-c", REPORT, *argv], capture_output=True, text=True, timeout=60
    )
    report = json.loads(done.stderr.splitlines()[-1])
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
