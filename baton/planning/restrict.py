"""A plan cut down to some of its servers, keeping its shape (an automatic rollback's plan)."""

from __future__ import annotations

import dataclasses
from collections.abc import Collection

from baton.planning.actions import AwaitBatch, ServerPlan, Wave
from baton.planning.plan import Plan


def restrict(plan: Plan, servers: Collection[str]) -> Plan:
    """``plan`` for ``servers`` only: the same waves and batches, emptied ones dropped."""
    waves = tuple(
        dataclasses.replace(wave, servers=_alone(kept) if len(kept) == 1 else kept)
        for wave in plan.waves
        if (kept := tuple(sp for sp in wave.servers if sp.server.name in servers))
    )
    batches = tuple(len(w.servers) for w in waves if w.final) if plan.batches else ()
    canary = len(next((w for w in waves if w.final), Wave(())).servers) if plan.canary else 0
    return dataclasses.replace(plan, waves=waves, batches=batches, canary=canary)


def _alone(kept: tuple[ServerPlan, ...]) -> tuple[ServerPlan, ...]:
    """A server left alone in its batch has no batch to wait for."""
    (sp,) = kept
    return (ServerPlan(sp.server, tuple(a for a in sp.actions if not isinstance(a, AwaitBatch))),)
