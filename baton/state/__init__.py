"""State: settings, applied load balancer values, deploy history, lock and journal in SQLite."""

from baton.state.records import (
    AppliedValue,
    DeployRecord,
    JournalEntry,
    LockHolder,
    ServerResult,
    StepResult,
    StoredEvent,
)
from baton.state.store import Store, default_state_dir

__all__ = [
    "AppliedValue",
    "DeployRecord",
    "JournalEntry",
    "LockHolder",
    "ServerResult",
    "StepResult",
    "Store",
    "StoredEvent",
    "default_state_dir",
]
