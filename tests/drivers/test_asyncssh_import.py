"""How baton imports asyncssh: in a fresh interpreter, as the first connection of a deploy does."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

IMPORT = """\
import ctypes.util, gc, json, sys
search = ctypes.util.find_library
if "--frozen-start-up" in sys.argv:
    gc.freeze()
before = gc.get_freeze_count()
from baton.drivers._asyncssh import asyncssh
print(json.dumps({
    "connect": callable(asyncssh.connect),
    "frozen": gc.get_freeze_count() - before,
    "collector": gc.isenabled(),
    "search_restored": ctypes.util.find_library is search,
    "x509": sorted(name for name in sys.modules if "x509" in name),
}))
"""


def imported(*argv: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", IMPORT, *argv], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    report: dict[str, Any] = json.loads(done.stdout)
    return report


def test_without_x509_support_and_with_everything_put_back() -> None:
    report = imported()
    assert report["connect"] and report["x509"] == []
    assert report["collector"] and report["search_restored"]
    assert report["frozen"] == 0  # a process that froze nothing is left as it was


def test_joins_a_frozen_start_up() -> None:
    report = imported("--frozen-start-up")
    assert report["collector"]
    assert report["frozen"] > 10_000  # asyncssh's modules, out of the collector's way
