"""Checks that look beyond the manifest text, run before a deploy changes anything.

The loader stays pure (text in, objects out); these read the operator's machine: the files the
manifest names must exist, and each secret must have a value. Failures are ManifestErrors that
name file, line and key, like any other manifest error, so the CLI exits 2 with nothing changed.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping
from pathlib import Path

from baton._exceptions import Location, ManifestError
from baton.config.model import KeyPath, Manifest
from baton.withheld import MIN_SECRET_CHARS

MAX_SECRET_BYTES = 64 * 1024


def check_files(manifest: Manifest) -> None:
    """Every SSH key and known_hosts file the manifest names exists and can be read."""
    for index in range(len(manifest.servers)):
        check_server_files(manifest, index)


def check_server_files(manifest: Manifest, index: int) -> None:
    """The SSH key and known_hosts file of the server at ``index`` exist and can be read."""
    server = manifest.servers[index]
    if server.transport != "ssh":
        return
    for key, path in (("key_file", server.key_file), ("known_hosts", server.known_hosts)):
        if path is not None:
            _readable(manifest, ("servers", index, key), path)


def resolve_secrets(manifest: Manifest, environ: Mapping[str, str]) -> dict[str, str]:
    """Each secret's value, from ``environ`` or its file (one trailing newline dropped)."""
    return {name: resolve_secret(manifest, name, environ) for name in manifest.deploy.secrets}


def resolve_secret(manifest: Manifest, name: str, environ: Mapping[str, str]) -> str:
    """One secret's value, or a ManifestError naming its key and what is wrong."""
    source = manifest.deploy.secrets[name]
    where: KeyPath = ("deploy", "secrets", name)
    if source.from_env is not None:
        value = environ.get(source.from_env)
        if value is None:
            raise ManifestError(
                locate(manifest, (*where, "from_env")),
                f"the environment variable {source.from_env} is not set",
            )
    else:
        assert source.from_file is not None
        value = _read_secret(manifest, (*where, "from_file"), source.from_file)
    if not value:
        raise ManifestError(locate(manifest, where), f"secret {name} is empty")
    if len(value) < MIN_SECRET_CHARS:
        raise ManifestError(
            locate(manifest, where),
            f"secret {name} is shorter than {MIN_SECRET_CHARS} characters; masking it "
            "would blank ordinary text in the output",
        )
    return value


def file_warnings(manifest: Manifest) -> list[str]:
    """Secret files that other users can read."""
    warnings = []
    for name, source in manifest.deploy.secrets.items():
        path = source.from_file
        with contextlib.suppress(OSError):
            if path is not None and path.stat().st_mode & 0o077:
                warnings.append(
                    f"secret {name}: {path} can be read by other users "
                    f"(mode {path.stat().st_mode & 0o777:o}); chmod 600 {path}"
                )
    return warnings


def _readable(manifest: Manifest, where: KeyPath, path: Path) -> None:
    if not path.is_file():
        problem = "is not a file" if path.exists() else "does not exist"
        raise ManifestError(locate(manifest, where), f"{path} {problem}")
    if not os.access(path, os.R_OK):
        raise ManifestError(locate(manifest, where), f"{path} cannot be read (permissions)")


def _read_secret(manifest: Manifest, where: KeyPath, path: Path) -> str:
    _readable(manifest, where, path)
    if path.stat().st_size > MAX_SECRET_BYTES:
        raise ManifestError(locate(manifest, where), f"{path} is larger than 64 KiB")
    text = path.read_text(encoding="utf-8", errors="replace")
    return text[:-1] if text.endswith("\n") else text


def locate(manifest: Manifest, path: KeyPath) -> Location:
    """Where ``path`` is in the manifest's file (the loader, and YAML, only on an error)."""
    from baton.config.loader import locate

    return locate(manifest, path)
