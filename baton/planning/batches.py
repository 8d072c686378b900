"""How many servers each batch of a serial deploy holds.

A ramp (``1,25%,50%``) is resolved against the application's servers; its last size repeats
until every server has a batch. ``deploy.min_in_service`` always holds: a batch that would
leave fewer servers in rotation is shrunk, and the plan says so.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from baton._exceptions import InputError
from baton.settings import Ramp, format_ramp


@dataclass(frozen=True)
class Batches:
    sizes: tuple[int, ...]
    notes: tuple[str, ...] = ()


def batch_sizes(
    ramp: Ramp, servers: int, min_in_service: int, origin: str, canary: int = 0
) -> Batches:
    """Split ``servers`` into batches following ``ramp`` (after a first batch of ``canary``
    servers if given); raise InputError for a bad ramp."""
    wanted = [size.of(servers) for size in ramp]
    if any(later < earlier for earlier, later in itertools.pairwise(wanted)):
        raise InputError(
            f"{origin}: the ramp {format_ramp(ramp)} gives batches of "
            f"{', '.join(map(str, wanted))} servers out of {servers}; a ramp must not shrink"
        )
    cap = servers - min_in_service
    sizes: list[int] = []
    notes: list[str] = []
    while (left := servers - sum(sizes)) > 0:
        index = len(sizes) - (1 if canary else 0)
        size = canary if index < 0 else wanted[min(index, len(wanted) - 1)]
        if 1 <= cap < size:
            note = (
                f"batches of {size} shrunk to {cap}: deploy.min_in_service = {min_in_service} "
                f"keeps {min_in_service} of {servers} servers in rotation"
            )
            notes += [] if note in notes else [note]
            size = cap
        sizes.append(min(size, left))
    return Batches(tuple(sizes), tuple(notes))
