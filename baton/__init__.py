"""baton: deploy a web application to a fleet of servers behind load balancers.

Serial deploys take one server at a time out of every load balancer, deploy to it and put it
back; parallel deploys run the steps on every server at once and never touch the load balancers.

This package is the library's public surface: what a script, the CLI and the dashboard use.
Each name is imported from its module when first asked for, so ``import baton`` (and
``baton --help``) stays cheap. README, "Use baton from Python", has a runnable example::

    manifest = baton.load_manifest("baton.yml")
    store = baton.open_state()
    plan = baton.prepare(manifest, store, baton.DeployOptions(version="1.4.2"))
    report = asyncio.run(baton.run_deploy(plan, store))
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from baton._exceptions import (
    BatonError,
    HealthCheckError,
    InputError,
    LoadBalancerError,
    LockError,
    ManifestError,
    SettingError,
    StateError,
    StateWriteError,
    StepError,
    UnreachableError,
    VerificationError,
)

if TYPE_CHECKING:
    from baton.checking.check import check
    from baton.checking.findings import CheckReport
    from baton.config import Manifest, load_manifest, parse_manifest
    from baton.drivers.bundle import Drivers
    from baton.drivers.fake import FakeFleet, Script
    from baton.execution.current import prepare
    from baton.execution.rollback import roll_back_if_needed
    from baton.execution.runner import DeployReport, recover_stranded, run_deploy
    from baton.planning import DeployOptions, Plan, Strategy, build_plan, plan_to_dict, render_plan
    from baton.settings import Settings
    from baton.state import Store
    from baton.state.opening import open_state

_PUBLIC = {
    # the manifest
    "Manifest": "baton.config",
    "load_manifest": "baton.config",
    "parse_manifest": "baton.config",
    # the state
    "Store": "baton.state",
    "open_state": "baton.state.opening",
    "Settings": "baton.settings",
    # the plan
    "DeployOptions": "baton.planning",
    "Plan": "baton.planning",
    "Strategy": "baton.planning",
    "build_plan": "baton.planning",
    "plan_to_dict": "baton.planning",
    "prepare": "baton.execution.current",
    "render_plan": "baton.planning",
    # running, checking, recovering
    "CheckReport": "baton.checking.findings",
    "DeployReport": "baton.execution.runner",
    "Drivers": "baton.drivers.bundle",
    "check": "baton.checking.check",
    "recover_stranded": "baton.execution.runner",
    "roll_back_if_needed": "baton.execution.rollback",
    "run_deploy": "baton.execution.runner",
    # fakes for tests and dry runs
    "FakeFleet": "baton.drivers.fake",
    "Script": "baton.drivers.fake",
}

__all__ = [
    "BatonError",
    "CheckReport",
    "DeployOptions",
    "DeployReport",
    "Drivers",
    "FakeFleet",
    "HealthCheckError",
    "InputError",
    "LoadBalancerError",
    "LockError",
    "Manifest",
    "ManifestError",
    "Plan",
    "Script",
    "SettingError",
    "Settings",
    "StateError",
    "StateWriteError",
    "StepError",
    "Store",
    "Strategy",
    "UnreachableError",
    "VerificationError",
    "build_plan",
    "check",
    "load_manifest",
    "open_state",
    "parse_manifest",
    "plan_to_dict",
    "prepare",
    "recover_stranded",
    "render_plan",
    "roll_back_if_needed",
    "run_deploy",
]


def __getattr__(name: str) -> Any:
    """The public names above, each imported from its module on first use."""
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
