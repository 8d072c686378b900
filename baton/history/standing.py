"""Where an application stands after a deploy that did not succeed, and what would fix it.

The dashboard's application page asks this to say, at the top, which servers are out of
rotation or not on the last successful version, and to offer Recover (what ``baton recover``
does) and Redeploy. Who is out of rotation is what the load balancers report now, passed in.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from baton.config import Manifest
from baton.execution.recovery import stranded
from baton.state import DeployRecord, Store

UNSUCCESSFUL = frozenset({"failed", "cancelled", "abandoned"})


@dataclass(frozen=True)
class Standing:
    last: DeployRecord
    """The latest deploy, which did not succeed."""
    last_good: DeployRecord | None
    """The latest deploy that succeeded, if any."""
    out_of_rotation: tuple[str, ...]
    """Servers a load balancer reports out of rotation now."""
    behind: dict[str, str | None]
    """Servers not on the last successful version: server -> the version it is on (or None)."""
    recoverable: tuple[str, ...]
    """Servers Recover would health-check and put back: left out by an unfinished deploy."""


def standing(manifest: Manifest, store: Store, out_of_rotation: Iterable[str]) -> Standing | None:
    """None unless the latest deploy failed, was cancelled or abandoned and left a server out
    of rotation or not on the last successful version."""
    app = manifest.application
    recent = store.deploys(app, 1)
    if not recent or recent[0].status not in UNSUCCESSFUL:
        return None
    last = recent[0]
    last_good = store.last_successful(app)
    versions = {name: r.version for name, r in store.last_success_per_server(app).items()}
    target = last_good.version if last_good else None
    behind = {
        s.name: versions.get(s.name) for s in manifest.servers if versions.get(s.name) != target
    }
    out = tuple(s.name for s in manifest.servers if s.name in set(out_of_rotation))
    if not out and not behind:
        return None
    return Standing(last, last_good, out, behind, tuple(stranded(manifest, store)))
