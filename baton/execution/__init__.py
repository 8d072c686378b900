"""Execution: the async engine that runs a plan and emits events, and the deploy runner.

Each name is imported from its module when first asked for, so that reading the plan a
deploy would follow (:func:`prepare`) loads neither the engine nor asyncio.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from baton.drivers.bundle import Drivers
    from baton.execution.current import prepare
    from baton.execution.engine import Engine
    from baton.execution.events import Event, EventSink, Stage
    from baton.execution.result import DeployResult, ServerOutcome
    from baton.execution.runner import DeployReport, run_deploy

_MODULES = {
    "DeployReport": "baton.execution.runner",
    "DeployResult": "baton.execution.result",
    "Drivers": "baton.drivers.bundle",
    "Engine": "baton.execution.engine",
    "Event": "baton.execution.events",
    "EventSink": "baton.execution.events",
    "ServerOutcome": "baton.execution.result",
    "Stage": "baton.execution.events",
    "prepare": "baton.execution.current",
    "run_deploy": "baton.execution.runner",
}

__all__ = [
    "DeployReport",
    "DeployResult",
    "Drivers",
    "Engine",
    "Event",
    "EventSink",
    "ServerOutcome",
    "Stage",
    "prepare",
    "run_deploy",
]


def __getattr__(name: str) -> Any:
    if name not in _MODULES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_MODULES[name]), name)
    globals()[name] = value
    return value
