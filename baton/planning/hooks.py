"""Hooks as plan actions: commands the manifest puts at fixed points around a deploy.

``before_server`` and ``after_server`` become :class:`RunStep` actions in each server's plan,
around its steps (and its health check), so in serial they run while it is out of rotation.
``first_thing``, ``last_thing`` and ``on_failure`` are :class:`HookRun` s, phases of the plan
the engine runs before the first wave, after every server succeeded, and after a failure.

``run_on``: ``local`` is this machine, ``single_server`` the migration server (marked
``migrations: true``, else the first), ``all_servers`` every server at once. Around a server,
anything but ``local`` means that server (``single_server``: only when it is the migration
server).
"""

from __future__ import annotations

from dataclasses import dataclass

from baton.config import Manifest, Server, Step
from baton.config.model import Hook

LOCAL = Server(name="local", address="localhost", transport="local")
"""The control machine, as a server: hooks with ``run_on: local`` run here."""

DEPLOY_POINTS = ("first_thing", "last_thing", "on_failure")
SERVER_POINTS = ("before_server", "after_server")


@dataclass(frozen=True)
class HookRun:
    """One deploy-level hook: its command as a step, and where it runs (all at once)."""

    point: str
    step: Step
    targets: tuple[Server, ...]
    halt_on_error: bool

    def describe(self) -> str:
        where = ", ".join(s.name for s in self.targets)
        return f"hook {self.step.name} on {where}"


def hook_step(point: str, index: int, hook: Hook) -> Step:
    """The hook as a step named after its point: ``first_thing``, ``first_thing.2``, or
    ``first_thing.NAME`` when it has a name."""
    suffix = f".{hook.name}" if hook.name else (f".{index + 1}" if index else "")
    return Step(name=f"{point}{suffix}", run=hook.run, timeout=hook.timeout)


def deploy_hooks(manifest: Manifest) -> dict[str, tuple[HookRun, ...]]:
    """first_thing, last_thing and on_failure, each with the servers its hooks run on."""
    found: dict[str, tuple[HookRun, ...]] = {}
    for point in DEPLOY_POINTS:
        runs = tuple(
            HookRun(point, hook_step(point, i, hook), _targets(manifest, hook), hook.halt_on_error)
            for i, hook in enumerate(getattr(manifest.hooks, point))
        )
        if runs:
            found[point] = runs
    return found


def _targets(manifest: Manifest, hook: Hook) -> tuple[Server, ...]:
    run_on = hook.run_on or "local"
    if run_on == "local":
        return (LOCAL,)
    if run_on == "single_server":
        return (manifest.migration_server,)
    return manifest.servers


def server_hooks(manifest: Manifest, point: str, server: Server) -> list[tuple[Hook, Step]]:
    """The before_server or after_server hooks that run for ``server``, with their steps."""
    chosen = []
    for index, hook in enumerate(getattr(manifest.hooks, point)):
        if hook.run_on == "single_server" and server != manifest.migration_server:
            continue
        chosen.append((hook, hook_step(point, index, hook)))
    return chosen
