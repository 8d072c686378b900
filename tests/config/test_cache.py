"""The cache of validated manifests: used when safe, ignored otherwise, never stale."""

from __future__ import annotations

import dataclasses
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from baton._exceptions import ManifestError
from baton.config import load_manifest
from tests.manifests import manifest_text


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "cache"
    monkeypatch.setenv("BATON_CACHE", str(directory))
    return directory


@pytest.fixture
def manifest(tmp_path: Path) -> Path:
    path = tmp_path / "baton.yml"
    path.write_text(manifest_text())
    return path


def only_entry(cache: Path) -> Path:
    (entry,) = cache.glob("manifest-*")
    return entry


def plant(entry: Path, application: str, *, mode: int = 0o600, key: str | None = None) -> None:
    """Replace the entry with a manifest that differs from the file (another application)."""
    stored_key, manifest = pickle.loads(entry.read_bytes())
    other = dataclasses.replace(manifest, application=application)
    entry.write_bytes(pickle.dumps((key or stored_key, other)))
    entry.chmod(mode)


def test_an_unchanged_manifest_starts_without_yaml_or_validation(
    cache: Path, manifest: Path
) -> None:
    script = (
        "import sys; from baton.config import load_manifest; "
        f"m = load_manifest({str(manifest)!r}); "
        "print(m.application, len(m.servers), 'yaml' in sys.modules, 'pydantic' in sys.modules)"
    )
    runs = [
        subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
        for _ in range(2)
    ]
    assert runs[0].stdout.split() == ["shop", "3", "True", "True"]
    assert runs[1].stdout.split() == ["shop", "3", "False", "False"]
    assert oct(cache.stat().st_mode & 0o777) == "0o700"
    assert oct(only_entry(cache).stat().st_mode & 0o777) == "0o600"


def test_an_edited_manifest_is_validated_again(cache: Path, manifest: Path) -> None:
    assert len(load_manifest(manifest).servers) == 3
    manifest.write_text(manifest_text(servers=4))
    assert len(load_manifest(manifest).servers) == 4
    manifest.write_text(manifest_text().replace("address: 127.0.1.2", "address: not a host"))
    with pytest.raises(ManifestError, match=r"baton.yml:\d+: servers\[1\].address"):
        load_manifest(manifest)


def test_the_entry_is_used_only_when_no_one_else_can_write_it(cache: Path, manifest: Path) -> None:
    load_manifest(manifest)
    plant(only_entry(cache), "planted")
    assert load_manifest(manifest).application == "planted"  # the cache is really read
    plant(only_entry(cache), "planted", mode=0o666)
    assert load_manifest(manifest).application == "shop"
    plant(only_entry(cache), "planted", mode=0o620)
    assert load_manifest(manifest).application == "shop"


def test_an_entry_stored_under_another_key_is_ignored(cache: Path, manifest: Path) -> None:
    load_manifest(manifest)
    plant(only_entry(cache), "planted", key="manifest-" + "0" * 64)
    assert load_manifest(manifest).application == "shop"


def test_a_damaged_entry_is_a_miss_and_is_replaced(cache: Path, manifest: Path) -> None:
    load_manifest(manifest)
    only_entry(cache).write_bytes(b"\x80\x05not a pickle")
    assert load_manifest(manifest).application == "shop"
    assert pickle.loads(only_entry(cache).read_bytes())[1].application == "shop"


def test_home_is_part_of_the_key(
    cache: Path, manifest: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    manifest.write_text(manifest_text().replace("address: 127.0.1.1", "address: 127.0.1.1\n"
                                                "    key_file: ~/.ssh/deploy"))  # fmt: skip
    monkeypatch.setenv("HOME", "/home/alice")
    assert str(load_manifest(manifest).servers[0].key_file) == "/home/alice/.ssh/deploy"
    monkeypatch.setenv("HOME", "/home/bob")
    assert str(load_manifest(manifest).servers[0].key_file) == "/home/bob/.ssh/deploy"
    assert len(list(cache.glob("manifest-*"))) == 2


def test_off_writes_nothing_and_a_read_only_cache_is_no_error(
    cache: Path, manifest: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("BATON_CACHE", "off")
    assert load_manifest(manifest).application == "shop"
    assert not cache.exists()
    blocked = tmp_path / "file-not-directory"
    blocked.write_text("")
    monkeypatch.setenv("BATON_CACHE", str(blocked))
    assert load_manifest(manifest).application == "shop"


def test_only_the_newest_entries_are_kept(cache: Path, tmp_path: Path) -> None:
    from baton.config import cache as manifest_cache

    for n in range(manifest_cache.KEEP + 3):
        path = tmp_path / f"app{n}.yml"
        path.write_text(manifest_text())
        load_manifest(path)
    assert len(list(cache.glob("manifest-*"))) == manifest_cache.KEEP
    plant(newest(cache), "planted")
    assert load_manifest(path).application == "planted"  # the last one loaded is kept


def newest(cache: Path) -> Path:
    return max(cache.glob("manifest-*"), key=lambda p: p.stat().st_mtime_ns)


@pytest.mark.parametrize("made_by", ["another user", "anyone (0777)"])
def test_a_cache_directory_not_this_users_alone_is_not_used(
    cache: Path, manifest: Path, made_by: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Whoever else can write the directory could swap entries in it: it is neither read nor
    written, and that is a plain miss, no warning."""
    load_manifest(manifest)
    plant(only_entry(cache), "planted")
    if made_by == "another user":
        shutil.chown(cache, "nobody")
        shutil.chown(only_entry(cache), "nobody")
    else:
        cache.chmod(0o777)
    before = sorted(cache.iterdir())
    other = cache.parent / "other.yml"
    other.write_text(manifest_text(servers=2))
    assert load_manifest(manifest).application == "shop"
    assert len(load_manifest(other).servers) == 2
    assert sorted(cache.iterdir()) == before, "nothing written there"
    assert capsys.readouterr() == ("", "")
