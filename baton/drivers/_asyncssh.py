"""asyncssh, imported without the shared-library search and the X.509 support it loads at import.

On import, asyncssh looks for libnettle (the ``umac-*`` MACs) and liboqs (the sntrup761 key
exchange) with :func:`ctypes.util.find_library`, which on Linux runs ``ldconfig -p`` for each
name and, for a library missing from its cache, ``gcc`` and ``ld``: seven processes on a
machine without liboqs, about 30 ms of CPU and often 100 ms of wall time on every deploy, more
than any other part of baton's start-up (BENCHMARKS.md, "Start-up"). baton negotiates AES-GCM,
an AEAD cipher that needs no MAC, and curve25519 or ML-KEM key exchange (from ``cryptography``),
so neither library is ever used: the search answers "not found" while asyncssh imports, as on a
machine without them. Every other algorithm asyncssh offers is unchanged.

asyncssh also tries to import its X.509 support (X.509 certificates as SSH host and user keys,
RFC 6187, which OpenSSH does not implement): ``asyncssh.crypto.x509`` imports ``cryptography.x509``
(20 modules, 13-17 ms of CPU) and then pyOpenSSL, which baton does not install, so in baton's
environment that import always failed, after paying for ``cryptography.x509``. It now fails at
once, and asyncssh goes on without X.509 exactly as before. Plain Ed25519, ECDSA and RSA keys,
OpenSSH certificates (``*-cert.pub``, ``@cert-authority`` in known_hosts) and keys in the agent
(security keys too) work as before; what a user with pyOpenSSL installed by hand loses is X.509
host and client certificates, which baton never offered (its connections trust no X.509 CA).
"""

from __future__ import annotations

import ctypes.util
import gc
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType

UNUSED_MODULES = ("asyncssh.crypto.x509",)
"""Optional parts of asyncssh whose import fails while asyncssh imports, as if absent."""


def import_asyncssh() -> ModuleType:
    """The asyncssh module, imported without running ldconfig, gcc or ld, or X.509 support."""
    with _no_library_search(), _absent(UNUSED_MODULES), _collector_paused():
        import asyncssh
    return asyncssh


@contextmanager
def _no_library_search() -> Iterator[None]:
    search = ctypes.util.find_library
    ctypes.util.find_library = _not_found
    try:
        yield
    finally:
        ctypes.util.find_library = search


def _not_found(name: str) -> None:
    return None


@contextmanager
def _absent(names: tuple[str, ...]) -> Iterator[None]:
    absent = [name for name in names if name not in sys.modules]
    for name in absent:
        sys.modules[name] = None  # type: ignore[assignment]  # importing it raises ImportError
    try:
        yield
    finally:
        for name in absent:
            del sys.modules[name]


@contextmanager
def _collector_paused() -> Iterator[None]:
    """No garbage collection while asyncssh imports, and its modules frozen if start-up was.

    asyncssh is imported when a deploy first connects, after the command line froze its
    start-up (baton/cli/common.py, ``starting``): its ~25,000 objects, which live as long as the
    process, would otherwise meet the collector's passes during the import and after it (~3% of
    a 10-server deploy's instructions). A process that froze nothing (a library user) is left
    unfrozen: only the passes during the import are skipped.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if gc.get_freeze_count():
            gc.freeze()
        if enabled:
            gc.enable()


asyncssh = import_asyncssh()
