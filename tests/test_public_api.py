"""``import baton``: the library's public surface, and the README's example that uses it."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

import baton

README = Path(__file__).resolve().parents[1] / "README.md"


def readme_example() -> str:
    """The Python block of README's "Use baton from Python" section."""
    section = README.read_text().split("## Use baton from Python", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    assert len(blocks) == 1, "the section should hold exactly one Python example"
    return blocks[0]


def test_the_readme_example_deploys_through_the_fakes_and_records_it(tmp_path: Path) -> None:
    script = tmp_path / "example.py"
    script.write_text(readme_example())
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=60, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    serial = "1. web1: remove from main -> step fetch -> step restart -> add back to main"
    assert serial in lines[-4]  # the plan, printed before the deploy
    assert lines[-1] == "1 succeeded ['web1', 'web2']"


@pytest.mark.parametrize("name", baton.__all__)
def test_every_public_name_resolves(name: str) -> None:
    assert getattr(baton, name) is not None


def test_importing_baton_loads_none_of_the_library_until_a_name_is_used() -> None:
    code = (
        "import sys, baton; heavy = {'asyncio', 'pydantic', 'yaml', 'sqlite3', 'asyncssh'}; "
        "print(sorted(heavy & set(sys.modules)))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.stdout.strip() == "[]", done.stderr


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'deploy_everything'"):
        baton.deploy_everything  # noqa: B018
