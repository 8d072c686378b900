"""The plan a deploy would follow now: the pure planner fed from the state and the files.

:mod:`baton.planning` reads nothing; this is where its values are read. ``baton.execution``
loads its modules when first asked, so ``baton plan`` shows the plan ``baton deploy`` would
run without loading the engine, asyncio or the SSH stack.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING

from baton.config.references import file_warnings
from baton.planning import DeployOptions, Plan, build_plan
from baton.settings import Settings

if TYPE_CHECKING:
    from baton.config import Manifest
    from baton.state import Store


def prepare(
    manifest: Manifest,
    store: Store,
    options: DeployOptions,
    overrides: Mapping[str, str] | None = None,
) -> Plan:
    """The plan a deploy would follow now, from the manifest and the state; ``overrides``
    (setting -> stored value) show what it would be were those settings changed."""
    stored = {**store.settings(manifest.application), **(overrides or {})}
    settings = Settings.from_stored(stored)
    applied = store.applied_values(manifest.application)
    plan = build_plan(manifest, settings, options, applied, file_warnings(manifest))
    shared = shared_servers(manifest, store)
    return replace(plan, warnings=plan.warnings + shared) if shared else plan


def shared_servers(manifest: Manifest, store: Store) -> tuple[str, ...]:
    """A warning per other application in this state whose last deploy went to one of
    ``manifest``'s servers (same address and port)."""
    ours = {(s.address, s.port): s.name for s in manifest.servers}
    warnings = []
    for application, targets in store.deployed_servers().items():
        common = sorted(ours[t] for t in targets if t in ours)
        if application != manifest.application and common:
            warnings.append(
                f"application {application} also deploys to {', '.join(common)} (same address "
                "and port): each one's history claims its own version there, and a deploy of "
                "either leaves alone a server the other is deploying at that moment"
            )
    return tuple(warnings)
