"""Execution: the async engine that runs a plan and emits events, and the deploy runner."""

from baton.drivers.bundle import Drivers
from baton.execution.engine import Engine
from baton.execution.events import Event, EventSink, Stage
from baton.execution.result import DeployResult, ServerOutcome
from baton.execution.runner import DeployReport, prepare, run_deploy

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
