"""asyncssh, imported without the shared-library search it runs at import time.

On import, asyncssh looks for libnettle (the ``umac-*`` MACs) and liboqs (the sntrup761 key
exchange) with :func:`ctypes.util.find_library`, which on Linux runs ``ldconfig -p`` for each
name and, for a library missing from its cache, ``gcc`` and ``ld``: seven processes on a
machine without liboqs, about 30 ms of CPU and often 100 ms of wall time on every deploy, more
than any other part of baton's start-up (BENCHMARKS.md, "Start-up"). baton negotiates AES-GCM,
an AEAD cipher that needs no MAC, and curve25519 or ML-KEM key exchange (from ``cryptography``),
so neither library is ever used: the search answers "not found" while asyncssh imports, as on a
machine without them. Every other algorithm asyncssh offers is unchanged.
"""

from __future__ import annotations

import ctypes.util
from types import ModuleType


def import_asyncssh() -> ModuleType:
    """The asyncssh module, imported without running ldconfig, gcc or ld."""
    search = ctypes.util.find_library
    ctypes.util.find_library = _not_found
    try:
        import asyncssh
    finally:
        ctypes.util.find_library = search
    return asyncssh


def _not_found(name: str) -> None:
    return None


asyncssh = import_asyncssh()
