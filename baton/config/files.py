"""Read a manifest file and turn it into a :class:`~baton.config.model.Manifest`.

The file's bytes are bounded and checked here; a manifest :mod:`baton.config.cache` remembers
is returned as validated before, and any other is parsed and validated by
:mod:`baton.config.loader` (which imports YAML and builds pydantic's validators, so it is
imported only then).
"""

from __future__ import annotations

from pathlib import Path

from baton._exceptions import Location, ManifestError
from baton.config import cache
from baton.config.model import Manifest

MAX_BYTES = 1024 * 1024
"""A manifest is a few kilobytes; a larger file is refused before it is read further."""


def load_manifest(path: Path | str) -> Manifest:
    """Read, parse and validate a manifest file, or raise ManifestError."""
    name = str(path)
    data = read(Path(path))
    manifest = cache.recall(name, data)
    if manifest is None:
        from baton.config.loader import parse_manifest

        manifest = parse_manifest(text(data, name), name)
        cache.remember(name, data, manifest)
    return manifest


def read(path: Path) -> bytes:
    """The file's bytes: at most MAX_BYTES (read no further)."""
    where = Location(str(path), None, "")
    try:
        with path.open("rb") as file:
            data = file.read(MAX_BYTES + 1)
    except OSError as exc:
        raise ManifestError(where, f"cannot read: {exc.strerror or exc}") from None
    if len(data) > MAX_BYTES:
        raise ManifestError(where, f"larger than {MAX_BYTES // 1024 // 1024} MiB; not a manifest?")
    return data


def text(data: bytes, name: str) -> str:
    """The bytes as text, or an error naming the line of the first one that is not UTF-8."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        bad = data[exc.start : exc.start + 1].hex()
        raise ManifestError(
            Location(name, line, ""), f"not UTF-8 text (byte 0x{bad}); save it as UTF-8"
        ) from None
