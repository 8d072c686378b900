"""Manifests validated before, remembered by their exact bytes.

Parsing the YAML, importing pydantic and building its validators take a third of the CPU a
10-server deploy spends before it connects (BENCHMARKS.md, "Start-up"). A manifest rarely changes
between two deploys, so the validated :class:`~baton.config.model.Manifest` is kept, pickled,
under a key made of everything validation depends on: the file's bytes and the name it was read
by, ``$HOME`` (``~`` in paths), the sources of :mod:`baton.config` and :mod:`baton.balancers`, the
kinds of load balancer registered and the pydantic and Python that validated it. Any change to
one of them is a new key, so an edited manifest is validated again and an invalid one is still
refused; only manifests that passed are remembered.

The cache is ``$BATON_CACHE`` or ``$XDG_CACHE_HOME/baton`` (``~/.cache/baton``), a directory
only its owner can open; ``BATON_CACHE=off`` turns it off. A cache directory another user owns
or can write to is not used at all: every manifest is a miss and nothing is written there. An
entry is read only when its owner is the current user and no one else can write it, and only
when the key stored inside it is the one asked for. Anything unexpected (unreadable, damaged,
stale, a read-only disk) counts as a miss: the cache can make a deploy start sooner, never fail.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.util
import os
import pickle
import stat
import sys
import tempfile
from pathlib import Path

from baton.config.model import Manifest
from baton.ownership import not_private

FORMAT = b"baton manifest cache 1"
KEEP = 64
"""Entries kept: writing one more removes the oldest."""
_CONFIG_SOURCES = Path(__file__).parent
_KIND_SOURCES = _CONFIG_SOURCES.parent / "balancers"
"""The load balancer kinds' models, which validation depends on as much as on baton.config."""


def recall(name: str, data: bytes) -> Manifest | None:
    """The manifest validated earlier from these bytes under this name, if remembered."""
    directory = _directory()
    if directory is None:
        return None
    key = _key(name, data)
    try:
        fd = os.open(directory / key, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as file:
        if not_private(os.fstat(fd)):
            return None
        try:
            stored_key, manifest = pickle.load(file)
        except Exception:  # a damaged or stale entry is a miss, whatever unpickling raises
            return None
    return manifest if stored_key == key and isinstance(manifest, Manifest) else None


def remember(name: str, data: bytes, manifest: Manifest) -> None:
    """Keep ``manifest``, validated from ``data`` read as ``name``; failing to is no error."""
    directory = _directory()
    if directory is None:
        return
    key = _key(name, data)
    with contextlib.suppress(OSError, pickle.PicklingError):
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not _private(directory):  # made by someone else since it was looked at
            return
        fd, temporary = tempfile.mkstemp(dir=directory, prefix=".new-")
        try:
            with os.fdopen(fd, "wb") as file:
                pickle.dump((key, manifest), file, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(temporary, directory / key)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
        _prune(directory)


def _directory() -> Path | None:
    """The cache directory; None when turned off, or when it is not this user's alone."""
    configured = os.environ.get("BATON_CACHE")
    if configured == "off":
        return None
    if configured:
        directory = Path(configured)
    else:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
        directory = Path(base) / "baton"
    return directory if not directory.exists() or _private(directory) else None


def _private(directory: Path) -> bool:
    """Only this user can add, replace or remove its entries: a directory another user owns
    or can write to is not used at all (neither read nor written)."""
    try:
        status = directory.stat()
    except OSError:
        return False
    return stat.S_ISDIR(status.st_mode) and not_private(status) is None


def _key(name: str, data: bytes) -> str:
    digest = hashlib.sha256(FORMAT)
    parts = (name, os.environ.get("HOME", ""), sys.version, _validator_version(), _kinds())
    for part in parts:
        digest.update(b"\0" + part.encode("utf-8", "surrogateescape"))
    digest.update(b"\0" + data)
    return "manifest-" + digest.hexdigest()


@functools.cache
def _validator_version() -> str:
    """What validation depends on besides the file: this package's sources and pydantic's
    (their sizes and modification times, as Python's own bytecode cache does), found without
    importing pydantic; once per process, as the code it describes is imported once."""
    pydantic = importlib.util.find_spec("pydantic")
    sources = sorted([*_CONFIG_SOURCES.glob("*.py"), *_KIND_SOURCES.glob("*.py")])
    if pydantic is not None and pydantic.origin is not None:
        sources.append(Path(pydantic.origin).with_name("version.py"))
    stamps = []
    for source in sources:
        with contextlib.suppress(OSError):
            status = source.stat()
            stamps.append(f"{source}:{status.st_size}:{status.st_mtime_ns}")
    return " ".join(stamps)


def _kinds() -> str:
    """The load balancer kinds registered now (a plugin's too) and where their models live."""
    from baton.balancers import kinds

    return " ".join(
        f"{k.type}={k.model.__module__}.{k.model.__qualname__}" for k in kinds().values()
    )


def _prune(directory: Path) -> None:
    entries = sorted(directory.glob("manifest-*"), key=lambda p: p.stat().st_mtime_ns)
    for old in entries[:-KEEP]:
        with contextlib.suppress(OSError):
            old.unlink()
